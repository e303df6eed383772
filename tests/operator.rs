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
        "time,column,product,price,outcome,reason,surprise,surprise_cost,made_right,made_right_value"
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

async fn patch(rig: &Rig, path: &str, body: &str) -> (StatusCode, serde_json::Value) {
    rig.send_json(rig.http.patch(rig.url(path)), body).await
}

async fn post(rig: &Rig, path: &str, body: &str) -> (StatusCode, serde_json::Value) {
    rig.send_json(rig.http.post(rig.url(path)), body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_price_edit_sells_at_the_new_price_and_keeps_the_files_comments() {
    let rig = Rig::start(Some(TOKEN)).await;
    let file = rig.dir.path().join("machine.toml");
    let before = std::fs::read_to_string(&file).expect("machine.toml");
    let (code, column) = patch(&rig, "/api/columns/1", r#"{"price_cents": 130}"#).await;
    assert_eq!(code, StatusCode::OK, "{column}");
    assert_eq!(column["price"], 130);
    // At once in the status, and the next sale pays it.
    assert_eq!(rig.json("/api/status").await["columns"][0]["price"], 130);
    sell(&rig, 1, &[100, 20, 10]).await;
    let status = rig.json("/api/status").await;
    assert_eq!(status["credit"], 0, "€1.30 bought the Cola");
    let csv = rig
        .get("/api/sales.csv?period=today")
        .await
        .text()
        .await
        .expect("csv");
    assert!(
        csv.contains(",1,Cola,1.30,delivered,"),
        "booked at the price in force: {csv}"
    );
    // The file: the new price, every comment kept, nothing else changed.
    let after = std::fs::read_to_string(&file).expect("machine.toml");
    let comments = |t: &str| t.lines().filter(|l| l.contains('#')).count();
    assert_eq!(comments(&after), comments(&before), "{after}");
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed, vec![("price_cents = 150", "price_cents = 130")]);
    // The books: a machine.toml version and the change, with who asked.
    let books = rig.json("/api/books").await;
    assert_eq!(books["money"]["balanced"], true);
    // Product and low-stock level, then a restart would read them from the file.
    let (code, column) = patch(
        &rig,
        "/api/columns/2",
        r#"{"product": "Lemonade", "low_stock": 3}"#,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{column}");
    assert_eq!(
        (column["product"].as_str(), column["low_stock"].as_u64()),
        (Some("Lemonade"), Some(3))
    );
    let machine = happiness::config::MachineConfig::load_dir(rig.dir.path()).expect("valid");
    assert_eq!(machine.columns[1].product, "Lemonade");
    assert_eq!(machine.columns[1].low_stock, 3);
    // Bad edits are refused naming the field, and change nothing.
    for (path, body, code, says) in [
        (
            "/api/columns/1",
            r#"{"price_cents": -5}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "columns[0].price_cents",
        ),
        (
            "/api/columns/1",
            r#"{"price_cents": 99999999}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "too high",
        ),
        (
            "/api/columns/1",
            r#"{"product": "   "}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "columns[0].product",
        ),
        (
            "/api/columns/1",
            r#"{"low_stock": 8}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "columns[0].low_stock",
        ),
        (
            "/api/columns/1",
            r#"{"motor_pin": 5}"#,
            StatusCode::BAD_REQUEST,
            "restart",
        ),
        (
            "/api/columns/1",
            r#"{"price_cents": 1.3}"#,
            StatusCode::BAD_REQUEST,
            "not a column change",
        ),
        (
            "/api/columns/1",
            "{}",
            StatusCode::BAD_REQUEST,
            "nothing to change",
        ),
        (
            "/api/columns/1",
            "not json",
            StatusCode::BAD_REQUEST,
            "not a column change",
        ),
        (
            "/api/columns/9",
            r#"{"price_cents": 100}"#,
            StatusCode::NOT_FOUND,
            "no column 9",
        ),
        // "Afternoon treats" names the chocolate bar by its product.
        (
            "/api/columns/4",
            r#"{"product": "Fudge"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "surprises.toml",
        ),
    ] {
        let (got, answer) = patch(&rig, path, body).await;
        assert_eq!(got, code, "{body}: {answer}");
        assert!(answer.to_string().contains(says), "{body}: {answer}");
    }
    assert_eq!(
        std::fs::read_to_string(&file)
            .expect("file")
            .matches("price_cents = 130")
            .count(),
        1
    );
    assert_eq!(rig.json("/api/status").await["columns"][0]["price"], 130);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restock_loads_a_count_or_fills_the_column() {
    let rig = Rig::start(Some(TOKEN)).await;
    // Column 4 holds 2 of 12.
    let (code, column) = post(&rig, "/api/columns/4/restock", r#"{"count": 7}"#).await;
    assert_eq!(code, StatusCode::OK, "{column}");
    assert_eq!(column["stock"], 9);
    for (body, code, says) in [
        (
            r#"{"count": 4}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "1 to 3 more fit",
        ),
        (
            r#"{"count": 0}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "will not fit",
        ),
        (r#"{"count": -1}"#, StatusCode::BAD_REQUEST, "count"),
        (r#"{"items": 2}"#, StatusCode::BAD_REQUEST, "count"),
        ("seven", StatusCode::BAD_REQUEST, "count"),
    ] {
        let (got, answer) = post(&rig, "/api/columns/4/restock", body).await;
        assert_eq!(got, code, "{body}: {answer}");
        assert!(answer.to_string().contains(says), "{body}: {answer}");
    }
    assert_eq!(rig.json("/api/status").await["columns"][3]["stock"], 9);
    let (code, column) = post(&rig, "/api/columns/4/restock", "").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(column["stock"], 12, "no body fills the column");
    // The simulated column got the items too: all of them can be sold.
    assert_eq!(rig.kiosk.sim.as_ref().and_then(|s| s.stock(4)), Some(12));
    rig.stop().await;
}

fn alert_kinds(status: &serde_json::Value) -> Vec<String> {
    status["alerts"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| format!("{}:{}", x["kind"].as_str().unwrap_or(""), x["column"]))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_are_raised_and_clear_themselves_in_status_metrics_and_events() {
    let rig = Rig::start(Some(TOKEN)).await;
    let stream = rig.get("/api/events").await;
    let reader = tokio::spawn(async move {
        let mut stream = stream;
        let mut seen = String::new();
        while let Ok(Some(chunk)) = stream.chunk().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("\"raised\":false") && seen.contains("sold_out") {
                break;
            }
        }
        seen
    });
    // The chocolate bars: 2 left, the alert at 3.
    let status = rig.json("/api/status").await;
    assert_eq!(alert_kinds(&status), vec!["low_stock:4"], "{status}");
    // No sales yet in the budget's window: only free surprises can come, and the status says why.
    assert!(
        status["surprises_limited"]
            .as_str()
            .is_some_and(|t| t.contains("only free surprises") && t.contains("budget_percent")),
        "{status}"
    );
    assert_eq!(status["surprises_held"], serde_json::Value::Null);
    let alert = &status["alerts"][0];
    assert!(alert["text"]
        .as_str()
        .is_some_and(|t| t.contains("Chocolate bar")));
    assert!(alert["action"]
        .as_str()
        .is_some_and(|t| t.contains("Restock column 4")));
    sell(&rig, 4, &[100, 20]).await;
    sell(&rig, 4, &[100, 20]).await;
    let status = rig.json("/api/status").await;
    assert_eq!(alert_kinds(&status), vec!["sold_out:4"], "{status}");
    assert_eq!(status["alerts"][0]["severity"], "critical");
    let metrics = rig.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics.contains("happiness_alerts{kind=\"sold_out\"} 1"),
        "{metrics}"
    );
    // The door: raised while open, cleared when closed.
    let door = |state: &'static str| {
        rig.http
            .post(rig.url(&format!("/api/sim/door/{state}")))
            .send()
    };
    assert!(door("open").await.expect("door").status().is_success());
    assert!(
        wait_for(async || alert_kinds(&rig.json("/api/status").await)
            .contains(&"door_open:null".to_string()))
        .await
    );
    assert!(door("close").await.expect("door").status().is_success());
    assert!(
        wait_for(async || !alert_kinds(&rig.json("/api/status").await)
            .contains(&"door_open:null".to_string()))
        .await
    );
    // Restocked: every alert clears itself.
    let (code, _) = post(&rig, "/api/columns/4/restock", "").await;
    assert_eq!(code, StatusCode::OK);
    assert!(alert_kinds(&rig.json("/api/status").await).is_empty());
    let metrics = rig.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics.contains("happiness_alerts{kind=\"sold_out\"} 0"),
        "{metrics}"
    );
    let seen = tokio::time::timeout(std::time::Duration::from_secs(10), reader)
        .await
        .expect("the events arrive")
        .expect("reader");
    assert!(seen.contains("\"type\":\"alert\""), "{seen}");
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_is_previewed_on_last_weeks_traffic_before_it_is_saved() {
    let rig = Rig::start(Some(TOKEN)).await;
    let shipped = std::fs::read_to_string(rig.config_path()).expect("surprises.toml");
    let preview = |text: String| {
        rig.authed(rig.http.post(rig.url("/api/config/surprises/preview")))
            .header("Content-Type", "application/toml")
            .body(text)
            .send()
    };
    // No sales yet: an assumed traffic, said so.
    let r = preview(shipped.clone()).await.expect("preview");
    assert_eq!(r.status(), StatusCode::OK);
    let p: serde_json::Value = r.json().await.expect("json");
    assert!(
        p["traffic"]
            .as_str()
            .is_some_and(|t| t.contains("assuming 30")),
        "{p}"
    );
    assert!(
        p["per_day"]
            .as_str()
            .is_some_and(|t| t.contains(" a day; ")),
        "{p}"
    );
    let shipped_cost = p["cost_per_day"].as_u64().expect("cost");
    sell(&rig, 1, &[100, 50]).await;
    let p: serde_json::Value = preview(shipped.clone())
        .await
        .expect("preview")
        .json()
        .await
        .expect("json");
    assert!(
        p["traffic"]
            .as_str()
            .is_some_and(|t| t.contains("last week's traffic (1 paid vends")),
        "{p}"
    );
    // Surprises off: nothing a day.
    let off = shipped.replacen("enabled = true", "enabled = false", 1);
    let p: serde_json::Value = preview(off)
        .await
        .expect("preview")
        .json()
        .await
        .expect("json");
    assert_eq!(p["cost_per_day"], 0, "{p}");
    assert!(shipped_cost > 0);
    // An invalid policy is refused naming the field, and nothing is saved.
    let bad = shipped.replacen("probability = 0.2", "probability = 2", 1);
    let r = preview(bad).await.expect("preview");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.expect("text").contains("policy.probability"));
    assert_eq!(
        std::fs::read_to_string(rig.config_path()).expect("file"),
        shipped
    );
    rig.stop().await;
}

/// A config edit through the console keeps the file's mode, writes a symlinked config's target
/// (the link stays a link) and leaves no temporary file behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_edits_keep_the_files_mode_and_symlink() {
    use std::os::unix::fs::PermissionsExt as _;
    let rig = Rig::start(Some(TOKEN)).await;
    let machine = rig.dir.path().join("machine.toml");
    std::fs::set_permissions(&machine, std::fs::Permissions::from_mode(0o640)).expect("mode");
    // surprises.toml becomes a link to a file kept elsewhere.
    let kept = rig.dir.path().join("kept");
    std::fs::create_dir(&kept).expect("dir");
    let surprises = rig.config_path();
    let real = kept.join("surprises.toml");
    std::fs::rename(&surprises, &real).expect("move");
    std::os::unix::fs::symlink(&real, &surprises).expect("symlink");

    let (code, column) = patch(&rig, "/api/columns/1", r#"{"price_cents": 130}"#).await;
    assert_eq!(code, StatusCode::OK, "{column}");
    let mode = std::fs::metadata(&machine)
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640, "the mode is kept");
    assert!(std::fs::read_to_string(&machine)
        .expect("read")
        .contains("130"));

    let (code, body) = patch(
        &rig,
        "/api/config/surprises/policy",
        r#"{"probability": 0.25}"#,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert!(
        std::fs::symlink_metadata(&surprises)
            .expect("meta")
            .file_type()
            .is_symlink(),
        "the link stays a link"
    );
    assert!(std::fs::read_to_string(&real)
        .expect("read")
        .contains("probability = 0.25"));
    for dir in [rig.dir.path(), kept.as_path()] {
        let temps: Vec<_> = std::fs::read_dir(dir)
            .expect("dir")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(temps.is_empty(), "{temps:?}");
    }
}

/// A column added above column 1 on disk (waiting for a restart): a live edit of column 1 is
/// refused with 409 naming why, and neither the running column, the file nor the sales change.
/// Other changes on disk (the name) do not stop a live edit, and stay for the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_column_edit_is_refused_when_the_file_on_disk_describes_other_columns() {
    let rig = Rig::start(Some(TOKEN)).await;
    let machine = rig.dir.path().join("machine.toml");
    let shipped = std::fs::read_to_string(&machine).expect("machine.toml");
    let first = shipped.find("[[columns]]").expect("a column");
    let caviar = "[[columns]]\nproduct = \"Caviar\"\nprice_cents = 990\ncapacity = 4\nstock = 4\n\
                  motor_pin = 15\n\n";
    let added = format!("{}{caviar}{}", &shipped[..first], &shipped[first..]);
    happiness::config::MachineConfig::from_toml(&machine, &added).expect("a valid machine.toml");
    std::fs::write(&machine, &added).expect("write");
    let (code, body) = patch(&rig, "/api/columns/1", r#"{"price_cents": 130}"#).await;
    assert_eq!(code, StatusCode::CONFLICT, "{body}");
    let why = body["message"].as_str().unwrap_or_default().to_string();
    assert!(
        why.contains("column 1 is Caviar") && why.contains("restart"),
        "{body}"
    );
    let now = rig.json("/api/status").await;
    assert_eq!(
        now["columns"][0]["product"], "Cola",
        "the running column is unchanged"
    );
    assert_eq!(
        std::fs::read_to_string(&machine).expect("read"),
        added,
        "the file is unchanged"
    );

    // With only the machine's name changed on disk, a live edit goes through and the name's
    // change stays in the file for the next start.
    let renamed = shipped.replacen(
        "name = \"Happiness Machine\"",
        "name = \"Lobby Machine\"",
        1,
    );
    std::fs::write(&machine, &renamed).expect("write");
    let (code, body) = patch(&rig, "/api/columns/1", r#"{"price_cents": 130}"#).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["product"], "Cola");
    let text = std::fs::read_to_string(&machine).expect("read");
    assert!(
        text.contains("Lobby Machine") && text.contains("130"),
        "{text}"
    );
    rig.stop().await;
}
