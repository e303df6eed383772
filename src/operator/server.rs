//! The web server's connections: how many at once, whose they are, and how long one may take
//! to say what it wants. Idle and slow-drip connections are closed by hyper's own timers (a
//! client that has not sent a whole request head within the header timeout is dropped); who
//! gets a place when places run out is [`super::shares`]' choice, carried out here: a
//! connection it picks to make room is closed, and one it refuses is closed at once rather than
//! queued, so that a flood of sockets can neither hang the pages nor use up the process's open
//! files (which the journal and config reloads need: at systemd's default of 1,024, the pools
//! leave most of them free).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::oneshot;
use tower::ServiceExt as _;

use super::auth::Gate;
use super::shares::{Admit, ConnId, ShareLimits, Shares};
use super::{error, router, ApiState};

/// Limits on the server's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// The pools of connections and the share of anonymous requests.
    pub shares: ShareLimits,
    /// Time a client has to send a request's head (on a new connection and between requests
    /// on a kept-alive one); slower or silent ones are closed.
    pub header_read: Duration,
    /// How long shutdown waits for requests in flight (live event streams never end by
    /// themselves).
    pub drain: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            shares: ShareLimits::default(),
            header_read: Duration::from_secs(10),
            drain: Duration::from_secs(2),
        }
    }
}

/// The connections being served and how to close each.
struct Registry {
    shares: Shares,
    closers: HashMap<ConnId, oneshot::Sender<()>>,
}

type Shared = Arc<Mutex<Registry>>;

fn lock(registry: &Shared) -> std::sync::MutexGuard<'_, Registry> {
    // The counts stay consistent under a panic elsewhere: every change is one call.
    registry.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Which connection a request came on, for the share of anonymous requests.
#[derive(Clone)]
struct Seat {
    registry: Shared,
    id: ConnId,
}

/// Counts a request against its connection's pool and the anonymous share (a request without
/// the operator's token from outside the machine); over the share it is answered 503 at once.
/// The place is given back when the answer's body has been sent or dropped, so a live stream
/// holds it for as long as it is open.
pub(super) async fn share(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let Some(seat) = request.extensions().get::<Seat>().cloned() else {
        // Served some other way (a test's router): nothing to count.
        return next.run(request).await;
    };
    let trusted = gate.holds_token(request.headers());
    if !lock(&seat.registry).shares.begin(seat.id, trusted) {
        let mut busy = error(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many requests without the operator's token from outside this machine: \
             try again shortly",
        )
        .into_response();
        busy.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        return busy;
    }
    let given_back = SeatGuard { seat, trusted };
    next.run(request).await.map(|body| {
        axum::body::Body::new(Held {
            body,
            _seat: given_back,
        })
    })
}

/// An answer's body holding its request's place until it is sent or dropped; its size is the
/// body's own (so a sized answer keeps its `Content-Length`).
struct Held {
    body: axum::body::Body,
    _seat: SeatGuard,
}

impl axum::body::HttpBody for Held {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// Gives a request's place back when dropped.
struct SeatGuard {
    seat: Seat,
    trusted: bool,
}

impl Drop for SeatGuard {
    fn drop(&mut self) {
        lock(&self.seat.registry)
            .shares
            .end(self.seat.id, self.trusted);
    }
}

/// Serve the console on `listener` within `limits` until `shutdown` completes.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    state: ApiState,
    limits: ServeLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let touchscreens = state.touchscreens.clone();
    let app = router(state);
    let registry: Shared = Arc::new(Mutex::new(Registry {
        shares: Shares::new(limits.shares),
        closers: HashMap::new(),
    }));
    let graceful = GracefulShutdown::new();
    // HTTP/1.1 only: browsers speak HTTP/2 only over TLS, and sniffing for it would wait on a
    // silent connection before any timer runs.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors, most likely: let some connections close first.
                tracing::warn!("cannot accept a connection: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let ip = peer.ip().to_canonical();
        // The machine's own screen: a connection from this very machine (its address is the
        // one it reached), or a touchscreen the operator named.
        let home = stream
            .local_addr()
            .is_ok_and(|local| local.ip().to_canonical() == ip)
            || touchscreens.contains(&ip);
        let (closed, mut close_me) = oneshot::channel();
        let id = {
            let mut registry = lock(&registry);
            match registry.shares.admit(ip, home) {
                Admit::Refuse => {
                    tracing::debug!(%peer, "connection refused: every place is in use");
                    drop(stream);
                    continue;
                }
                Admit::Serve { id, close } => {
                    for victim in close {
                        tracing::debug!(%peer, "a waiting connection closed to make room");
                        if let Some(closer) = registry.closers.remove(&victim) {
                            let _ = closer.send(());
                        }
                    }
                    registry.closers.insert(id, closed);
                    id
                }
            }
        };
        let seat = Seat {
            registry: Arc::clone(&registry),
            id,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            request.extensions_mut().insert(seat.clone());
            app.clone().oneshot(request.map(axum::body::Body::new))
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        let registry = Arc::clone(&registry);
        tokio::spawn(async move {
            // A connection ending badly (reset, timed out) is the client's business; one
            // closed to make room is simply dropped.
            tokio::select! {
                _ = connection => {}
                _ = &mut close_me => {}
            }
            let mut registry = lock(&registry);
            registry.shares.closed(id);
            registry.closers.remove(&id);
        });
    }
    drop(listener);
    // Requests in flight may finish; live streams are cut after a moment.
    let _ = tokio::time::timeout(limits.drain, graceful.shutdown()).await;
    Ok(())
}
