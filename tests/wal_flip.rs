//! A flipped bit in the write-ahead log: SQLite drops every frame after one with a bad checksum,
//! so committed sales can vanish from books that still pass the integrity check and every seal.
//! The commit mark beside the books catches it: after four sales and a kill -9, one random bit is
//! flipped in `journal.db-wal`, and every flip either leaves the books exactly as they were or
//! makes `report` exit 5 naming how many record writes are missing; `audit` refuses the same way
//! and `run` will not sell.
//!
//! `HAPPINESS_WAL_FLIPS` sets the number of flips (40 by default; 200 for the measurement the
//! README quotes).

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn happiness() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_happiness"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

const BOOK_FILES: [&str; 3] = ["journal.db", "journal.db-wal", "journal.mark"];

/// Four paid sales, then SIGKILL once the fourth is delivered: the commits are still in the
/// write-ahead log (a clean stop would have checkpointed them into the main file). The script
/// ends the kiosk by itself if the sales never come, so the test fails instead of hanging.
fn books_killed_after_four_sales() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config");
    std::fs::create_dir(&config).expect("config dir");
    std::fs::write(config.join("machine.toml"), common::fast_machine()).expect("machine");
    let data = dir.path().join("data");
    let mut child = happiness()
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
        .arg(&config)
        .arg("--data")
        .arg(&data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(
            b"coin 200\npress 1\nwait 1500\ncoin 200\npress 2\nwait 1500\ncoin 200\npress 3\n\
              wait 1500\ncoin 200\npress 4\nwait 30000\nquit\n",
        )
        .expect("script");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut delivered = 0;
    for line in stdout.lines() {
        let line = line.expect("line");
        if line.contains("\"notice\":\"vend_delivered\"") {
            delivered += 1;
            if delivered == 4 {
                break;
            }
        }
    }
    assert_eq!(delivered, 4, "four sales");
    // The delivery is on the trace only after its step was committed.
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    drop(stdin);
    assert!(
        data.join("journal.db-wal")
            .metadata()
            .is_ok_and(|m| m.len() > 0),
        "the sales are in the write-ahead log"
    );
    dir
}

fn copy_books(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("dir");
    for f in BOOK_FILES {
        std::fs::copy(from.join(f), to.join(f)).expect("copy");
    }
}

/// `report --json` on the books in `data`, checked with the kiosk's seal key `key`.
fn report(data: &Path, key: &Path) -> (Option<i32>, serde_json::Value) {
    let out = happiness()
        .args(["report", "--json", "--data"])
        .arg(data)
        .arg("--key")
        .arg(key)
        .output()
        .expect("report");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), json)
}

fn wal_flips() -> u32 {
    std::env::var("HAPPINESS_WAL_FLIPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

#[test]
fn every_wal_flip_is_harmless_or_names_the_missing_records() {
    let made = books_killed_after_four_sales();
    let data = made.path().join("data");
    let pristine = made.path().join("pristine");
    copy_books(&data, &pristine);
    let key = made.path().join("config").join("seal.key");
    let (code, baseline) = report(&pristine, &key);
    assert_eq!(code, Some(0), "the books before any flip: {baseline}");
    assert_eq!(
        baseline["sales"]
            .as_array()
            .map(|s| s.iter().map(|p| p["count"].as_u64().unwrap_or(0)).sum()),
        Some(4u64),
        "{baseline}"
    );
    let wal = std::fs::read(pristine.join("journal.db-wal")).expect("wal");
    let mut rng = ChaCha8Rng::seed_from_u64(28);
    let flips = wal_flips();
    let (mut caught, mut harmless) = (0u32, 0u32);
    for i in 0..flips {
        let case = made.path().join(format!("flip-{i}"));
        copy_books(&pristine, &case);
        // After the log's own 32-byte header: a frame's header or its page.
        let byte = rng.random_range(32..wal.len());
        let bit = rng.random_range(0..8u8);
        let mut flipped = wal.clone();
        flipped[byte] ^= 1 << bit;
        std::fs::write(case.join("journal.db-wal"), &flipped).expect("flip");
        let (code, json) = report(&case, &key);
        match code {
            Some(0) => {
                assert_eq!(
                    json, baseline,
                    "flip {i} (byte {byte}, bit {bit}) changed the books unnoticed"
                );
                harmless += 1;
            }
            Some(5) => caught += 1,
            other => panic!("flip {i} (byte {byte}, bit {bit}): report exited {other:?}: {json}"),
        }
        let _ = std::fs::remove_dir_all(&case);
    }
    eprintln!("{flips} WAL flips: {caught} caught, {harmless} harmless");
    assert!(
        caught > flips / 2,
        "most flips lose commits: {caught} of {flips}"
    );
}

#[test]
fn a_short_log_stops_report_audit_and_run_with_exit_5() {
    let made = books_killed_after_four_sales();
    let data = made.path().join("data");
    // Cut the log in the middle of a frame's page: every frame from there on is gone, which is
    // what SQLite makes of a bad checksum there.
    let wal_path = data.join("journal.db-wal");
    let mut wal = std::fs::read(&wal_path).expect("wal");
    let middle = wal.len() / 2;
    wal[middle] ^= 0x10;
    std::fs::write(&wal_path, &wal).expect("flip");

    let config = made.path().join("config");
    let out = happiness()
        .args(["report", "--data"])
        .arg(&data)
        .arg("--config")
        .arg(&config)
        .output()
        .expect("report");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{text}");
    assert!(text.contains("record write(s) are missing"), "{text}");

    let out = happiness()
        .args(["audit", "--data"])
        .arg(&data)
        .arg("--config")
        .arg(&config)
        .output()
        .expect("audit");
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "no figures from short books");

    let out = happiness()
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
        .arg(made.path().join("config"))
        .arg("--data")
        .arg(&data)
        .stdin(Stdio::null())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("record write(s) are missing"), "{stderr}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("\"type\":\"selling\""),
        "never sold"
    );
}
