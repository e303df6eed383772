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

mod pages;
pub mod watch;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use happiness_hardware::sim::SimHandle;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::{broadcast, oneshot, watch as tokio_watch};
use tokio_stream::wrappers::{BroadcastStream, WatchStream};
use tokio_stream::{Stream, StreamExt};

use crate::config::MachineConfig;
use crate::controller::{BodyFormat, ConfigRejection, Request, Status};
use crate::money::Cents;
use crate::trace::TraceRecord;
use crate::vend::{ColumnId, ColumnStatus, Event, Screen};

use crate::metrics::Metrics;

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Failed authentications from one address within a minute before it is refused for a minute.
const MAX_FAILURES: u32 = 5;

/// The operator token.
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

/// Why the token could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The file could not be read.
    #[error("cannot read the token file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Others could read the file.
    #[error("the token file {path} can be read by others (mode {mode:o}): run `chmod 600 {path}`")]
    TooOpen {
        /// The file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// The token is too short to be a secret.
    #[error("the operator token must be at least 16 characters")]
    TooShort,
}

impl Token {
    /// A token from text (trimmed).
    pub fn new(text: &str) -> Result<Token, TokenError> {
        let t = text.trim();
        if t.chars().count() < 16 {
            return Err(TokenError::TooShort);
        }
        Ok(Token(t.to_string()))
    }

    /// The token from `HAPPINESS_TOKEN`, else from `file` (which must be readable by its owner
    /// only), else none.
    pub fn load(env: Option<String>, file: Option<&Path>) -> Result<Option<Token>, TokenError> {
        if let Some(text) = env.filter(|t| !t.trim().is_empty()) {
            return Token::new(&text).map(Some);
        }
        let Some(path) = file else { return Ok(None) };
        let shown = path.display().to_string();
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            // No file yet: the operator API stays off until there is one (the package creates
            // one at install); the machine still sells.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::warn!("no token file at {shown}: the operator API is off");
                return Ok(None);
            }
            Err(source) => {
                return Err(TokenError::Read {
                    path: shown,
                    source,
                })
            }
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(TokenError::TooOpen { path: shown, mode });
            }
        }
        let _ = meta;
        let text = std::fs::read_to_string(path).map_err(|source| TokenError::Read {
            path: shown,
            source,
        })?;
        Token::new(&text).map(Some)
    }

    fn matches(&self, offered: &str) -> bool {
        use subtle::ConstantTimeEq;
        // Length differences leak only the length, which a fixed-format token does not hide.
        self.0.as_bytes().ct_eq(offered.as_bytes()).into()
    }
}

/// Counts failed authentications per address.
#[derive(Debug, Default)]
struct Limiter {
    failures: HashMap<IpAddr, (u32, Instant)>,
}

impl Limiter {
    fn blocked(&mut self, ip: IpAddr) -> bool {
        match self.failures.get(&ip) {
            Some((n, since)) if since.elapsed() < Duration::from_secs(60) => *n >= MAX_FAILURES,
            Some(_) => {
                self.failures.remove(&ip);
                false
            }
            None => false,
        }
    }

    fn fail(&mut self, ip: IpAddr) {
        let entry = self.failures.entry(ip).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= Duration::from_secs(60) {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
        // Keep the table small under a flood from many addresses.
        if self.failures.len() > 10_000 {
            self.failures
                .retain(|_, (_, since)| since.elapsed() < Duration::from_secs(60));
        }
    }
}

/// What the HTTP handlers share.
#[derive(Clone)]
pub struct ApiState {
    requests: UnboundedSender<Request>,
    status: tokio_watch::Receiver<Status>,
    events: broadcast::Sender<TraceRecord>,
    sim: Option<SimHandle>,
    metrics: Arc<Metrics>,
    token: Option<Token>,
    limiter: Arc<Mutex<Limiter>>,
    machine: Arc<MachineConfig>,
}

impl ApiState {
    /// Everything the API needs from a running kiosk.
    pub fn new(
        requests: UnboundedSender<Request>,
        status: tokio_watch::Receiver<Status>,
        events: broadcast::Sender<TraceRecord>,
        sim: Option<SimHandle>,
        metrics: Arc<Metrics>,
        token: Option<Token>,
        machine: Arc<MachineConfig>,
    ) -> Self {
        ApiState {
            requests,
            status,
            events,
            sim,
            metrics,
            token,
            limiter: Arc::new(Mutex::new(Limiter::default())),
            machine,
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
            ConfigRejection::Storage { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(code, serde_json::to_value(&r).unwrap_or_default())
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// Checks the bearer token. Operator reads and writes need it; without a configured token they
/// are refused outright.
fn authorize(state: &ApiState, headers: &HeaderMap, peer: SocketAddr) -> ApiResult<()> {
    let Some(token) = &state.token else {
        return Err(error(
            StatusCode::FORBIDDEN,
            "the operator API is off: start the kiosk with HAPPINESS_TOKEN set (or --token-file)",
        ));
    };
    let ip = peer.ip();
    let mut limiter = state
        .limiter
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if limiter.blocked(ip) {
        return Err(error(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed attempts: wait a minute",
        ));
    }
    let offered = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match offered {
        Some(t) if token.matches(t) => Ok(()),
        Some(_) => {
            limiter.fail(ip);
            Err(error(StatusCode::UNAUTHORIZED, "wrong token"))
        }
        None => {
            limiter.fail(ip);
            Err(error(
                StatusCode::UNAUTHORIZED,
                "missing token: send `Authorization: Bearer <token>`",
            ))
        }
    }
}

/// Status is public only when there is no token (and then the server is on loopback only).
fn authorize_status(state: &ApiState, headers: &HeaderMap, peer: SocketAddr) -> ApiResult<()> {
    if state.token.is_none() {
        return Ok(());
    }
    authorize(state, headers, peer)
}

async fn ask<T>(
    state: &ApiState,
    make: impl FnOnce(oneshot::Sender<T>) -> Request,
) -> ApiResult<T> {
    let (tx, rx) = oneshot::channel();
    state.requests.send(make(tx)).map_err(|_| {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the controller has stopped",
        )
    })?;
    rx.await.map_err(|_| {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the controller has stopped",
        )
    })
}

/// Hand the controller a request and answer once it is carried out and the status shows it, so
/// that a client reading the status next never sees the world from before its own action.
async fn tell(state: &ApiState, request: Request) -> ApiResult<()> {
    ask(state, |reply| Request::Then(Box::new(request), reply)).await
}

/// The router for the whole console.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/kiosk") }))
        .route("/kiosk", get(pages::kiosk))
        .route("/operator", get(pages::operator))
        .route("/assets/{name}", get(pages::asset))
        .route("/api/kiosk/state", get(kiosk_state))
        .route("/api/kiosk/events", get(kiosk_events))
        .route("/api/kiosk/feedback", post(feedback))
        .route("/api/sim/press/{button}", post(sim_press))
        .route("/api/sim/coin/{cents}", post(sim_coin))
        .route("/api/sim/return", post(sim_return))
        .route("/api/sim/take", post(sim_take))
        .route("/api/sim/door/{state}", post(sim_door))
        .route("/api/status", get(status))
        .route(
            "/api/config/surprises",
            get(get_surprises).put(put_surprises),
        )
        .route("/api/config/surprises/versions", get(surprise_versions))
        .route("/api/config/surprises/rollback/{version}", post(rollback))
        .route("/api/surprises/pause", post(pause))
        .route("/api/surprises/resume", post(resume))
        .route("/api/columns/{column}/{action}", post(column_action))
        .route("/api/books", get(books))
        .route("/api/events", get(events))
        .route("/metrics", get(metrics_text))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
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
    pub fn start(
        kiosk: &crate::kiosk::Kiosk,
        listener: tokio::net::TcpListener,
        token: Option<Token>,
        metrics: Arc<Metrics>,
        events: broadcast::Sender<TraceRecord>,
        config_dir: Option<std::path::PathBuf>,
    ) -> std::io::Result<Console> {
        let addr = listener.local_addr()?;
        let state = ApiState::new(
            kiosk.requests(),
            kiosk.status.clone(),
            events,
            kiosk.sim.clone(),
            metrics,
            token,
            Arc::clone(&kiosk.config),
        );
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
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// What the customer display shows.
#[derive(Debug, Clone, Serialize)]
struct KioskView {
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
struct Selection {
    button: usize,
    column: ColumnId,
    product: String,
    price: Cents,
    available: bool,
    sold_out: bool,
}

fn kiosk_view(state: &ApiState, s: &Status) -> KioskView {
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
        ask_feedback: !s.vending
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

async fn kiosk_state(State(state): State<ApiState>) -> Json<KioskView> {
    let status = state.status.borrow().clone();
    Json(kiosk_view(&state, &status))
}

async fn kiosk_events(
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
struct FeedbackBody {
    happy: bool,
}

async fn feedback(
    State(state): State<ApiState>,
    body: Result<Json<FeedbackBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<StatusCode> {
    let Json(body) = body.map_err(|e| error(e.status(), e.body_text()))?;
    tell(&state, Request::Feedback { happy: body.happy }).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn sim(state: &ApiState) -> ApiResult<&SimHandle> {
    state.sim.as_ref().ok_or_else(|| {
        error(
            StatusCode::NOT_FOUND,
            "the virtual machine front exists only on the simulator",
        )
    })
}

async fn sim_press(
    State(state): State<ApiState>,
    UrlPath(button): UrlPath<String>,
) -> ApiResult<StatusCode> {
    let n: usize = button.parse().map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            format!("`{button}` is not a button number"),
        )
    })?;
    sim(&state)?
        .press(n)
        .map_err(|e| error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn sim_coin(
    State(state): State<ApiState>,
    UrlPath(cents): UrlPath<String>,
) -> ApiResult<StatusCode> {
    let value: u64 = cents.parse().map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            format!("`{cents}` is not an amount in cents"),
        )
    })?;
    let pulses = state
        .machine
        .pulses_for_coin(Cents::new(value))
        .ok_or_else(|| {
            error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("this machine takes no coin worth {value} cents"),
            )
        })?;
    sim(&state)?
        .insert_coin(pulses)
        .map_err(|e| error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn sim_return(State(state): State<ApiState>) -> ApiResult<StatusCode> {
    sim(&state)?
        .press_coin_return()
        .map_err(|e| error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn sim_take(State(state): State<ApiState>) -> ApiResult<Json<Vec<String>>> {
    let items = sim(&state)?.take_tray();
    Ok(Json(items.into_iter().map(|i| i.product).collect()))
}

async fn sim_door(
    State(state): State<ApiState>,
    UrlPath(door): UrlPath<String>,
) -> ApiResult<StatusCode> {
    let open = match door.as_str() {
        "open" => true,
        "close" => false,
        other => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                format!("`{other}`: use open or close"),
            ))
        }
    };
    sim(&state)?
        .set_door(open)
        .map_err(|e| error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn status(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<Json<Status>> {
    authorize_status(&state, &headers, peer)?;
    let status = state.status.borrow().clone();
    Ok(Json(status))
}

async fn get_surprises(
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

async fn put_surprises(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    authorize(&state, &headers, peer)?;
    let text = std::str::from_utf8(&body)
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
    let source = format!("api from {}", peer.ip());
    let applied = ask(&state, |reply| Request::ApplySurprises {
        text,
        format,
        source,
        reply,
    })
    .await??;
    Ok(Json(
        json!({ "version": applied.version, "changed": applied.changed }),
    ))
}

async fn surprise_versions(
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

async fn rollback(
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
    let applied = ask(&state, |reply| Request::RollbackSurprises {
        version,
        reply,
    })
    .await??;
    Ok(Json(
        json!({ "version": applied.version, "changed": applied.changed }),
    ))
}

async fn pause(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    authorize(&state, &headers, peer)?;
    tell(&state, Request::PauseSurprises { paused: true }).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn resume(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    authorize(&state, &headers, peer)?;
    tell(&state, Request::PauseSurprises { paused: false }).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn column_action(
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

async fn books(
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

async fn events(
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

async fn metrics_text(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_beyond_loopback_needs_a_token() {
        assert_eq!(listen_address("off", false), Ok(None));
        assert!(listen_address("127.0.0.1:8080", false).is_ok_and(|a| a.is_some()));
        assert!(listen_address("[::1]:8080", false).is_ok_and(|a| a.is_some()));
        let refused = listen_address("0.0.0.0:8080", false).expect_err("needs a token");
        assert!(refused.contains("without an operator token"), "{refused}");
        assert!(listen_address("0.0.0.0:8080", true).is_ok_and(|a| a.is_some()));
        let bad = listen_address("eight thousand", true).expect_err("not an address");
        assert!(bad.contains("is not an address"), "{bad}");
    }

    #[test]
    fn tokens_must_be_long_and_compare_exactly() {
        assert!(matches!(Token::new("short"), Err(TokenError::TooShort)));
        let t = Token::new("  correct horse battery staple  ").expect("token");
        assert!(t.matches("correct horse battery staple"));
        assert!(!t.matches("correct horse battery stapl"));
        assert!(!t.matches(""));
        assert_eq!(format!("{t:?}"), "Token(..)");
    }

    #[test]
    fn token_files_open_to_others_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("token");
        std::fs::write(&path, "a-long-enough-secret-token\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(matches!(
            Token::load(None, Some(&path)),
            Err(TokenError::TooOpen { .. })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert!(Token::load(None, Some(&path)).expect("load").is_some());
        assert!(Token::load(None, None).expect("none").is_none());
        assert!(Token::load(None, Some(&dir.path().join("absent")))
            .expect("absent file")
            .is_none());
        assert!(
            Token::load(Some("from-the-environment-1234".into()), Some(&path))
                .expect("env wins")
                .is_some_and(|t| t.matches("from-the-environment-1234"))
        );
    }

    #[test]
    fn repeated_failures_are_blocked_for_a_minute() {
        let mut l = Limiter::default();
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        for _ in 0..MAX_FAILURES {
            assert!(!l.blocked(ip));
            l.fail(ip);
        }
        assert!(l.blocked(ip));
        assert!(!l.blocked("10.0.0.1".parse().expect("ip")));
    }
}
