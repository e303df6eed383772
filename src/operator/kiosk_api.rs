//! The customer's side of the API: what the display shows (built by `kiosk_view`), its live
//! events, the page's words, the touchscreen's buttons and the feedback tap.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::Json;
use serde::{Deserialize, Serialize};
use tokio_stream::wrappers::WatchStream;
use tokio_stream::{Stream, StreamExt};

use crate::controller::Request;
use crate::i18n::{catalogue, Language};
use crate::vend::Event;

use super::kiosk_view::{kiosk_view, KioskView};
use super::*;

/// `?lang=de`: the language a customer picked on the page.
#[derive(Debug, Default, Deserialize)]
pub(super) struct LangQuery {
    lang: Option<String>,
}

impl LangQuery {
    /// The language asked for, or the machine's own when none (or one it does not speak) is.
    fn language(&self, state: &ApiState) -> Language {
        self.lang
            .as_deref()
            .and_then(Language::from_code)
            .unwrap_or(state.machine.language)
    }
}

pub(super) async fn kiosk_state(
    State(state): State<ApiState>,
    Query(q): Query<LangQuery>,
) -> Json<KioskView> {
    let status = state.status.borrow().clone();
    Json(kiosk_view(&state, &status, q.language(&state)))
}

/// The page's own words in one language, and the languages there are.
#[derive(Debug, Serialize)]
pub(super) struct PageStrings {
    lang: Language,
    /// The machine's language, which the page returns to for the next customer.
    default: Language,
    languages: Vec<LanguageView>,
    strings: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub(super) struct LanguageView {
    code: Language,
    name: &'static str,
}

pub(super) async fn kiosk_strings(
    State(state): State<ApiState>,
    Query(q): Query<LangQuery>,
) -> Json<PageStrings> {
    let lang = q.language(&state);
    let cat = catalogue();
    let strings = cat
        .ids(Language::English)
        .into_iter()
        .filter(|id| id.starts_with("page-") || id.starts_with("lamp-"))
        .map(|id| {
            let text = cat.text(lang, &id, &[]);
            (id, text)
        })
        .collect();
    Json(PageStrings {
        lang,
        default: state.machine.language,
        languages: Language::ALL
            .into_iter()
            .map(|code| LanguageView {
                code,
                name: code.native_name(),
            })
            .collect(),
        strings,
    })
}

pub(super) async fn kiosk_events(
    State(state): State<ApiState>,
    Query(q): Query<LangQuery>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let view_state = state.clone();
    let lang = q.language(&state);
    let stream = WatchStream::new(state.status.clone()).map(move |s| {
        let view = kiosk_view(&view_state, &s, lang);
        Ok(SseEvent::default()
            .event("state")
            .json_data(&view)
            .unwrap_or_else(|_| SseEvent::default().comment("encoding error")))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[derive(Debug, Deserialize)]
pub(super) struct FeedbackBody {
    happy: bool,
}

/// Whether a screen at `peer` may use the touchscreen's buttons: the machine's own screen
/// (loopback), an address the operator named (`--touchscreen`), or anyone with the operator's
/// token. The buttons take no token by design, so on a LAN listener anyone else could spend a
/// customer's credit, pay it out before their press, or answer "How was it?" for them.
pub(super) fn may_touch(
    peer: std::net::IpAddr,
    named: &[std::net::IpAddr],
    operator: bool,
) -> bool {
    let ip = peer.to_canonical();
    ip.is_loopback() || named.contains(&ip) || operator
}

fn touchscreen_only(state: &ApiState, headers: &HeaderMap, peer: SocketAddr) -> ApiResult<()> {
    let operator = || state.gate.check(headers, peer).is_ok();
    if may_touch(peer.ip(), &state.touchscreens, false) || operator() {
        return Ok(());
    }
    Err(error(
        StatusCode::FORBIDDEN,
        format!(
            "the touchscreen's buttons answer the machine's own screen (loopback) only, not {}: \
             name another screen's address with `run --touchscreen ADDR`",
            peer.ip().to_canonical()
        ),
    ))
}

pub(super) async fn feedback(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<FeedbackBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<StatusCode> {
    touchscreen_only(&state, &headers, peer)?;
    let Json(body) = body.map_err(|e| error(e.status(), e.body_text()))?;
    ask(&state, |reply| Request::Feedback {
        happy: body.happy,
        reply,
    })
    .await?
    .map_err(|e| error(StatusCode::CONFLICT, e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// The touchscreen's own selection buttons: choose the product behind button `button` (the
/// same as pressing it; on the simulator the virtual button is pressed).
pub(super) async fn select(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    UrlPath(button): UrlPath<String>,
) -> ApiResult<StatusCode> {
    touchscreen_only(&state, &headers, peer)?;
    let n = button_number(&button)?;
    if let Some(sim) = &state.sim {
        sim.press(n)
            .map_err(|e| error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
        return Ok(StatusCode::NO_CONTENT);
    }
    let column = n
        .checked_sub(1)
        .and_then(|i| state.machine.buttons.get(i))
        .copied()
        .ok_or_else(|| {
            error(
                StatusCode::NOT_FOUND,
                format!(
                    "there is no button {n}: the machine has {}",
                    state.machine.buttons.len()
                ),
            )
        })?;
    tell(&state, Request::Event(Event::Select { column })).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The touchscreen's coin-return button (the same as the machine's own).
pub(super) async fn coin_return(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    touchscreen_only(&state, &headers, peer)?;
    if let Some(sim) = &state.sim {
        sim.press_coin_return()
            .map_err(|e| error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
        return Ok(StatusCode::NO_CONTENT);
    }
    tell(&state, Request::Event(Event::CoinReturn)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod touch_tests {
    use super::may_touch;

    #[test]
    fn only_the_machines_own_screen_or_a_named_one_may_press() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().expect("ip");
        let named = [ip("192.168.1.40")];
        assert!(may_touch(ip("127.0.0.1"), &[], false));
        assert!(may_touch(ip("::1"), &[], false));
        assert!(may_touch(ip("::ffff:127.0.0.1"), &[], false));
        assert!(!may_touch(ip("192.168.1.50"), &named, false));
        assert!(may_touch(ip("192.168.1.40"), &named, false));
        assert!(may_touch(ip("::ffff:192.168.1.40"), &named, false));
        assert!(may_touch(ip("10.0.0.9"), &[], true), "the operator may");
    }
}
