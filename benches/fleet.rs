//! The fleet on one Mosquitto: N simulated kiosks in this process (each a whole kiosk with its
//! journal's outbox and its own MQTT connection), each selling once a second, and a fleet view
//! (the code of `happiness fleet`, on a thread of its own) following every state and event.
//! Reports events per second delivered to the view, the end-to-end latency from a press to its
//! `vend_started` event arriving at the view (p50, p99), whether every kiosk is live in the
//! table, and the CPU of the broker, the view and the kiosks. Then the idle cost of one kiosk
//! process: its wakeups per minute with the fleet link on and off.
//!
//! Run with `cargo bench --bench fleet` (Mosquitto from Debian's packages must be installed).
//! `FLEET_KIOSKS` (200), `FLEET_SECS` (30), `FLEET_IDLE_SECS` (60) and `FLEET_PARTS=load,idle`
//! change it. Results go to stdout as a Markdown table; BENCHMARKS.md records a run.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use happiness::config::{BrokerUrl, FleetParts, MachineConfig, MachineId};
use happiness::controller::{LocalClock, TraceSink};
use happiness::fleet::client::Broker;
use happiness::fleet::view::FleetView;
use happiness::fleet::FleetLink;
use happiness::kiosk::{Backend, JournalLocation, Kiosk, KioskConfig};
use happiness::operator::actions::Actions;
use happiness::surprise::SurpriseConfig;
use rumqttc::{Event, Packet};

mod common;

use common::{cpu_ticks, fast_machine, percentile, switches};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Mosquitto {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mosquitto() -> Mosquitto {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let conf = dir.path().join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!("user root\nlistener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n"),
    )
    .expect("conf");
    let child = Command::new("mosquitto")
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mosquitto (apt-get install mosquitto)");
    // Killed and waited for when dropped.
    let broker = Mosquitto {
        child,
        port,
        _dir: dir,
    };
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return broker;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("mosquitto did not start");
}

/// Presses waiting for their `vend_started` at the view, per kiosk.
type Pending = Arc<Mutex<Vec<Option<Instant>>>>;

struct ViewReport {
    events: u64,
    latencies_ms: Vec<f64>,
    live: usize,
    cpu_ticks: u64,
}

/// The fleet view on a thread of its own, as `happiness fleet` runs it, until `stop`.
fn view_thread(
    port: u16,
    pending: Pending,
    measuring: Arc<std::sync::atomic::AtomicBool>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<ViewReport> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let broker = Broker {
                url: BrokerUrl::parse(&format!("mqtt://127.0.0.1:{port}")).expect("url"),
                credentials: Default::default(),
            };
            let mut c = broker
                .connect(&["happiness/+/state".into(), "happiness/+/events".into()])
                .await
                .expect("view connects");
            let mut view = FleetView::new();
            let mut report = ViewReport {
                events: 0,
                latencies_ms: Vec::new(),
                live: 0,
                cpu_ticks: 0,
            };
            let mut started_ticks = None;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let event = match tokio::time::timeout(
                    Duration::from_millis(200),
                    c.eventloop.poll(),
                )
                .await
                {
                    Err(_) => continue,
                    Ok(Ok(e)) => e,
                    Ok(Err(e)) => panic!("view lost the broker: {e}"),
                };
                let measuring_now = measuring.load(std::sync::atomic::Ordering::Relaxed);
                if measuring_now && started_ticks.is_none() {
                    started_ticks = Some(cpu_ticks("/proc/thread-self/stat"));
                }
                let Event::Incoming(Packet::Publish(p)) = event else {
                    continue;
                };
                view.on_message(&p.topic, &p.payload);
                if !p.topic.ends_with("/events") || !measuring_now {
                    continue;
                }
                report.events += 1;
                let Ok(v) = serde_json::from_slice::<serde_json::Value>(&p.payload) else {
                    continue;
                };
                if v["type"] != "vend_started" {
                    continue;
                }
                let index = v["machine"]
                    .as_str()
                    .and_then(|m| m.strip_prefix("k"))
                    .and_then(|n| n.parse::<usize>().ok());
                if let Some(i) = index {
                    if let Some(t) = pending
                        .lock()
                        .expect("lock")
                        .get_mut(i)
                        .and_then(Option::take)
                    {
                        report.latencies_ms.push(t.elapsed().as_secs_f64() * 1e3);
                    }
                }
            }
            report.cpu_ticks = cpu_ticks("/proc/thread-self/stat") - started_ticks.unwrap_or(0);
            report.live = view
                .rows()
                .iter()
                .filter(|r| r.online && r.events > 0)
                .count();
            report
        })
    })
}

fn load(kiosks: usize, secs: u64) {
    let broker = mosquitto();
    let port = broker.port;
    let pending: Pending = Arc::new(Mutex::new(vec![None; kiosks]));
    let measuring = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop_view = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let view = view_thread(
        port,
        Arc::clone(&pending),
        Arc::clone(&measuring),
        Arc::clone(&stop_view),
    );

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("machine.toml"), fast_machine()).expect("write");
    let machine = Arc::new(MachineConfig::load_dir(dir.path()).expect("machine"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (fleet, sims) = rt.block_on(async {
        let mut fleet = Vec::new();
        let mut sims = Vec::new();
        for i in 0..kiosks {
            let setup = KioskConfig {
                machine: Arc::clone(&machine),
                surprises: SurpriseConfig::disabled(),
                seed: i as u64,
                local_clock: LocalClock::System,
                journal: JournalLocation::Memory,
                config_dir: None,
                machine_text: String::new(),
                surprises_text: String::new(),
                metrics: None,
                journal_options: Default::default(),
                outbox: true,
            };
            let kiosk = Kiosk::start(setup, Backend::Sim, TraceSink::new()).expect("kiosk");
            let id = MachineId::parse(&format!("k{i}")).expect("id");
            let config = FleetParts::resolve(
                None,
                BrokerUrl::parse(&format!("mqtt://127.0.0.1:{port}")).ok(),
                Some(id),
            )
            .expect("fleet")
            .expect("link");
            let actions = Actions::new(
                kiosk.requests(),
                kiosk.status.clone(),
                Arc::clone(&kiosk.config),
                kiosk.sim.clone(),
            );
            let link = FleetLink::start(config, Default::default(), actions, None);
            sims.push(kiosk.sim.clone().expect("sim"));
            fleet.push((kiosk, link));
        }
        // Every link up before the clock starts.
        for (_, link) in &fleet {
            let mut s = link.status.clone();
            let _ = s.wait_for(|s| s.connected).await;
        }
        (fleet, sims)
    });

    // Each kiosk sells once a second, spread over the second.
    let wall = Instant::now();
    let broker_ticks = cpu_ticks(&format!("/proc/{}/stat", broker.child.id()));
    let own_ticks = cpu_ticks("/proc/self/stat");
    measuring.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut presses = 0u64;
    for second in 0..secs {
        for (i, sim) in sims.iter().enumerate() {
            let due = wall
                + Duration::from_secs(second)
                + Duration::from_micros((i as u64 * 1_000_000) / kiosks as u64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            pending.lock().expect("lock")[i] = Some(Instant::now());
            if sim.press(1 + (second as usize % 3)).is_ok() {
                presses += 1;
            }
        }
    }
    // Let the last events arrive.
    std::thread::sleep(Duration::from_secs(2));
    let elapsed = wall.elapsed().as_secs_f64();
    let broker_ticks = cpu_ticks(&format!("/proc/{}/stat", broker.child.id())) - broker_ticks;
    let own_ticks = cpu_ticks("/proc/self/stat") - own_ticks;
    stop_view.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut report = view.join().expect("view");
    rt.block_on(async {
        for (kiosk, link) in fleet {
            link.stop().await;
            let _ = kiosk.stop().await;
        }
    });
    report.latencies_ms.sort_by(f64::total_cmp);
    let pct = |ticks: u64| ticks as f64 / elapsed; // ticks are 1/100 s: this is percent of a core
    let view_pct = pct(report.cpu_ticks);
    println!("| measure | value |\n| --- | --- |");
    println!("| kiosks (real MQTT connections, one process) | {kiosks} |");
    println!("| presses (one per kiosk per second) | {presses} in {elapsed:.1} s |");
    println!(
        "| events delivered to the fleet view | {} ({:.0} per second of selling) |",
        report.events,
        report.events as f64 / secs as f64
    );
    println!(
        "| press to `vend_started` at the view | p50 {:.1} ms, p99 {:.1} ms ({} matched) |",
        percentile(&report.latencies_ms, 0.5),
        percentile(&report.latencies_ms, 0.99),
        report.latencies_ms.len()
    );
    println!("| kiosks live in the table | {} of {kiosks} |", report.live);
    println!("| CPU: mosquitto | {:.1}% of a core |", pct(broker_ticks));
    println!("| CPU: fleet view | {view_pct:.1}% of a core |");
    println!(
        "| CPU: the {kiosks} kiosks, their links and the view | {:.1}% of a core |",
        pct(own_ticks)
    );
    println!(
        "| events per press | {:.2} |",
        report.events as f64 / presses.max(1) as f64
    );
}

/// One kiosk process idle for `secs`: wakeups with the fleet link on (keep-alive `keep_alive`
/// seconds) and off.
fn idle(secs: u64, keep_alive: u64) {
    let broker = mosquitto();
    let mut rows = Vec::new();
    for fleet in [false, true] {
        let dir = tempfile::tempdir().expect("tempdir");
        // The quick machine of the load test: with the shipped simulator timings the simulated
        // world itself wakes the process about 35 times a second (see BENCHMARKS.md), which
        // would hide the link's cost.
        let mut text = fast_machine();
        if fleet {
            text.push_str(&format!(
                "\n[fleet]\nbroker = \"mqtt://127.0.0.1:{}\"\nid = \"idle\"\nkeep_alive_s = {keep_alive}\n",
                broker.port
            ));
        }
        std::fs::write(dir.path().join("machine.toml"), text).expect("write");
        let mut child = Command::new(env!("CARGO_BIN_EXE_happiness"))
            .args([
                "run",
                "--hardware",
                "sim",
                "--events",
                "none",
                "--listen",
                "off",
                "--config",
            ])
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("kiosk");
        // Let start-up (and the first state) settle.
        std::thread::sleep(Duration::from_secs(5));
        let pid = child.id();
        let s0 = switches(pid);
        let c0 = cpu_ticks(&format!("/proc/{pid}/stat"));
        std::thread::sleep(Duration::from_secs(secs));
        let s1 = switches(pid);
        let c1 = cpu_ticks(&format!("/proc/{pid}/stat"));
        let _ = child.kill();
        let _ = child.wait();
        rows.push((fleet, s1 - s0, c1 - c0));
    }
    println!("\n| one idle kiosk, {secs} s | wakeups (context switches) | CPU ticks (1/100 s) |\n| --- | --- | --- |");
    for (fleet, sw, cpu) in rows {
        let label = if fleet {
            format!("fleet link on (keep-alive {keep_alive} s)")
        } else {
            "fleet link off".to_string()
        };
        println!("| {label} | {sw} | {cpu} |");
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken from the command line.
    let parts = std::env::var("FLEET_PARTS").unwrap_or_else(|_| "load,idle".into());
    if parts.contains("load") {
        load(
            usize::try_from(env_u64("FLEET_KIOSKS", 200)).unwrap_or(200),
            env_u64("FLEET_SECS", 30),
        );
    }
    if parts.contains("idle") {
        idle(
            env_u64("FLEET_IDLE_SECS", 60),
            env_u64("FLEET_KEEP_ALIVE", 10),
        );
    }
}
