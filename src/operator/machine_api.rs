//! The operator's machine API: status, pause and resume, column actions, books, live events,
//! metrics.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

use crate::config::ColumnEdit;
use crate::controller::{ColumnView, PeriodError, Request, Status};
use crate::journal::{Bucket, PeriodQuery};
use crate::localtime::parse_bound;

use super::*;

pub(super) async fn status(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<Json<Status>> {
    authorize_status(&state, &headers, peer)?;
    let status = state.status.borrow().clone();
    Ok(Json(status))
}

pub(super) async fn pause(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    authorize(&state, &headers, peer)?;
    set_paused(&state, true, peer).await
}

pub(super) async fn resume(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    authorize(&state, &headers, peer)?;
    set_paused(&state, false, peer).await
}

/// Pause or resume surprises and answer, once applied, with the state now in force; 503 when
/// the books could not record it (a full disk), so nothing changed.
async fn set_paused(
    state: &ApiState,
    paused: bool,
    peer: SocketAddr,
) -> ApiResult<Json<serde_json::Value>> {
    let source = format!("api from {}", peer.ip());
    let now = state.actions.set_paused(paused, &source).await?;
    Ok(Json(serde_json::json!({ "surprises_paused": now })))
}

/// The body of a restock: `{"count": N}`, the items loaded; none fills the column.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Restock {
    count: u32,
}

pub(super) async fn column_action(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    UrlPath((column, action)): UrlPath<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    authorize(&state, &headers, peer)?;
    let column = state.actions.column(&column)?;
    let source = format!("api from {}", peer.ip());
    if action == "test-vend" {
        // Answered once the item has dropped or every nudge has missed.
        let (outcome, view) = state.actions.test_vend(column, &source).await?;
        let mut body = serde_json::to_value(outcome).unwrap_or_default();
        body["column"] = serde_json::to_value(view).unwrap_or_default();
        return Ok(Json(body).into_response());
    }
    let count = if action == "restock" && !body.iter().all(u8::is_ascii_whitespace) {
        let Restock { count } = serde_json::from_slice(&body).map_err(|e| {
            error(
                StatusCode::BAD_REQUEST,
                format!("the body must be {{\"count\": N}}, the items loaded: {e}"),
            )
        })?;
        Some(count)
    } else {
        None
    };
    let view = state
        .actions
        .column_action(column, &action, count, &source)
        .await?;
    Ok(Json(view).into_response())
}

/// `PATCH /api/columns/{n}` with `{"price_cents": 130}`, `{"product": "..."}` or
/// `{"low_stock": 2}`: in force from the next vend, written into `machine.toml`.
pub(super) async fn edit_column(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    UrlPath(column): UrlPath<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<ColumnView>> {
    authorize(&state, &headers, peer)?;
    let column = state.actions.column(&column)?;
    let edit = ColumnEdit::from_json(&body).map_err(|e| error(StatusCode::BAD_REQUEST, e))?;
    let source = format!("api from {}", peer.ip());
    Ok(Json(
        state.actions.edit_column(column, edit, &source).await?,
    ))
}

/// A period in a URL: `from` and `to` (dates, local times or RFC 3339), or `period` (`today`,
/// `7d`, `30d`: the last N local days), and `bucket` (`hour` or `day`).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PeriodParams {
    from: Option<String>,
    to: Option<String>,
    period: Option<String>,
    bucket: Option<String>,
}

impl PeriodParams {
    fn is_empty(&self) -> bool {
        self.from.is_none() && self.to.is_none() && self.period.is_none() && self.bucket.is_none()
    }

    /// The query, or 400 naming the parameter that is wrong.
    fn query(&self) -> ApiResult<PeriodQuery> {
        let bad = |m: String| error(StatusCode::BAD_REQUEST, m);
        let bound = |name: &str, v: &Option<String>, end: bool| {
            v.as_deref()
                .map(|s| parse_bound(s, end).map_err(|e| bad(format!("{name}: {e}"))))
                .transpose()
        };
        let days = match self.period.as_deref() {
            None => None,
            Some("today") => Some(1),
            Some(p) => Some(
                p.strip_suffix('d')
                    .and_then(|n| n.parse::<u32>().ok())
                    .ok_or_else(|| {
                        bad(format!(
                            "period: `{}` is not today, 7d or 30d (a number of days)",
                            p.chars().take(20).collect::<String>()
                        ))
                    })?,
            ),
        };
        let bucket = self
            .bucket
            .as_deref()
            .map(|b| Bucket::from_name(b).ok_or_else(|| bad("bucket: hour or day".to_string())))
            .transpose()?;
        Ok(PeriodQuery {
            from: bound("from", &self.from, false)?,
            to: bound("to", &self.to, true)?,
            days,
            bucket,
        })
    }
}

impl From<PeriodError> for ApiError {
    fn from(e: PeriodError) -> Self {
        match e {
            PeriodError::Period(m) => error(StatusCode::BAD_REQUEST, m),
            PeriodError::Books(m) => error(StatusCode::INTERNAL_SERVER_ERROR, m),
        }
    }
}

/// Without a period: the whole books with their checks (`happiness report`). With one: the
/// dashboard's figures for it.
pub(super) async fn books(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    params: Result<Query<PeriodParams>, QueryRejection>,
) -> ApiResult<Response> {
    authorize(&state, &headers, peer)?;
    let Query(params) = params.map_err(|e| error(StatusCode::BAD_REQUEST, e.body_text()))?;
    if params.is_empty() {
        let report = ask(&state, |reply| Request::Books { reply })
            .await?
            .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e))?;
        return Ok(Json(report).into_response());
    }
    let query = params.query()?;
    let books = ask(&state, |reply| Request::PeriodBooks { query, reply }).await??;
    Ok(Json(books).into_response())
}

/// One CSV row per paid vend in the period (default: the last seven days).
pub(super) async fn sales_csv(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    params: Result<Query<PeriodParams>, QueryRejection>,
) -> ApiResult<Response> {
    authorize(&state, &headers, peer)?;
    let Query(params) = params.map_err(|e| error(StatusCode::BAD_REQUEST, e.body_text()))?;
    let query = params.query()?;
    let lines = ask(&state, |reply| Request::Sales { query, reply }).await??;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"sales.csv\"",
            ),
        ],
        crate::journal::sales_csv(&lines),
    )
        .into_response())
}

pub(super) async fn events(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    authorize(&state, &headers, peer)?;
    let stream = BroadcastStream::new(state.events.subscribe()).map(|r| {
        Ok(match r {
            Ok(record) => SseEvent::default().event("trace").data(record.to_json()),
            // A viewer that fell behind is told so, and carries on.
            Err(e) => SseEvent::default().event("lagged").data(e.to_string()),
        })
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

pub(super) async fn metrics_text(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    authorize(&state, &headers, peer)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response())
}
