//! `[fleet]` in `machine.toml`: the broker this machine reports to and takes commands from, and
//! the name it goes by there. Plain data and its checks; the link itself is the fleet module's.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The longest machine id: it is part of every topic and every log line.
pub const MAX_ID_LEN: usize = 64;

/// A machine's name in the fleet: 1 to 64 of `A-Z a-z 0-9 - _ .`, so that it is one topic level
/// and can never be a wildcard (`+`, `#`) or reach into another machine's topics (`/`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct MachineId(String);

impl MachineId {
    /// Check a machine id.
    pub fn parse(text: &str) -> Result<MachineId, String> {
        let shown: String = text.chars().take(MAX_ID_LEN + 1).collect();
        if text.is_empty() || text.len() > MAX_ID_LEN {
            return Err(format!(
                "`{shown}` is not a machine id: 1 to {MAX_ID_LEN} characters"
            ));
        }
        if let Some(bad) = text
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(format!(
                "`{shown}` is not a machine id: `{}` is not allowed (letters, digits, - _ . only)",
                bad.escape_default()
            ));
        }
        Ok(MachineId(text.to_string()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MachineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the broker is: `mqtt://host:port` (plain, port 1883 by default) or `mqtts://host:port`
/// (TLS, 8883 by default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokerUrl {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Whether the connection is TLS.
    pub tls: bool,
}

impl BrokerUrl {
    /// Parse `mqtt://host[:port]` or `mqtts://host[:port]`.
    pub fn parse(text: &str) -> Result<BrokerUrl, String> {
        let shown: String = text.chars().take(80).collect();
        let bad = |why: &str| format!("`{shown}` is not a broker address: {why}");
        let (tls, rest) = if let Some(rest) = text.strip_prefix("mqtt://") {
            (false, rest)
        } else if let Some(rest) = text.strip_prefix("mqtts://") {
            (true, rest)
        } else {
            return Err(bad("write mqtt://host:port or mqtts://host:port"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '@', '?', '#']) || rest.chars().any(char::is_whitespace) {
            return Err(bad(
                "only a host and a port (credentials go in [fleet] username and password_file)",
            ));
        }
        let default_port = if tls { 8883 } else { 1883 };
        let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
            // [::1]:1883
            let (host, after) = inner
                .split_once(']')
                .ok_or_else(|| bad("an unclosed `[`"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p
                    .parse()
                    .map_err(|_| bad("the port is not a number 1 to 65535"))?,
                None if after.is_empty() => default_port,
                None => return Err(bad("a port goes after `]:`")),
            };
            (host.to_string(), port)
        } else {
            match rest.rsplit_once(':') {
                Some((host, p)) => (
                    host.to_string(),
                    p.parse()
                        .map_err(|_| bad("the port is not a number 1 to 65535"))?,
                ),
                None => (rest.to_string(), default_port),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        if port == 0 {
            return Err(bad("the port is not a number 1 to 65535"));
        }
        Ok(BrokerUrl { host, port, tls })
    }
}

impl fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// The fleet link of a machine, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FleetConfig {
    /// The broker.
    pub broker: BrokerUrl,
    /// This machine's id in the fleet.
    pub id: MachineId,
    /// User name at the broker.
    pub username: Option<String>,
    /// A file holding the password (never the password itself in `machine.toml`).
    pub password_file: Option<PathBuf>,
    /// CA certificates (PEM) to trust for `mqtts://`; the system's roots without one.
    pub ca_file: Option<PathBuf>,
    /// A client certificate (PEM), for brokers that want one.
    pub cert_file: Option<PathBuf>,
    /// Its private key (PEM).
    pub key_file: Option<PathBuf>,
    /// Seconds between keep-alive pings while nothing else is sent (also how soon the broker
    /// declares a silent machine gone: 1.5 times this).
    pub keep_alive_s: u16,
}

/// `[fleet]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFleet {
    pub(super) broker: Option<String>,
    pub(super) id: Option<String>,
    pub(super) username: Option<String>,
    pub(super) password_file: Option<PathBuf>,
    pub(super) ca_file: Option<PathBuf>,
    pub(super) cert_file: Option<PathBuf>,
    pub(super) key_file: Option<PathBuf>,
    pub(super) keep_alive_s: Option<i64>,
}

/// The default keep-alive, in seconds.
pub const DEFAULT_KEEP_ALIVE_S: u16 = 30;

/// `[fleet]`, checked: `(path, problem)` for each problem. A table with neither broker nor id
/// is no fleet link; one with only one of them is a mistake (the flags can supply the other).
pub(super) fn fleet(raw: &RawFleet) -> (Option<FleetParts>, Vec<(String, String)>) {
    let mut issues = Vec::new();
    let broker = raw.broker.as_deref().and_then(|b| {
        BrokerUrl::parse(b)
            .map_err(|e| issues.push(("fleet.broker".to_string(), e)))
            .ok()
    });
    let id = raw.id.as_deref().and_then(|i| {
        MachineId::parse(i)
            .map_err(|e| issues.push(("fleet.id".to_string(), e)))
            .ok()
    });
    let keep_alive_s = match raw.keep_alive_s {
        None => DEFAULT_KEEP_ALIVE_S,
        Some(s) => match u16::try_from(s) {
            Ok(s @ 5..=3600) => s,
            _ => {
                issues.push((
                    "fleet.keep_alive_s".into(),
                    format!("{s} is not a number of seconds from 5 to 3600"),
                ));
                DEFAULT_KEEP_ALIVE_S
            }
        },
    };
    if raw.cert_file.is_some() != raw.key_file.is_some() {
        let missing = if raw.cert_file.is_some() {
            "fleet.key_file"
        } else {
            "fleet.cert_file"
        };
        issues.push((
            missing.into(),
            "a client certificate needs both cert_file and key_file".into(),
        ));
    }
    if raw.password_file.is_some() && raw.username.is_none() {
        issues.push((
            "fleet.username".into(),
            "a password_file needs a username".into(),
        ));
    }
    if let Some(u) = &raw.username {
        if u.is_empty() || u.len() > 256 {
            issues.push((
                "fleet.username".into(),
                "must be 1 to 256 characters".into(),
            ));
        }
    }
    let parts = FleetParts {
        broker,
        id,
        username: raw.username.clone(),
        password_file: raw.password_file.clone(),
        ca_file: raw.ca_file.clone(),
        cert_file: raw.cert_file.clone(),
        key_file: raw.key_file.clone(),
        keep_alive_s,
    };
    let given = parts.broker.is_some()
        || parts.id.is_some()
        || raw.broker.is_some()
        || raw.id.is_some()
        || raw.username.is_some()
        || raw.ca_file.is_some();
    (given.then_some(parts), issues)
}

/// `[fleet]` as far as it is given: the flags of `run` may fill in or override the broker and
/// the id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FleetParts {
    /// The broker, if given.
    pub broker: Option<BrokerUrl>,
    /// The id, if given.
    pub id: Option<MachineId>,
    /// User name at the broker.
    pub username: Option<String>,
    /// Password file.
    pub password_file: Option<PathBuf>,
    /// CA certificates.
    pub ca_file: Option<PathBuf>,
    /// Client certificate.
    pub cert_file: Option<PathBuf>,
    /// Its key.
    pub key_file: Option<PathBuf>,
    /// Keep-alive seconds.
    pub keep_alive_s: u16,
}

impl FleetParts {
    /// The fleet link with `broker` and `id` from flags winning over the file; none when
    /// neither says where the broker is.
    pub fn resolve(
        parts: Option<&FleetParts>,
        broker: Option<BrokerUrl>,
        id: Option<MachineId>,
    ) -> Result<Option<FleetConfig>, String> {
        let broker = broker.or_else(|| parts.and_then(|p| p.broker.clone()));
        let id = id.or_else(|| parts.and_then(|p| p.id.clone()));
        match (broker, id) {
            (None, None) => Ok(None),
            (None, Some(id)) => Err(format!(
                "machine id {id} but no broker: give --mqtt mqtt://host:port or [fleet] broker"
            )),
            (Some(broker), None) => Err(format!(
                "a broker ({broker}) but no machine id: give --machine-id ID or [fleet] id"
            )),
            (Some(broker), Some(id)) => {
                let p = parts.cloned();
                Ok(Some(FleetConfig {
                    broker,
                    id,
                    username: p.as_ref().and_then(|p| p.username.clone()),
                    password_file: p.as_ref().and_then(|p| p.password_file.clone()),
                    ca_file: p.as_ref().and_then(|p| p.ca_file.clone()),
                    cert_file: p.as_ref().and_then(|p| p.cert_file.clone()),
                    key_file: p.as_ref().and_then(|p| p.key_file.clone()),
                    keep_alive_s: p.map_or(DEFAULT_KEEP_ALIVE_S, |p| p.keep_alive_s),
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_addresses() {
        let b = BrokerUrl::parse("mqtt://127.0.0.1:18830").expect("plain");
        assert_eq!(
            (b.host.as_str(), b.port, b.tls),
            ("127.0.0.1", 18830, false)
        );
        let b = BrokerUrl::parse("mqtts://fleet.example.com").expect("tls");
        assert_eq!((b.port, b.tls), (8883, true));
        assert_eq!(b.to_string(), "mqtts://fleet.example.com:8883");
        let b = BrokerUrl::parse("mqtt://[::1]:1884").expect("v6");
        assert_eq!((b.host.as_str(), b.port), ("::1", 1884));
        assert_eq!(b.to_string(), "mqtt://[::1]:1884");
        for bad in [
            "http://x:1",
            "mqtt://",
            "mqtt://host:0",
            "mqtt://host:99999",
            "mqtt://user:pw@host:1883",
            "mqtt://host/topic",
            "mqtt://ho st",
            "mqtt://[::1",
        ] {
            assert!(BrokerUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn machine_ids_are_one_topic_level() {
        assert!(MachineId::parse("kiosk-01.lobby_2").is_ok());
        for bad in ["", "a/b", "+", "#", "a b", "é", &"x".repeat(65)] {
            let e = MachineId::parse(bad).expect_err(bad);
            assert!(e.contains("machine id"), "{e}");
        }
    }

    #[test]
    fn flags_win_and_half_a_link_is_named() {
        let raw = RawFleet {
            broker: Some("mqtt://broker:1883".into()),
            id: Some("lobby".into()),
            ..RawFleet::default()
        };
        let (parts, issues) = fleet(&raw);
        assert!(issues.is_empty());
        let flag = BrokerUrl::parse("mqtt://127.0.0.1:1").ok();
        let c = FleetParts::resolve(parts.as_ref(), flag, None)
            .expect("ok")
            .expect("link");
        assert_eq!((c.broker.port, c.id.as_str()), (1, "lobby"));
        assert_eq!(FleetParts::resolve(None, None, None), Ok(None));
        let id = MachineId::parse("a").ok();
        let e = FleetParts::resolve(None, None, id).expect_err("no broker");
        assert!(e.contains("--mqtt"), "{e}");
        let (_, issues) = fleet(&RawFleet {
            cert_file: Some("c.pem".into()),
            keep_alive_s: Some(1),
            ..RawFleet::default()
        });
        let paths: Vec<&str> = issues.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["fleet.keep_alive_s", "fleet.key_file"]);
    }
}
