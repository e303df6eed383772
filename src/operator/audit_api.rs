//! The audit file over HTTP: `GET /api/audit.dex` (a read) and `POST /api/audit/reset` (the
//! read with reset of a cash collection), both with the operator token, both recorded.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::*;

/// The file as it is served: plain ASCII text with CRLF line endings, named after the
/// machine's communication id.
async fn serve(state: &ApiState, reset: bool, peer: SocketAddr) -> ApiResult<Response> {
    let reader = crate::audit::api_reader(peer.ip());
    let read = state.actions.audit(reset, &reader).await?;
    let name = format!(
        "attachment; filename=\"{}.dex\"",
        state.machine.audit.communication_id()
    );
    let mut response = read.text.into_response();
    let headers = response.headers_mut();
    // A plain read on a full disk is given without being recorded: the reader is told.
    headers.insert(
        "x-audit-recorded",
        HeaderValue::from_static(if read.recorded { "yes" } else { "no" }),
    );
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=us-ascii"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// `GET /api/audit.dex`: the audit file; the read is recorded (`EA3`).
pub(super) async fn read(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    authorize(&state, &headers, peer)?;
    serve(&state, false, peer).await
}

/// `POST /api/audit/reset`: the audit file, read with reset: the interim counters start again
/// from zero after it.
pub(super) async fn reset(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    authorize(&state, &headers, peer)?;
    serve(&state, true, peer).await
}
