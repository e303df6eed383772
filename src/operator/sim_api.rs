//! The simulator's front: pressing buttons, inserting coins, the coin return, the tray and the
//! door, for the kiosk page's virtual machine (only on the simulator).

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::Json;
use happiness_hardware::sim::SimHandle;

use crate::money::Cents;

use super::*;

pub(super) fn sim(state: &ApiState) -> ApiResult<&SimHandle> {
    state.sim.as_ref().ok_or_else(|| {
        error(
            StatusCode::NOT_FOUND,
            "the virtual machine front exists only on the simulator",
        )
    })
}

pub(super) async fn sim_press(
    State(state): State<ApiState>,
    UrlPath(button): UrlPath<String>,
) -> ApiResult<StatusCode> {
    let n = button_number(&button)?;
    sim(&state)?
        .press(n)
        .map_err(|e| error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn sim_coin(
    State(state): State<ApiState>,
    UrlPath(cents): UrlPath<String>,
) -> ApiResult<StatusCode> {
    let value: u64 = cents.parse().map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            format!("`{cents}` is not an amount in cents"),
        )
    })?;
    let pulses = state
        .machine
        .pulses_for_coin(Cents::new(value))
        .ok_or_else(|| {
            error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("this machine takes no coin worth {value} cents"),
            )
        })?;
    sim(&state)?
        .insert_coin(pulses)
        .map_err(|e| error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn sim_return(State(state): State<ApiState>) -> ApiResult<StatusCode> {
    sim(&state)?
        .press_coin_return()
        .map_err(|e| error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn sim_take(State(state): State<ApiState>) -> ApiResult<Json<Vec<String>>> {
    let items = sim(&state)?.take_tray();
    Ok(Json(items.into_iter().map(|i| i.product).collect()))
}

pub(super) async fn sim_door(
    State(state): State<ApiState>,
    UrlPath(door): UrlPath<String>,
) -> ApiResult<StatusCode> {
    let open = match door.as_str() {
        "open" => true,
        "close" => false,
        other => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                format!("`{other}`: use open or close"),
            ))
        }
    };
    sim(&state)?
        .set_door(open)
        .map_err(|e| error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    Ok(StatusCode::NO_CONTENT)
}
