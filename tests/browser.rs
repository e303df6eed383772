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
    start_with(None).await
}

/// A kiosk on the shipped config, or with `surprises` as its surprise config.
async fn start_with(surprises: Option<&str>) -> Rig {
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

/// Saves what the browser shows as `target/screenshots/NAME.png`, for a reviewer to look at.
async fn screenshot(client: &Client, name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("save the screenshot");
}

/// Whether the element matching `css` is on the page and shown.
async fn shown(client: &Client, css: &str) -> bool {
    match client.find(Locator::Css(css)).await {
        Ok(e) => e.is_displayed().await.unwrap_or(false),
        Err(_) => false,
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

    // A problem outside the form is listed with its line and the surprise's name, and the
    // editor marks that line.
    js(
        c,
        "const t = document.getElementById('text'); \
         t.value = t.value.replace('column = 5\\n', 'column = 9\\n');",
    )
    .await;
    click(c, "#save").await;
    let text = js(c, "return document.getElementById('text').value").await;
    let line = text
        .as_str()
        .and_then(|t| t.lines().position(|l| l.starts_with("column = 9")))
        .map(|i| i + 1)
        .expect("the edited line");
    eventually(c, "the line marked", async |c| {
        text_of(c, "#text-errors").await.contains(&format!(
            "line {line}: surprises[3] (\"A flower\").column: there is no column 9"
        ))
    })
    .await;
    let marked = js(
        c,
        "return document.getElementById('text').dataset.markedLine",
    )
    .await;
    assert_eq!(marked, serde_json::json!(line.to_string()));
    js(
        c,
        "const t = document.getElementById('text'); \
         t.value = t.value.replace('column = 9\\n', 'column = 5\\n');",
    )
    .await;

    // An edit in the text shows in the form, and saving the form keeps it (and the comments).
    js(
        c,
        "const t = document.getElementById('text'); \
         t.value = t.value.replace('max_per_hour = 10', 'max_per_hour = 12'); \
         t.dispatchEvent(new Event('input'));",
    )
    .await;
    let field = c
        .find(Locator::Css("#f-max_per_hour"))
        .await
        .expect("field");
    assert_eq!(
        field.prop("value").await.ok().flatten().as_deref(),
        Some("12")
    );

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
            .is_some_and(|t| t.contains("probability = 0.4")
                && t.contains("max_per_hour = 12          # in any 60 minutes")),
        "{current}"
    );
    assert!(current["version"].as_i64().unwrap_or(0) >= 2);

    // The console on a desktop and on a phone: nothing wider than the screen, the version in
    // force marked, the sale in the books with its currency.
    for (width, height, size) in [(1280, 1000, "desktop"), (390, 844, "phone")] {
        set_viewport(c, width, height).await;
        c.refresh().await.expect("reload");
        eventually(c, "the books with the sale", async |c| {
            text_of(c, "#books").await.contains("Cola: 1 sold, €1.50")
        })
        .await;
        eventually(c, "the version in force", async |c| {
            text_of(c, "#versions").await.contains("in force")
        })
        .await;
        let fits = js(
            c,
            "return document.documentElement.scrollWidth <= window.innerWidth",
        )
        .await;
        assert_eq!(
            fits,
            serde_json::json!(true),
            "{size}: the console is wider than the screen"
        );
        screenshot(c, &format!("operator-{size}")).await;
    }
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
    open_kiosk(c, &rig.base, "", (800, 480)).await;
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
    screenshot(c, "kiosk-out-of-service-800x480").await;
    // The process is gone; the page goes on saying so.
    let status = rig.kiosk.0.wait().expect("the kiosk exits by itself");
    assert_eq!(status.code(), Some(1));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(text_of(c, "#display").await.contains("Out of service"));
    rig.client.clone().close().await.expect("close the browser");
}

/// A surprise on every paid vend: one more to share for sodas, a light show for water.
const SURPRISE_EVERY_TIME: &str = r#"
[policy]
probability = 1.0
cooldown_s = 0
max_per_hour = 1000
max_per_day = 1000
budget_percent = 100.0

[[surprises]]
name = "One to share"
kind = "extra_item"
weight = 1
cost_cents = 90
same = true
message = "A second {product}, to share with someone!"
messages = { de = "Noch einmal {product}, zum Teilen!", ja = "シェア用にもう一本！" }
[surprises.when]
products = ["Cola", "Orange soda"]

[[surprises]]
name = "Light show"
kind = "show"
weight = 1
cost_cents = 0
pattern = "chase"
duration_ms = 2500
message = "This light show is just for you!"
[surprises.when]
products = ["Water"]
"#;

/// The three screens customers use: the Pi touchscreen, a phone, a desktop browser.
const SIZES: [(u32, u32, &str); 3] = [
    (800, 480, "800x480"),
    (390, 844, "phone"),
    (1280, 1000, "desktop"),
];

/// Opens the kiosk page (with `query`) at `size` and waits for the welcome.
async fn open_kiosk(c: &Client, base: &str, query: &str, (width, height): (u32, u32)) {
    set_viewport(c, width, height).await;
    c.goto(&format!("{base}/kiosk{query}"))
        .await
        .expect("kiosk page");
    eventually(c, "the welcome", async |c| {
        text_of(c, "#display").await.contains("Insert coins")
    })
    .await;
}

/// Sizes the page itself (not the browser window around it) to `width` x `height`.
async fn set_viewport(client: &Client, width: u32, height: u32) {
    client
        .set_window_size(width, height)
        .await
        .expect("window size");
    let inner = js(client, "return [window.innerWidth, window.innerHeight]").await;
    let got = |i: usize| {
        inner[i]
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(0)
    };
    let (w, h) = (
        2 * width - got(0).min(width),
        2 * height - got(1).min(height),
    );
    client.set_window_size(w, h).await.expect("window size");
    let inner = js(client, "return [window.innerWidth, window.innerHeight]").await;
    assert_eq!(inner, serde_json::json!([width, height]), "the page's size");
}

/// Text on the page whose contrast with its background is under WCAG AA: 4.5:1, or 3:1 for
/// large text (24 px, or 18.66 px bold). Backgrounds that are pictures (gradients) are skipped:
/// their colours cannot be read back.
const LOW_CONTRAST: &str = r#"
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

async fn js(client: &Client, script: &str) -> serde_json::Value {
    client
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("{script}: {e}"))
}

async fn metrics(base: &str) -> String {
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

/// How many "happy" answers the machine has recorded.
async fn happy_answers(base: &str) -> u64 {
    metrics(base)
        .await
        .lines()
        .find(|l| l.contains("feedback") && l.contains("answer=\"happy\""))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Buy from `button` with a €2 coin and see the surprise revealed and the question asked.
async fn buy_with_surprise(c: &Client, button: u32, reveal_says: &str) {
    click(c, "#coin-200").await;
    eventually(c, "the credit", async |c| {
        text_of(c, "#credit").await.contains("2.00")
    })
    .await;
    click(c, &format!("#select-{button}")).await;
    eventually(c, "the surprise revealed", async |c| {
        shown(c, "#reveal").await && text_of(c, "#reveal").await.contains(reveal_says)
    })
    .await;
    eventually(c, "the feedback question", async |c| {
        shown(c, "#feedback").await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_buys_gets_a_surprise_and_answers_on_every_screen_size() {
    if !browser_available() {
        return;
    }
    let rig = start_with(Some(SURPRISE_EVERY_TIME)).await;
    let c = &rig.client;
    let mut answers = 0;
    for (i, (width, height, size)) in SIZES.into_iter().enumerate() {
        open_kiosk(c, &rig.base, "", (width, height)).await;
        // At rest: no surprise box, no light show, no question.
        assert!(!shown(c, "#reveal").await, "{size}: a surprise box at rest");
        assert!(!shown(c, "#show").await, "{size}: a light show at rest");
        assert!(!shown(c, "#feedback").await, "{size}: a question at rest");
        // Every target a finger can hit.
        let small = js(
            c,
            "return [...document.querySelectorAll('button')].filter(b => b.offsetParent && \
             (b.getBoundingClientRect().height < 48 || b.getBoundingClientRect().width < 48)).map(b => b.id)",
        )
        .await;
        assert_eq!(small, serde_json::json!([]), "{size}: buttons under 48 px");
        let low = js(c, LOW_CONTRAST).await;
        assert_eq!(
            low,
            serde_json::json!([]),
            "{size}: text under WCAG AA contrast"
        );
        screenshot(c, &format!("kiosk-{size}-welcome")).await;

        let (button, says) = match i {
            0 => (1, "A second Cola to share"),
            1 => (2, "A second Orange soda to share"),
            _ => (3, "light show"),
        };
        buy_with_surprise(c, button, says).await;
        if size == "800x480" {
            let fits = js(
                c,
                "return document.documentElement.scrollHeight <= window.innerHeight \
                 && document.documentElement.scrollWidth <= window.innerWidth",
            )
            .await;
            assert_eq!(fits, serde_json::json!(true), "the touchscreen scrolls");
        }
        if button == 3 {
            assert!(shown(c, "#show.chase").await, "the show plays its pattern");
        }
        // The reveal never covers the question or the selections.
        let clear = js(
            c,
            "const r = document.getElementById('reveal').getBoundingClientRect(); \
             return [...document.querySelectorAll('#feedback, #selections button')].every(e => { \
               const o = e.getBoundingClientRect(); \
               return o.bottom <= r.top || o.top >= r.bottom || o.right <= r.left || o.left >= r.right; })",
        )
        .await;
        assert_eq!(
            clear,
            serde_json::json!(true),
            "{size}: the reveal covers something"
        );
        screenshot(c, &format!("kiosk-{size}-surprise")).await;
        let low = js(c, LOW_CONTRAST).await;
        assert_eq!(
            low,
            serde_json::json!([]),
            "{size}: text under WCAG AA contrast"
        );

        // One tap records one answer and thanks the customer.
        click(c, "#happy").await;
        answers += 1;
        eventually(c, "the thanks", async |c| shown(c, "#thanks").await).await;
        assert!(!shown(c, "#feedback").await);
        let base = rig.base.clone();
        let recorded = async || happy_answers(&base).await == answers;
        eventually(c, "the answer recorded", async |_| recorded().await).await;
        // The reveal ends by itself.
        eventually(c, "the reveal over", async |c| {
            !shown(c, "#reveal").await && !shown(c, "#show").await
        })
        .await;
        click(c, "#take").await;
        click(c, "#coin-return").await;
        eventually(c, "the change returned", async |c| {
            text_of(c, "#credit").await.contains("0.00")
        })
        .await;
    }

    // The same purchase again, on the same page: asked again, since it is another vend.
    set_viewport(c, 800, 480).await;
    buy_with_surprise(c, 1, "A second Cola to share").await;
    click(c, "#unhappy").await;
    eventually(c, "the thanks", async |c| shown(c, "#thanks").await).await;
    // A second answer for the same vend is refused by the machine.
    let again = reqwest::Client::new()
        .post(format!("{}/api/kiosk/feedback", rig.base))
        .json(&serde_json::json!({ "happy": true }))
        .send()
        .await
        .expect("feedback");
    assert_eq!(again.status(), 409);
    assert_eq!(happy_answers(&rig.base).await, answers);
    rig.client.clone().close().await.expect("close the browser");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jam_shows_progress_then_the_refund_and_the_column_says_out_of_order() {
    if !browser_available() {
        return;
    }
    let mut rig = start().await;
    let c = &rig.client;
    open_kiosk(c, &rig.base, "", (800, 480)).await;
    let stdin = rig.kiosk.0.stdin.as_mut().expect("kiosk stdin");
    stdin.write_all(b"jam 1\n").expect("script");
    stdin.flush().expect("flush");
    click(c, "#coin-200").await;
    eventually(c, "the credit", async |c| {
        text_of(c, "#credit").await.contains("2.00")
    })
    .await;
    click(c, "#select-1").await;
    eventually(c, "the retry in progress", async |c| {
        text_of(c, "#display").await.contains("trying again")
    })
    .await;
    assert!(shown(c, "#display.tone-progress").await);
    eventually(c, "the refund", async |c| {
        text_of(c, "#display")
            .await
            .contains("is back in your credit")
    })
    .await;
    // A failure never looks like a success.
    assert!(shown(c, "#display.tone-failure").await);
    let colour = js(
        c,
        "return getComputedStyle(document.getElementById('display')).backgroundColor",
    )
    .await;
    assert_ne!(
        colour,
        serde_json::json!("rgb(0, 0, 0)"),
        "the failure has its own style"
    );
    eventually(c, "column 1 out of order", async |c| {
        text_of(c, "#select-1").await.contains("Out of order")
    })
    .await;
    let tile = c.find(Locator::Css("#select-1")).await.expect("tile");
    assert!(
        !tile.is_enabled().await.expect("enabled?"),
        "a jammed column cannot be chosen"
    );
    assert_eq!(
        tile.attr("aria-label").await.expect("label").as_deref(),
        Some("Cola: Out of order")
    );
    assert!(c
        .find(Locator::Css("#select-2"))
        .await
        .expect("tile 2")
        .is_enabled()
        .await
        .expect("enabled?"));
    // The money is still there: the credit kept, the question asked about the failed vend.
    assert!(text_of(c, "#credit").await.contains("2.00"));
    eventually(c, "the feedback question", async |c| {
        shown(c, "#feedback").await
    })
    .await;
    screenshot(c, "kiosk-800x480-jammed").await;
    let low = js(c, LOW_CONTRAST).await;
    assert_eq!(low, serde_json::json!([]), "text under WCAG AA contrast");
    rig.client.clone().close().await.expect("close the browser");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_button_changes_every_word_and_the_attract_screen_returns_to_the_default() {
    if !browser_available() {
        return;
    }
    let rig = start().await;
    let c = &rig.client;
    open_kiosk(c, &rig.base, "?attract=3", (800, 480)).await;
    click(c, "#lang").await;
    click(c, "#lang-de").await;
    eventually(c, "the German display", async |c| {
        text_of(c, "#display").await.contains("Münzen einwerfen")
    })
    .await;
    assert_eq!(
        text_of(c, "[data-text='page-coin-return']").await,
        "Geld zurück"
    );
    // (WebDriver's text turns no-break spaces into spaces: read the page's own.)
    let tile = js(c, "return document.getElementById('select-1').textContent").await;
    assert!(
        tile.as_str().is_some_and(|t| t.contains("1,50\u{a0}€")),
        "prices as Germans write them: {tile}"
    );
    assert_eq!(
        js(c, "return document.documentElement.lang").await,
        serde_json::json!("de")
    );
    click(c, "#coin-50").await;
    eventually(c, "the German credit", async |c| {
        text_of(c, "#display").await.contains("Guthaben 0,50 €")
    })
    .await;
    screenshot(c, "kiosk-800x480-deutsch").await;
    click(c, "#lang").await;
    click(c, "#lang-ja").await;
    eventually(c, "the Japanese display", async |c| {
        text_of(c, "#display").await.contains("残高")
    })
    .await;
    click(c, "#coin-return").await;
    eventually(c, "the welcome in Japanese", async |c| {
        text_of(c, "#display").await.contains("硬貨を入れて")
    })
    .await;
    // Left alone, the machine invites the next customer, in its own language.
    eventually(c, "the attract screen", async |c| {
        shown(c, "#attract").await
    })
    .await;
    screenshot(c, "kiosk-800x480-attract").await;
    eventually(c, "English again", async |c| {
        text_of(c, "#display").await.contains("Insert coins")
    })
    .await;
    click(c, "#attract").await;
    eventually(c, "the attract screen gone", async |c| {
        !shown(c, "#attract").await
    })
    .await;
    rig.client.clone().close().await.expect("close the browser");
}
