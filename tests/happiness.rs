//! The happiness engine on a running simulated kiosk, over HTTP: a jam made right with a free
//! drink of the customer's choice, an operator's gift for the next paying customer, a secret
//! sequence, and the odds disclosed to customers.

mod common;

use common::rig::{wait_for, Rig, TOKEN};
use reqwest::StatusCode;

async fn post_json(rig: &Rig, path: &str, body: &str) -> (StatusCode, serde_json::Value) {
    rig.send_json(rig.http.post(rig.url(path)), body).await
}

async fn press(rig: &Rig, button: usize) {
    rig.sim(&format!("press/{button}")).await;
}

/// Insert `cents` in one coin, wait until the credit shows it, and press `button`.
async fn pay_and_press(rig: &Rig, cents: u64, button: usize) {
    rig.sim(&format!("coin/{cents}")).await;
    assert!(wait_for(async || rig.json("/api/status").await["credit"] == cents).await);
    press(rig, button).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jam_is_refunded_then_made_right_with_a_free_drink_of_the_customers_choice() {
    let rig = Rig::start(Some(TOKEN)).await;
    let sim = rig.kiosk.sim.clone().expect("simulator");
    sim.inject(happiness_hardware::sim::Fault::Jam { column: 0 })
        .expect("jam");
    pay_and_press(&rig, 200, 1).await;
    // The shipped [recovery]: the price is back in credit, and every drink that can be had is
    // free for a minute.
    assert!(
        wait_for(async || {
            let s = rig.json("/api/status").await;
            s["offer_columns"].as_array().is_some_and(|c| !c.is_empty())
        })
        .await,
        "an offer is made"
    );
    let s = rig.json("/api/status").await;
    assert_eq!(s["credit"], 200);
    assert_eq!(s["offer_columns"], serde_json::json!([2, 3, 4]));
    assert!(
        s["odds"].is_null(),
        "no promotion while something went wrong"
    );
    let kiosk = rig.json("/api/kiosk/state").await;
    assert_eq!(kiosk["tone"], "make_it_right");
    assert!(
        kiosk["display"].as_str().is_some_and(
            |d| d.contains("back in your credit") && d.contains("Choose any drink on us")
        )
    );
    assert_eq!(kiosk["selections"][2]["price_text"], "Free");
    // The customer picks Water: it comes free, the credit stays theirs.
    press(&rig, 3).await;
    assert!(
        wait_for(async || {
            let s = rig.json("/api/status").await;
            s["recovery"]["taken"] == 1 && s["vending"] == false
        })
        .await,
        "the free Water is dispensed"
    );
    let s = rig.json("/api/status").await;
    assert_eq!(s["credit"], 200);
    assert_eq!(s["offer_columns"], serde_json::json!([]));
    assert_eq!(s["recovery"]["cost"], 100);
    // The books tell it apart from surprises.
    let books = rig.json("/api/books?period=today").await;
    assert_eq!(books["recovery"]["offers"], 1);
    assert_eq!(books["recovery"]["items"], 1);
    assert_eq!(books["recovery"]["delivered"], 1);
    assert_eq!(books["recovery"]["value"], 100);
    assert_eq!(books["surprises"]["count"], 0);
    let metrics = rig.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics.contains("happiness_recovery_items_total 1"),
        "{metrics}"
    );
    assert!(metrics.contains(
        "happiness_recovery_offers_total{trigger=\"failed_vend\",offer=\"free_item\"} 1"
    ));
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gift_waits_for_the_next_paying_customer_and_is_booked_as_a_surprise() {
    let rig = Rig::start(Some(TOKEN)).await;
    let (code, body) = post_json(&rig, "/api/surprises/gift", r#"{"surprise": "A rose"}"#).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "surprise");
    assert!(body["error"]
        .as_str()
        .is_some_and(|e| e.contains("A flower")));
    for bad in [
        r#"{"surprise": 3}"#,
        r#"{"gift": "A flower"}"#,
        "null",
        "{",
        r#"["A flower", true]"#,
        r#""A flower""#,
    ] {
        let (code, _) = post_json(&rig, "/api/surprises/gift", bad).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{bad}");
    }
    let r = rig
        .http
        .post(rig.url("/api/surprises/gift"))
        .body(r#"{"surprise": "A flower"}"#)
        .send()
        .await
        .expect("no token");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let (code, body) = post_json(
        &rig,
        "/api/surprises/gift",
        r#"{"surprise": "a flower", "override_caps": true}"#,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["waiting"]["surprise"], "A flower");
    let (code, _) = post_json(&rig, "/api/surprises/gift", r#"{"surprise": "Light show"}"#).await;
    assert_eq!(code, StatusCode::CONFLICT, "one gift at a time");
    assert_eq!(
        rig.json("/api/status").await["gift_waiting"]["surprise"],
        "A flower"
    );
    // The next paying customer gets it after their Cola.
    pay_and_press(&rig, 200, 1).await;
    assert!(
        wait_for(async || {
            let s = rig.json("/api/status").await;
            s["gift_waiting"].is_null() && s["vending"] == false
        })
        .await,
        "the gift is given"
    );
    // Booked as a surprise of its kind (the journal's events say it was a gift, and who asked).
    let books = rig.json("/api/books?period=today").await;
    assert_eq!(books["surprises"]["count"], 1, "{books}");
    assert_eq!(books["surprises_by_kind"][0]["kind"], "gift");
    // A waiting gift follows its surprise into a new config, or goes when the surprise does.
    let (code, _) = post_json(&rig, "/api/surprises/gift", r#"{"surprise": "Light show"}"#).await;
    assert_eq!(code, StatusCode::OK);
    let shipped = std::fs::read_to_string(rig.config_path()).expect("surprises.toml");
    let without = |text: &str, name: &str| -> String {
        let start = text
            .find(&format!("[[surprises]]\nname = \"{name}\""))
            .expect("the surprise");
        let end = text[start + 1..]
            .find("[[surprises]]")
            .map_or(text.len(), |i| start + 1 + i);
        format!("{}{}", &text[..start], &text[end..])
    };
    let reordered = without(&shipped, "Thank-you note");
    assert_eq!(rig.put_toml(&reordered).await.status(), StatusCode::OK);
    assert_eq!(
        rig.json("/api/status").await["gift_waiting"]["surprise"],
        "Light show"
    );
    assert_eq!(
        rig.put_toml(&without(&reordered, "Light show"))
            .await
            .status(),
        StatusCode::OK
    );
    assert!(rig.json("/api/status").await["gift_waiting"].is_null());
    // Nothing waits now: cancelling says so.
    let r = rig
        .authed(rig.http.delete(rig.url("/api/surprises/gift")))
        .send()
        .await
        .expect("cancel");
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.expect("json");
    assert!(body["cancelled"].is_null());
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_menu_answers_three_buttons_with_no_credit_and_the_odds_are_disclosed() {
    let rig = Rig::start(Some(TOKEN)).await;
    let kiosk = rig.json("/api/kiosk/state").await;
    assert!(
        kiosk["odds"]
            .as_str()
            .is_some_and(|o| o.starts_with("1 in 5 purchases gets a surprise today")),
        "{}",
        kiosk["odds"]
    );
    for button in [3, 1, 4] {
        press(&rig, button).await;
    }
    assert!(
        wait_for(async || {
            rig.json("/api/kiosk/state").await["display"]
                .as_str()
                .is_some_and(|d| d.contains("secret menu"))
        })
        .await,
        "the secret is answered"
    );
    let s = rig.json("/api/status").await;
    assert_eq!(s["credit"], 0);
    assert_eq!(s["ledger"]["spent"], 0);
    let books = rig.json("/api/books?period=today").await;
    assert_eq!(books["surprises"]["count"], 1, "{books}");
    assert_eq!(books["surprises_by_kind"][0]["kind"], "message");
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unhappy_tap_is_made_right_once_when_the_operator_allows_it() {
    let rig = Rig::start(Some(TOKEN)).await;
    let shipped = std::fs::read_to_string(rig.config_path()).expect("surprises.toml");
    let allowed = shipped.replacen("on_unhappy = false", "on_unhappy = true", 1);
    assert_ne!(allowed, shipped);
    assert_eq!(rig.put_toml(&allowed).await.status(), StatusCode::OK);
    // Water, with exact coins: nothing left in credit.
    pay_and_press(&rig, 100, 3).await;
    assert!(
        wait_for(async || {
            let s = rig.json("/api/status").await;
            s["feedback_open"] == true && s["vending"] == false
        })
        .await,
        "the Water is delivered and the question asked"
    );
    let tap = async || {
        rig.http
            .post(rig.url("/api/kiosk/feedback"))
            .json(&serde_json::json!({ "happy": false }))
            .send()
            .await
            .expect("feedback")
            .status()
    };
    assert!(tap().await.is_success());
    assert!(
        wait_for(async || {
            rig.json("/api/status").await["offer_columns"]
                .as_array()
                .is_some_and(|c| !c.is_empty())
        })
        .await,
        "the unhappy customer is offered a drink"
    );
    let kiosk = rig.json("/api/kiosk/state").await;
    assert!(
        kiosk["display"]
            .as_str()
            .is_some_and(|d| d.starts_with("Sorry it was not right.")),
        "{}",
        kiosk["display"]
    );
    // A second answer for the same vend is refused: one offer per vend.
    assert_eq!(tap().await, StatusCode::CONFLICT);
    let books = rig.json("/api/books?period=today").await;
    assert_eq!(books["recovery"]["after_unhappy"], 1, "{books}");
    rig.stop().await;
}
