//! The operator API over HTTP, against a kiosk on the simulator: authentication, validation,
//! concurrent edits, rollback, hot reload, the event stream and metrics.

mod common;

use common::rig::{wait_for, Rig, TOKEN};

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use happiness::metrics::Metrics;
use happiness::operator::{serve_with, ApiState, ServeLimits, ShareLimits};
use reqwest::StatusCode;

fn shipped_surprises() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/surprises.toml"))
        .expect("read")
}

fn with_probability(p: &str) -> String {
    shipped_surprises().replacen("probability = 0.2", &format!("probability = {p}"), 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_and_wrong_tokens_are_refused_and_repeated_failures_rate_limited() {
    let rig = Rig::start(Some(TOKEN)).await;
    let r = rig
        .http
        .get(rig.url("/api/config/surprises"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = r.json().await.expect("json");
    assert!(body["error"]
        .as_str()
        .unwrap_or("")
        .contains("missing token"));
    // Status is an operator read too once a token exists.
    let r = rig
        .http
        .get(rig.url("/api/status"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let mut codes = Vec::new();
    for _ in 0..7 {
        let r = rig
            .http
            .get(rig.url("/metrics"))
            .header("Authorization", "Bearer not-the-token-at-all")
            .send()
            .await
            .expect("request");
        codes.push(r.status());
    }
    assert!(codes.contains(&StatusCode::UNAUTHORIZED));
    assert_eq!(
        codes.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{codes:?}"
    );
    // The customer pages never need a token.
    let r = rig
        .http
        .get(rig.url("/kiosk"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::OK);
    rig.stop().await;
}

/// Nobody can lock the operator out: requests without a token do not count as failures, and
/// the right token gets in even from an address that has sent wrong ones (operators behind one
/// SSH tunnel share 127.0.0.1), clearing the count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_token_always_gets_in_and_no_token_is_not_a_failed_login() {
    let rig = Rig::start(Some(TOKEN)).await;
    let get = |token: Option<&str>| {
        let b = rig.http.get(rig.url("/api/status"));
        match token {
            Some(t) => b.header("Authorization", format!("Bearer {t}")),
            None => b,
        }
        .send()
    };
    for _ in 0..20 {
        assert_eq!(
            get(None).await.expect("request").status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        get(Some(TOKEN)).await.expect("request").status(),
        StatusCode::OK
    );
    let mut wrong = Vec::new();
    for _ in 0..8 {
        wrong.push(
            get(Some("a-guess-at-the-token-0000"))
                .await
                .expect("request")
                .status(),
        );
    }
    assert_eq!(
        wrong.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{wrong:?}"
    );
    assert_eq!(
        get(Some(TOKEN)).await.expect("request").status(),
        StatusCode::OK
    );
    // The success cleared the count: the next wrong token is a plain 401 again.
    assert_eq!(
        get(Some("a-guess-at-the-token-0000"))
            .await
            .expect("request")
            .status(),
        StatusCode::UNAUTHORIZED
    );
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_only_status_and_customer_pages_are_served() {
    let rig = Rig::start(None).await;
    let r = rig
        .http
        .get(rig.url("/api/status"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::OK);
    let r = rig
        .http
        .put(rig.url("/api/config/surprises"))
        .body("x")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = rig
        .http
        .post(rig.url("/api/columns/1/restock"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_oversized_and_invalid_bodies_get_clear_errors() {
    let rig = Rig::start(Some(TOKEN)).await;
    let r = rig.put_toml("[policy\nprobability = ").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = rig
        .authed(rig.http.put(rig.url("/api/config/surprises")))
        .header("Content-Type", "application/json")
        .body("{\"policy\": ")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = rig.put_toml(&"# padding\n".repeat(10_000)).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let r = rig.put_toml(&with_probability("1.5")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["issues"][0]["path"], "policy.probability");
    assert!(body["issues"][0]["message"]
        .as_str()
        .unwrap_or("")
        .contains("between 0 and 1"));
    // Nothing changed: the file and the config in force are the shipped ones.
    assert_eq!(
        std::fs::read_to_string(rig.config_path()).expect("read"),
        shipped_surprises()
    );
    let current = rig.json("/api/config/surprises").await;
    assert_eq!(current["text"], shipped_surprises());
    let status = rig.json("/api/status").await;
    assert!(status["last_config_error"]
        .as_str()
        .unwrap_or("")
        .contains("policy.probability"));
    // A JSON body is validated the same way and, when valid, accepted.
    let json_body = serde_json::json!({
        "policy": { "probability": 0.3, "cooldown_s": 10 },
        "surprises": [
            { "name": "Thanks", "kind": "message", "weight": 1, "cost_cents": 0, "message": "Thank you!" }
        ]
    });
    let r = rig
        .authed(rig.http.put(rig.url("/api/config/surprises")))
        .json(&json_body)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let written = std::fs::read_to_string(rig.config_path()).expect("read");
    assert!(written.contains("probability = 0.3"), "{written}");
    let r = rig
        .authed(rig.http.post(rig.url("/api/columns/9/restock")))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_apply_in_order_and_none_is_half_applied() {
    let rig = Arc::new(Rig::start(Some(TOKEN)).await);
    let mut tasks = Vec::new();
    for i in 1..=12 {
        let rig = Arc::clone(&rig);
        tasks.push(tokio::spawn(async move {
            let text = with_probability(&format!("0.{i:02}"));
            let r = rig.put_toml(&text).await;
            assert_eq!(r.status(), StatusCode::OK);
            let body: serde_json::Value = r.json().await.expect("json");
            (body["version"].as_i64().expect("version"), text)
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.expect("task"));
    }
    let (latest, latest_text) = results
        .iter()
        .max_by_key(|(v, _)| *v)
        .cloned()
        .expect("results");
    let current = rig.json("/api/config/surprises").await;
    assert_eq!(current["version"], latest);
    assert_eq!(
        current["text"], latest_text,
        "the later version wins, whole"
    );
    assert_eq!(
        std::fs::read_to_string(rig.config_path()).expect("read"),
        latest_text
    );
    let versions = rig.json("/api/config/surprises/versions").await;
    assert_eq!(versions["versions"].as_array().map(Vec::len), Some(13));
    match Arc::try_unwrap(rig) {
        Ok(rig) => rig.stop().await,
        Err(_) => panic!("rig still shared"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_restores_an_earlier_version() {
    let rig = Rig::start(Some(TOKEN)).await;
    let first = rig.json("/api/config/surprises").await["version"]
        .as_i64()
        .expect("version");
    let r = rig.put_toml(&with_probability("0.9")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = rig
        .authed(
            rig.http
                .post(rig.url(&format!("/api/config/surprises/rollback/{first}"))),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::OK);
    let current = rig.json("/api/config/surprises").await;
    assert_eq!(current["text"], shipped_surprises());
    let versions = rig.json("/api/config/surprises/versions").await;
    let newest = &versions["versions"][0];
    assert_eq!(
        newest["source"],
        format!("rollback to version {first} (api from 127.0.0.1)")
    );
    assert!(newest["diff"]
        .as_str()
        .unwrap_or("")
        .contains("-probability = 0.9"));
    let r = rig
        .authed(rig.http.post(rig.url("/api/config/surprises/rollback/999")))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_reload_applies_a_valid_file_and_keeps_serving_on_a_broken_one() {
    let rig = Rig::start(Some(TOKEN)).await;
    std::fs::write(rig.config_path(), with_probability("oops")).expect("write");
    assert!(
        wait_for(async || {
            rig.json("/api/status").await["last_config_error"]
                .as_str()
                .is_some_and(|e| e.contains("surprises.toml"))
        })
        .await,
        "a broken file is reported"
    );
    let current = rig.json("/api/config/surprises").await;
    assert_eq!(
        current["text"],
        shipped_surprises(),
        "the old config keeps serving"
    );
    let metrics = rig.get("/metrics").await.text().await.expect("text");
    assert!(
        metrics.contains("happiness_config_reload_errors_total 1"),
        "{metrics}"
    );

    std::fs::write(rig.config_path(), with_probability("0.7")).expect("write");
    assert!(
        wait_for(async || {
            rig.json("/api/config/surprises").await["text"]
                .as_str()
                .is_some_and(|t| t.contains("probability = 0.7"))
        })
        .await,
        "a valid file is put in force"
    );
    let status = rig.json("/api/status").await;
    assert!(status["last_config_error"].is_null());
    let versions = rig.json("/api/config/surprises/versions").await;
    assert_eq!(versions["versions"][0]["source"], "file");
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_actions_events_books_and_metrics() {
    let rig = Rig::start(Some(TOKEN)).await;
    // Follow the live event stream while things happen.
    let stream = rig.get("/api/events").await;
    assert_eq!(stream.status(), StatusCode::OK);
    let reader = tokio::spawn(async move {
        let mut stream = stream;
        let mut seen = String::new();
        while let Ok(Some(chunk)) = stream.chunk().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("column_disabled") {
                break;
            }
        }
        seen
    });
    for (path, code) in [
        ("/api/columns/2/disable", StatusCode::OK),
        ("/api/columns/4/restock", StatusCode::OK),
        ("/api/surprises/pause", StatusCode::OK),
        ("/api/columns/2/explode", StatusCode::NOT_FOUND),
    ] {
        let r = rig
            .authed(rig.http.post(rig.url(path)))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), code, "{path}");
    }
    let seen = tokio::time::timeout(Duration::from_secs(5), reader)
        .await
        .expect("events arrive")
        .expect("reader");
    assert!(seen.contains("event: trace"), "{seen}");
    let status = rig.json("/api/status").await;
    assert_eq!(status["columns"][1]["status"]["status"], "disabled");
    assert_eq!(status["columns"][3]["stock"], 12);
    assert_eq!(status["surprises_paused"], true);
    // No vend has finished: there is nothing to answer for.
    let r = rig
        .http
        .post(rig.url("/api/kiosk/feedback"))
        .json(&serde_json::json!({ "happy": true }))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = rig
        .http
        .post(rig.url("/api/kiosk/feedback"))
        .body("{not json")
        .header("Content-Type", "application/json")
        .send()
        .await
        .expect("request");
    assert!(r.status().is_client_error());
    let books = rig.json("/api/books").await;
    assert_eq!(books["money"]["balanced"], true);
    assert_eq!(books["feedback"][0], 0, "no vend, no answer recorded");

    let r = rig.get("/metrics").await;
    assert!(r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/openmetrics-text")));
    let text = r.text().await.expect("text");
    check_exposition(&text);
    assert!(text.contains("happiness_promise_kept_ratio"), "{text}");
    rig.stop().await;
}

/// Parses the OpenMetrics text format strictly enough to catch anything a Prometheus scraper
/// would reject: every line a comment (`# HELP`, `# TYPE`, `# EOF` last) or a sample
/// `name{label="value",...} number`, every sample of a declared family.
/// An action answers once the controller applied it, with what is now in force: a read right
/// after it never sees the old state; one the machine could not carry out is a 409 saying why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_answer_after_they_are_applied_with_the_state_in_force() {
    let rig = Rig::start(Some(TOKEN)).await;
    let post = |path: &str| rig.authed(rig.http.post(rig.url(path))).send();
    for _ in 0..20 {
        let r = post("/api/columns/3/disable").await.expect("disable");
        assert_eq!(r.status(), StatusCode::OK);
        let column: serde_json::Value = r.json().await.expect("json");
        assert_eq!(column["status"]["status"], "disabled", "{column}");
        let status = rig.json("/api/status").await;
        assert_eq!(status["columns"][2]["status"]["status"], "disabled");
        let r = post("/api/columns/3/enable").await.expect("enable");
        let column: serde_json::Value = r.json().await.expect("json");
        assert_eq!(column["status"]["status"], "in_service", "{column}");
        assert_eq!(
            rig.json("/api/status").await["columns"][2]["status"]["status"],
            "in_service"
        );
        let r = post("/api/surprises/pause").await.expect("pause");
        let body: serde_json::Value = r.json().await.expect("json");
        assert_eq!(body["surprises_paused"], true);
        assert_eq!(rig.json("/api/status").await["surprises_paused"], true);
        assert_eq!(
            rig.json("/api/status").await["surprises_held"],
            "paused by an operator"
        );
        let r = post("/api/surprises/resume").await.expect("resume");
        let body: serde_json::Value = r.json().await.expect("json");
        assert_eq!(body["surprises_paused"], false);
        assert_eq!(rig.json("/api/status").await["surprises_paused"], false);
        assert_eq!(
            rig.json("/api/status").await["surprises_held"],
            serde_json::Value::Null
        );
    }
    // A column in the middle of a (jammed, so long) vend is not touched: 409 with its state.
    let sim = rig.kiosk.sim.clone().expect("simulator");
    sim.inject(happiness_hardware::sim::Fault::Jam { column: 0 })
        .expect("jam");
    sim.insert_coin(5).expect("coin");
    assert!(wait_for(async || rig.json("/api/status").await["credit"] == 200).await);
    sim.press(1).expect("press");
    assert!(wait_for(async || rig.json("/api/status").await["vending"] == true).await);
    let r = post("/api/columns/1/disable").await.expect("disable");
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body: serde_json::Value = r.json().await.expect("json");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("column 1")),
        "{body}"
    );
    assert_ne!(body["column"]["status"]["status"], "disabled", "{body}");
    // Once the jam has taken column 1 out of service, the console says why no surprise comes.
    assert!(
        wait_for(async || {
            rig.json("/api/status").await["surprises_held"]
                == "column 1 is out of order: every surprise waits until it is reset"
        })
        .await
    );
    rig.stop().await;
}

/// A PUT is a whole config: a body without its surprises is refused rather than wiping them;
/// PATCH changes policy fields alone and keeps the file's surprises and comments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_put_is_refused_and_patch_changes_the_policy_alone() {
    let rig = Rig::start(Some(TOKEN)).await;
    let before = rig.json("/api/config/surprises").await;
    for (body, json) in [
        (r#"{"policy":{"probability":0.5}}"#, true),
        ("{}", true),
        ("", false),
        ("[policy]\nprobability = 0.5\n", false),
    ] {
        let r = rig
            .authed(rig.http.put(rig.url("/api/config/surprises")))
            .header(
                "Content-Type",
                if json {
                    "application/json"
                } else {
                    "application/toml"
                },
            )
            .body(body)
            .send()
            .await
            .expect("put");
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let answer: serde_json::Value = r.json().await.expect("json");
        assert_eq!(answer["issues"][0]["path"], "surprises", "{answer}");
    }
    assert_eq!(
        rig.json("/api/config/surprises").await,
        before,
        "nothing changed"
    );
    // None, said explicitly, is a config.
    let r = rig.put_toml("surprises = []\n").await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = rig.put_toml(&shipped_surprises()).await;
    assert_eq!(r.status(), StatusCode::OK);

    let patch = |body: &'static str, content: &'static str| {
        rig.authed(rig.http.patch(rig.url("/api/config/surprises/policy")))
            .header("Content-Type", content)
            .body(body)
            .send()
    };
    let r = patch(r#"{"probability": 0.5}"#, "application/json")
        .await
        .expect("patch");
    assert_eq!(r.status(), StatusCode::OK);
    let text = rig.json("/api/config/surprises").await["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(text.contains("probability = 0.5"), "{text}");
    let shipped = shipped_surprises();
    assert_eq!(
        text.matches("[[surprises]]").count(),
        shipped.matches("[[surprises]]").count(),
        "the surprises are kept"
    );
    let comment = shipped
        .lines()
        .find(|l| l.trim_start().starts_with('#'))
        .expect("the shipped file has comments");
    assert!(text.contains(comment), "comments are kept: {comment}");
    assert_eq!(
        std::fs::read_to_string(rig.config_path()).expect("file"),
        text
    );
    // A bad field is named; nothing changes.
    let r = patch("probability = 7\n", "application/toml")
        .await
        .expect("patch");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let answer: serde_json::Value = r.json().await.expect("json");
    assert_eq!(
        answer["issues"][0]["path"], "policy.probability",
        "{answer}"
    );
    let r = patch("[policy]\nodds = 0.5\n", "application/toml")
        .await
        .expect("patch");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let answer: serde_json::Value = r.json().await.expect("json");
    assert!(answer.to_string().contains("odds"), "{answer}");
    let r = patch("", "application/toml").await.expect("patch");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    rig.stop().await;
}

/// Pages on other sites cannot drive the kiosk: a `Host` that is not this machine is refused
/// (DNS rebinding), a change from another origin is refused, feedback is one answer per vend,
/// and every answer carries the security headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_sites_cannot_drive_the_kiosk_and_answers_carry_security_headers() {
    let rig = Rig::start(Some(TOKEN)).await;
    let port = rig.base.rsplit(':').next().unwrap_or_default().to_string();
    // A name pointed at the kiosk by someone else's DNS.
    let r = rig
        .http
        .get(rig.url("/api/kiosk/state"))
        .header("Host", format!("attacker.example:{port}"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::MISDIRECTED_REQUEST);
    // Refusals carry the security headers too.
    for name in [
        "content-security-policy",
        "x-frame-options",
        "x-content-type-options",
    ] {
        assert!(r.headers().contains_key(name), "421 without {name}");
    }
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let r = rig
            .http
            .get(rig.url("/api/kiosk/state"))
            .header("Host", host.clone())
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), StatusCode::OK, "{host}");
    }
    // A page elsewhere posting to the simulator: refused, and no credit appears.
    for path in [
        "/api/sim/coin/200",
        "/api/sim/door/open",
        "/api/kiosk/feedback",
    ] {
        let r = rig
            .http
            .post(rig.url(path))
            .header("Origin", "http://attacker.example")
            .json(&serde_json::json!({ "happy": true }))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(
            r.headers().contains_key("content-security-policy"),
            "403 without the security headers"
        );
    }
    assert_eq!(rig.json("/api/status").await["credit"], 0);
    assert_eq!(rig.json("/api/status").await["door_open"], false);
    // The kiosk's own page (same origin) may.
    let own = rig.base.clone();
    let r = rig
        .http
        .post(rig.url("/api/sim/coin/200"))
        .header("Origin", own.clone())
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(wait_for(async || rig.json("/api/status").await["credit"] == 200).await);
    let r = rig
        .http
        .post(rig.url("/api/sim/press/1"))
        .header("Origin", own.clone())
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(wait_for(async || rig.json("/api/status").await["feedback_open"] == true).await);
    let tap = || {
        rig.http
            .post(rig.url("/api/kiosk/feedback"))
            .header("Origin", own.clone())
            .json(&serde_json::json!({ "happy": true }))
            .send()
    };
    assert_eq!(tap().await.expect("tap").status(), StatusCode::NO_CONTENT);
    for _ in 0..50 {
        assert_eq!(tap().await.expect("tap").status(), StatusCode::CONFLICT);
    }
    let books = rig.json("/api/books").await;
    assert_eq!(
        books["feedback"],
        serde_json::json!([1, 0]),
        "one answer for one vend"
    );
    // Headers on pages and data.
    let r = rig.http.get(rig.url("/kiosk")).send().await.expect("page");
    let csp = r
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let r = rig
        .http
        .get(rig.url("/api/status"))
        .send()
        .await
        .expect("status");
    assert_eq!(r.headers()["cache-control"], "no-store");
    rig.stop().await;
}

/// A server of the console for `rig`'s kiosk with these limits; the sender stops it.
async fn limited_server(
    rig: &Rig,
    limits: ServeLimits,
) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let events = tokio::sync::broadcast::channel(4).0;
    let state = ApiState::new(
        &rig.kiosk,
        events,
        Arc::new(Metrics::new()),
        None,
        Default::default(),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve_with(listener, state, limits, async move {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// Reads until the server closes the connection; what it sent on the way.
async fn read_to_close(stream: &mut tokio::net::TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt as _;
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return seen,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// Idle and slow-drip connections are closed by the header timeout, and past the cap a new
/// connection is closed at once, so that sockets cannot pile up until requests hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slow_connections_are_closed_and_connections_are_capped() {
    use tokio::io::AsyncWriteExt as _;
    let rig = Rig::start(None).await;
    let quick = ServeLimits {
        shares: ShareLimits {
            home: 16,
            ..ShareLimits::default()
        },
        header_read: Duration::from_millis(300),
        drain: Duration::from_millis(100),
    };
    let (addr, stop) = limited_server(&rig, quick).await;
    let mut idle = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let closed = tokio::time::timeout(Duration::from_secs(10), read_to_close(&mut idle)).await;
    assert!(closed.is_ok(), "an idle connection stays open");
    let mut slow = tokio::net::TcpStream::connect(addr).await.expect("connect");
    slow.write_all(b"GET /api/kiosk/state HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .expect("write");
    let (mut reader, mut writer) = slow.into_split();
    let drip = tokio::spawn(async move {
        // One header byte every 50 ms: a whole head would take minutes.
        for _ in 0..2_000 {
            if writer.write_all(b"X").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let seen = tokio::time::timeout(Duration::from_secs(10), async {
        use tokio::io::AsyncReadExt as _;
        let mut seen = Vec::new();
        let mut buf = [0u8; 256];
        while let Ok(n @ 1..) = reader.read(&mut buf).await {
            seen.extend_from_slice(&buf[..n]);
        }
        seen
    })
    .await
    .expect("a slow-drip connection stays open");
    assert!(!String::from_utf8_lossy(&seen).contains("200 OK"));
    drip.abort();
    let _ = stop.send(());

    // The cap: two connections held open, both waiting for a request (one new, one kept alive
    // after an answer): a third closes the longest-waiting one and is served.
    let capped = ServeLimits {
        shares: ShareLimits {
            home: 2,
            ..ShareLimits::default()
        },
        header_read: Duration::from_secs(60),
        drain: Duration::from_millis(100),
    };
    let (addr, stop) = limited_server(&rig, capped).await;
    let mut held_a = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut held_b = tokio::net::TcpStream::connect(addr).await.expect("connect");
    held_b
        .write_all(b"GET /api/kiosk/state HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write");
    let url = format!("http://{addr}/api/kiosk/state");
    let client = reqwest::Client::new();
    let served = client.get(&url).send().await.expect("a third is served");
    assert_eq!(served.status(), StatusCode::OK);
    let pushed_out =
        tokio::time::timeout(Duration::from_secs(10), read_to_close(&mut held_a)).await;
    assert!(
        pushed_out.is_ok_and(|seen| seen.is_empty()),
        "the oldest waiting one is closed"
    );
    let _ = stop.send(());
    drop(held_b);

    // Both places busy (live streams): a third is closed at once, long before any timer, and
    // served again once one of them goes.
    let (addr, stop) = limited_server(&rig, capped).await;
    let stream = async || {
        let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET /api/kiosk/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .expect("write");
        let mut first = [0u8; 12];
        use tokio::io::AsyncReadExt as _;
        s.read_exact(&mut first).await.expect("an answer");
        assert_eq!(&first, b"HTTP/1.1 200");
        s
    };
    let held_a = stream().await;
    let held_b = stream().await;
    let mut third = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let refused = tokio::time::timeout(Duration::from_secs(10), read_to_close(&mut third)).await;
    assert!(refused.is_ok_and(|seen| seen.is_empty()), "past the cap");
    drop(held_a);
    let url = format!("http://{addr}/api/kiosk/state");
    assert!(
        wait_for(async || client
            .get(&url)
            .send()
            .await
            .is_ok_and(|r| r.status() == StatusCode::OK))
        .await
    );
    let _ = stop.send(());
    drop(held_b);
    rig.stop().await;
}

fn check_exposition(text: &str) {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "ends with # EOF");
    let mut families = std::collections::HashSet::new();
    for line in &lines[..lines.len() - 1] {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let name = parts.next().expect("name");
            let kind = parts.next().expect("kind");
            assert!(
                ["counter", "gauge", "histogram", "info", "unknown"].contains(&kind),
                "{line}"
            );
            families.insert(name.to_string());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(!line.starts_with('#'), "unexpected comment {line}");
        let (series, value) = line.rsplit_once(' ').expect("sample has a value");
        assert!(value.parse::<f64>().is_ok(), "value in {line}");
        let name = series.split('{').next().expect("name");
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "{line}"
        );
        if let Some(labels) = series.strip_prefix(name) {
            if !labels.is_empty() {
                assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
                for pair in labels[1..labels.len() - 1].split(',') {
                    let (k, v) = pair.split_once('=').expect("label pair");
                    assert!(
                        !k.is_empty() && v.starts_with('"') && v.ends_with('"'),
                        "{line}"
                    );
                }
            }
        }
        let family = name.strip_suffix("_total").unwrap_or(name);
        assert!(
            families.contains(family) || families.contains(name),
            "sample of an undeclared family: {line}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_virtual_front_sells_a_drink_over_http() {
    let rig = Rig::start(None).await;
    let post = |p: &str| rig.http.post(rig.url(p)).send();
    assert_eq!(
        post("/api/sim/coin/200").await.expect("coin").status(),
        StatusCode::NO_CONTENT
    );
    assert!(wait_for(async || rig.json("/api/status").await["credit"] == 200).await);
    assert_eq!(
        post("/api/sim/press/1").await.expect("press").status(),
        StatusCode::NO_CONTENT
    );
    assert!(
        wait_for(async || {
            let s: serde_json::Value = rig
                .http
                .get(rig.url("/api/kiosk/state"))
                .send()
                .await
                .expect("state")
                .json()
                .await
                .expect("json");
            s["tray"].as_array().is_some_and(|t| !t.is_empty())
        })
        .await,
        "the Cola reaches the tray"
    );
    assert_eq!(
        post("/api/sim/coin/150").await.expect("coin").status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        post("/api/sim/press/x").await.expect("press").status(),
        StatusCode::BAD_REQUEST
    );
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kiosk_page_speaks_the_customers_language_and_sells_from_its_own_buttons() {
    let rig = Rig::start(None).await;
    let strings = rig.json("/api/kiosk/strings?lang=fr").await;
    assert_eq!(strings["lang"], "fr");
    assert_eq!(strings["default"], "en");
    assert_eq!(strings["strings"]["page-coin-return"], "Rendre la monnaie");
    let codes: Vec<&str> = strings["languages"]
        .as_array()
        .expect("languages")
        .iter()
        .filter_map(|l| l["code"].as_str())
        .collect();
    assert_eq!(codes, ["en", "de", "fr", "ja"]);
    // A language the kiosk does not speak, or nonsense: the machine's own.
    for query in ["?lang=xx", "?lang=", "?lang=%F0%9F%98%80", "?other=1"] {
        let s = rig.json(&format!("/api/kiosk/state{query}")).await;
        assert_eq!(s["lang"], "en", "{query}");
        assert_eq!(s["display"], "Insert coins, then choose", "{query}");
    }
    let state = rig.json("/api/kiosk/state?lang=de").await;
    assert_eq!(state["display"], "Münzen einwerfen, dann wählen");
    assert_eq!(state["selections"][0]["price_text"], "1,50\u{a0}€");
    assert_eq!(state["selections"][0]["label"], "Cola wählen, 1,50\u{a0}€");
    assert_eq!(state["coins"][4]["label"], "2,00\u{a0}€ einwerfen");

    // The page's own selection and coin-return buttons.
    let post = |p: &str| rig.http.post(rig.url(p)).send();
    for (path, code) in [
        ("/api/kiosk/select/0", StatusCode::UNPROCESSABLE_ENTITY),
        ("/api/kiosk/select/99", StatusCode::UNPROCESSABLE_ENTITY),
        ("/api/kiosk/select/-1", StatusCode::BAD_REQUEST),
        ("/api/kiosk/select/%00", StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(post(path).await.expect("select").status(), code, "{path}");
    }
    post("/api/sim/coin/200").await.expect("coin");
    assert!(wait_for(async || rig.json("/api/status").await["credit"] == 200).await);
    assert_eq!(
        post("/api/kiosk/select/3").await.expect("select").status(),
        StatusCode::NO_CONTENT
    );
    assert!(
        wait_for(async || {
            let s = rig.json("/api/status").await;
            s["credit"] == 100 && s["feedback_open"] == true
        })
        .await,
        "the water is paid for and delivered"
    );
    assert_eq!(
        post("/api/kiosk/coin-return")
            .await
            .expect("return")
            .status(),
        StatusCode::NO_CONTENT
    );
    assert!(
        wait_for(async || rig.json("/api/status").await["credit"] == 0).await,
        "the change paid out"
    );
    let state = rig.json("/api/kiosk/state").await;
    assert_eq!(state["feedback_vend"], 1);
    rig.stop().await;
}
