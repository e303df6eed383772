//! The operator's console in real headless Chromium, on a desktop and a phone: log in, read the
//! dashboard, edit the policy in the form and in the text, see errors marked, roll back, see
//! alerts come and go. Screenshots under `target/screenshots/`.

mod common;

use common::browser::*;
use fantoccini::Locator;

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

    // What would it cost? A preview on last week's traffic (one sale so far), nothing saved.
    click(c, "#preview").await;
    eventually(c, "the preview", async |c| {
        let t = text_of(c, "#preview-result").await;
        t.contains("This policy would give about") && t.contains("on last week's traffic")
    })
    .await;

    // Roll back to the version the machine started with: the probability is 0.2 again.
    let in_force = current["version"].as_i64().unwrap_or(0);
    click(c, "#versions button").await;
    eventually(c, "the rollback applied", async |c| {
        text_of(c, "#saved")
            .await
            .contains(&format!("Version {} applied", in_force + 1))
    })
    .await;
    eventually(c, "the old probability back in the form", async |c| match c
        .find(Locator::Css("#f-probability"))
        .await
    {
        Ok(e) => e.prop("value").await.ok().flatten().as_deref() == Some("0.2"),
        Err(_) => false,
    })
    .await;

    // The console on a desktop and on a phone: nothing wider than the screen, the version in
    // force marked, the sale in the books with its currency.
    for (width, height, size) in [(1280, 1000, "desktop"), (390, 844, "phone")] {
        set_viewport(c, width, height).await;
        c.refresh().await.expect("reload");
        eventually(c, "the dashboard with the sale", async |c| {
            text_of(c, "#dashboard")
                .await
                .contains("Sold today: 1 item for €1.50")
        })
        .await;
        eventually(c, "the version in force", async |c| {
            text_of(c, "#versions").await.contains("in force")
        })
        .await;
        assert!(
            fits_the_screen(c).await,
            "{size}: the console is wider than the screen"
        );
        screenshot(c, &format!("operator-{size}")).await;
    }
    rig.client.clone().close().await.expect("close the browser");
}

/// Sell one item from `button` over the simulator's HTTP front, and wait until it is finished.
async fn sell(base: &str, button: u32) {
    let http = reqwest::Client::new();
    let status = async || -> serde_json::Value {
        http.get(format!("{base}/api/status"))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .send()
            .await
            .expect("status")
            .json()
            .await
            .expect("json")
    };
    let before = status().await["vends_finished"].as_u64().unwrap_or(0);
    for path in [
        "/api/sim/coin/200".to_string(),
        format!("/api/sim/press/{button}"),
    ] {
        let r = http
            .post(format!("{base}{path}"))
            .send()
            .await
            .expect("sim");
        assert!(r.status().is_success(), "{path}: {}", r.status());
        if path.contains("coin") {
            for _ in 0..300 {
                if status().await["credit"].as_u64().unwrap_or(0) >= 200 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
    for _ in 0..600 {
        let s = status().await;
        if s["vends_finished"].as_u64() == Some(before + 1) && s["vending"] == false {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the sale from button {button} never finished");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_draws_the_period_with_charts_on_a_desktop_and_a_phone() {
    if !browser_available() {
        return;
    }
    let rig = start().await;
    let c = &rig.client;
    for button in [1, 2, 1] {
        sell(&rig.base, button).await;
    }
    c.goto(&format!("{}/operator", rig.base))
        .await
        .expect("operator page");
    type_into(c, "#token", TOKEN).await;
    click(c, "#login").await;
    eventually(c, "today's sales", async |c| {
        text_of(c, "#dashboard")
            .await
            .contains("Sold today: 3 items for €4.50")
    })
    .await;
    let dash = text_of(c, "#dashboard").await;
    assert!(
        dash.contains("Promise kept: 100%: 3 of 3 paid vends delivered"),
        "{dash}"
    );
    assert!(dash.contains("Surprise budget:"), "{dash}");
    // Charts with data: the sales bars are drawn, one hour of today holds them (two when the
    // sales straddle the turn of an hour).
    let bars = js(
        c,
        "return document.querySelectorAll('svg.chart rect.bar-sales').length",
    )
    .await;
    assert!(
        matches!(bars.as_u64(), Some(1 | 2)),
        "{bars}: one hour with sales"
    );
    let charts = js(c, "return document.querySelectorAll('svg.chart').length").await;
    assert_eq!(charts, serde_json::json!(3));
    // Another period: by day.
    click(c, "#periods button[data-period='7d']").await;
    eventually(c, "the last 7 days", async |c| {
        text_of(c, "#dashboard")
            .await
            .contains("Sold in the last 7 days: 3 items")
    })
    .await;
    let ticks = js(
        c,
        "return [...document.querySelectorAll('svg.chart')][0].querySelectorAll('text.axis').length",
    )
    .await;
    assert!(
        ticks.as_u64().unwrap_or(0) >= 3 + 4,
        "{ticks}: the y lines and day labels"
    );
    click(c, "#periods button[data-period='today']").await;
    for (width, height, size) in [(1280, 1000, "desktop"), (390, 844, "phone")] {
        set_viewport(c, width, height).await;
        eventually(c, "today again", async |c| {
            text_of(c, "#dashboard").await.contains("Sold today")
        })
        .await;
        js(c, "document.getElementById('business').scrollIntoView()").await;
        assert!(fits_the_screen(c).await, "{size}: wider than the screen");
        screenshot(c, &format!("dashboard-{size}")).await;
    }
    rig.client.clone().close().await.expect("close the browser");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sees_alerts_changes_a_price_and_restocks_from_the_console() {
    if !browser_available() {
        return;
    }
    let rig = start().await;
    let c = &rig.client;
    c.goto(&format!("{}/operator", rig.base))
        .await
        .expect("operator page");
    type_into(c, "#token", TOKEN).await;
    click(c, "#login").await;
    // The chocolate bars start at 2, under their alert level of 3.
    eventually(c, "the low-stock alert", async |c| {
        text_of(c, "#alerts")
            .await
            .contains("Column 4 (Chocolate bar) is low: 2 left")
    })
    .await;
    // Two Colas later, column 1 (6 of 8, alert at 2) is not yet low; four more and it is.
    for _ in 0..4 {
        sell(&rig.base, 1).await;
    }
    eventually(c, "the Cola's low-stock alert after sales", async |c| {
        text_of(c, "#alerts")
            .await
            .contains("Column 1 (Cola) is low: 2 left")
    })
    .await;
    eventually(c, "the sales in the live events", async |c| {
        text_of(c, "#events")
            .await
            .contains("Sold: Cola from column 1 for €1.50.")
    })
    .await;
    // Only faults: the sales are hidden.
    click(c, "#event-filters input[value='sales']").await;
    let visible = js(
        c,
        "return [...document.querySelectorAll('#events li')].filter(l => !l.hidden).map(l => l.textContent).join('\\n')",
    )
    .await;
    assert!(
        !visible.as_str().unwrap_or("").contains("Sold:"),
        "{visible}"
    );
    click(c, "#event-filters input[value='sales']").await;
    // A new price, typed in the table: in force at once, written to the file.
    js(
        c,
        "document.querySelector('#columns input[aria-label=\"Column 1 price\"]').scrollIntoView()",
    )
    .await;
    type_into(c, "#columns input[aria-label='Column 1 price']", "1.30\n").await;
    eventually(c, "the price saved", async |_| {
        std::fs::read_to_string(rig.config.path().join("machine.toml"))
            .is_ok_and(|t| t.contains("price_cents = 130"))
    })
    .await;
    eventually(c, "the changed price in the events", async |c| {
        text_of(c, "#events").await.contains("price €1.50 -> €1.30")
    })
    .await;
    // A bad one is refused next to the column, and changes nothing.
    type_into(c, "#columns input[aria-label='Column 1 price']", "a lot\n").await;
    eventually(c, "the price error", async |c| {
        text_of(c, "#columns")
            .await
            .contains("write the price like 1.30")
    })
    .await;
    type_into(
        c,
        "#columns input[aria-label='Column 1 low-stock alert']",
        "9\n",
    )
    .await;
    eventually(c, "the refused alert level", async |c| {
        text_of(c, "#columns").await.contains("below the capacity")
    })
    .await;
    // Restock 6 Colas: the alert clears itself.
    type_into(
        c,
        "#columns input[aria-label^='Items loaded into column 1']",
        "6",
    )
    .await;
    click(c, "#columns tbody tr:nth-child(1) td:nth-child(7) button").await;
    eventually(c, "the Cola's alert cleared", async |c| {
        !text_of(c, "#alerts").await.contains("Cola")
    })
    .await;
    assert!(text_of(c, "#columns").await.contains("8 of 8"));
    // Typing back what is in force clears the marks of the refused edits.
    type_into(c, "#columns input[aria-label='Column 1 price']", "1.30\n").await;
    type_into(
        c,
        "#columns input[aria-label='Column 1 low-stock alert']",
        "2\n",
    )
    .await;
    let marked = js(
        c,
        "return document.querySelectorAll('#columns input.invalid').length",
    )
    .await;
    assert_eq!(marked, serde_json::json!(0));
    // A service test vend of column 2: the outcome beside the column once the item has dropped.
    click(
        c,
        "#columns tbody tr:nth-child(2) button[data-action='test']",
    )
    .await;
    eventually(c, "the test vend's outcome", async |c| {
        text_of(c, "#columns")
            .await
            .contains("test vend: Orange soda dropped")
    })
    .await;
    eventually(c, "the test vend in the live events", async |c| {
        text_of(c, "#events")
            .await
            .contains("Test vend: Orange soda from column 2 dropped.")
    })
    .await;
    eventually(c, "the stock after the test vend", async |c| {
        text_of(c, "#columns tbody tr:nth-child(2)")
            .await
            .contains("5 of 8")
    })
    .await;
    for (width, height, size) in [(1280, 1000, "desktop"), (390, 844, "phone")] {
        set_viewport(c, width, height).await;
        js(c, "window.scrollTo(0, 0)").await;
        assert!(fits_the_screen(c).await, "{size}: wider than the screen");
        screenshot(c, &format!("operator-alerts-{size}")).await;
        js(c, "document.getElementById('columns').scrollIntoView()").await;
        screenshot(c, &format!("operator-columns-{size}")).await;
    }
    rig.client.clone().close().await.expect("close the browser");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_makes_a_customers_day_with_a_gift_from_the_console() {
    if !browser_available() {
        return;
    }
    let rig = start().await;
    let c = &rig.client;
    set_viewport(c, 390, 844).await;
    c.goto(&format!("{}/operator", rig.base))
        .await
        .expect("operator page");
    type_into(c, "#token", TOKEN).await;
    click(c, "#login").await;
    eventually(c, "the catalogue in the gift list", async |c| {
        text_of(c, "#gift-surprise").await.contains("A flower")
    })
    .await;
    assert!(text_of(c, "#no-campaigns").await.contains("No campaigns"));
    assert!(text_of(c, "#made-right")
        .await
        .contains("No failure has needed making right"));
    js(
        c,
        "document.getElementById('gift-surprise').value = 'A flower'; \
         document.getElementById('gift-override').checked = true;",
    )
    .await;
    click(c, "#gift").await;
    eventually(c, "the gift waiting", async |c| {
        text_of(c, "#gift-state")
            .await
            .contains("\u{201c}A flower\u{201d} waits for the next paying customer, even beyond")
    })
    .await;
    assert!(shown(c, "#gift-cancel").await);
    assert!(
        fits_the_screen(c).await,
        "the console is wider than a phone"
    );
    js(c, "document.getElementById('happiness').scrollIntoView()").await;
    screenshot(c, "operator-gift-phone").await;
    // The next customer gets it; the console says nothing waits any more.
    sell(&rig.base, 1).await;
    eventually(c, "the gift given", async |c| {
        !shown(c, "#gift-cancel").await
    })
    .await;
    rig.client.clone().close().await.expect("close the browser");
}
