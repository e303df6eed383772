//! The customer's side of the API: what the display shows, its live events, the feedback tap.

use std::convert::Infallible;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::Json;
use happiness_hardware::sim::SimHandle;
use serde::{Deserialize, Serialize};
use tokio_stream::wrappers::WatchStream;
use tokio_stream::{Stream, StreamExt};

use crate::controller::{Request, Status};
use crate::money::Cents;
use crate::vend::{ColumnId, ColumnStatus, Screen};

use super::*;

#[derive(Debug, Clone, Serialize)]
pub(super) struct KioskView {
    machine: String,
    currency: String,
    hardware: String,
    display: String,
    screen: Option<Screen>,
    credit: Cents,
    vending: bool,
    door_open: bool,
    lamps_on: Vec<crate::vend::LampRole>,
    selections: Vec<Selection>,
    surprise: Option<(String, String)>,
    ask_feedback: bool,
    simulated: bool,
    tray: Vec<String>,
    coins: Vec<Cents>,
    coins_returned: u32,
    out_of_service: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct Selection {
    button: usize,
    column: ColumnId,
    product: String,
    price: Cents,
    available: bool,
    sold_out: bool,
}

pub(super) fn kiosk_view(state: &ApiState, s: &Status) -> KioskView {
    let selections = state
        .machine
        .buttons
        .iter()
        .enumerate()
        .filter_map(|(i, column)| {
            let c = s.columns.get(column.index())?;
            Some(Selection {
                button: i + 1,
                column: *column,
                product: c.product.clone(),
                price: c.price,
                available: c.stock > 0 && c.status == ColumnStatus::InService,
                sold_out: c.stock == 0,
            })
        })
        .collect();
    let surprise = match &s.screen {
        Some(Screen::Surprise { name, message }) => Some((name.clone(), message.clone())),
        _ => None,
    };
    KioskView {
        machine: s.machine.clone(),
        currency: s.currency.clone(),
        hardware: s.hardware.clone(),
        display: s.display.clone(),
        screen: s.screen.clone(),
        credit: s.credit,
        vending: s.vending,
        door_open: s.door_open,
        lamps_on: s.lamps_on.clone(),
        selections,
        ask_feedback: s.feedback_open
            && !s.vending
            && matches!(
                s.screen,
                Some(Screen::Enjoy { .. } | Screen::Surprise { .. })
            ),
        surprise,
        simulated: state.sim.is_some(),
        tray: state
            .sim
            .as_ref()
            .map(|sim| sim.tray().into_iter().map(|i| i.product).collect())
            .unwrap_or_default(),
        coins: state.machine.coins.iter().map(|c| c.value).collect(),
        coins_returned: state.sim.as_ref().map_or(0, SimHandle::coins_paid_out),
        out_of_service: s.out_of_service.clone(),
    }
}

pub(super) async fn kiosk_state(State(state): State<ApiState>) -> Json<KioskView> {
    let status = state.status.borrow().clone();
    Json(kiosk_view(&state, &status))
}

pub(super) async fn kiosk_events(
    State(state): State<ApiState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let view_state = state.clone();
    let stream = WatchStream::new(state.status.clone()).map(move |s| {
        let view = kiosk_view(&view_state, &s);
        Ok(SseEvent::default()
            .event("state")
            .json_data(&view)
            .unwrap_or_else(|_| SseEvent::default().comment("encoding error")))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[derive(Debug, Deserialize)]
pub(super) struct FeedbackBody {
    happy: bool,
}

pub(super) async fn feedback(
    State(state): State<ApiState>,
    body: Result<Json<FeedbackBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<StatusCode> {
    let Json(body) = body.map_err(|e| error(e.status(), e.body_text()))?;
    ask(&state, |reply| Request::Feedback {
        happy: body.happy,
        reply,
    })
    .await?
    .map_err(|e| error(StatusCode::CONFLICT, e))?;
    Ok(StatusCode::NO_CONTENT)
}
