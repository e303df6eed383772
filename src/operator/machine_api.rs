//! The operator's machine API: status, pause and resume, column actions, books, live events,
//! metrics.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

use crate::controller::{Request, Status};
use crate::vend::{ColumnId, Event};

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
) -> ApiResult<StatusCode> {
    authorize(&state, &headers, peer)?;
    tell(&state, Request::PauseSurprises { paused: true }).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn resume(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    authorize(&state, &headers, peer)?;
    tell(&state, Request::PauseSurprises { paused: false }).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn column_action(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    UrlPath((column, action)): UrlPath<(String, String)>,
) -> ApiResult<StatusCode> {
    authorize(&state, &headers, peer)?;
    let count = state.machine.columns.len();
    let column = column
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=count).contains(n))
        .and_then(ColumnId::from_number)
        .ok_or_else(|| {
            error(
                StatusCode::NOT_FOUND,
                format!("there is no column {column} (this machine has {count})"),
            )
        })?;
    let event = match action.as_str() {
        "restock" => Event::Restock {
            column: Some(column),
        },
        "enable" | "reset" => Event::ResetColumn { column },
        "disable" => Event::DisableColumn { column },
        other => {
            return Err(error(
                StatusCode::NOT_FOUND,
                format!("unknown column action `{other}` (restock, enable, disable)"),
            ))
        }
    };
    tell(&state, Request::Event(event)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn books(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<Json<crate::journal::BooksReport>> {
    authorize(&state, &headers, peer)?;
    let report = ask(&state, |reply| Request::Books { reply })
        .await?
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    Ok(Json(report))
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
