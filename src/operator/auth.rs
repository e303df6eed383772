//! Who may use the operator API: the token (from the environment or an owner-only file,
//! compared in constant time) and the limit on failed attempts per address.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, StatusCode};

use super::*;

/// Failed authentications from one address within a minute before it is refused for a minute.
pub(super) const MAX_FAILURES: u32 = 5;

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
    #[error("the operator token must be at least 16 characters (it has {0})")]
    TooShort(usize),
    /// The token holds characters a browser or `curl` cannot send in a header as typed.
    #[error(
        "the operator token may hold only visible ASCII characters (letters, digits and \
         punctuation, no spaces): character {position} is not one"
    )]
    NotVisibleAscii {
        /// 1-based position of the first character that is not.
        position: usize,
    },
}

impl Token {
    /// A token from text (trimmed): at least 16 visible ASCII characters, so that it can be
    /// sent in an `Authorization` header exactly as typed.
    pub fn new(text: &str) -> Result<Token, TokenError> {
        let t = text.trim();
        if let Some(i) = t.chars().position(|c| !c.is_ascii_graphic()) {
            return Err(TokenError::NotVisibleAscii { position: i + 1 });
        }
        if t.len() < 16 {
            return Err(TokenError::TooShort(t.len()));
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
            // A token file named but not there is a mistake to stop on (a typo would leave the
            // console off with only a warning): the package makes one at install.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(TokenError::Read {
                    path: shown,
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no such file (make one with the token, mode 0600, or leave \
                         --token-file out to run without the operator API)",
                    ),
                })
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

    pub(super) fn matches(&self, offered: &str) -> bool {
        use subtle::ConstantTimeEq;
        // Length differences leak only the length, which a fixed-format token does not hide.
        self.0.as_bytes().ct_eq(offered.as_bytes()).into()
    }
}

/// Counts failed authentications per address.
#[derive(Debug, Default)]
pub struct Limiter {
    failures: HashMap<IpAddr, (u32, Instant)>,
}

impl Limiter {
    pub(super) fn blocked(&mut self, ip: IpAddr) -> bool {
        match self.failures.get(&ip) {
            Some((n, since)) if since.elapsed() < Duration::from_secs(60) => *n >= MAX_FAILURES,
            Some(_) => {
                self.failures.remove(&ip);
                false
            }
            None => false,
        }
    }

    /// The right token came from `ip`: its count starts again.
    pub(super) fn succeed(&mut self, ip: IpAddr) {
        self.failures.remove(&ip);
    }

    pub(super) fn fail(&mut self, ip: IpAddr) {
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

/// Who may use an operator's pages and API: the token, if there is one, and the limit on wrong
/// tokens per address. The kiosk's console and the fleet page share these rules.
#[derive(Clone, Default)]
pub struct Gate {
    token: Option<Token>,
    limiter: Arc<Mutex<Limiter>>,
}

impl Gate {
    /// The rules for `token` (none: operator data is refused, and reads are public, which only
    /// a server on loopback may allow).
    pub fn new(token: Option<Token>) -> Gate {
        Gate {
            token,
            limiter: Arc::default(),
        }
    }

    /// Whether there is a token.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Whether the request carries the right token (no answer, no count of wrong ones: the
    /// connection shares ask this of every request).
    pub fn holds_token(&self, headers: &HeaderMap) -> bool {
        let offered = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token);
        matches!((&self.token, offered), (Some(token), Some(offered)) if token.matches(offered))
    }

    /// Checks the bearer token. Operator reads and writes need it; without a configured token
    /// they are refused outright.
    pub fn check(&self, headers: &HeaderMap, peer: SocketAddr) -> Result<(), (StatusCode, String)> {
        let Some(token) = &self.token else {
            return Err((
                StatusCode::FORBIDDEN,
                "the operator API is off: start with HAPPINESS_TOKEN set (or --token-file)".into(),
            ));
        };
        let offered = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .filter(|t| !t.is_empty());
        // No token is not a failed login (a page polling before anyone typed the token, or any
        // page on the network): it neither counts nor is refused for other people's failures.
        let Some(offered) = offered else {
            return Err((
                StatusCode::UNAUTHORIZED,
                "missing token: send `Authorization: Bearer <token>`".into(),
            ));
        };
        let ip = peer.ip();
        let mut limiter = self
            .limiter
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // The correct token always gets in (operators behind one SSH tunnel share an address),
        // and clears the address's count; the limit slows the guessing of wrong ones.
        if token.matches(offered) {
            limiter.succeed(ip);
            return Ok(());
        }
        if limiter.blocked(ip) {
            return Err((
                StatusCode::TOO_MANY_REQUESTS,
                "too many wrong tokens from this address: wait a minute".into(),
            ));
        }
        limiter.fail(ip);
        Err((StatusCode::UNAUTHORIZED, "wrong token".into()))
    }

    /// Reads of status are public only when there is no token (and then the server is on
    /// loopback only).
    pub fn check_read(
        &self,
        headers: &HeaderMap,
        peer: SocketAddr,
    ) -> Result<(), (StatusCode, String)> {
        if self.token.is_none() {
            return Ok(());
        }
        self.check(headers, peer)
    }
}

/// The token of an `Authorization: Bearer <token>` value; the scheme's name is case-insensitive
/// (RFC 9110, 11.1), so `bearer` and `BEARER` are as good.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Checks the bearer token for the console's operator API.
pub(super) fn authorize(state: &ApiState, headers: &HeaderMap, peer: SocketAddr) -> ApiResult<()> {
    state
        .gate
        .check(headers, peer)
        .map_err(|(code, message)| error(code, message))
}

/// Status is public only when there is no token (and then the server is on loopback only).
pub(super) fn authorize_status(
    state: &ApiState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> ApiResult<()> {
    state
        .gate
        .check_read(headers, peer)
        .map_err(|(code, message)| error(code, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("BEARER  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), None);
    }

    #[test]
    fn a_token_file_that_is_not_there_is_an_error() {
        let dir = tempfile::tempdir().expect("dir");
        let missing = dir.path().join("token");
        let e = Token::load(None, Some(&missing)).expect_err("refused");
        assert!(e.to_string().contains("no such file"), "{e}");
        assert!(Token::load(None, None).expect("no file named").is_none());
    }
}
