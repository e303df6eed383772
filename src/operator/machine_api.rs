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
use crate::vend::{ColumnId, ColumnStatus, Event};

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
    set_paused(&state, true).await
}

pub(super) async fn resume(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    authorize(&state, &headers, peer)?;
    set_paused(&state, false).await
}

/// Pause or resume surprises and answer, once applied, with the state now in force; 503 when
/// the books could not record it (a full disk), so nothing changed.
async fn set_paused(state: &ApiState, paused: bool) -> ApiResult<Json<serde_json::Value>> {
    tell(state, Request::PauseSurprises { paused }).await?;
    let now = state.status.borrow().surprises_paused;
    if now != paused {
        return Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "not applied: the books could not record it (is the disk full?)",
        ));
    }
    Ok(Json(serde_json::json!({ "surprises_paused": now })))
}

/// A column number from a URL, or 404 saying how many columns there are.
fn column_number(state: &ApiState, text: &str) -> ApiResult<ColumnId> {
    let count = state.machine.columns.len();
    text.parse::<usize>()
        .ok()
        .filter(|n| (1..=count).contains(n))
        .and_then(ColumnId::from_number)
        .ok_or_else(|| {
            error(
                StatusCode::NOT_FOUND,
                format!(
                    "there is no column {} (this machine has {count})",
                    text.chars().take(20).collect::<String>()
                ),
            )
        })
}

/// The column as the status shows it now, or 503 when the machine is not selling.
fn column_view(state: &ApiState, column: ColumnId) -> ApiResult<ColumnView> {
    state
        .status
        .borrow()
        .columns
        .iter()
        .find(|c| c.column == column)
        .cloned()
        .ok_or_else(|| {
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the machine is not selling",
            )
        })
}

/// The body of a restock: `{"count": N}`, the items loaded; none fills the column.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Restock {
    count: u32,
}

/// How many items a restock loads into `column`: the count asked for (refused when it would
/// overfill the column), or what fills it.
fn restock_count(view: &ColumnView, capacity: u32, body: &[u8]) -> ApiResult<u32> {
    let room = capacity.saturating_sub(view.stock);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(room);
    }
    let Restock { count } = serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            format!("the body must be {{\"count\": N}}, the items loaded: {e}"),
        )
    })?;
    if count == 0 || count > room {
        return Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "count: {count} will not fit: column {} holds {} of {capacity}, so 1 to {room} \
                 more fit",
                view.column, view.stock
            ),
        ));
    }
    Ok(count)
}

pub(super) async fn column_action(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    UrlPath((column, action)): UrlPath<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Json<ColumnView>> {
    authorize(&state, &headers, peer)?;
    let column = column_number(&state, &column)?;
    let capacity = state.machine.columns[column.index()].capacity;
    let before = column_view(&state, column)?;
    let (event, load) = match action.as_str() {
        "restock" => {
            let count = restock_count(&before, capacity, &body)?;
            (Event::Load { column, count }, count)
        }
        "enable" | "reset" => (Event::ResetColumn { column }, 0),
        "disable" => (Event::DisableColumn { column }, 0),
        other => {
            return Err(error(
                StatusCode::NOT_FOUND,
                format!(
                    "unknown column action `{}` (restock, enable, disable)",
                    other.chars().take(20).collect::<String>()
                ),
            ))
        }
    };
    tell(&state, Request::Event(event)).await?;
    // The answer is the column as it is now; an action the machine could not carry out (the
    // books full, the machine out of service) is a conflict that says what stands instead.
    let view = column_view(&state, column)?;
    let applied = match event {
        Event::Load { .. } => view.stock == before.stock + load,
        Event::ResetColumn { .. } => view.status == ColumnStatus::InService,
        _ => view.status == ColumnStatus::Disabled,
    };
    if !applied {
        let why = state
            .status
            .borrow()
            .out_of_service
            .clone()
            .unwrap_or_else(|| "the machine refused it".into());
        return Err(ApiError(
            StatusCode::CONFLICT,
            serde_json::json!({
                "error": format!("column {column} could not be changed: {why}"),
                "column": view,
            }),
        ));
    }
    // On the simulator the operator's hands are virtual: the items go into the simulated
    // column too, or it would run dry while the books say it is full.
    if let (Event::Load { .. }, Some(sim)) = (event, &state.sim) {
        let _ = sim.load(column.number(), load);
    }
    Ok(Json(view))
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
    let column = column_number(&state, &column)?;
    let edit: ColumnEdit = serde_json::from_slice(&body).map_err(|e| {
        let mut message = format!("not a column change: {e}");
        if message.contains("unknown field") {
            message.push_str(
                " (pins and the number of columns change only in machine.toml, with a restart)",
            );
        }
        error(StatusCode::BAD_REQUEST, message)
    })?;
    let (reply, answer) = oneshot::channel();
    let source = format!("api from {}", peer.ip());
    tell(
        &state,
        Request::EditColumn {
            column,
            edit,
            source,
            reply,
        },
    )
    .await?;
    answer.await.map_err(|_| {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the controller has stopped",
        )
    })??;
    Ok(Json(column_view(&state, column)?))
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
