//! A real Mosquitto broker and real kiosk processes for the fleet tests.
//!
//! Each test starts its own broker on a free loopback port (CI installs Mosquitto; without it
//! the tests say so and, outside CI, are skipped), so that a test can stop and start it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::Value;
use tokio::sync::Notify;

use super::browser::{free_port, Reaped};

pub const TOKEN: &str = "fleet-test-operator-token";

/// Where Debian puts the broker.
fn mosquitto_binary() -> Option<PathBuf> {
    ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Whether the fleet tests can run here. In CI a missing broker fails the test.
pub fn broker_available() -> bool {
    let present = mosquitto_binary().is_some();
    if !present {
        assert!(
            std::env::var("CI").is_err(),
            "mosquitto is not installed (apt-get install mosquitto): CI must run the fleet tests"
        );
        eprintln!("skipping: mosquitto is not installed (apt-get install mosquitto)");
    }
    present
}

/// A Mosquitto broker of the test's own.
pub struct Mosquitto {
    child: Option<Reaped>,
    pub port: u16,
    conf: PathBuf,
    _dir: tempfile::TempDir,
}

impl Mosquitto {
    /// A broker anyone may use, keeping sessions across a clean restart.
    pub async fn start() -> Mosquitto {
        Mosquitto::start_with("allow_anonymous true\n").await
    }

    /// A broker with `extra` lines in its config (`{dir}` is its own directory).
    pub async fn start_with(extra: &str) -> Mosquitto {
        let mut m = Mosquitto::configure(extra);
        m.resume().await;
        m
    }

    /// A broker configured but not started (to put files in its directory first).
    pub fn configure(extra: &str) -> Mosquitto {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let conf = dir.path().join("mosquitto.conf");
        // Started as root (CI), Mosquitto would switch to its own user, which may not write its
        // sessions and log into the test's directory: it stays who started it.
        let text = format!(
            "user root\nlistener {port} 127.0.0.1\npersistence true\npersistence_location {}/\n\
             autosave_interval 1\nlog_dest file {}/mosquitto.log\n{}",
            dir.path().display(),
            dir.path().display(),
            extra.replace("{dir}", &dir.path().display().to_string())
        );
        std::fs::write(&conf, text).expect("mosquitto.conf");
        Mosquitto {
            child: None,
            port,
            conf,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    pub fn dir(&self) -> &Path {
        self._dir.path()
    }

    /// Start it (again) on its port, and wait until it takes connections.
    pub async fn resume(&mut self) {
        let binary = mosquitto_binary().expect("mosquitto");
        let child = Command::new(binary)
            .arg("-c")
            .arg(&self.conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn mosquitto");
        self.child = Some(Reaped(child));
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("mosquitto never listened on {}", self.port);
    }

    /// Stop it cleanly (SIGTERM: it saves its sessions), and wait until it has gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.0.id().to_string())
                .status();
            let _ = child.0.wait();
        }
    }
}

/// Publish one message (QoS 1) with mosquitto_pub, as `login` (user, password) or anonymously,
/// retained or not; returns whether the broker took it.
pub fn publish(
    port: u16,
    topic: &str,
    body: &[u8],
    retain: bool,
    login: Option<(&str, &str)>,
) -> bool {
    let mut cmd = Command::new("mosquitto_pub");
    cmd.args([
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-q",
        "1",
        "-t",
        topic,
        "-s",
    ]);
    if retain {
        cmd.arg("-r");
    }
    if let Some((user, password)) = login {
        cmd.args(["-u", user, "-P", password]);
    }
    cmd.stdin(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().expect("stdin").write_all(body)?;
            c.wait()
        })
        .expect("mosquitto_pub")
        .success()
}

/// Every message on the topics it follows, in the order they came; survives a broker restart
/// (its session is persistent).
#[derive(Clone)]
pub struct Watcher {
    pub messages: Arc<Mutex<Vec<(String, Value)>>>,
    arrived: Arc<Notify>,
}

impl Watcher {
    pub async fn start(port: u16, topics: &[&str]) -> Watcher {
        Watcher::start_as(port, "test-watcher", None, topics).await
    }

    pub async fn start_as(
        port: u16,
        client_id: &str,
        login: Option<(&str, &str)>,
        topics: &[&str],
    ) -> Watcher {
        let mut opts = MqttOptions::new(client_id, "127.0.0.1", port);
        opts.set_clean_session(false);
        opts.set_keep_alive(Duration::from_secs(5));
        opts.set_max_packet_size(1 << 20, 1 << 20);
        if let Some((user, password)) = login {
            opts.set_credentials(user, password);
        }
        let (client, mut eventloop) = AsyncClient::new(opts, 64);
        let watcher = Watcher {
            messages: Arc::default(),
            arrived: Arc::default(),
        };
        let (subscribed_tx, subscribed) = tokio::sync::oneshot::channel();
        let mut subscribed_tx = Some(subscribed_tx);
        for t in topics {
            client
                .subscribe(*t, QoS::AtLeastOnce)
                .await
                .expect("subscribe");
        }
        let w = watcher.clone();
        let wanted = topics.len();
        tokio::spawn(async move {
            let _client = client;
            let mut acks = 0;
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        acks += 1;
                        if acks == wanted {
                            if let Some(tx) = subscribed_tx.take() {
                                let _ = tx.send(());
                            }
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let value = serde_json::from_slice(&p.payload).unwrap_or(Value::Null);
                        w.messages
                            .lock()
                            .expect("lock")
                            .push((p.topic.clone(), value));
                        w.arrived.notify_waiters();
                    }
                    Ok(_) => {}
                    // The broker is away: the client connects again on the next poll.
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(10), subscribed)
            .await
            .expect("subscribed in time")
            .expect("subscribed");
        watcher
    }

    /// How many messages came on each topic, and the last `seq` of each.
    pub fn summary(&self) -> String {
        let mut by_topic = std::collections::BTreeMap::<String, (usize, Value)>::new();
        for (t, v) in self.messages.lock().expect("lock").iter() {
            let e = by_topic.entry(t.clone()).or_insert((0, Value::Null));
            e.0 += 1;
            e.1 = v.get("seq").cloned().unwrap_or(Value::Null);
        }
        format!("{by_topic:?}")
    }

    /// The messages on `topic` so far.
    pub fn on(&self, topic: &str) -> Vec<Value> {
        (self.messages.lock().expect("lock").iter())
            .filter(|(t, _)| t == topic)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Wait (up to `secs`) until `check` holds for the messages so far.
    pub async fn wait_until(&self, secs: u64, what: &str, check: impl Fn(&Watcher) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let arrived = self.arrived.notified();
            if check(self) {
                return;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() && !check(self) {
                panic!("{what}: not within {secs} s; received: {}", self.summary());
            }
        }
    }
}

/// A kiosk process on the simulator in the fleet.
pub struct KioskProc {
    pub id: String,
    child: Option<Reaped>,
    pub base: String,
    pub config: tempfile::TempDir,
    _data: tempfile::TempDir,
    http: reqwest::Client,
    flags: Vec<String>,
}

/// A kiosk process on the simulator with its config and books in these directories.
fn spawn_kiosk(config: &Path, data: &Path, port: u16, flags: &[&str]) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_happiness"))
        .args([
            "run",
            "--hardware",
            "sim",
            "--events",
            "none",
            "--seed",
            "11",
        ])
        .arg("--config")
        .arg(config)
        .arg("--data")
        .arg(data)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .args(flags)
        .env("HAPPINESS_TOKEN", TOKEN)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn happiness");
    // An open stdin keeps the simulated kiosk running.
    if let Some(stdin) = child.stdin.as_mut() {
        let _ = stdin.write_all(b"");
    }
    child
}

impl KioskProc {
    /// Start machine `id` reporting to the broker at `url`.
    pub async fn start(id: &str, url: &str) -> KioskProc {
        KioskProc::start_with(id, &["--mqtt", url, "--machine-id", id], "", &[]).await
    }

    /// Start machine `id` with `flags`, `fleet` appended to its machine.toml and `files`
    /// (name, content) in its config directory.
    pub async fn start_with(
        id: &str,
        flags: &[&str],
        fleet: &str,
        files: &[(&str, &[u8])],
    ) -> KioskProc {
        let config = tempfile::tempdir().expect("tempdir");
        let data = tempfile::tempdir().expect("tempdir");
        let machine = super::fast_machine() + fleet;
        std::fs::write(config.path().join("machine.toml"), machine).expect("machine");
        for (name, content) in files {
            std::fs::write(config.path().join(name), content).expect("config file");
        }
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/surprises.toml");
        std::fs::copy(shipped, config.path().join("surprises.toml")).expect("surprises");
        let port = free_port();
        let child = spawn_kiosk(config.path(), data.path(), port, flags);
        let kiosk = KioskProc {
            id: id.to_string(),
            child: Some(Reaped(child)),
            base: format!("http://127.0.0.1:{port}"),
            config,
            _data: data,
            http: reqwest::Client::new(),
            flags: flags.iter().map(|f| f.to_string()).collect(),
        };
        kiosk.wait_selling().await;
        kiosk
    }

    async fn wait_selling(&self) {
        for _ in 0..400 {
            if let Ok(r) = self
                .http
                .get(format!("{}/api/status", self.base))
                .bearer_auth(TOKEN)
                .send()
                .await
            {
                if let Ok(s) = r.json::<Value>().await {
                    if s["starting"] == false {
                        return;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("kiosk {} never started selling", self.id);
    }

    pub async fn status(&self) -> Value {
        self.http
            .get(format!("{}/api/status", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("status")
            .json()
            .await
            .expect("status json")
    }

    pub async fn post(&self, path: &str) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("post")
    }

    /// Wait (up to 20 s) until the status satisfies `check`.
    pub async fn wait_status(&self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..400 {
            let s = self.status().await;
            if check(&s) {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{}: {what}: not within 20 s", self.id);
    }

    /// One paid sale from column `button` (1-based): a €2 coin, the press, the item taken.
    pub async fn sell(&self, button: usize) {
        let idle = self.wait_status("idle", |s| s["vending"] == false).await;
        let before = idle["today"]["sales"].as_u64().unwrap_or(0);
        assert!(self.post("/api/sim/coin/200").await.status().is_success());
        self.wait_status("the coin counted", |s| s["credit"].as_u64() >= Some(200))
            .await;
        assert!(self
            .post(&format!("/api/sim/press/{button}"))
            .await
            .status()
            .is_success());
        self.wait_status("the sale delivered", |s| {
            s["today"]["sales"].as_u64() == Some(before + 1) && s["vending"] == false
        })
        .await;
        let _ = self.post("/api/sim/return").await;
        let _ = self.post("/api/sim/take").await;
    }

    /// Kill it (SIGKILL) and start it again on the same config and books, until it sells.
    pub async fn restart(&mut self) {
        self.kill();
        let port = free_port();
        let flags: Vec<&str> = self.flags.iter().map(String::as_str).collect();
        let child = spawn_kiosk(self.config.path(), self._data.path(), port, &flags);
        self.child = Some(Reaped(child));
        self.base = format!("http://127.0.0.1:{port}");
        self.wait_selling().await;
    }

    /// Kill it without a chance to say goodbye.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.0.kill();
            let _ = child.0.wait();
        }
    }
}
