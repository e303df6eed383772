//! Browser tests in real headless Chromium (Debian's `chromium` and `chromium-driver`, which
//! `.ci/run` installs): the customer's kiosk page at the sizes customers use: buying, surprises,
//! jams, languages, the attract screen, a stopped machine.

mod common;

use std::io::Write;
use std::time::Duration;

use common::browser::*;
use fantoccini::{Client, Locator};

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
async fn a_jam_shows_progress_then_the_refund_then_any_drink_free_and_the_column_says_out_of_order()
{
    if !browser_available() {
        return;
    }
    let mut rig = start().await;
    let c = &rig.client;
    open_kiosk(c, &rig.base, "", (800, 480)).await;
    // The shipped policy discloses its odds, on the Pi's screen without scrolling.
    eventually(c, "the odds disclosed", async |c| {
        text_of(c, "#odds")
            .await
            .starts_with("1 in 5 purchases gets a surprise today")
    })
    .await;
    assert!(
        fits_the_screen(c).await,
        "the odds push the page off the screen"
    );
    screenshot(c, "kiosk-800x480-odds").await;
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
    // The money first, then the machine makes it right (the shipped `[recovery]`), in a style
    // of its own: never the black of a normal message, never the look of a success.
    let display = text_of(c, "#display").await;
    let (refund, offer) = (
        display.find("back in your credit"),
        display.find("Choose any drink on us"),
    );
    assert!(
        refund.is_some() && offer.is_some() && refund < offer,
        "{display}"
    );
    assert!(shown(c, "#display.tone-make_it_right").await);
    assert!(
        !shown(c, "#odds").await,
        "no promotion while something went wrong"
    );
    let colour = js(
        c,
        "return getComputedStyle(document.getElementById('display')).backgroundColor",
    )
    .await;
    assert_ne!(
        colour,
        serde_json::json!("rgb(0, 0, 0)"),
        "making it right has its own style"
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
    // Every drink that can be had is free now; the money is still there.
    eventually(c, "Orange soda offered free", async |c| {
        text_of(c, "#select-2").await.contains("Free")
    })
    .await;
    assert!(shown(c, "#select-2.free").await);
    assert!(text_of(c, "#credit").await.contains("2.00"));
    screenshot(c, "kiosk-800x480-jammed").await;
    let low = js(c, LOW_CONTRAST).await;
    assert_eq!(low, serde_json::json!([]), "text under WCAG AA contrast");
    // The customer picks one: it drops, free, and the credit is still theirs.
    click(c, "#select-2").await;
    eventually(c, "the free Orange soda in the tray", async |c| {
        text_of(c, "#tray").await.contains("Orange soda")
    })
    .await;
    eventually(c, "the offer over", async |c| {
        !text_of(c, "#select-2").await.contains("Free")
    })
    .await;
    assert!(text_of(c, "#credit").await.contains("2.00"));
    screenshot(c, "kiosk-800x480-made-right").await;
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
