//! Service test vends and the audit file over the operator API: a test vend answered once it is
//! over (delivered, or failed with the column out of service), refused with the reason while it
//! cannot run, never a sale; the audit file served and every read recorded.

mod common;

use common::rig::{wait_for, Rig};
use reqwest::StatusCode;

async fn post(rig: &Rig, path: &str) -> (StatusCode, serde_json::Value) {
    let r = rig
        .authed(rig.http.post(rig.url(path)))
        .send()
        .await
        .expect("request");
    let code = r.status();
    (code, r.json().await.unwrap_or_default())
}

/// The status of a request sent without the operator's token.
async fn without_token(request: reqwest::RequestBuilder) -> StatusCode {
    request.send().await.expect("request").status()
}

async fn dex(rig: &Rig) -> String {
    let r = rig.get("/api/audit.dex").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"].to_str().ok(),
        Some("text/plain; charset=us-ascii")
    );
    r.text().await.expect("text")
}

fn line<'a>(text: &'a str, start: &str) -> &'a str {
    text.split_terminator("\r\n")
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no {start} in\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_vend_answers_with_its_outcome_and_is_never_a_sale() {
    let rig = Rig::start(Some(common::rig::TOKEN)).await;
    let (code, body) = post(&rig, "/api/columns/2/test-vend").await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["outcome"], "delivered");
    assert_eq!(body["product"], "Orange soda");
    // The answer carries the column as it is once the test is over: one item fewer.
    assert_eq!(body["column"]["stock"], 5);
    let s = rig.json("/api/status").await;
    assert_eq!(s["columns"][1]["stock"], 5);
    assert_eq!(s["vending"], false);
    assert_eq!(s["ledger"]["spent"], 0, "a test vend is no sale");
    assert_eq!(s["credit"], 0);
    let books = rig.json("/api/books?period=today").await;
    assert_eq!(books["sales"]["count"], 0, "{books}");

    // While it cannot run, the reason; the column untouched.
    rig.sim("door/open").await;
    assert!(wait_for(async || rig.json("/api/status").await["door_open"] == true).await);
    let (code, body) = post(&rig, "/api/columns/1/test-vend").await;
    assert_eq!(code, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| e.contains("door")),
        "{body}"
    );
    assert_eq!(body["column"]["stock"], 6);
    rig.sim("door/close").await;
    assert!(wait_for(async || rig.json("/api/status").await["door_open"] == false).await);

    // A jammed column fails its test and goes out of service; the answer says so.
    let sim = rig.kiosk.sim.clone().expect("simulator");
    sim.inject(happiness_hardware::sim::Fault::Jam { column: 0 })
        .expect("jam");
    let (code, body) = post(&rig, "/api/columns/1/test-vend").await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["outcome"], "failed", "{body}");
    assert_eq!(body["column"]["status"]["status"], "faulted", "{body}");
    assert_eq!(body["column"]["stock"], 6);

    // Not a column, not an action, no token.
    let (code, _) = post(&rig, "/api/columns/9/test-vend").await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, body) = post(&rig, "/api/columns/2/test-vends").await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("test-vend")),
        "{body}"
    );
    let code = without_token(rig.http.post(rig.url("/api/columns/2/test-vend"))).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);

    let metrics = rig.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics.contains("happiness_test_vends_total{outcome=\"delivered\"} 1")
            && metrics.contains("happiness_test_vends_total{outcome=\"failed\"} 1")
            && !metrics.contains("happiness_paid_vends_total 1"),
        "{metrics}"
    );

    // The audit: the delivered test vend in VA2 and column 2's PA3; the failed one nowhere.
    let file = dex(&rig).await;
    assert_eq!(line(&file, "VA2*"), "VA2*150*1*150*1");
    assert_eq!(line(&file, "VA1*"), "VA1*0*0*0*0");
    assert!(file.contains("\r\nPA1*1*150*Cola*8***2*6*2\r\n"), "{file}");
    assert!(
        line(&file, "EA3*").contains("*api from 127.0.0.1*"),
        "{file}"
    );
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_is_read_and_reset_over_the_api_with_the_token() {
    let rig = Rig::start(Some(common::rig::TOKEN)).await;
    for request in [
        rig.http.get(rig.url("/api/audit.dex")),
        rig.http.post(rig.url("/api/audit/reset")),
    ] {
        assert_eq!(without_token(request).await, StatusCode::UNAUTHORIZED);
    }
    rig.sim("coin/200").await;
    assert!(wait_for(async || rig.json("/api/status").await["credit"] == 200).await);
    rig.sim("press/1").await;
    assert!(
        wait_for(async || {
            let s = rig.json("/api/status").await;
            s["ledger"]["spent"] == 150 && s["vending"] == false
        })
        .await
    );
    let first = dex(&rig).await;
    assert_eq!(line(&first, "VA1*"), "VA1*150*1*150*1");
    assert!(line(&first, "EA3*").starts_with("EA3*0*"), "{first}");
    let r = rig
        .authed(rig.http.post(rig.url("/api/audit/reset")))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .is_ok_and(|d| d.contains("HMK0000001.dex")));
    let reset = r.text().await.expect("text");
    assert_eq!(line(&reset, "VA1*"), "VA1*150*1*150*1");
    let after = dex(&rig).await;
    assert_eq!(line(&after, "VA1*"), "VA1*150*1*0*0");
    let ea3: Vec<&str> = line(&after, "EA3*").split('*').collect();
    assert_eq!((ea3[1], ea3[9], ea3[10]), ("1", "3", "1"), "{after}");
    rig.stop().await;
}
