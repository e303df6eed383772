//! The operators' console: the HTTP API, the web pages, metrics and the config watcher.
//!
//! It owns nothing of the machine: every change goes to the controller as a [`Request`] and is
//! applied there between vend steps, so an edit is never half applied and concurrent edits are
//! simply applied in order (the later one wins). What it reads comes from the controller's status
//! channel, its trace broadcast, and answers to requests.
//!
//! Security: the operator token comes from `HAPPINESS_TOKEN` or a token file readable only by its
//! owner; there is no default token. Tokens are compared in constant time, repeated failures from
//! one address are rate limited, request bodies are capped at 64 KiB. Without a token only the
//! customer pages and read-only status are served, and the server refuses to listen anywhere but
//! on loopback.

pub mod actions;
mod audit_api;
mod auth;
mod config_api;
mod gift_api;
mod guard;
mod kiosk_api;
mod kiosk_view;
mod machine_api;
mod pages;
mod server;
mod shares;
mod sim_api;
pub mod watch;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use happiness_hardware::sim::SimHandle;
use serde_json::json;
use tokio::sync::{broadcast, oneshot, watch as tokio_watch};

use crate::config::MachineConfig;
use crate::controller::{ConfigRejection, Request, Status};
use crate::trace::TraceRecord;

use crate::metrics::Metrics;

use auth::{authorize, authorize_status};
pub use auth::{Gate, Token, TokenError};
pub use guard::{guard, Hosts};
pub use server::{serve_with, ServeLimits};
pub use shares::ShareLimits;

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 64 * 1024;

/// What the HTTP handlers share.
#[derive(Clone)]
pub struct ApiState {
    status: tokio_watch::Receiver<Status>,
    events: broadcast::Sender<TraceRecord>,
    sim: Option<SimHandle>,
    metrics: Arc<Metrics>,
    gate: Gate,
    machine: Arc<MachineConfig>,
    /// The host names the console answers to.
    hosts: Hosts,
    /// The operator's actions, shared with the fleet link.
    actions: actions::Actions,
    /// Addresses besides loopback whose screens may press the touchscreen's buttons.
    touchscreens: Vec<std::net::IpAddr>,
}

/// Whom the console answers besides loopback: the DNS names it may be reached by (`Host`), and
/// the other screens that may press the touchscreen's buttons.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// Names the pages and API may be reached by, beyond IP addresses and this host's names.
    pub host_names: Vec<String>,
    /// Addresses whose screens may use the touchscreen's buttons without the operator token.
    pub touchscreens: Vec<std::net::IpAddr>,
}

impl ApiState {
    /// Everything the API needs from a running kiosk.
    pub fn new(
        kiosk: &crate::kiosk::Kiosk,
        events: broadcast::Sender<TraceRecord>,
        metrics: Arc<Metrics>,
        token: Option<Token>,
        reach: Reach,
    ) -> Self {
        let Reach {
            host_names,
            touchscreens,
        } = reach;
        ApiState {
            touchscreens: touchscreens
                .into_iter()
                .map(|ip| ip.to_canonical())
                .collect(),
            status: kiosk.status.clone(),
            events,
            sim: kiosk.sim.clone(),
            metrics,
            gate: Gate::new(token),
            machine: Arc::clone(&kiosk.config),
            hosts: Hosts::new(host_names),
            actions: actions::Actions::new(
                kiosk.requests(),
                kiosk.status.clone(),
                Arc::clone(&kiosk.config),
                kiosk.sim.clone(),
            ),
        }
    }
}

/// An error answer: status code and a JSON body with a message.
struct ApiError(StatusCode, serde_json::Value);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

fn error(code: StatusCode, message: impl Into<String>) -> ApiError {
    ApiError(code, json!({ "error": message.into() }))
}

impl From<ConfigRejection> for ApiError {
    fn from(r: ConfigRejection) -> Self {
        let code = match &r {
            ConfigRejection::Malformed { .. } => StatusCode::BAD_REQUEST,
            ConfigRejection::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ConfigRejection::NoSuchVersion { .. } => StatusCode::NOT_FOUND,
            ConfigRejection::Conflict { .. } => StatusCode::CONFLICT,
            ConfigRejection::Storage { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(code, serde_json::to_value(&r).unwrap_or_default())
    }
}

impl From<actions::ActionError> for ApiError {
    fn from(e: actions::ActionError) -> Self {
        use actions::ActionError as E;
        let code = match &e {
            E::BadRequest(_) => StatusCode::BAD_REQUEST,
            E::NotFound(_) => StatusCode::NOT_FOUND,
            E::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            E::Conflict { .. } => StatusCode::CONFLICT,
            E::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            E::Config(r) => return ApiError::from(r.clone()),
        };
        ApiError(code, e.to_json())
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// A button number from a URL, or 400 quoting (the start of) what was sent instead.
fn button_number(text: &str) -> ApiResult<usize> {
    text.parse().map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            format!(
                "`{}` is not a button number",
                text.chars().take(20).collect::<String>()
            ),
        )
    })
}

async fn ask<T>(
    state: &ApiState,
    make: impl FnOnce(oneshot::Sender<T>) -> Request,
) -> ApiResult<T> {
    Ok(state.actions.ask(make).await?)
}

/// Hand the controller a request and answer once it is carried out and the status shows it, so
/// that a client reading the status next never sees the world from before its own action.
async fn tell(state: &ApiState, request: Request) -> ApiResult<()> {
    Ok(state.actions.tell(request).await?)
}

/// The router for the whole console.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/kiosk") }))
        .route("/kiosk", get(pages::kiosk))
        .route("/operator", get(pages::operator))
        .route("/assets/{name}", get(pages::asset))
        .route("/api/kiosk/state", get(kiosk_api::kiosk_state))
        .route("/api/kiosk/events", get(kiosk_api::kiosk_events))
        .route("/api/kiosk/strings", get(kiosk_api::kiosk_strings))
        .route("/api/kiosk/feedback", post(kiosk_api::feedback))
        .route("/api/kiosk/select/{button}", post(kiosk_api::select))
        .route("/api/kiosk/coin-return", post(kiosk_api::coin_return))
        .route("/api/sim/press/{button}", post(sim_api::sim_press))
        .route("/api/sim/coin/{cents}", post(sim_api::sim_coin))
        .route("/api/sim/return", post(sim_api::sim_return))
        .route("/api/sim/take", post(sim_api::sim_take))
        .route("/api/sim/door/{state}", post(sim_api::sim_door))
        .route("/api/status", get(machine_api::status))
        .route(
            "/api/config/surprises",
            get(config_api::get_surprises).put(config_api::put_surprises),
        )
        .route(
            "/api/config/surprises/policy",
            patch(config_api::patch_policy),
        )
        .route("/api/config/surprises/preview", post(config_api::preview))
        .route(
            "/api/config/surprises/versions",
            get(config_api::surprise_versions),
        )
        .route(
            "/api/config/surprises/rollback/{version}",
            post(config_api::rollback),
        )
        .route("/api/surprises/pause", post(machine_api::pause))
        .route(
            "/api/surprises/gift",
            post(gift_api::give).delete(gift_api::cancel),
        )
        .route("/api/surprises/resume", post(machine_api::resume))
        .route("/api/columns/{column}", patch(machine_api::edit_column))
        .route(
            "/api/columns/{column}/{action}",
            post(machine_api::column_action),
        )
        .route("/api/books", get(machine_api::books))
        .route("/api/audit.dex", get(audit_api::read))
        .route("/api/audit/reset", post(audit_api::reset))
        .route("/api/sales.csv", get(machine_api::sales_csv))
        .route("/api/events", get(machine_api::events))
        .route("/metrics", get(machine_api::metrics_text))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.gate.clone(),
            server::share,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.hosts.clone(),
            guard::guard,
        ))
        .with_state(state)
}

/// Where `run --listen TEXT` serves: an address, or none for `off`. Without an operator token only
/// loopback addresses are allowed: the operator API would be off, and the status is public only
/// on loopback.
pub fn listen_address(text: &str, has_token: bool) -> Result<Option<SocketAddr>, String> {
    let addr = match text {
        "off" | "none" => return Ok(None),
        text => text.parse::<SocketAddr>().map_err(|_| {
            format!("--listen: `{text}` is not an address like 127.0.0.1:8080 (or off)")
        })?,
    };
    if !addr.ip().is_loopback() && !has_token {
        return Err(format!(
            "refusing to listen on {addr} without an operator token: set HAPPINESS_TOKEN (or \
             --token-file), or listen on 127.0.0.1"
        ));
    }
    Ok(Some(addr))
}

/// A running console: the web server and the config watcher.
pub struct Console {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    _watcher: Option<notify::RecommendedWatcher>,
}

impl Console {
    /// Serve the console for `kiosk` on `listener`, and watch `config_dir` (if any) for changes.
    /// `host_names` are the names (besides IP addresses and `localhost`) it answers to.
    pub fn start(
        kiosk: &crate::kiosk::Kiosk,
        listener: tokio::net::TcpListener,
        token: Option<Token>,
        metrics: Arc<Metrics>,
        events: broadcast::Sender<TraceRecord>,
        config_dir: Option<std::path::PathBuf>,
        reach: Reach,
    ) -> std::io::Result<Console> {
        let addr = listener.local_addr()?;
        let state = ApiState::new(kiosk, events, metrics, token, reach);
        let watcher = config_dir.and_then(|dir| {
            watch::watch_config(dir.clone(), kiosk.requests())
                .map_err(|e| {
                    tracing::warn!(
                        "cannot watch {} for changes: {e}; SIGHUP still reloads",
                        dir.display()
                    );
                })
                .ok()
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let stopped = async {
                let _ = stopped.await;
            };
            if let Err(e) = serve(listener, state, stopped).await {
                tracing::error!("the web server stopped: {e}");
            }
        });
        Ok(Console {
            addr,
            stop: Some(stop),
            task,
            _watcher: watcher,
        })
    }

    /// Stop serving and watching.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Serve the console on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, ServeLimits::default(), shutdown).await
}

#[cfg(test)]
mod tests;
