//! `happiness fleet serve`: the fleet table as a web page, live, behind the console's rules
//! (the operator token, or no token and loopback only; the host check and security headers).
//! One task keeps a connection to the broker and the latest table; the page reads it once a
//! second.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tokio::sync::watch;

use super::client::Broker;
use super::view::Row;
use crate::operator::{Gate, Hosts};

const FLEET_HTML: &str = include_str!("assets/fleet.html");
const FLEET_JS: &str = include_str!("assets/fleet.js");
const FLEET_CSS: &str = include_str!("assets/fleet.css");
const APP_CSS: &str = include_str!("../operator/assets/app.css");

/// The table as the page gets it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FleetSnapshot {
    /// The broker's address.
    pub broker: String,
    /// Whether the page's server is connected to it now.
    pub connected: bool,
    /// Why not, if it is not.
    pub error: Option<String>,
    /// Every machine seen.
    pub machines: Vec<Row>,
}

#[derive(Clone)]
struct PageState {
    gate: Gate,
    fleet: watch::Receiver<FleetSnapshot>,
}

/// Keep `tx` up to date with the fleet, reconnecting after a failure, for as long as anyone
/// reads it.
pub async fn follow(broker: Broker, tx: watch::Sender<FleetSnapshot>) {
    let url = broker.url.to_string();
    tx.send_modify(|s| s.broker = url.clone());
    while !tx.is_closed() {
        let result = broker
            .watch(|view| {
                tx.send_modify(|s| {
                    s.connected = true;
                    s.error = None;
                    s.machines = view.rows();
                });
            })
            .await;
        let error = result.err().unwrap_or_else(|| "disconnected".into());
        tracing::warn!(broker = %url, "fleet page: {error}; trying again in 2 s");
        tx.send_modify(|s| {
            s.connected = false;
            s.error = Some(error);
        });
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// The page's router, reading the table from `fleet`.
pub fn router(gate: Gate, hosts: Hosts, fleet: watch::Receiver<FleetSnapshot>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/fleet") }))
        .route("/fleet", get(|| async { Html(FLEET_HTML) }))
        .route("/assets/{name}", get(asset))
        .route("/api/fleet", get(table))
        .layer(axum::extract::DefaultBodyLimit::max(1024))
        .layer(axum::middleware::from_fn_with_state(
            hosts,
            crate::operator::guard,
        ))
        .with_state(PageState { gate, fleet })
}

async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "fleet.css" => (FLEET_CSS, "text/css; charset=utf-8"),
        "fleet.js" => (FLEET_JS, "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "no such asset").into_response(),
    };
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

async fn table(
    State(state): State<PageState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err((code, message)) = state.gate.check_read(&headers, peer) {
        return (code, Json(serde_json::json!({ "error": message }))).into_response();
    }
    let snapshot = state.fleet.borrow().clone();
    Json(snapshot).into_response()
}

/// Serve the fleet page on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    broker: Broker,
    gate: Gate,
    hosts: Hosts,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (tx, rx) = watch::channel(FleetSnapshot::default());
    let follower = tokio::spawn(follow(broker, tx));
    let app = router(gate, hosts, rx);
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    follower.abort();
    served
}
