//! The web server's connections: how many at once, and how long one may take to say what it
//! wants. Idle and slow-drip connections are closed by hyper's own timers (a client that has not
//! sent a whole request head within the header timeout is dropped), and past the cap a new
//! connection is closed at once rather than queued, so that a flood of idle sockets can neither
//! hang the pages nor use up the process's open files (which the journal and config reloads
//! need: at systemd's default of 1,024, the cap leaves most of them free).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use super::{router, ApiState};

/// Limits on the server's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// Connections served at once; more are closed as they arrive.
    pub max_connections: usize,
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
            max_connections: 256,
            header_read: Duration::from_secs(10),
            drain: Duration::from_secs(2),
        }
    }
}

/// Serve the console on `listener` within `limits` until `shutdown` completes.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    state: ApiState,
    limits: ServeLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state);
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
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
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            tracing::debug!(%peer, "connection refused: {} connections already", limits.max_connections);
            drop(stream);
            continue;
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            app.clone().oneshot(request.map(axum::body::Body::new))
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A connection ending badly (reset, timed out) is the client's business.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    // Requests in flight may finish; live streams are cut after a moment.
    let _ = tokio::time::timeout(limits.drain, graceful.shutdown()).await;
    Ok(())
}
