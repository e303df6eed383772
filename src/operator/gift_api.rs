//! "Make their day": `POST /api/surprises/gift` gives a surprise to the next paying customer,
//! `DELETE` cancels it; both journaled with who asked.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::json;

use crate::controller::{GiftRefusal, Request};

use super::*;

/// The body of a gift.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct GiftBody {
    surprise: String,
    #[serde(default)]
    override_caps: bool,
}

pub(super) async fn give(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    authorize(&state, &headers, peer)?;
    // An object, named fields: serde would also take `["A flower", true]` for the struct.
    let gift: GiftBody = serde_json::from_slice::<serde_json::Value>(&body)
        .map_err(|e| e.to_string())
        .and_then(|v| match v {
            serde_json::Value::Object(_) => {
                serde_json::from_value(v).map_err(|e| e.to_string())
            }
            _ => Err("the body must be a JSON object".to_string()),
        })
        .map_err(|e| {
            error(
                StatusCode::BAD_REQUEST,
                format!(
                    "not a gift: {e} (send {{\"surprise\": \"A flower\", \"override_caps\": false}})"
                ),
            )
        })?;
    let source = format!("api from {}", peer.ip());
    let answer = ask(&state, |reply| Request::Gift {
        surprise: gift.surprise,
        override_caps: gift.override_caps,
        source,
        reply,
    })
    .await?;
    match answer {
        Ok(waiting) => Ok(Json(json!({ "waiting": waiting }))),
        Err(refusal) => {
            let code = match refusal {
                GiftRefusal::Unknown { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                GiftRefusal::Waiting { .. } => StatusCode::CONFLICT,
                GiftRefusal::Storage { .. } => StatusCode::SERVICE_UNAVAILABLE,
            };
            Err(ApiError(
                code,
                json!({ "error": refusal.to_string(), "field": "surprise" }),
            ))
        }
    }
}

pub(super) async fn cancel(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    authorize(&state, &headers, peer)?;
    let source = format!("api from {}", peer.ip());
    let cancelled = ask(&state, |reply| Request::CancelGift { source, reply }).await?;
    Ok(Json(json!({ "cancelled": cancelled })))
}
