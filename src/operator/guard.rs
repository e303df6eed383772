//! What every request and answer passes through: the `Host` a request names must be this
//! machine (an IP address, `localhost`, or a configured name), so that a web page whose DNS name
//! was pointed at the kiosk (DNS rebinding) cannot talk to it; a browser request that changes
//! something must come from the console's own pages (its `Origin`), so that a page on another
//! site cannot add credit on a simulator, open its door or tap feedback; and every answer
//! carries headers that keep the pages out of other sites' frames and out of caches.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::*;

/// The pages' policy: their own scripts and styles only (inline styles allowed for the look of
/// generated rows), no frames anywhere.
const CSP: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Check the request's `Host` and (for a change) `Origin`, then add the security headers.
pub async fn guard(State(hosts): State<Hosts>, request: Request, next: Next) -> Response {
    let host = host_of(request.headers());
    let operator_data =
        request.uri().path().starts_with("/api/") || request.uri().path() == "/metrics";
    // A refusal carries the same headers as any other answer.
    let mut response = if !host.as_deref().is_some_and(|h| hosts.allowed(h)) {
        error(
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "this server does not answer to the host name `{}`: use its address, or start it \
                 with --host-name",
                host.unwrap_or_default()
            ),
        )
        .into_response()
    } else if changes_something(request.method()) && !same_origin(request.headers()) {
        error(
            StatusCode::FORBIDDEN,
            "a request from another site's page is refused: use the kiosk's own pages",
        )
        .into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if operator_data {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

fn changes_something(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The host a request names, without its port, lower case.
fn host_of(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?.trim();
    let name = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    Some(name.to_ascii_lowercase())
}

/// No `Origin` (a script, `curl`), or one whose host and port are the request's own `Host`.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let (Ok(origin), Some(Ok(host))) = (
        origin.to_str(),
        headers.get(header::HOST).map(|h| h.to_str()),
    ) else {
        return false;
    };
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    authority.is_some_and(|a| a.eq_ignore_ascii_case(host.trim()))
}

/// The names a server answers to besides IP addresses and `localhost`.
#[derive(Debug, Clone, Default)]
pub struct Hosts(std::sync::Arc<Vec<String>>);

impl Hosts {
    /// IP addresses, `localhost`, and `names`.
    pub fn new(names: Vec<String>) -> Hosts {
        Hosts(std::sync::Arc::new(names))
    }

    /// IP addresses (which DNS cannot point elsewhere), `localhost`, and the configured names.
    pub fn allowed(&self, host: &str) -> bool {
        host.parse::<std::net::IpAddr>().is_ok()
            || host == "localhost"
            || self.0.iter().any(|n| n.eq_ignore_ascii_case(host))
    }
}
