//! Every way out goes through the safe stop: a panic on any thread of the kiosk's process stops
//! the machine (motors off, acceptor inhibited, out of service) before it unwinds, and a reader
//! of the event stream that goes away mid-vend changes nothing (the vend ends, the books
//! balance, the kiosk exits 0 when told to).

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{config_with, Harness};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_on_any_thread_stops_the_machine_safely_mid_vend() {
    let machine = config_with(&[("payment = \"coin\"", "payment = \"free\"")]);
    let mut h = Harness::start(machine, 7);
    h.kiosk.opened().await;
    h.kiosk.stop_on_any_panic();
    let sim = h.kiosk.sim.clone().expect("simulator");
    h.run("press 1").await;
    // The motor turns for hundreds of milliseconds: wait until it is seen on.
    let mut status = h.kiosk.status.clone();
    status
        .wait_for(|_| !sim.motors_on().is_empty())
        .await
        .expect("status");
    assert!(!sim.motors_on().is_empty(), "the vend's motor is on");
    let helper = std::thread::spawn(|| panic!("a helper thread fails"));
    assert!(helper.join().is_err());
    // The hook stopped the machine before the panic unwound.
    assert!(sim.motors_on().is_empty(), "every motor off");
    assert!(sim.inhibited(), "the acceptor inhibited");
    tokio::time::timeout(Duration::from_secs(10), h.kiosk.finished())
        .await
        .expect("the kiosk ends after a panic");
    let s = h.kiosk.status();
    assert!(
        s.out_of_service
            .as_deref()
            .is_some_and(|w| w.contains("a helper thread fails")),
        "out of service, naming the panic: {:?}",
        s.out_of_service
    );
}

#[test]
fn a_reader_that_goes_away_mid_vend_stops_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("machine.toml"), common::fast_machine()).expect("machine");
    let data = dir.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_happiness"))
        .args([
            "run",
            "--hardware",
            "sim",
            "--events",
            "json",
            "--listen",
            "off",
        ])
        .arg("--config")
        .arg(dir.path())
        .arg("--data")
        .arg(&data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"coin 200\npress 1\n").expect("script");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            stdout.read_line(&mut line).expect("read") > 0,
            "the motor never started"
        );
        if line.contains("\"command\":\"motor\"") && line.contains("\"on\":true") {
            break;
        }
    }
    // The reader exits the moment the motor switches on.
    drop(stdout);
    // Everything the kiosk prints from now on meets a closed pipe: the status lines, the trace.
    stdin
        .write_all(b"wait 2000\nstatus\nhelp\nstatus\nquit\n")
        .expect("rest of the script");
    drop(stdin);
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let report = Command::new(env!("CARGO_BIN_EXE_happiness"))
        .args(["report", "--json", "--data"])
        .arg(&data)
        .arg("--config")
        .arg(dir.path())
        .output()
        .expect("report");
    assert_eq!(report.status.code(), Some(0));
    let r: serde_json::Value = serde_json::from_slice(&report.stdout).expect("json");
    assert_eq!(r["open_vends"], 0, "the vend was closed: {r}");
    assert_eq!(r["sales"][0]["count"], 1, "and delivered: {r}");
}
