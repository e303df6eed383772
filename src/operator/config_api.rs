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
    let source = format!("api from {}", peer.ip());
    let applied = state.actions.rollback(version, &source).await?;
    Ok(Json(
        json!({ "version": applied.version, "changed": applied.changed }),
    ))
}

/// What a surprise policy would do on this machine's recent traffic, before it is saved.
#[derive(Debug, serde::Serialize)]
pub(super) struct Preview {
    /// "about 4.4 surprises and €0.47 a day; about 31 and €3.32 a week".
    per_day: String,
    /// The traffic it was measured on, in words.
    traffic: String,
    /// The surprise rate against the configured probability, and why they differ.
    rate: String,
    /// Columns the traffic would empty before their restock.
    warnings: Vec<String>,
    /// Surprise cost per day, in cents.
    cost_per_day: u64,
    /// Surprises per day.
    surprises_per_day: f64,
}

/// Paid vends a day a preview assumes when the machine sold nothing last week.
const PREVIEW_DEFAULT_PER_DAY: u32 = 30;

/// `POST /api/config/surprises/preview` with a whole `surprises.toml`: validated like a save
/// (422 naming the field), then simulated over a year of last week's traffic (or 30 paid
/// vends a day when there was none), on the columns as they are now. Nothing is saved.
pub(super) async fn preview(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Preview>> {
    authorize(&state, &headers, peer)?;
    let (text, format) = config_body(&headers, &body)?;
    if format != BodyFormat::Toml {
        return Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "a preview takes the surprises.toml text (application/toml)",
        ));
    }
    // The machine as it sells now: live edits of products and prices included.
    let mut machine = (*state.machine).clone();
    for c in &state.status.borrow().columns {
        if let Some(spec) = machine.columns.get_mut(c.column.index()) {
            spec.product.clone_from(&c.product);
            spec.price = c.price;
        }
    }
    let config = crate::surprise::SurpriseConfig::from_toml(
        std::path::Path::new(crate::surprise::config::SURPRISES_FILE),
        &text,
        &machine.columns,
    )
    .map_err(|e| ApiError::from(crate::controller::config_rejection(&e)))?;
    let query = crate::journal::PeriodQuery {
        days: Some(7),
        ..Default::default()
    };
    let week = ask(&state, |reply| Request::PeriodBooks { query, reply }).await??;
    let (per_day, traffic) = traffic(week.sales.count);
    let options = crate::simulate::SimulateOptions {
        vends: (u64::from(per_day) * 365).clamp(1_000, 200_000),
        seed: 1,
        per_day,
        profile: crate::simulate::TrafficProfile::Office,
        restock: crate::simulate::Restock::Daily,
        start: crate::localtime::LocalTime::from_secs(0),
        zone: None,
        failure_rate: crate::simulate::DEFAULT_FAILURE_RATE,
    };
    let currency = machine.currency.clone();
    let report =
        tokio::task::spawn_blocking(move || crate::simulate::simulate(&machine, &config, &options))
            .await
            .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Json(Preview::of(&report, traffic, &currency)))
}

/// Paid vends a day to simulate for `sold` paid vends last week, and the words for it.
fn traffic(sold: u64) -> (u32, String) {
    if sold == 0 {
        return (
            PREVIEW_DEFAULT_PER_DAY,
            format!(
                "no sales in the last 7 days: assuming {PREVIEW_DEFAULT_PER_DAY} paid vends a day"
            ),
        );
    }
    let per_day = u32::try_from(sold.div_ceil(7)).unwrap_or(u32::MAX);
    (
        per_day,
        format!("on last week's traffic ({sold} paid vends, about {per_day} a day)"),
    )
}

impl Preview {
    /// What a simulation's report says, for the console.
    fn of(report: &crate::simulate::Report, traffic: String, currency: &str) -> Preview {
        #[allow(clippy::cast_precision_loss)]
        let days = report.days.max(1) as f64;
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let cost_per_day = (report.surprise_value.get() as f64 / days).round() as u64;
        #[allow(clippy::cast_precision_loss)]
        let surprises_per_day = report.surprises as f64 / days;
        Preview {
            per_day: report.per_day_text(currency),
            traffic,
            rate: report.rate_text(),
            warnings: report.stock_warnings(),
            cost_per_day,
            surprises_per_day,
        }
    }
}
