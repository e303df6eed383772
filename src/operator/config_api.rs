//! The surprise config API: read, replace (TOML or JSON), versions and rollback.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde_json::json;

use crate::controller::{Applied, BodyFormat, ConfigRejection, Request};

use super::*;

pub(super) async fn get_surprises(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    authorize(&state, &headers, peer)?;
    let (text, version) = ask(&state, |reply| Request::CurrentSurprises { reply }).await?;
    let paused = state.status.borrow().surprises_paused;
    Ok(Json(
        json!({ "version": version, "paused": paused, "text": text }),
    ))
}

pub(super) async fn put_surprises(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    authorize(&state, &headers, peer)?;
    let (text, format) = config_body(&headers, &body)?;
    let source = format!("api from {}", peer.ip());
    applied(ask(&state, |reply| Request::ApplySurprises {
        text,
        format,
        source,
        reply,
    }))
    .await
}

/// `PATCH /api/config/surprises/policy`: change policy fields alone.
pub(super) async fn patch_policy(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    authorize(&state, &headers, peer)?;
    let (text, format) = config_body(&headers, &body)?;
    let source = format!("api (policy) from {}", peer.ip());
    applied(ask(&state, |reply| Request::PatchSurprisePolicy {
        text,
        format,
        source,
        reply,
    }))
    .await
}

/// The answer to a config change: the version in force and whether it changed anything.
async fn applied(
    answer: impl std::future::Future<Output = ApiResult<Result<Applied, ConfigRejection>>>,
) -> ApiResult<Json<serde_json::Value>> {
    let applied = answer.await??;
    Ok(Json(
        json!({ "version": applied.version, "changed": applied.changed }),
    ))
}

/// A config body as text, and whether it is JSON (by its content type) or TOML.
fn config_body(headers: &HeaderMap, body: &Bytes) -> ApiResult<(String, BodyFormat)> {
    let text = std::str::from_utf8(body)
        .map_err(|_| error(StatusCode::BAD_REQUEST, "the body is not UTF-8 text"))?
        .to_string();
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let format = if json {
        BodyFormat::Json
    } else {
        BodyFormat::Toml
    };
    Ok((text, format))
}

pub(super) async fn surprise_versions(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    authorize(&state, &headers, peer)?;
    let versions = ask(&state, |reply| Request::SurpriseVersions { reply })
        .await?
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    Ok(Json(json!({ "versions": versions })))
}

pub(super) async fn rollback(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    UrlPath(version): UrlPath<String>,
) -> ApiResult<Json<serde_json::Value>> {
    authorize(&state, &headers, peer)?;
    let version: i64 = version.parse().map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            format!("`{version}` is not a version number"),
        )
    })?;
    applied(ask(&state, |reply| Request::RollbackSurprises {
        version,
        reply,
    }))
    .await
}
