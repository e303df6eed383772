//! Connection options for the broker, shared by the kiosk's link and the operator's tools:
//! credentials from a password file, TLS with the given CA (or the system's roots) and an
//! optional client certificate, with rustls on the ring provider.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{MqttOptions, TlsConfiguration, Transport};

use crate::config::{BrokerUrl, FleetConfig};

/// Why the fleet link cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// A file named in the config could not be read.
    #[error("{what} {}: {source}", path.display())]
    File {
        /// What the file is for.
        what: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// TLS could not be set up with what was given.
    #[error("TLS: {0}")]
    Tls(String),
}

/// What a connection presents: a user and password, and TLS.
#[derive(Clone, Default)]
pub struct Credentials {
    /// User name.
    pub username: Option<String>,
    /// Password (read from its file).
    pub password: Option<String>,
    /// TLS, for `mqtts://`.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// Where the files for a connection are (relative paths are taken from `base`).
#[derive(Debug, Clone, Default)]
pub struct CredentialFiles {
    /// User name.
    pub username: Option<String>,
    /// A file holding the password.
    pub password_file: Option<PathBuf>,
    /// CA certificates (PEM).
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM).
    pub cert_file: Option<PathBuf>,
    /// Its key (PEM).
    pub key_file: Option<PathBuf>,
}

impl CredentialFiles {
    /// The files a kiosk's `[fleet]` names.
    pub fn of(c: &FleetConfig) -> CredentialFiles {
        CredentialFiles {
            username: c.username.clone(),
            password_file: c.password_file.clone(),
            ca_file: c.ca_file.clone(),
            cert_file: c.cert_file.clone(),
            key_file: c.key_file.clone(),
        }
    }

    /// Read them, for `broker`.
    pub fn load(&self, broker: &BrokerUrl, base: &Path) -> Result<Credentials, FleetError> {
        let at = |p: &PathBuf| {
            if p.is_absolute() {
                p.clone()
            } else {
                base.join(p)
            }
        };
        let read = |what: &'static str, p: &PathBuf| {
            let path = at(p);
            std::fs::read(&path).map_err(|source| FleetError::File { what, path, source })
        };
        let password = match &self.password_file {
            Some(p) => Some(
                String::from_utf8_lossy(&read("password file", p)?)
                    .trim_end_matches(['\r', '\n'])
                    .to_string(),
            ),
            None => None,
        };
        let tls = if broker.tls {
            let ca = self
                .ca_file
                .as_ref()
                .map(|p| read("CA file", p))
                .transpose()?;
            let client = match (&self.cert_file, &self.key_file) {
                (Some(c), Some(k)) => Some((read("certificate", c)?, read("key", k)?)),
                _ => None,
            };
            Some(Arc::new(tls_config(ca.as_deref(), client)?))
        } else {
            None
        };
        Ok(Credentials {
            username: self.username.clone(),
            password,
            tls,
        })
    }
}

fn tls_config(
    ca: Option<&[u8]>,
    client: Option<(Vec<u8>, Vec<u8>)>,
) -> Result<rustls::ClientConfig, FleetError> {
    let tls = |e: String| FleetError::Tls(e);
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(pem) => {
            let mut reader = pem;
            for cert in rustls_pemfile::certs(&mut reader) {
                let cert = cert.map_err(|e| tls(format!("CA file: {e}")))?;
                roots.add(cert).map_err(|e| tls(format!("CA file: {e}")))?;
            }
            if roots.is_empty() {
                return Err(tls("the CA file holds no PEM certificate".into()));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(tls(
                    "no CA file given and no system certificates found: set [fleet] ca_file".into(),
                ));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls(e.to_string()))?
        .with_root_certificates(roots);
    match client {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => {
            let mut reader = cert.as_slice();
            let certs = rustls_pemfile::certs(&mut reader)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| tls(format!("certificate: {e}")))?;
            let mut reader = key.as_slice();
            let key = rustls_pemfile::private_key(&mut reader)
                .map_err(|e| tls(format!("key: {e}")))?
                .ok_or_else(|| tls("the key file holds no PEM private key".into()))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| tls(e.to_string()))
        }
    }
}

/// The largest message acted on or sent: 1 MiB.
pub const MAX_PACKET: usize = 1 << 20;

/// The largest packet read off the wire: 16 MiB. A message between [`MAX_PACKET`] and this is
/// read, dropped with a log line and counted, and the connection stays up; a larger one breaks
/// the connection (the client cannot skip it), and if retained it comes again at every
/// reconnect, which is why the shipped broker config caps messages far below both.
pub const MAX_READ: usize = 16 << 20;

/// Whether a message on `topic` of `len` bytes is too large to be read, saying so in the log.
/// Its sender is unknown and its content unread: only the topic and size are named.
pub fn too_large(topic: &str, len: usize) -> bool {
    if len <= MAX_PACKET {
        return false;
    }
    let topic: String = topic.chars().take(120).collect();
    tracing::warn!(
        topic = %topic.escape_debug(),
        bytes = len,
        "fleet: dropped a message of {len} bytes (at most {MAX_PACKET}); if it is retained, clear \
         it at the broker (mosquitto_pub -r -n -t TOPIC)"
    );
    true
}

/// Options for one connection as `client_id`.
pub fn options(
    client_id: &str,
    broker: &BrokerUrl,
    credentials: &Credentials,
    keep_alive: Duration,
) -> MqttOptions {
    let mut o = MqttOptions::new(client_id, broker.host.clone(), broker.port);
    o.set_keep_alive(keep_alive);
    // Every connection starts afresh: the outbox, not the client, remembers what is unsent.
    o.set_clean_session(true);
    // Well above the largest command and event, so that an oversized command gets a refusal
    // that says so, and a hostile or mistaken message is dropped, instead of breaking the
    // connection (the broker's own limit, in the shipped Mosquitto config, is lower still).
    o.set_max_packet_size(MAX_READ, MAX_PACKET);
    o.set_inflight(100);
    o.set_request_channel_capacity(1024);
    if let Some(user) = &credentials.username {
        o.set_credentials(
            user.clone(),
            credentials.password.clone().unwrap_or_default(),
        );
    }
    if let Some(tls) = &credentials.tls {
        o.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
            Arc::clone(tls),
        )));
    }
    o
}
