//! The fleet over a real Mosquitto broker: three simulated kiosks (real processes) report their
//! state and every record of their books, ride out a broker outage without losing one, answer
//! commands, and go offline by their last will when killed.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::fleet::{broker_available, KioskProc, Mosquitto, Watcher};
use happiness::config::{BrokerUrl, MachineId};
use happiness::fleet::client::Broker;
use serde_json::{json, Value};

const IDS: [&str; 3] = ["k1", "k2", "k3"];

fn events_topic(id: &str) -> String {
    format!("happiness/{id}/events")
}

fn state_topic(id: &str) -> String {
    format!("happiness/{id}/state")
}

/// Every event's `seq` came in order: each new one is the next, and any other is one already
/// seen (a copy sent again after a reconnect). Returns the last.
fn check_sequence(id: &str, events: &[Value]) -> u64 {
    let mut seen = BTreeSet::new();
    let mut last = 0;
    for e in events {
        let seq = e["seq"]
            .as_u64()
            .unwrap_or_else(|| panic!("{id}: no seq in {e}"));
        assert_eq!(e["machine"], id, "{e}");
        if seq > last {
            assert_eq!(seq, last + 1, "{id}: seq {seq} came after {last}: a gap");
            last = seq;
        } else {
            assert!(seen.contains(&seq), "{id}: seq {seq} out of order");
        }
        seen.insert(seq);
    }
    last
}

fn delivered_sales(events: &[Value]) -> usize {
    events
        .iter()
        .filter(|e| e["type"] == "vend_ended" && e["kind"] == "paid" && e["outcome"] == "delivered")
        .map(|e| e["id"].as_u64())
        .collect::<BTreeSet<_>>()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_kiosks_lose_nothing_to_a_broker_outage_and_a_killed_one_goes_offline() {
    if !broker_available() {
        return;
    }
    let mut broker = Mosquitto::start().await;
    let watcher = Watcher::start(broker.port, &["happiness/+/events", "happiness/+/state"]).await;
    let mut kiosks = Vec::new();
    for id in IDS {
        kiosks.push(KioskProc::start(id, &broker.url()).await);
    }
    // Two sales on each, seen on their events topics.
    for k in &kiosks {
        k.sell(1).await;
        k.sell(2).await;
    }
    watcher
        .wait_until(20, "two sales from each kiosk", |w| {
            IDS.iter()
                .all(|id| delivered_sales(&w.on(&events_topic(id))) == 2)
        })
        .await;

    // The broker goes away; the kiosks keep selling.
    broker.stop();
    for k in &kiosks {
        k.sell(3).await;
        k.sell(1).await;
        let s = k.status().await;
        assert_eq!(
            s["today"]["sales"], 4,
            "{}: selling without the broker",
            k.id
        );
    }
    broker.resume().await;
    watcher
        .wait_until(30, "every sale after the outage", |w| {
            IDS.iter()
                .all(|id| delivered_sales(&w.on(&events_topic(id))) == 4)
        })
        .await;
    // Nothing lost and nothing out of order, and every record the books made during the
    // outage arrived (coins, vends, surprises...), up to the last the kiosk had when the
    // outbox was empty again.
    for k in &kiosks {
        let state = wait_state(&watcher, &k.id, |s| {
            s["outbox"] == 0 && s["today"]["sales"] == 4
        })
        .await;
        let events = watcher.on(&events_topic(&k.id));
        let last = check_sequence(&k.id, &events);
        assert!(last >= 12, "{}: {last} records for 4 sales", k.id);
        let coins = events.iter().filter(|e| e["type"] == "coin").count();
        assert!(coins >= 4, "{}: {coins} coins", k.id);
        assert_eq!(state["online"], true);
    }

    // The retained state matches each kiosk's own status.
    for k in &kiosks {
        let status = k.status().await;
        let stock: Vec<Value> = (status["columns"].as_array().expect("columns").iter())
            .map(|c| c["stock"].clone())
            .collect();
        let state = wait_state(&watcher, &k.id, |s| {
            let shown: Vec<Value> = (s["columns"].as_array().into_iter().flatten())
                .map(|c| c["stock"].clone())
                .collect();
            shown == stock
        })
        .await;
        assert_eq!(state["credit"], status["credit"]);
        assert_eq!(state["today"]["sales"], status["today"]["sales"]);
        assert_eq!(
            state["today"]["sales_value"],
            status["today"]["sales_value"]
        );
        assert_eq!(state["surprise_version"], status["surprise_version"]);
        assert_eq!(state["paused"], status["surprises_paused"]);
        assert_eq!(state["display"], status["display"]);
    }
    // A fresh look at the broker's retained states gives the same table (the fleet view).
    let url = BrokerUrl::parse(&broker.url()).expect("url");
    let fleet = Broker {
        url,
        credentials: Default::default(),
    };
    let table = fleet
        .snapshot(Duration::from_millis(500))
        .await
        .expect("snapshot");
    let rows = table.rows();
    assert_eq!(rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), IDS);
    assert!(
        rows.iter().all(|r| r.online && r.sales_today == 4),
        "{rows:?}"
    );

    // Killed without a goodbye: its last will says it is gone.
    kiosks[2].kill();
    wait_state(&watcher, "k3", |s| s["online"] == false).await;
    // The others said goodbye themselves... once they stop; until then they are online.
    let states: BTreeMap<&str, Value> = IDS[..2]
        .iter()
        .map(|id| {
            (
                *id,
                watcher
                    .on(&state_topic(id))
                    .last()
                    .cloned()
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert!(states.values().all(|s| s["online"] == true), "{states:?}");
}

/// The newest state of `id` once it satisfies `check` (waiting up to 20 s).
async fn wait_state(watcher: &Watcher, id: &str, check: impl Fn(&Value) -> bool) -> Value {
    let topic = state_topic(id);
    watcher
        .wait_until(20, &format!("{id}'s state"), |w| {
            w.on(&topic).last().is_some_and(&check)
        })
        .await;
    watcher.on(&topic).last().cloned().unwrap_or_default()
}

fn operator(broker: &Mosquitto) -> Broker {
    Broker {
        url: BrokerUrl::parse(&broker.url()).expect("url"),
        credentials: Default::default(),
    }
}

async fn ask(fleet: &Broker, id: &str, action: &str, args: Value) -> Value {
    let id = MachineId::parse(id).expect("id");
    fleet
        .send(&id, action, &args, Duration::from_secs(15))
        .await
        .unwrap_or_else(|e| panic!("{action}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_round_trips_and_is_booked_as_the_fleets() {
    if !broker_available() {
        return;
    }
    let broker = Mosquitto::start().await;
    let watcher = Watcher::start(broker.port, &["happiness/+/events", "happiness/+/reply"]).await;
    let k1 = KioskProc::start("k1", &broker.url()).await;
    let k2 = KioskProc::start("k2", &broker.url()).await;
    let fleet = operator(&broker);

    let r = ask(&fleet, "k1", "status", json!({})).await;
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["result"]["machine"], k1.status().await["machine"]);

    let r = ask(&fleet, "k1", "disable", json!({"column": 2})).await;
    assert_eq!(r["result"]["status"]["status"], "disabled", "{r}");
    let s = k1.status().await;
    assert_eq!(s["columns"][1]["status"]["status"], "disabled");
    let r = ask(&fleet, "k1", "enable", json!({"column": 2})).await;
    assert_eq!(r["result"]["status"]["status"], "in_service", "{r}");

    let stock = k1.status().await["columns"][0]["stock"]
        .as_u64()
        .expect("stock");
    let r = ask(&fleet, "k1", "restock", json!({"column": 1, "count": 1})).await;
    assert_eq!(r["result"]["stock"].as_u64(), Some(stock + 1), "{r}");
    let r = ask(&fleet, "k1", "restock", json!({"column": 1, "count": 99})).await;
    assert_eq!(r["ok"], false);
    assert!(
        r["error"]
            .as_str()
            .is_some_and(|e| e.contains("count: 99 will not fit")),
        "{r}"
    );

    let r = ask(
        &fleet,
        "k1",
        "set_price",
        json!({"column": "1", "price_cents": 170}),
    )
    .await;
    assert_eq!(r["result"]["price"], 170, "{r}");
    assert_eq!(k1.status().await["columns"][0]["price"], 170);
    let r = ask(
        &fleet,
        "k1",
        "set_price",
        json!({"column": 1, "price_cents": -5}),
    )
    .await;
    assert_eq!(r["ok"], false, "{r}");
    assert!(
        r["error"].as_str().is_some_and(|e| e.contains("price")),
        "{r}"
    );

    let r = ask(&fleet, "k1", "pause", json!({})).await;
    assert_eq!(r["result"]["surprises_paused"], true, "{r}");
    assert_eq!(k1.status().await["surprises_paused"], true);
    let r = ask(&fleet, "k1", "resume", json!({})).await;
    assert_eq!(r["result"]["surprises_paused"], false, "{r}");

    // A new surprise config, then back.
    let shipped = std::fs::read_to_string(k1.config.path().join("surprises.toml")).expect("text");
    let before = k1.status().await["surprise_version"]
        .as_i64()
        .expect("version");
    let changed = shipped.replacen("probability = 0.2", "probability = 0.3", 1);
    assert_ne!(changed, shipped, "the shipped config has probability = 0.2");
    let r = ask(&fleet, "k1", "put_surprises", json!({"text": changed})).await;
    assert_eq!(r["result"]["changed"], true, "{r}");
    let version = r["result"]["version"].as_i64().expect("version");
    assert_eq!(k1.status().await["surprise_version"], version);
    let r = ask(&fleet, "k1", "rollback", json!({"version": before})).await;
    assert_eq!(r["ok"], true, "{r}");
    let r = ask(&fleet, "k1", "rollback", json!({"version": 999})).await;
    assert_eq!(r["ok"], false, "{r}");

    // A bad file is refused by every machine with the field named, and changes nothing.
    let bad = shipped.replacen("probability = 0.2", "probability = 7", 1);
    let ids = [
        MachineId::parse("k1").expect("id"),
        MachineId::parse("k2").expect("id"),
    ];
    let answers = fleet
        .send_many(
            &ids,
            "put_surprises",
            &json!({"text": bad}),
            Duration::from_secs(15),
        )
        .await
        .expect("push");
    for (id, answer) in &answers {
        let reply = answer.as_ref().expect("a reply");
        assert_eq!(reply["ok"], false, "{id}: {reply}");
        let error = reply["error"].as_str().unwrap_or_default();
        assert!(error.contains("policy.probability"), "{id}: {error}");
        assert_eq!(reply["issues"][0]["path"], "policy.probability", "{reply}");
    }
    assert_eq!(answers.len(), 2);
    let v2 = k2.status().await["surprise_version"].clone();

    // Malformed and unknown commands get an error reply and change nothing.
    for (body, want) in [
        ("not json", "not a command"),
        (r#"{"id": "x1", "action": "explode"}"#, "unknown action"),
        (
            r#"{"id": "x2", "action": "restock", "args": {"column": 9}}"#,
            "there is no column 9",
        ),
    ] {
        publish(&broker, "happiness/k1/cmd", body.as_bytes()).await;
        watcher
            .wait_until(10, want, |w| {
                w.on("happiness/k1/reply").iter().any(|r| {
                    r["ok"] == false && r["error"].as_str().is_some_and(|e| e.contains(want))
                })
            })
            .await;
    }

    // The same command twice (a redelivery, a retry) is carried out once and answered twice.
    let stock = k1.status().await["columns"][3]["stock"]
        .as_u64()
        .expect("stock");
    let once = br#"{"id": "same-1", "action": "restock", "args": {"column": 4, "count": 1}}"#;
    let answers = |w: &Watcher| {
        w.on("happiness/k1/reply")
            .iter()
            .filter(|r| r["id"] == "same-1")
            .count()
    };
    publish(&broker, "happiness/k1/cmd", once).await;
    watcher
        .wait_until(10, "the answer", |w| answers(w) == 1)
        .await;
    publish(&broker, "happiness/k1/cmd", once).await;
    watcher
        .wait_until(10, "two answers to one command", |w| answers(w) == 2)
        .await;
    let replies: Vec<Value> = (watcher.on("happiness/k1/reply").into_iter())
        .filter(|r| r["id"] == "same-1")
        .collect();
    assert_eq!(replies[0], replies[1]);
    assert_eq!(
        k1.status().await["columns"][3]["stock"].as_u64(),
        Some(stock + 1)
    );

    // A command on k2's topic is k2's alone: k1 does nothing, k2 answers.
    publish(
        &broker,
        "happiness/k2/cmd",
        br#"{"id": "for-k2", "action": "disable", "args": {"column": 3}}"#,
    )
    .await;
    watcher
        .wait_until(10, "k2's answer", |w| {
            w.on("happiness/k2/reply")
                .iter()
                .any(|r| r["id"] == "for-k2")
        })
        .await;
    assert_eq!(
        k2.status().await["columns"][2]["status"]["status"],
        "disabled"
    );
    assert_eq!(
        k1.status().await["columns"][2]["status"]["status"],
        "in_service"
    );
    assert!(watcher
        .on("happiness/k1/reply")
        .iter()
        .all(|r| r["id"] != "for-k2"));
    assert_eq!(k2.status().await["surprise_version"], v2);

    // The same from the command line: the table, one command, a push to all.
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_happiness"))
            .arg("fleet")
            .args(["--mqtt", &broker.url()])
            .args(args)
            .output()
            .expect("happiness fleet");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let (code, table) = cli(&["--json"]);
    assert_eq!(code, Some(0));
    let table: Value = serde_json::from_str(&table).expect("json table");
    let ids: Vec<&str> = (table["machines"].as_array().expect("machines").iter())
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(ids, ["k1", "k2"]);
    let (code, out) = cli(&["send", "k2", "enable", r#"{"column": 3}"#]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = cli(&["send", "k2", "enable", r#"{"column": 30}"#]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("there is no column 30"), "{out}");
    let bad_file = k1.config.path().join("bad-surprises.toml");
    std::fs::write(&bad_file, &bad).expect("bad file");
    let (code, out) = cli(&["push-surprises", bad_file.to_str().expect("path"), "--all"]);
    assert_eq!(code, Some(1), "{out}");
    for id in ["k1", "k2"] {
        assert!(
            out.lines()
                .any(|l| l.starts_with(&format!("{id}: refused: policy.probability"))),
            "{out}"
        );
    }
    let good_file = k1.config.path().join("good-surprises.toml");
    std::fs::write(&good_file, &changed).expect("good file");
    let (code, out) = cli(&[
        "push-surprises",
        good_file.to_str().expect("path"),
        "--to",
        "k1",
        "--to",
        "k2",
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.lines().all(|l| l.contains(": version ")), "{out}");
    assert_eq!(out.lines().count(), 2, "{out}");

    // The books say the fleet asked.
    watcher
        .wait_until(10, "the fleet's changes in k1's events", |w| {
            let events = w.on("happiness/k1/events");
            let by_fleet = |t: &str| {
                events.iter().any(|e| {
                    e["type"] == t
                        && (e["detail"].as_str().is_some_and(|d| d.contains("by fleet"))
                            || e["source"].as_str().is_some_and(|d| d.contains("fleet")))
                })
            };
            by_fleet("restock")
                && by_fleet("column_disabled")
                && by_fleet("column_reset")
                && by_fleet("config_version")
                && events
                    .iter()
                    .any(|e| e["type"] == "surprises_paused" && e["detail"] == "fleet")
        })
        .await;
}

/// Publish one command as an anonymous client.
async fn publish(broker: &Mosquitto, topic: &str, body: &[u8]) {
    assert!(common::fleet::publish(
        broker.port,
        topic,
        body,
        false,
        None
    ));
}

/// The shipped ACL, on a plain listener with passwords: a kiosk cannot publish another
/// kiosk's state or read its commands, and only the operator can send commands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_acl_keeps_each_kiosk_to_its_own_topics() {
    if !broker_available() {
        return;
    }
    let acl =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/mosquitto/happiness.acl");
    let mut broker = Mosquitto::configure(&format!(
        "allow_anonymous false\npassword_file {{dir}}/passwd\nacl_file {}\n",
        acl.display()
    ));
    let passwd = broker.dir().join("passwd");
    for (i, (user, password)) in [
        ("fleet-operator", "op-secret"),
        ("k1", "k1-secret"),
        ("k2", "k2-secret"),
    ]
    .iter()
    .enumerate()
    {
        let mut cmd = std::process::Command::new("mosquitto_passwd");
        if i == 0 {
            cmd.arg("-c");
        }
        let status = cmd
            .arg("-b")
            .arg(&passwd)
            .args([user, password])
            .status()
            .expect("mosquitto_passwd");
        assert!(status.success());
    }
    broker.resume().await;

    let op = Watcher::start_as(
        broker.port,
        "operator",
        Some(("fleet-operator", "op-secret")),
        &["happiness/+/state", "happiness/+/reply"],
    )
    .await;
    let k2_cmds = Watcher::start_as(
        broker.port,
        "k2-client",
        Some(("k2", "k2-secret")),
        &["happiness/k2/cmd"],
    )
    .await;
    let k1_snoop = Watcher::start_as(
        broker.port,
        "k1-client",
        Some(("k1", "k1-secret")),
        &["happiness/k2/cmd"],
    )
    .await;

    let publish_as = |user: &str, password: &str, topic: &str, body: &str| {
        common::fleet::publish(
            broker.port,
            topic,
            body.as_bytes(),
            false,
            Some((user, password)),
        )
    };
    // k1 may write its own state, not k2's (the broker drops it); its own arrives.
    publish_as(
        "k1",
        "k1-secret",
        "happiness/k2/state",
        r#"{"id": "k2", "online": true, "forged": true}"#,
    );
    publish_as(
        "k1",
        "k1-secret",
        "happiness/k1/state",
        r#"{"id": "k1", "online": true}"#,
    );
    op.wait_until(10, "k1's own state", |w| {
        !w.on("happiness/k1/state").is_empty()
    })
    .await;
    // A kiosk cannot send commands; the operator can, and only k2 reads k2's.
    publish_as(
        "k1",
        "k1-secret",
        "happiness/k2/cmd",
        r#"{"id": "from-k1", "action": "status"}"#,
    );
    publish_as(
        "fleet-operator",
        "op-secret",
        "happiness/k2/cmd",
        r#"{"id": "from-op", "action": "status"}"#,
    );
    k2_cmds
        .wait_until(10, "the operator's command", |w| {
            !w.on("happiness/k2/cmd").is_empty()
        })
        .await;
    // Messages on one topic arrive in order: by the operator's command, k1's came or never will.
    let got: Vec<Value> = k2_cmds.on("happiness/k2/cmd");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["id"], "from-op");
    assert!(
        op.on("happiness/k2/state").is_empty(),
        "k1 forged k2's state"
    );
    assert!(
        k1_snoop.on("happiness/k2/cmd").is_empty(),
        "k1 read k2's commands"
    );
}

/// A command published with the retain flag is carried out once, when it comes live; when the
/// broker hands it out again with a new subscription (here after a broker restart) it is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retained_command_is_not_carried_out_again_at_a_reconnect() {
    if !broker_available() {
        return;
    }
    let mut broker = Mosquitto::start().await;
    let watcher = Watcher::start(broker.port, &["happiness/k1/reply"]).await;
    let k1 = KioskProc::start("k1", &broker.url()).await;
    // The kiosk's link subscribes to its commands once it is up: its first state tells.
    let states = Watcher::start_as(broker.port, "states", None, &["happiness/k1/state"]).await;
    states
        .wait_until(10, "k1 online", |w| !w.on("happiness/k1/state").is_empty())
        .await;
    let stock = k1.status().await["columns"][0]["stock"]
        .as_u64()
        .expect("stock");
    let kept = br#"{"id": "kept", "action": "restock", "args": {"column": 1, "count": 1}}"#;
    assert!(common::fleet::publish(
        broker.port,
        "happiness/k1/cmd",
        kept,
        true,
        None
    ));
    let replies = |w: &Watcher| {
        w.on("happiness/k1/reply")
            .into_iter()
            .filter(|r| r["id"] == "kept")
            .collect::<Vec<_>>()
    };
    watcher
        .wait_until(10, "the live command's answer", |w| replies(w).len() == 1)
        .await;
    assert_eq!(replies(&watcher)[0]["ok"], true);
    broker.stop();
    broker.resume().await;
    // A QoS 1 redelivery of the first answer may reach the watcher again after the broker's
    // restart: wait for the refusal itself, not for a second message.
    let refused = |w: &Watcher| replies(w).into_iter().find(|r| r["ok"] == false);
    watcher
        .wait_until(30, "the retained copy refused", |w| refused(w).is_some())
        .await;
    let refusal = refused(&watcher).expect("waited for it");
    assert!(
        replies(&watcher)
            .iter()
            .all(|r| r["ok"] == false || r == &replies(&watcher)[0]),
        "the retained copy was carried out again: {:?}",
        replies(&watcher)
    );
    assert!(
        refusal["error"]
            .as_str()
            .is_some_and(|e| e.contains("retained")),
        "{refusal}"
    );
    assert_eq!(
        k1.status().await["columns"][0]["stock"].as_u64(),
        Some(stock + 1)
    );
}

/// Certificates for a broker on `localhost`, signed by a CA of the test's own (openssl).
fn certificates(dir: &std::path::Path) {
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=happiness test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "broker.key",
        "-out",
        "broker.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("ext");
    run(&[
        "x509",
        "-req",
        "-in",
        "broker.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "broker.crt",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
}

/// The fleet over TLS: a kiosk configured by `[fleet]` in machine.toml (broker `mqtts://`, its
/// CA file beside it) reports and answers; an operator without the CA is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_runs_over_tls_with_the_ca_from_machine_toml() {
    if !broker_available() {
        return;
    }
    let tls_port = common::browser::free_port();
    let mut broker = Mosquitto::configure(&format!(
        "allow_anonymous true\nlistener {tls_port} 127.0.0.1\ncafile {{dir}}/ca.crt\n\
         certfile {{dir}}/broker.crt\nkeyfile {{dir}}/broker.key\n"
    ));
    certificates(broker.dir());
    broker.resume().await;
    let watcher = Watcher::start(broker.port, &["happiness/+/state"]).await;
    let ca = std::fs::read(broker.dir().join("ca.crt")).expect("ca");
    let fleet = format!(
        "\n[fleet]\nbroker = \"mqtts://localhost:{tls_port}\"\nid = \"secure\"\nca_file = \"fleet-ca.pem\"\n"
    );
    let kiosk = KioskProc::start_with("secure", &[], &fleet, &[("fleet-ca.pem", &ca)]).await;
    watcher
        .wait_until(15, "the state over TLS", |w| {
            w.on("happiness/secure/state")
                .last()
                .is_some_and(|s| s["online"] == true)
        })
        .await;
    let url = BrokerUrl::parse(&format!("mqtts://localhost:{tls_port}")).expect("url");
    let files = happiness::fleet::mqtt::CredentialFiles {
        ca_file: Some(broker.dir().join("ca.crt")),
        ..Default::default()
    };
    let operator = Broker {
        credentials: files.load(&url, broker.dir()).expect("credentials"),
        url: url.clone(),
    };
    let r = ask(&operator, "secure", "status", json!({})).await;
    assert_eq!(
        r["result"]["machine"],
        kiosk.status().await["machine"],
        "{r}"
    );
    // Without the CA (the system's roots do not know it) the connection is refused; on a
    // machine with no system roots at all, the credentials themselves say to give a CA file.
    match happiness::fleet::mqtt::CredentialFiles::default().load(&url, broker.dir()) {
        Ok(credentials) => {
            let stranger = Broker { credentials, url };
            let e = stranger
                .snapshot(Duration::from_millis(200))
                .await
                .expect_err("an unknown CA");
            assert!(e.contains("UnknownIssuer"), "{e}");
        }
        Err(e) => assert!(e.to_string().contains("ca_file"), "{e}"),
    }
}

/// A command id is carried out once across a restart of the kiosk (a restock sent again with
/// the same id after a restart loads nothing more), and five copies of one id sent at once get
/// five identical replies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_id_is_carried_out_once_across_restarts() {
    if !broker_available() {
        return;
    }
    let broker = Mosquitto::start().await;
    let watcher = Watcher::start(broker.port, &["happiness/k1/reply"]).await;
    let mut k1 = KioskProc::start("k1", &broker.url()).await;
    let states = Watcher::start_as(broker.port, "states", None, &["happiness/k1/state"]).await;
    let online = |w: &Watcher| {
        w.on("happiness/k1/state")
            .last()
            .is_some_and(|s| s["online"] == true)
    };
    states.wait_until(10, "k1 online", online).await;
    // A column with room for three more: one restock of 1, one of 2, and none beyond.
    let columns = k1.status().await["columns"].clone();
    let (c, stock) = columns
        .as_array()
        .expect("columns")
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                i,
                c["stock"].as_u64().unwrap_or(0),
                c["capacity"].as_u64().unwrap_or(0),
            )
        })
        .find(|(_, stock, capacity)| capacity - stock >= 3)
        .map(|(i, stock, _)| (i, stock))
        .expect("a column with room for three");
    let number = c + 1;
    let replies = |w: &Watcher, id: &str| {
        w.on("happiness/k1/reply")
            .into_iter()
            .filter(|r| r["id"] == id)
            .collect::<Vec<_>>()
    };

    // Five copies at once: carried out once, answered five times alike.
    let five = format!(
        r#"{{"id": "five-1", "action": "restock", "args": {{"column": {number}, "count": 1}}}}"#
    );
    for _ in 0..5 {
        publish(&broker, "happiness/k1/cmd", five.as_bytes()).await;
    }
    watcher
        .wait_until(15, "five replies", |w| replies(w, "five-1").len() >= 5)
        .await;
    let got = replies(&watcher, "five-1");
    assert!(
        got.iter().all(|r| r == &got[0] && r["ok"] == true),
        "{got:?}"
    );
    let after_five = k1
        .wait_status("restocked once", |s| {
            s["columns"][c]["stock"].as_u64() == Some(stock + 1)
        })
        .await;
    assert_eq!(after_five["columns"][c]["stock"].as_u64(), Some(stock + 1));

    // The same id again after a restart: the reply it had, and no phantom item.
    let dup = format!(
        r#"{{"id": "dup-1", "action": "restock", "args": {{"column": {number}, "count": 2}}}}"#
    );
    publish(&broker, "happiness/k1/cmd", dup.as_bytes()).await;
    watcher
        .wait_until(10, "the first answer", |w| replies(w, "dup-1").len() == 1)
        .await;
    let first = replies(&watcher, "dup-1")[0].clone();
    assert_eq!(first["ok"], true, "{first}");
    k1.wait_status("restocked", |s| {
        s["columns"][c]["stock"].as_u64() == Some(stock + 3)
    })
    .await;
    k1.restart().await;
    states.wait_until(20, "k1 back online", online).await;
    publish(&broker, "happiness/k1/cmd", dup.as_bytes()).await;
    watcher
        .wait_until(20, "the answer after the restart", |w| {
            replies(w, "dup-1").len() >= 2
        })
        .await;
    let again = replies(&watcher, "dup-1");
    assert!(again.iter().all(|r| r == &first), "{again:?}");
    // A status command after it is answered only after the restock would have been applied.
    let status = br#"{"id": "after-dup", "action": "status"}"#;
    publish(&broker, "happiness/k1/cmd", status).await;
    watcher
        .wait_until(10, "the status", |w| !replies(w, "after-dup").is_empty())
        .await;
    assert_eq!(
        k1.status().await["columns"][c]["stock"].as_u64(),
        Some(stock + 3),
        "the restock was not carried out a second time"
    );
}

/// A 3 MB retained message on a machine's command topic and on another "machine's" state topic:
/// each is dropped unread (counted, logged), the kiosk's link stays connected and carries out
/// the next command, and the operator's tools still read every real machine's row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_messages_are_dropped_and_nothing_else_is_lost() {
    if !broker_available() {
        return;
    }
    let broker = Mosquitto::start().await;
    let k1 = KioskProc::start("k1", &broker.url()).await;
    let states = Watcher::start_as(broker.port, "states", None, &["happiness/k1/state"]).await;
    states
        .wait_until(10, "k1 online", |w| !w.on("happiness/k1/state").is_empty())
        .await;
    let huge = vec![b'{'; 3 << 20];
    assert!(common::fleet::publish(
        broker.port,
        "happiness/k1/cmd",
        &huge,
        true,
        None
    ));
    assert!(common::fleet::publish(
        broker.port,
        "happiness/junk/state",
        &huge,
        true,
        None
    ));
    // The kiosk counts the drop.
    let http = reqwest::Client::new();
    let dropped = async || {
        let r = http
            .get(format!("{}/metrics", k1.base))
            .bearer_auth(common::fleet::TOKEN)
            .send()
            .await;
        let text = match r {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        text.lines()
            .find_map(|l| l.strip_prefix("happiness_fleet_messages_dropped_total "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    assert!(common::rig::wait_for(async || dropped().await >= 1.0).await);

    // The connection stayed: a command after it is carried out and answered.
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_happiness"))
            .arg("fleet")
            .args(["--mqtt", &broker.url()])
            .args(args)
            .output()
            .expect("happiness fleet");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, out, err) = cli(&["send", "k1", "restock", r#"{"column": 1, "count": 1}"#]);
    assert_eq!(code, Some(0), "{out}{err}");
    // Still one drop: the link did not reconnect (a reconnect would read the retained copy again).
    assert_eq!(dropped().await, 1.0);

    // The table, as JSON and as text, has k1's row and exits 0.
    let (code, out, err) = cli(&["--json"]);
    assert_eq!(code, Some(0), "{err}");
    let table: Value = serde_json::from_str(&out).expect("json table");
    let ids: Vec<&str> = (table["machines"].as_array().expect("machines").iter())
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(ids, ["k1"], "{out}");
    assert!(err.contains("dropped a message of 3145728 bytes"), "{err}");
    let (code, out, _) = cli(&["--once"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("k1"), "{out}");

    // A push to all: k1 takes it.
    let file = k1.config.path().join("same-surprises.toml");
    std::fs::copy(k1.config.path().join("surprises.toml"), &file).expect("copy");
    let (code, out, err) = cli(&["push-surprises", file.to_str().expect("path"), "--all"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("k1: version"), "{out}");

    // A file too large for a command is refused before it is sent, naming the limit.
    let big = k1.config.path().join("big-surprises.toml");
    std::fs::write(&big, "# x\n".repeat(40_000)).expect("big file");
    let (code, out, err) = cli(&["push-surprises", big.to_str().expect("path"), "--all"]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(
        err.contains("too large to push") && err.contains("at most"),
        "{err}"
    );
    assert!(!out.contains("offline"), "{out}");

    // Sent anyway (another tool), the machine's refusal names the command it refuses.
    let replies = Watcher::start(broker.port, &["happiness/k1/reply"]).await;
    let text = "x".repeat(200_000);
    let large =
        serde_json::json!({"id": "big-1", "action": "put_surprises", "args": {"text": text}});
    assert!(common::fleet::publish(
        broker.port,
        "happiness/k1/cmd",
        &serde_json::to_vec(&large).expect("json"),
        false,
        None
    ));
    replies
        .wait_until(10, "the refusal of big-1", |w| {
            w.on("happiness/k1/reply")
                .iter()
                .any(|r| r["id"] == "big-1")
        })
        .await;
    let refusal = replies
        .on("happiness/k1/reply")
        .into_iter()
        .find(|r| r["id"] == "big-1")
        .expect("waited for it");
    assert_eq!(refusal["ok"], false);
    assert!(
        refusal["error"]
            .as_str()
            .is_some_and(|e| e.contains("at most")),
        "{refusal}"
    );
}
