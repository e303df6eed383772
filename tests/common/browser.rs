//! Real headless Chromium (Debian's `chromium` and `chromium-driver`, which `.ci/run`
//! installs) driving a real `happiness run` on the simulator: the rig and the helpers the kiosk
//! page's and the console's browser tests share. Without Chromium the tests are skipped, except
//! under CI, where that is a failure.

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

pub const TOKEN: &str = "browser-test-operator-token";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub fn browser_available() -> bool {
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

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Kills a child process when dropped, so a failing test leaves nothing running.
pub struct Reaped(pub Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Rig {
    pub kiosk: Reaped,
    _driver: Reaped,
    pub config: tempfile::TempDir,
    _profile: tempfile::TempDir,
    pub base: String,
    pub client: Client,
}

pub async fn wait_http(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if reqwest::get(url).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never answered");
}

pub async fn start() -> Rig {
    start_with(None).await
}

/// A kiosk on the shipped config, or with `surprises` as its surprise config.
pub async fn start_with(surprises: Option<&str>) -> Rig {
    let config = tempfile::tempdir().expect("tempdir");
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    for f in ["machine.toml", "surprises.toml"] {
        std::fs::copy(shipped.join(f), config.path().join(f)).expect("copy config");
    }
    if let Some(text) = surprises {
        std::fs::write(config.path().join("surprises.toml"), text).expect("surprises");
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
    let base = format!("http://127.0.0.1:{port}");
    wait_http(&format!("{base}/kiosk")).await;
    let Browser {
        driver,
        profile,
        client,
    } = browser().await;
    Rig {
        kiosk,
        _driver: driver,
        config,
        _profile: profile,
        base,
        client,
    }
}

/// A headless Chromium driven through ChromeDriver, and what must live as long as it.
pub struct Browser {
    pub driver: Reaped,
    pub profile: tempfile::TempDir,
    pub client: Client,
}

/// Start Chromium under ChromeDriver.
pub async fn browser() -> Browser {
    let driver_port = free_port();
    let driver = Reaped(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromedriver"),
    );
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
    Browser {
        driver,
        profile,
        client,
    }
}

/// Waits until `check` finds what it wants on the page.
pub async fn eventually(client: &Client, what: &str, mut check: impl AsyncFnMut(&Client) -> bool) {
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

pub async fn text_of(client: &Client, css: &str) -> String {
    match client.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Saves what the browser shows as `target/screenshots/NAME.png`, for a reviewer to look at.
pub async fn screenshot(client: &Client, name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("save the screenshot");
}

/// Whether the element matching `css` is on the page and shown.
pub async fn shown(client: &Client, css: &str) -> bool {
    match client.find(Locator::Css(css)).await {
        Ok(e) => e.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

pub async fn click(client: &Client, css: &str) {
    client
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
}

pub async fn type_into(client: &Client, css: &str, text: &str) {
    let field = client
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"));
    field.clear().await.expect("clear");
    field.send_keys(text).await.expect("type");
}

/// The three screens customers use: the Pi touchscreen, a phone, a desktop browser.
pub const SIZES: [(u32, u32, &str); 3] = [
    (800, 480, "800x480"),
    (390, 844, "phone"),
    (1280, 1000, "desktop"),
];

/// Opens the kiosk page (with `query`) at `size` and waits for the welcome.
pub async fn open_kiosk(c: &Client, base: &str, query: &str, (width, height): (u32, u32)) {
    set_viewport(c, width, height).await;
    c.goto(&format!("{base}/kiosk{query}"))
        .await
        .expect("kiosk page");
    eventually(c, "the welcome", async |c| {
        text_of(c, "#display").await.contains("Insert coins")
    })
    .await;
}

/// Sizes the page itself (not the browser window around it) to `width` x `height`. The window
/// is resized by what the page still lacks, read back each time: a resize the browser applies
/// a moment later is measured again rather than taken for done.
pub async fn set_viewport(client: &Client, width: u32, height: u32) {
    let target = [i64::from(width), i64::from(height)];
    let mut inner = [0i64; 2];
    for attempt in 0..50 {
        let (w, h) = client.get_window_size().await.expect("window size");
        let read = js(client, "return [window.innerWidth, window.innerHeight]").await;
        inner = [0, 1].map(|i| read[i].as_i64().unwrap_or(0));
        if inner == target {
            return;
        }
        let fit = |now: u64, i: usize| {
            u32::try_from((i64::try_from(now).unwrap_or(0) + target[i] - inner[i]).max(100))
                .unwrap_or(width)
        };
        client
            .set_window_size(fit(w, 0), fit(h, 1))
            .await
            .expect("window size");
        if attempt > 0 {
            // The browser has not caught up with the last resize: give it a moment.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    panic!("the page's size stayed {inner:?}, not {target:?}");
}

/// Text on the page whose contrast with its background is under WCAG AA: 4.5:1, or 3:1 for
/// large text (24 px, or 18.66 px bold). Backgrounds that are pictures (gradients) are skipped:
/// their colours cannot be read back.
pub const LOW_CONTRAST: &str = r#"
const lin = (c) => { c /= 255; return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
const lum = (rgb) => 0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2]);
const parse = (s) => (s.match(/[\d.]+/g) || []).map(Number);
const low = [];
for (const el of document.querySelectorAll('body *')) {
  const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!own || !el.offsetParent && getComputedStyle(el).position !== 'fixed') continue;
  const style = getComputedStyle(el);
  if (style.visibility === 'hidden' || Number(style.opacity) < 1) continue;
  let bg = null, picture = false;
  for (let a = el; a; a = a.parentElement) {
    const s = getComputedStyle(a);
    if (s.backgroundImage !== 'none') { picture = true; break; }
    const c = parse(s.backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] === 1)) { bg = c; break; }
  }
  if (picture) continue;
  bg = bg || [255, 255, 255];
  const fg = parse(style.color);
  const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
  const ratio = (l1 + 0.05) / (l2 + 0.05);
  const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
  const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
  if (ratio < need) low.push(`${el.id || el.className || el.tagName}: "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
}
return low;
"#;

pub async fn js(client: &Client, script: &str) -> serde_json::Value {
    client
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("{script}: {e}"))
}

pub async fn metrics(base: &str) -> String {
    reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text")
}

/// Whether nothing on the page is wider than the screen (no sideways scrolling).
pub async fn fits_the_screen(client: &Client) -> bool {
    js(
        client,
        "return document.documentElement.scrollWidth <= window.innerWidth",
    )
    .await
        == serde_json::json!(true)
}
