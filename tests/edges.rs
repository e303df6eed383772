//! The real binary at the edges of its world: a second kiosk on the same books, an empty or
//! missing journal, a full disk (a tiny tmpfs) during a vend and at start, a read-only mount, and
//! the report's exit codes.
//!
//! The disk tests mount a tmpfs, which needs root (as in CI). Elsewhere they are skipped with a
//! message, except under CI, where not being able to mount is a failure.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The seal key the kiosks of a test make for its books: beside the data directory, in the test's
/// own temporary directory (never in the shipped config directory, which other tests read).
fn key_for(data: &Path) -> std::path::PathBuf {
    data.with_file_name("seal.key")
}

fn happiness() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_happiness"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// A kiosk process whose JSON trace lines are read as they come.
struct Kiosk {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<serde_json::Value>,
    seen: Vec<serde_json::Value>,
}

impl Kiosk {
    fn start(data: &Path, extra: &[&str]) -> Kiosk {
        // No web server unless the test asks for one.
        let listen: &[&str] = if extra.contains(&"--listen") {
            &[]
        } else {
            &["--listen", "off"]
        };
        let mut child = happiness()
            .args(["run", "--hardware", "sim", "--events", "json"])
            .args(listen)
            .args(["--seed", "11"])
            .arg("--data")
            .arg(data)
            .arg("--key")
            .arg(key_for(data))
            .args(extra)
            .env("HAPPINESS_TOKEN", TOKEN)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn happiness");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str(&line) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            }
        });
        let stdin = child.stdin.take();
        Kiosk {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    fn send(&mut self, script: &str) {
        self.stdin
            .as_mut()
            .expect("stdin open")
            .write_all(script.as_bytes())
            .expect("write script");
    }

    /// Wait for a trace line matching `pred` (everything read on the way is kept).
    fn wait_for(&mut self, what: &str, pred: impl Fn(&serde_json::Value) -> bool) {
        if self.seen.iter().any(&pred) {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) => {
                    let hit = pred(&v);
                    self.seen.push(v);
                    if hit {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!("no {what} within 30 s: {:?}", self.seen),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the kiosk ended before {what}: {:?}", self.seen)
                }
            }
        }
    }

    /// Close stdin and wait for the exit; returns (exit code, stderr).
    fn finish(mut self) -> (Option<i32>, String, Vec<serde_json::Value>) {
        drop(self.stdin.take());
        let status = self.child.wait().expect("wait");
        let mut stderr = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
        }
        while let Ok(v) = self.lines.recv() {
            self.seen.push(v);
        }
        (status.code(), stderr, self.seen)
    }
}

fn is_selling(v: &serde_json::Value) -> bool {
    v["type"] == "selling"
}

fn notice(name: &'static str) -> impl Fn(&serde_json::Value) -> bool {
    move |v| v["command"]["notice"] == name
}

/// A kiosk that is expected not to start: its exit code and what it said.
fn run_refused(data: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let out = happiness()
        .args(["run", "--hardware", "sim", "--listen", "off"])
        .args(extra)
        .arg("--data")
        .arg(data)
        .arg("--key")
        .arg(key_for(data))
        .stdin(Stdio::null())
        .output()
        .expect("run");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn report(data: &Path, json: bool) -> (Option<i32>, String) {
    let mut cmd = happiness();
    cmd.arg("report").arg("--data").arg(data);
    if key_for(data).exists() {
        cmd.arg("--key").arg(key_for(data));
    }
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().expect("report");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

fn report_json(data: &Path) -> serde_json::Value {
    let (code, text) = report(data, true);
    assert_eq!(code, Some(0), "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Books with one paid vend, the kiosk stopped cleanly.
fn books_with_a_sale(data: &Path, extra: &[&str]) {
    let mut k = Kiosk::start(data, extra);
    k.wait_for("selling", is_selling);
    k.send("coin 200\npress 1\nwait 2500\nquit\n");
    let (code, stderr, _) = k.finish();
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn a_second_kiosk_on_the_same_books_is_refused_naming_the_first_and_report_still_reads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut first = Kiosk::start(&data, &[]);
    first.wait_for("selling", is_selling);
    first.send("coin 200\n");
    first.wait_for("the coin", notice("credit_in"));
    let second = happiness()
        .args([
            "run",
            "--hardware",
            "sim",
            "--listen",
            "off",
            "--events",
            "none",
        ])
        .arg("--data")
        .arg(&data)
        .arg("--key")
        .arg(key_for(&data))
        .stdin(Stdio::null())
        .output()
        .expect("second kiosk");
    assert_ne!(
        second.status.code(),
        Some(0),
        "the second kiosk must not run"
    );
    let stderr = String::from_utf8_lossy(&second.stderr);
    let expected = format!(
        "is in use by another happiness process (pid {})",
        first.child.id()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    // The books beside a running kiosk stay readable.
    let books = report_json(&data);
    assert_eq!(books["money"]["inserted"], 200);
    assert_eq!(books["money"]["balanced"], true);
    first.send("quit\n");
    let (code, stderr, _) = first.finish();
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn an_empty_or_missing_journal_in_a_used_directory_is_refused_unless_new_books_is_given() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    books_with_a_sale(&data, &[]);
    let journal = data.join("journal.db");

    std::fs::write(&journal, b"").expect("truncate");
    for args in [vec!["run"], vec!["report"]] {
        let out = happiness()
            .args(&args)
            .args(
                ["--hardware", "sim", "--listen", "off"]
                    .iter()
                    .filter(|_| args[0] == "run"),
            )
            .arg("--data")
            .arg(&data)
            .arg("--key")
            .arg(key_for(&data))
            .stdin(Stdio::null())
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        // `run` says the books need an operator (no restart helps); `report` finds no books.
        let expected = if args[0] == "run" { 5 } else { 2 };
        assert_eq!(out.status.code(), Some(expected), "{args:?}: {stderr}");
        assert!(stderr.contains("is empty"), "{args:?}: {stderr}");
        assert!(!stderr.contains("move it aside"), "{stderr}");
    }
    let mut k = Kiosk::start(&data, &["--new-books"]);
    k.wait_for("selling", is_selling);
    let (code, stderr, _) = k.finish();
    assert_eq!(code, Some(0), "{stderr}");
    let kept: Vec<String> = std::fs::read_dir(&data)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("journal.db.empty-"))
        .collect();
    assert_eq!(kept.len(), 1, "the empty file is kept aside");

    std::fs::remove_file(&journal).expect("remove the books");
    let (code, stderr) = run_refused(&data, &[]);
    assert_eq!(code, Some(5), "{stderr}");
    assert!(stderr.contains("no journal"), "{stderr}");
    assert!(stderr.contains("--new-books"), "{stderr}");
    assert!(!journal.exists(), "no new books were started");
    let mut k = Kiosk::start(&data, &["--new-books"]);
    k.wait_for("selling", is_selling);
    let (code, _, _) = k.finish();
    assert_eq!(code, Some(0));
    assert!(journal.exists());
}

#[test]
fn report_exits_the_same_in_json_and_text_when_the_books_do_not_balance() {
    use happiness::journal::Journal;
    use happiness::localtime::LocalTime;
    use happiness::money::Cents;
    use happiness::vend::Notice;
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let machine = happiness::config::MachineConfig::load_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("config"),
        )
        .expect("machine");
        let mut j = Journal::open_dir(dir.path()).expect("journal");
        let t = LocalTime::from_ymd_hm(2026, 3, 2, 12, 0).expect("date");
        j.recover(&machine, t, 168).expect("recover");
        // A controller bug that books a coin but records the wrong credit.
        let coin = Notice::CreditIn {
            amount: Cents::new(100),
            credit: Cents::new(100),
        };
        j.record(t, &[&coin], Cents::new(70)).expect("record");
    }
    let (text_code, text) = report(dir.path(), false);
    let (json_code, json) = report(dir.path(), true);
    assert_eq!(text_code, Some(4), "{text}");
    assert_eq!(json_code, Some(4), "{json}");
    assert!(text.contains("MISMATCH"), "{text}");
}

/// A tmpfs mounted on a temporary directory, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` when this machine does not let us mount (not root): the test is skipped, except
    /// under CI.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("tempdir");
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI runs as root and must be able to mount a tmpfs"
            );
            eprintln!("skipping: cannot mount a tmpfs here (not root)");
            return None;
        }
        Some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fill the disk: a new file grows until the file system says it is full.
    fn fill(&self, name: &str) -> PathBuf {
        let path = self.path().join(name);
        let mut f = std::fs::File::create(&path).expect("filler");
        let block = vec![0xaa_u8; 64 << 10];
        loop {
            match f.write_all(&block) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(28) => break,
                Err(e) => panic!("filling the disk: {e}"),
            }
        }
        // Bytes smaller than a block may still fit; take them too.
        let small = [0u8; 512];
        while f.write_all(&small).is_ok() {}
        let _ = f.sync_all();
        path
    }

    fn remount(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(self.path())
            .status()
            .expect("mount");
        assert!(status.success(), "remount {options}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

const SMALL_DISK: &[&str] = &["--min-free", "2MiB", "--reserve", "1MiB"];

const TOKEN: &str = "edges-test-operator-token";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A plain HTTP/1.1 GET with the operator token; returns the body.
fn http_get(port: u16, path: &str) -> String {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\
         Connection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default()
}

#[test]
fn a_disk_that_fills_during_a_vend_still_records_the_delivery_and_takes_no_more_money() {
    let Some(disk) = Tmpfs::mount("32m") else {
        return;
    };
    let data = disk.path().join("data");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut args = SMALL_DISK.to_vec();
    args.extend(["--listen", listen.as_str()]);
    let mut k = Kiosk::start(&data, &args);
    k.wait_for("selling", is_selling);
    k.wait_for("ready", |v| v["type"] == "ready");
    k.send("coin 200\npress 1\n");
    k.wait_for("the vend's intent", notice("vend_started"));
    // The motor turns; the disk fills up before the item reaches the beam.
    let filler = disk.fill("filler");
    k.wait_for("the delivery", notice("vend_delivered"));
    k.wait_for("storage full", |v| {
        v["command"]["notice"] == "storage" && v["command"]["full"] == true
    });
    // The status and the metrics say so too (the status is republished after every step).
    let status: serde_json::Value =
        serde_json::from_str(&http_get(port, "/api/status")).expect("status JSON");
    assert!(
        status["out_of_service"]
            .as_str()
            .is_some_and(|r| r.contains("storage full")),
        "{status}"
    );
    assert_eq!(status["storage"]["low"], true, "{status}");
    let metrics = http_get(port, "/metrics");
    assert!(metrics.contains("happiness_storage_full 1"), "{metrics}");
    assert!(metrics.contains("happiness_out_of_service 1"), "{metrics}");
    k.send("wait 2000\ncoin 100\npress 2\nquit\n");
    let (code, stderr, lines) = k.finish();
    // `coin 100` is refused by the inhibited acceptor, which the script reports.
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("not accepting coins"),
        "the acceptor hands the coin back: {stderr}"
    );
    assert!(stderr.contains("storage full"), "the log says so: {stderr}");
    assert!(
        lines
            .iter()
            .any(|v| v["command"]["command"] == "coin_inhibit" && v["command"]["on"] == true),
        "the acceptor is inhibited"
    );
    assert!(
        !lines
            .iter()
            .any(|v| v["command"]["notice"] == "vend_started" && v["command"]["column"] == 2),
        "no vend starts on a full disk"
    );
    assert!(lines
        .iter()
        .any(|v| v["command"]["screen"] == "storage_full"));
    // The books, read on the still full disk: the sale is there, nothing was interrupted.
    let books = report_json(&data);
    assert_eq!(books["money"]["balanced"], true, "{books}");
    assert_eq!(books["money"]["inserted"], 200);
    assert_eq!(books["money"]["spent"], 150);
    assert_eq!(books["interrupted"], 0);
    assert_eq!(books["sales"][0]["count"], 1);
    assert_eq!(books["inventory"][0]["stock"], 5, "one Cola fewer");
    std::fs::remove_file(filler).expect("make room");
    // With room again the same books start and sell.
    let mut k = Kiosk::start(&data, SMALL_DISK);
    k.wait_for("selling", is_selling);
    k.send("coin 200\npress 1\nwait 2500\nquit\n");
    k.wait_for("a delivery", notice("vend_delivered"));
    let (code, stderr, _) = k.finish();
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn a_full_disk_while_idle_still_records_the_coin_that_arrives() {
    let Some(disk) = Tmpfs::mount("32m") else {
        return;
    };
    let data = disk.path().join("data");
    let mut k = Kiosk::start(&data, SMALL_DISK);
    k.wait_for("selling", is_selling);
    let _filler = disk.fill("filler");
    k.send("coin 200\n");
    k.wait_for("the coin", notice("credit_in"));
    k.wait_for("storage full", |v| {
        v["command"]["notice"] == "storage" && v["command"]["full"] == true
    });
    k.send("quit\n");
    let (code, stderr, _) = k.finish();
    assert_eq!(code, Some(0), "{stderr}");
    let books = report_json(&data);
    assert_eq!(books["money"]["inserted"], 200, "the coin is in the books");
    assert_eq!(books["money"]["held"], 200, "and held for the customer");
}

#[test]
fn a_full_disk_at_start_is_named_as_such_and_a_read_only_mount_too() {
    let Some(disk) = Tmpfs::mount("32m") else {
        return;
    };
    let data = disk.path().join("data");
    books_with_a_sale(&data, SMALL_DISK);
    let fresh = disk.path().join("fresh");
    std::fs::create_dir(&fresh).expect("fresh dir");
    let filler = disk.fill("filler");
    // With the reserve, the kiosk starts on the full disk, out of service: storage full.
    let mut k = Kiosk::start(&data, SMALL_DISK);
    k.wait_for("selling", is_selling);
    k.wait_for("storage full", |v| v["command"]["screen"] == "storage_full");
    let (code, stderr, _) = k.finish();
    assert_eq!(code, Some(0), "{stderr}");
    // Without it (spent above) and with the last bytes taken too, the disk is named, never the
    // books.
    std::fs::remove_file(data.join("journal.reserve")).ok();
    let more = disk.fill("more");
    let (code, stderr) = run_refused(&data, SMALL_DISK);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("is full"), "{stderr}");
    assert!(stderr.contains("not damaged"), "{stderr}");
    assert!(!stderr.contains("is damaged"), "{stderr}");
    // New books on the full disk: the disk is named as well, not in SQLite's words.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let out = happiness()
        .args(["run", "--hardware", "sim", "--listen", "off", "--data"])
        .arg(&fresh)
        .arg("--key")
        .arg(elsewhere.path().join("seal.key"))
        .args(SMALL_DISK)
        .stdin(Stdio::null())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is full"), "{stderr}");
    assert!(!stderr.contains("database or disk is full"), "{stderr}");
    std::fs::remove_file(filler).expect("room");
    std::fs::remove_file(more).expect("room");

    // A read-only mount: the books are read, the kiosk says why it cannot run.
    disk.remount("ro");
    let (code, text) = report(&data, false);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("balance: OK"), "{text}");
    let (code, stderr) = run_refused(&data, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("cannot be written"), "{stderr}");
    assert!(stderr.contains("not damaged"), "{stderr}");
    disk.remount("rw");
}

/// SIGTERM (a `systemctl stop`, a package upgrade) while the motor turns: the vend ends first,
/// the item is delivered and booked, and the next start has nothing to apologise for.
#[test]
fn a_stop_in_the_middle_of_a_vend_lets_it_end_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut k = Kiosk::start(&data, &[]);
    k.wait_for("selling", is_selling);
    k.send("coin 200\npress 1\n");
    k.wait_for("the motor turning", |v| {
        v["command"]["command"] == "motor" && v["command"]["on"] == true
    });
    let pid = nix::unistd::Pid::from_raw(i32::try_from(k.child.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    k.wait_for("the delivery", notice("vend_delivered"));
    let (code, stderr, _) = k.finish();
    assert_eq!(code, Some(0), "{stderr}");
    let books = report_json(&data);
    assert_eq!(books["money"]["balanced"], true, "{books}");
    assert_eq!(books["interrupted"], 0, "{books}");
    assert_eq!(books["sales"][0]["count"], 1, "{books}");
    // The next customer is not told the power went out.
    let mut k = Kiosk::start(&data, &[]);
    k.wait_for("selling", is_selling);
    let (code, stderr, lines) = k.finish();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        !lines
            .iter()
            .any(|v| v["command"]["screen"] == "power_restored"),
        "{lines:?}"
    );
}
