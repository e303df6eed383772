//! Footprint of the whole kiosk on the simulator, with the journal and the operator API on:
//! press-to-motor latency (p50, p99) next to the gpiozero peer baseline run in the same sitting,
//! idle CPU and wakeups, resident memory after 10,000 vends, stripped binary size, start-up time
//! on a fresh journal and on one holding years of history.
//!
//! Run with `scripts/footprint.sh` (the binary as shipped, through `FOOTPRINT_BIN`) or
//! `cargo bench --bench footprint` (about twenty minutes, most of it 10,000 vends in real time;
//! `FOOTPRINT_IDLE_SECS`, `FOOTPRINT_VENDS`, `FOOTPRINT_PRESSES` and `FOOTPRINT_HISTORY_VENDS`
//! shorten it, and `FOOTPRINT_PARTS=latency,idle,memory,size,startup,history` picks parts). The
//! gpiozero baseline needs `pip install gpiozero`; it is installed on the fly when pip can reach
//! PyPI, and skipped (and said so) otherwise. Results go to stdout as a Markdown table;
//! BENCHMARKS.md records a run.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::{cpu_ticks, fast_machine, percentile, record_paid_vend, switches};

use happiness::config::MachineConfig;
use happiness::controller::{LocalClock, TraceSink};
use happiness::journal::Journal;
use happiness::kiosk::{Backend, JournalLocation, Kiosk, KioskConfig};
use happiness::localtime::LocalTime;
use happiness::metrics::Metrics;
use happiness::money::Cents;
use happiness::operator::Console;
use happiness::surprise::SurpriseConfig;
use happiness::vend::{ColumnId, Event};

/// The binary to measure: `FOOTPRINT_BIN` (what `scripts/footprint.sh` builds, exactly as
/// shipped), else the one cargo built next to this benchmark (its dependencies may carry extra
/// features that only the tests use).
fn bin() -> std::path::PathBuf {
    std::env::var_os("FOOTPRINT_BIN").map_or_else(
        || env!("CARGO_BIN_EXE_happiness").into(),
        std::path::PathBuf::from,
    )
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("machine.toml"), fast_machine()).expect("write");
    dir
}

/// Press-to-motor latency inside one process: the wall time from the simulated finger pressing
/// the button to the motor pin switching on, through the physics task, input conditioning, the
/// vend core, the journal's intent commit, and the motor driver.
fn latency(journal: JournalLocation, presses: u64) -> (f64, f64, f64, f64) {
    let dir = config_dir();
    let machine = MachineConfig::load_dir(dir.path()).expect("machine");
    let (handles_tx, handles_rx) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // The same runtime as `happiness run`: one thread for the controller and everything around
    // it, driven here by its own thread while this one presses buttons.
    let runtime_thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let metrics = Arc::new(Metrics::new());
            let mut sink = TraceSink::new();
            let events = sink.broadcast(256);
            let mut trace = sink.subscribe();
            tokio::spawn(async move {
                let mut refused = std::collections::BTreeMap::new();
                while let Some(r) = trace.recv().await {
                    if let happiness::trace::TraceEntry::Command {
                        command:
                            happiness::vend::Command::Notice(happiness::vend::Notice::Refused {
                                reason,
                                ..
                            }),
                        ..
                    } = r.entry
                    {
                        *refused.entry(format!("{reason:?}")).or_insert(0u32) += 1;
                    }
                }
                if !refused.is_empty() {
                    eprintln!("refused selections: {refused:?}");
                }
            });
            let setup = KioskConfig {
                machine: Arc::new(machine),
                surprises: SurpriseConfig::disabled(),
                seed: 1,
                local_clock: LocalClock::System,
                journal,
                config_dir: None,
                machine_text: String::new(),
                surprises_text: String::new(),
                metrics: Some(Arc::clone(&metrics)),
                journal_options: Default::default(),
                outbox: false,
            };
            let kiosk = Kiosk::start(setup, Backend::Sim, sink).expect("kiosk");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let console = Console::start(
                &kiosk,
                listener,
                None,
                metrics,
                events,
                None,
                Default::default(),
            )
            .expect("console");
            let _ = handles_tx.send((
                kiosk.sim.clone().expect("sim"),
                kiosk.status.clone(),
                kiosk.requests(),
            ));
            let _ = stopped.await;
            console.stop().await;
            let _ = kiosk.stop().await;
        });
    });
    let (sim, status, requests) = handles_rx.recv().expect("kiosk started");
    let mut lat = Vec::with_capacity(usize::try_from(presses).unwrap_or(0));
    let first = Instant::now();
    for i in 0..presses {
        if i % 500 == 499 {
            let _ = requests.send(happiness::controller::Request::Event(Event::Restock {
                column: None,
            }));
        }
        let button = 1 + usize::try_from(i % 3).unwrap_or(0);
        let t0 = Instant::now();
        sim.press(button).expect("press");
        if let Some(t) = sim.wait_motor_start(t0, Duration::from_secs(1)) {
            lat.push((t - t0).as_secs_f64() * 1e6);
        }
        // Let the vend finish and the button's lockout pass before the next press.
        let idle_by = Instant::now() + Duration::from_secs(2);
        while (status.borrow().vending || !sim.motors_on().is_empty()) && Instant::now() < idle_by {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(12));
    }
    #[allow(clippy::cast_precision_loss)]
    let interval_s = first.elapsed().as_secs_f64() / presses.max(1) as f64;
    let _ = stop.send(());
    let _ = runtime_thread.join();
    lat.sort_by(f64::total_cmp);
    #[allow(clippy::cast_precision_loss)]
    let n = lat.len() as f64;
    (percentile(&lat, 0.5), percentile(&lat, 0.99), n, interval_s)
}

/// The peer baseline, `../shared/peers/gpiozero_press_to_relay.py`, as it is (presses back to
/// back, 20,000 of them) and, when `paced` is given as `(seconds between presses, presses)`, a
/// copy that waits that long after each press the way a vend makes this kiosk wait: both sides
/// then start each press from the same idle machine.
fn gpiozero(paced: Option<(f64, u64)>) -> Option<String> {
    let peer =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/peers/gpiozero_press_to_relay.py");
    if !peer.exists() {
        return Some(format!("not run: {} is missing", peer.display()));
    }
    let has = |py: &str| {
        Command::new(py)
            .args(["-c", "import gpiozero"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !has("python3") {
        let _ = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "gpiozero"])
            .status();
    }
    if !has("python3") {
        return Some("not run: gpiozero is not installed (pip install gpiozero)".into());
    }
    let tmp = tempfile::tempdir().ok()?;
    let (script, args) = match paced {
        None => (peer, Vec::new()),
        Some((secs, presses)) => {
            let text = std::fs::read_to_string(&peer).ok()?;
            let release = "    pin.drive_high()\n";
            if !text.contains(release) {
                return Some("not run: the peer script changed shape".into());
            }
            let paced_text =
                text.replacen(release, &format!("{release}    time.sleep({secs:.4})\n"), 1);
            let copy = tmp.path().join("gpiozero_paced.py");
            std::fs::write(&copy, paced_text).ok()?;
            (copy, vec![presses.to_string()])
        }
    };
    let out = Command::new("python3")
        .arg(&script)
        .args(&args)
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn stripped_size() -> (u64, u64) {
    let raw = std::fs::metadata(bin()).map(|m| m.len()).unwrap_or(0);
    let tmp = tempfile::tempdir().expect("tempdir");
    let copy = tmp.path().join("happiness");
    std::fs::copy(bin(), &copy).expect("copy");
    let _ = Command::new("strip").arg(&copy).status();
    (raw, std::fs::metadata(&copy).map(|m| m.len()).unwrap_or(0))
}

struct Proc {
    child: Child,
    _dirs: (tempfile::TempDir, Option<tempfile::TempDir>),
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The real binary with a fresh journal on disk and the API on; stdout carries JSON events.
fn spawn_kiosk() -> (Proc, BufReader<std::process::ChildStdout>) {
    let data = tempfile::tempdir().expect("data");
    let (mut proc, out) = spawn_kiosk_on(data.path());
    proc._dirs.1 = Some(data);
    (proc, out)
}

/// The real binary on the journal in `data`.
fn spawn_kiosk_on(data: &Path) -> (Proc, BufReader<std::process::ChildStdout>) {
    let config = config_dir();
    let mut child = Command::new(bin())
        .args([
            "run",
            "--hardware",
            "sim",
            "--events",
            "json",
            "--listen",
            "127.0.0.1:0",
            "--seed",
            "1",
        ])
        .arg("--config")
        .arg(config.path())
        .arg("--data")
        .arg(data)
        .env("HAPPINESS_TOKEN", "footprint-benchmark-token")
        // As the systemd unit runs it.
        .env("MALLOC_ARENA_MAX", "2")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    (
        Proc {
            child,
            _dirs: (config, None),
        },
        stdout,
    )
}

fn wait_for_line(out: &mut BufReader<std::process::ChildStdout>, needle: &str) -> bool {
    let mut line = String::new();
    loop {
        line.clear();
        match out.read_line(&mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) if line.contains(needle) => return true,
            Ok(_) => {}
        }
    }
}

/// Start-up over `runs` starts, on a fresh journal each time or on the one in `data`: to ready
/// (display, pages and API answer) and to selling (the books passed their integrity check and
/// their seals), each as (p50, p90) in milliseconds.
fn startup_ms(data: Option<&Path>, runs: usize) -> ((f64, f64), (f64, f64)) {
    let mut ready = Vec::new();
    let mut selling = Vec::new();
    for _ in 0..runs {
        let t0 = Instant::now();
        let (_proc, mut out) = match data {
            Some(dir) => spawn_kiosk_on(dir),
            None => spawn_kiosk(),
        };
        if wait_for_line(&mut out, "\"type\":\"ready\"") {
            ready.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
        if wait_for_line(&mut out, "\"type\":\"selling\"") {
            selling.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
    }
    ready.sort_by(f64::total_cmp);
    selling.sort_by(f64::total_cmp);
    (
        (percentile(&ready, 0.5), percentile(&ready, 0.9)),
        (percentile(&selling, 0.5), percentile(&selling, 0.9)),
    )
}

/// A journal on disk holding `vends` paid vends (one coin, intent, outcome each, five minutes
/// apart), written through the journal's own API as a kiosk would have written them over the
/// years; returns its size in bytes.
fn journal_with_history(dir: &Path, vends: u64) -> u64 {
    let machine = MachineConfig::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config"))
        .expect("machine.toml");
    let start = LocalTime::from_ymd_hm(2024, 1, 1, 8, 0).expect("date");
    let mut journal = Journal::open_dir(dir).expect("journal");
    journal.recover(&machine, start, 168).expect("recover");
    let column = ColumnId::from_number(1).expect("column");
    let product = machine.columns[0].product.clone();
    let price = machine.columns[0].price;
    let mut credit = Cents::ZERO;
    for i in 0..vends {
        let t = start.plus_secs(i64::try_from(i).unwrap_or(i64::MAX).saturating_mul(300));
        credit = record_paid_vend(&mut journal, t, column, &product, price, credit);
    }
    std::fs::metadata(dir.join("journal.db")).map_or(0, |m| m.len())
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn idle(secs: u64) -> (f64, f64, u64) {
    let (proc, mut out) = spawn_kiosk();
    assert!(
        wait_for_line(&mut out, "\"type\":\"ready\""),
        "kiosk did not start"
    );
    // Let the start-up display timers run out.
    std::thread::sleep(Duration::from_secs(2));
    let pid = proc.child.id();
    let (c0, s0) = (cpu_ticks(&format!("/proc/{pid}/stat")), switches(pid));
    std::thread::sleep(Duration::from_secs(secs));
    let (c1, s1) = (cpu_ticks(&format!("/proc/{pid}/stat")), switches(pid));
    // Clock ticks are 1/100 s on Linux.
    #[allow(clippy::cast_precision_loss)]
    let cpu_percent = (c1 - c0) as f64 / (secs as f64 * 100.0) * 100.0;
    #[allow(clippy::cast_precision_loss)]
    let wakeups = (s1 - s0) as f64 / secs as f64;
    (cpu_percent, wakeups, rss_kib(pid))
}

/// What a long run of vends left behind.
struct VendRun {
    rss_kib: u64,
    delivered: u64,
    refused: u64,
    secs: f64,
    /// Resident memory (KiB) every 2,000 deliveries.
    along: Vec<(u64, u64)>,
}

/// The real binary, journal on disk and API on, fed `vends` presses; resident memory at the end.
fn rss_after_vends(vends: u64) -> VendRun {
    let (mut proc, mut out) = spawn_kiosk();
    assert!(
        wait_for_line(&mut out, "\"type\":\"ready\""),
        "kiosk did not start"
    );
    let pid = proc.child.id();
    let t0 = Instant::now();
    {
        let mut stdin = proc.child.stdin.take().expect("stdin");
        std::thread::spawn(move || {
            let mut script = String::new();
            for i in 0..vends {
                if i % 900 == 899 {
                    script.push_str("restock\n");
                }
                // The customer takes the item, as customers do (an untaken tray would grow the
                // simulated world, not the controller).
                script.push_str(&format!("press {}\nwait 40\ntake\n", 1 + i % 3));
            }
            script.push_str("wait 200\nstatus\n");
            let _ = stdin.write_all(script.as_bytes());
            // stdin stays open until the process is killed, so the kiosk does not stop early.
            std::thread::sleep(Duration::from_secs(3600));
        });
    }
    let mut run = VendRun {
        rss_kib: 0,
        delivered: 0,
        refused: 0,
        secs: 0.0,
        along: Vec::new(),
    };
    let mut line = String::new();
    loop {
        line.clear();
        match out.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            // The last line of the `status` at the end of the script.
            Ok(_) if line.starts_with("  tray:") => break,
            Ok(_) if line.contains("\"notice\":\"vend_delivered\"") => {
                run.delivered += 1;
                if run.delivered.is_multiple_of(2000) {
                    run.along.push((run.delivered, rss_kib(pid)));
                }
            }
            Ok(_) if line.contains("\"notice\":\"refused\"") => run.refused += 1,
            Ok(_) => {}
        }
    }
    run.secs = t0.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(300));
    run.rss_kib = rss_kib(pid);
    run
}

fn main() {
    let presses = env_u64("FOOTPRINT_PRESSES", 1000);
    let idle_secs = env_u64("FOOTPRINT_IDLE_SECS", 60);
    let vends = env_u64("FOOTPRINT_VENDS", 10_000);
    let history = env_u64("FOOTPRINT_HISTORY_VENDS", 100_000);
    let parts = std::env::var("FOOTPRINT_PARTS").unwrap_or_default();
    let want = |part: &str| parts.is_empty() || parts.split(',').any(|p| p.trim() == part);

    println!(
        "Footprint of happiness {} on {}",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH
    );
    println!("Binary measured: {}", bin().display());
    println!();
    println!("| measure | result | target |");
    println!("| --- | --- | --- |");
    // Each row is printed as soon as it is measured, so a long run that is cut short still
    // reports what it got.
    if want("latency") {
        eprintln!("gpiozero baseline ...");
        let peer = gpiozero(None);
        println!(
            "| gpiozero baseline, same sitting, presses back to back | {} | |",
            peer.unwrap_or_else(|| "not run".into())
        );
        eprintln!("press-to-motor latency, {presses} presses, journal in memory ...");
        let (p50, p99, n, interval) = latency(JournalLocation::Memory, presses);
        println!("| press to motor on, journal in memory (n={n}) | p50 {p50:.1} us, p99 {p99:.1} us | p99 below the gpiozero baseline's |");
        eprintln!(
            "gpiozero baseline paced like the kiosk ({:.0} ms between presses) ...",
            interval * 1e3
        );
        let paced = gpiozero(Some((interval, presses)));
        println!(
            "| gpiozero baseline, same sitting, paced like the kiosk ({:.0} ms between presses) | {} | |",
            interval * 1e3,
            paced.unwrap_or_else(|| "not run".into())
        );
        eprintln!("press-to-motor latency, {presses} presses, journal on disk ...");
        let disk = tempfile::tempdir().expect("tempdir");
        let (p50, p99, n, _) = latency(JournalLocation::Dir(disk.path().to_path_buf()), presses);
        println!("| press to motor on, journal on disk, fsync before the motor (n={n}) | p50 {p50:.1} us, p99 {p99:.1} us | (the intent is durable before the motor turns) |");
    }
    if want("idle") {
        eprintln!("idle for {idle_secs} s ...");
        let (cpu, wakeups, idle_rss) = idle(idle_secs);
        println!("| idle CPU over {idle_secs} s | {cpu:.3} % of a core | under 0.05 % |");
        println!("| idle wakeups (context switches) | {wakeups:.2} per second | no polling, no periodic timer |");
        println!(
            "| resident memory idle | {:.1} MB | |",
            idle_rss as f64 / 1024.0
        );
    }
    if want("memory") {
        eprintln!("{vends} vends ...");
        let run = rss_after_vends(vends);
        let along: Vec<String> = run
            .along
            .iter()
            .map(|(n, kib)| format!("{n}: {:.1}", *kib as f64 / 1024.0))
            .collect();
        println!(
            "| resident memory after {} vends ({:.0} s; {} presses refused) | {:.1} MB (on the way, MB: {}) | under 10 MB |",
            run.delivered,
            run.secs,
            run.refused,
            run.rss_kib as f64 / 1024.0,
            along.join(", ")
        );
    }
    if want("size") {
        let (raw, stripped) = stripped_size();
        println!(
            "| binary size | {:.1} MB, {:.1} MB stripped | stripped under 10 MB |",
            raw as f64 / 1e6,
            stripped as f64 / 1e6
        );
    }
    if want("startup") {
        eprintln!("start-up ...");
        let ((p50, p90), (s50, s90)) = startup_ms(None, 15);
        println!("| start-up to ready | p50 {p50:.1} ms, p90 {p90:.1} ms | under 100 ms |");
        println!(
            "| start-up to selling (books checked) | p50 {s50:.1} ms, p90 {s90:.1} ms | under 500 ms |"
        );
    }
    if want("history") {
        eprintln!("a journal with {history} vends of history ...");
        let dir = tempfile::tempdir().expect("tempdir");
        let bytes = journal_with_history(dir.path(), history);
        eprintln!("start-up on it ...");
        let ((p50, p90), (s50, s90)) = startup_ms(Some(dir.path()), 5);
        println!(
            "| start-up to ready, journal holding {history} vends ({:.1} MB) | p50 {p50:.1} ms, p90 {p90:.1} ms | under 100 ms |",
            bytes as f64 / 1e6
        );
        println!(
            "| start-up to selling (integrity check and seals), same journal | p50 {s50:.1} ms, p90 {s90:.1} ms | under 500 ms |"
        );
    }
}
