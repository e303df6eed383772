//! The web pages, built into the binary: nothing to install or build to serve them.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

const KIOSK_HTML: &str = include_str!("assets/kiosk.html");
const OPERATOR_HTML: &str = include_str!("assets/operator.html");
const APP_CSS: &str = include_str!("assets/app.css");
const KIOSK_CSS: &str = include_str!("assets/kiosk.css");
const KIOSK_JS: &str = include_str!("assets/kiosk.js");
const OPERATOR_JS: &str = include_str!("assets/operator.js");
const DASHBOARD_JS: &str = include_str!("assets/dashboard.js");
const EVENTS_JS: &str = include_str!("assets/events.js");
const COLUMNS_JS: &str = include_str!("assets/columns.js");
const HAPPINESS_JS: &str = include_str!("assets/happiness.js");

/// The customer display (and, on the simulator, the virtual machine front).
pub async fn kiosk() -> Html<&'static str> {
    Html(KIOSK_HTML)
}

/// The operator console.
pub async fn operator() -> Html<&'static str> {
    Html(OPERATOR_HTML)
}

/// Style sheets and scripts.
pub async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "kiosk.css" => (KIOSK_CSS, "text/css; charset=utf-8"),
        "kiosk.js" => (KIOSK_JS, "text/javascript; charset=utf-8"),
        "operator.js" => (OPERATOR_JS, "text/javascript; charset=utf-8"),
        "dashboard.js" => (DASHBOARD_JS, "text/javascript; charset=utf-8"),
        "events.js" => (EVENTS_JS, "text/javascript; charset=utf-8"),
        "columns.js" => (COLUMNS_JS, "text/javascript; charset=utf-8"),
        "happiness.js" => (HAPPINESS_JS, "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "no such asset").into_response(),
    };
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pages' CSP allows no inline script: an `on...=` attribute would silently not run.
    #[test]
    fn no_page_has_an_inline_event_handler() {
        for (name, html) in [("kiosk", KIOSK_HTML), ("operator", OPERATOR_HTML)] {
            let lower = html.to_ascii_lowercase();
            let inline = lower.split(|c: char| c.is_whitespace()).find(|word| {
                word.starts_with("on")
                    && word.contains('=')
                    && word[2..]
                        .split('=')
                        .next()
                        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase()))
            });
            assert_eq!(inline, None, "{name}.html has an inline handler");
        }
    }
}
