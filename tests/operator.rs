//! The operator's business over HTTP: the books over a period, the sales export, alerts, live
//! column edits and restocking with a count, on a simulated kiosk.

mod common;

use common::rig::{wait_for, Rig, TOKEN};
use reqwest::StatusCode;

/// Sell one item from `button` with exact coins, and wait until the sale is finished.
async fn sell(rig: &Rig, button: usize, coins: &[u64]) {
    let before = rig.json("/api/status").await["vends_finished"]
        .as_u64()
        .unwrap_or(0);
    for c in coins {
        let r = rig
            .http
            .post(rig.url(&format!("/api/sim/coin/{c}")))
            .send()
            .await
            .expect("coin");
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    let total: u64 = coins.iter().sum();
    assert!(wait_for(async || rig.json("/api/status").await["credit"] == total).await);
    let r = rig
        .http
        .post(rig.url(&format!("/api/sim/press/{button}")))
        .send()
        .await
        .expect("press");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(
        wait_for(async || {
            let s = rig.json("/api/status").await;
            s["vends_finished"].as_u64() == Some(before + 1)
                && !s["vending"].as_bool().unwrap_or(true)
        })
        .await,
        "the sale finishes"
    );
}

async fn status_of(rig: &Rig, path: &str) -> (StatusCode, String) {
    let r = rig.get(path).await;
    (r.status(), r.text().await.expect("text"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_books_over_a_period_and_the_sales_export() {
    let rig = Rig::start(Some(TOKEN)).await;
    sell(&rig, 1, &[100, 50]).await;
    sell(&rig, 2, &[100, 50]).await;
    let today = rig.json("/api/books?period=today").await;
    assert_eq!(today["bucket"], "hour");
    assert_eq!(today["series"].as_array().map(Vec::len), Some(24));
    assert_eq!(today["sales"]["count"], 2);
    assert_eq!(today["sales"]["value"], 300);
    assert_eq!(today["promise"]["paid"], 2);
    assert_eq!(today["promise"]["ratio"], 1.0);
    let columns = today["columns"].as_array().expect("columns");
    assert_eq!(columns[0]["sales"]["count"], 1);
    assert_eq!(columns[1]["sales"]["count"], 1);
    // The budget line comes from the policy in force.
    assert_eq!(today["budget"]["percent"], 2.0);
    let month = rig.json("/api/books?period=30d").await;
    assert_eq!(month["bucket"], "day");
    assert_eq!(month["series"].as_array().map(Vec::len), Some(30));
    assert_eq!(
        month["series"][29]["sales"]["count"], 2,
        "today is the last day"
    );
    let dated = rig.json("/api/books?from=2020-01-01&to=2020-01-31").await;
    assert_eq!(dated["sales"]["count"], 0, "nothing was sold in 2020");
    assert_eq!(dated["from"], "2020-01-01 00:00:00");
    assert_eq!(
        dated["to"], "2020-02-01 00:00:00",
        "a date as the end means its whole day"
    );
    // Without a period: the whole books with their checks, as before.
    let whole = rig.json("/api/books").await;
    assert_eq!(whole["money"]["balanced"], true);
    for (path, says) in [
        ("/api/books?period=week", "period"),
        ("/api/books?from=yesterday", "from"),
        (
            "/api/books?from=2026-11-27&to=2026-11-01",
            "before it starts",
        ),
        ("/api/books?from=2020-01-01&to=2026-01-01", "366 days"),
        ("/api/books?bucket=minute", "bucket"),
        ("/api/books?period=7d&from=2026-11-01", "not both"),
        ("/api/books?colour=blue", "colour"),
        ("/api/sales.csv?period=0d", "days"),
    ] {
        let (code, body) = status_of(&rig, path).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(body.contains(says), "{path}: {body}");
    }
    let r = rig.get("/api/sales.csv?period=today").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv")));
    let csv = r.text().await.expect("csv");
    let rows: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        rows[0],
        "time,column,product,price,outcome,reason,surprise,surprise_cost"
    );
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(rows[1].contains(",1,Cola,1.50,delivered,"), "{csv}");
    // The export is the operator's: no token, no rows.
    let r = rig
        .http
        .get(rig.url("/api/sales.csv"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    rig.stop().await;
}
