//! The fleet page (`happiness fleet serve`) in real headless Chromium, on a real Mosquitto with
//! retained machine states: every machine in the table, live, behind the operator token, at a
//! phone's and a desktop's size.

mod common;

use std::process::{Command, Stdio};

use common::browser::*;
use common::fleet::{broker_available, Mosquitto};
use fantoccini::Locator;
use serde_json::json;

const FLEET_TOKEN: &str = "fleet-page-operator-token";

fn state(id: &str, online: bool, sales: u64, jammed: bool) -> String {
    let column2 = if jammed {
        json!({"column": 2, "product": "Orange soda", "price": 150, "stock": 3, "capacity": 8,
               "status": "faulted", "reason": "jammed"})
    } else {
        json!({"column": 2, "product": "Orange soda", "price": 150, "stock": 3, "capacity": 8,
               "status": "in_service"})
    };
    let alerts = if jammed {
        json!([{"kind": "column_fault", "severity": "critical",
                "text": "Column 2 (Orange soda) is jammed."}])
    } else {
        json!([])
    };
    json!({
        "id": id, "online": online, "name": format!("Happiness Machine {id}"), "currency": "€",
        "display": "Insert coins, then choose", "credit": 0,
        "columns": [{"column": 1, "product": "Cola", "price": 150, "stock": 5, "capacity": 8,
                     "status": "in_service"}, column2],
        "faults": if jammed { json!([2]) } else { json!([]) }, "alerts": alerts,
        "surprise_version": 3, "paused": false, "out_of_service": null, "door_open": false,
        "today": {"sales": sales, "sales_value": sales * 150, "surprises": sales / 5,
                  "surprise_cost": sales / 5 * 90,
                  "last_sale": if sales > 0 { json!("2026-11-28 09:15:02") } else { json!(null) }},
        "outbox": 0
    })
    .to_string()
}

fn retain(broker: &Mosquitto, id: &str, body: &str) {
    let topic = format!("happiness/{id}/state");
    assert!(common::fleet::publish(
        broker.port,
        &topic,
        body.as_bytes(),
        true,
        None
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_page_shows_every_machine_live_on_a_phone_and_a_desktop() {
    if !broker_available() || !browser_available() {
        return;
    }
    let broker = Mosquitto::start().await;
    retain(&broker, "lobby-1", &state("lobby-1", true, 12, false));
    retain(&broker, "lobby-2", &state("lobby-2", true, 3, true));
    retain(
        &broker,
        "gym",
        &json!({"id": "gym", "online": false}).to_string(),
    );
    let port = free_port();
    let _page = Reaped(
        Command::new(env!("CARGO_BIN_EXE_happiness"))
            .args(["fleet", "--mqtt", &broker.url(), "serve", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .env("HAPPINESS_TOKEN", FLEET_TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("fleet serve"),
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_http(&format!("{base}/fleet")).await;

    // The table needs the token.
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{base}/api/fleet"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);
    let r = http
        .get(format!("{base}/api/fleet"))
        .bearer_auth(FLEET_TOKEN)
        .send()
        .await
        .expect("get");
    assert!(r.status().is_success());
    // A page on another host name (DNS rebinding) is refused.
    let r = http
        .get(format!("{base}/api/fleet"))
        .header("Host", "evil.example")
        .bearer_auth(FLEET_TOKEN)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), reqwest::StatusCode::MISDIRECTED_REQUEST);

    let b = browser().await;
    let c = &b.client;
    for (name, (w, h)) in [("phone", (390, 844)), ("desktop", (1280, 800))] {
        set_viewport(c, w, h).await;
        c.goto(&format!("{base}/fleet"))
            .await
            .expect("open the page");
        type_into(c, "#token", FLEET_TOKEN).await;
        click(c, "#login").await;
        eventually(c, "three machines", async |c| {
            c.find_all(Locator::Css("#fleet tbody tr"))
                .await
                .is_ok_and(|rows| rows.len() == 3)
        })
        .await;
        // The page redraws its rows as states arrive: a row read while it is being replaced
        // reads empty, so each is read until it says what it should.
        eventually(c, "each machine's row", async |c| {
            let lobby2 = text_of(c, "tr[data-machine='lobby-2']").await;
            let lobby1 = text_of(c, "tr[data-machine='lobby-1']").await;
            lobby2.contains("column 2 (jammed)")
                && lobby2.contains("Column 2 (Orange soda) is jammed.")
                && lobby1.contains("12 · €18.00")
                && lobby1.contains("2026-11-28 09:15:02")
                && text_of(c, "tr[data-machine='gym']")
                    .await
                    .contains("offline")
                && text_of(c, "#totals").await.contains("2 of 3 online")
        })
        .await;
        assert!(fits_the_screen(c).await, "{name}: wider than the screen");
        screenshot(c, &format!("fleet-{name}")).await;
    }
    // Live: the gym comes online and the page follows, without a reload.
    retain(&broker, "gym", &state("gym", true, 1, false));
    eventually(c, "the gym online", async |c| {
        text_of(c, "tr[data-machine='gym']")
            .await
            .contains("online")
            && text_of(c, "#totals").await.contains("3 of 3 online")
    })
    .await;
}
