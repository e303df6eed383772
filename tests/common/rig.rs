//! An operator console on a simulated kiosk over real HTTP: the rig the API and console tests
//! share.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use happiness::config::MachineConfig;
use happiness::controller::{LocalClock, TraceSink};
use happiness::kiosk::{Backend, JournalLocation, Kiosk, KioskConfig};
use happiness::metrics::Metrics;
use happiness::operator::{Console, Token};
use happiness::surprise::SurpriseConfig;
use reqwest::StatusCode;

pub const TOKEN: &str = "operator-token-for-tests-0001";

pub struct Rig {
    pub kiosk: Kiosk,
    pub console: Console,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
    pub base: String,
}

impl Rig {
    pub async fn start(token: Option<&str>) -> Rig {
        let dir = tempfile::tempdir().expect("tempdir");
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        for f in ["machine.toml", "surprises.toml"] {
            std::fs::copy(shipped.join(f), dir.path().join(f)).expect("copy config");
        }
        let machine = MachineConfig::load_dir(dir.path()).expect("machine");
        let surprises = SurpriseConfig::load_dir(dir.path(), &machine.columns).expect("surprises");
        let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).expect("read");
        let metrics = Arc::new(Metrics::new());
        let mut sink = TraceSink::new();
        let events = sink.broadcast(256);
        let setup = KioskConfig {
            machine: Arc::new(machine),
            surprises,
            seed: 1,
            local_clock: LocalClock::System,
            journal: JournalLocation::Memory,
            config_dir: Some(dir.path().to_path_buf()),
            machine_text: read("machine.toml"),
            surprises_text: read("surprises.toml"),
            metrics: Some(Arc::clone(&metrics)),
            journal_options: Default::default(),
            outbox: false,
        };
        let kiosk = Kiosk::start(setup, Backend::Sim, sink).expect("kiosk");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let token = token.map(|t| Token::new(t).expect("token"));
        let console = Console::start(
            &kiosk,
            listener,
            token,
            metrics,
            events,
            Some(dir.path().to_path_buf()),
            Default::default(),
        )
        .expect("console");
        let base = format!("http://{}", console.addr);
        Rig {
            kiosk,
            console,
            dir,
            http: reqwest::Client::new(),
            base,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn authed(&self, b: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        b.header("Authorization", format!("Bearer {TOKEN}"))
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.authed(self.http.get(self.url(path)))
            .send()
            .await
            .expect("request")
    }

    pub async fn put_toml(&self, text: &str) -> reqwest::Response {
        self.authed(self.http.put(self.url("/api/config/surprises")))
            .header("Content-Type", "application/toml")
            .body(text.to_string())
            .send()
            .await
            .expect("request")
    }

    pub async fn json(&self, path: &str) -> serde_json::Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r.json().await.expect("json")
    }

    /// Send `body` as JSON with the operator's token; the status and the answer.
    pub async fn send_json(
        &self,
        request: reqwest::RequestBuilder,
        body: &str,
    ) -> (StatusCode, serde_json::Value) {
        let r = self
            .authed(request)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let code = r.status();
        (code, r.json().await.unwrap_or_default())
    }

    /// Act on the simulated machine (`coin/200`, `press/3`, `take`): 204 expected.
    pub async fn sim(&self, action: &str) {
        let r = self
            .http
            .post(self.url(&format!("/api/sim/{action}")))
            .send()
            .await
            .expect("simulator");
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{action}");
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("surprises.toml")
    }

    pub async fn stop(self) {
        self.console.stop().await;
        self.kiosk.stop().await.expect("stop");
    }
}

/// Whether `check` comes true within 30 s (a jammed vend's retries take about 10 s; a loaded
/// machine takes longer); it returns as soon as it does.
pub async fn wait_for(mut check: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..300 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}
