//! Browser tests in real headless Chromium (Debian's `chromium` and `chromium-driver`, which
//! `.ci/run` installs): buy a drink on the kiosk page by clicking, and edit the surprise odds on
//! the operator page, seeing the validation error next to the field and then the new version
//! applied. Without Chromium the tests are skipped, except under CI, where that is a failure.

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

const TOKEN: &str = "browser-test-operator-token";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn browser_available() -> bool {
    let present = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !present {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Chromium: apt-get install chromium chromium-driver (.ci/run does)"
        );
        eprintln!("skipping: {CHROMIUM} and {CHROMEDRIVER} are not installed");
    }
    present
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Kills a child process when dropped, so a failing test leaves nothing running.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Rig {
    kiosk: Reaped,
    _driver: Reaped,
    _config: tempfile::TempDir,
    _profile: tempfile::TempDir,
    base: String,
    client: Client,
}

async fn wait_http(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if reqwest::get(url).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never answered");
}

async fn start() -> Rig {
    let config = tempfile::tempdir().expect("tempdir");
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    for f in ["machine.toml", "surprises.toml"] {
        std::fs::copy(shipped.join(f), config.path().join(f)).expect("copy config");
    }
    let port = free_port();
    let mut kiosk = Command::new(env!("CARGO_BIN_EXE_happiness"))
        .args([
            "run",
            "--hardware",
            "sim",
            "--events",
            "none",
            "--seed",
            "5",
        ])
        .arg("--config")
        .arg(config.path())
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .env("HAPPINESS_TOKEN", TOKEN)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn happiness");
    // An open stdin keeps the simulated kiosk running.
    if let Some(stdin) = kiosk.stdin.as_mut() {
        let _ = stdin.write_all(b"");
    }
    let kiosk = Reaped(kiosk);
    let driver_port = free_port();
    let driver = Reaped(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromedriver"),
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_http(&format!("{base}/kiosk")).await;
    wait_http(&format!("http://127.0.0.1:{driver_port}/status")).await;
    let profile = tempfile::tempdir().expect("profile dir");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1200,1600",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("a Chromium session");
    Rig {
        kiosk,
        _driver: driver,
        _config: config,
        _profile: profile,
        base,
        client,
    }
}

/// Waits until `check` finds what it wants on the page.
async fn eventually(client: &Client, what: &str, mut check: impl AsyncFnMut(&Client) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if check(client).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let page = client.source().await.unwrap_or_default();
    panic!("never saw {what}; page was:\n{page}");
}

async fn text_of(client: &Client, css: &str) -> String {
    match client.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn click(client: &Client, css: &str) {
    client
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
}

async fn type_into(client: &Client, css: &str, text: &str) {
    let field = client
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"));
    field.clear().await.expect("clear");
    field.send_keys(text).await.expect("type");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buy_a_drink_by_clicking_and_edit_the_odds_in_the_console() {
    if !browser_available() {
        return;
    }
    let rig = start().await;
    let c = &rig.client;

    // The kiosk page: a coin, a button, and the Cola in the tray.
    c.goto(&format!("{}/kiosk", rig.base))
        .await
        .expect("kiosk page");
    click(c, "#coin-200").await;
    eventually(c, "the credit", async |c| {
        text_of(c, "#credit").await.contains("2.00")
    })
    .await;
    click(c, "#select-1").await;
    eventually(c, "the Cola in the tray", async |c| {
        text_of(c, "#tray").await.contains("Cola")
    })
    .await;

    // The operator page: an invalid probability is refused next to its field ...
    c.goto(&format!("{}/operator", rig.base))
        .await
        .expect("operator page");
    type_into(c, "#token", TOKEN).await;
    click(c, "#login").await;
    eventually(c, "the surprise config", async |c| {
        match c.find(Locator::Css("#f-probability")).await {
            Ok(e) => e.prop("value").await.ok().flatten().as_deref() == Some("0.2"),
            Err(_) => false,
        }
    })
    .await;
    type_into(c, "#f-probability", "1.5").await;
    click(c, "#save").await;
    eventually(c, "the error next to the probability", async |c| {
        text_of(c, "[data-error-for='policy.probability']")
            .await
            .contains("between 0 and 1")
    })
    .await;

    // ... and once fixed, the new version is applied.
    type_into(c, "#f-probability", "0.4").await;
    click(c, "#save").await;
    eventually(c, "the new version applied", async |c| {
        text_of(c, "#saved").await.contains("applied")
    })
    .await;
    assert!(text_of(c, "[data-error-for='policy.probability']")
        .await
        .is_empty());
    let current: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/config/surprises", rig.base))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert!(
        current["text"]
            .as_str()
            .is_some_and(|t| t.contains("probability = 0.4")),
        "{current}"
    );
    assert!(current["version"].as_i64().unwrap_or(0) >= 2);
    rig.client.clone().close().await.expect("close the browser");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_kiosk_says_out_of_service_on_its_page() {
    if !browser_available() {
        return;
    }
    let mut rig = start().await;
    let c = &rig.client;
    // The official Pi touchscreen.
    c.set_window_size(800, 480).await.expect("window size");
    c.goto(&format!("{}/kiosk", rig.base))
        .await
        .expect("kiosk page");
    eventually(c, "the welcome", async |c| {
        text_of(c, "#display").await.contains("Insert coins")
    })
    .await;
    // The driver of column 1's motor dies while it turns: the controller stops the machine.
    let stdin = rig.kiosk.0.stdin.as_mut().expect("kiosk stdin");
    stdin
        .write_all(b"coin 200\npress 1\nwait 300\ndead 1\n")
        .expect("script");
    stdin.flush().expect("flush");
    eventually(c, "out of service on the display", async |c| {
        text_of(c, "#display").await.contains("Out of service")
    })
    .await;
    for button in c
        .find_all(Locator::Css("#selections button"))
        .await
        .expect("buttons")
    {
        assert!(
            !button.is_enabled().await.unwrap_or(true),
            "nothing to press on a stopped machine"
        );
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(dir.join("kiosk-out-of-service-800x480.png"), png).expect("save");
    // The process is gone; the page goes on saying so.
    let status = rig.kiosk.0.wait().expect("the kiosk exits by itself");
    assert_eq!(status.code(), Some(1));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(text_of(c, "#display").await.contains("Out of service"));
    rig.client.clone().close().await.expect("close the browser");
}
