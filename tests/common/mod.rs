//! Shared harness for whole-machine tests: a kiosk on the simulator, driven by script lines in
//! paused (virtual) time, with its trace collected.

#![allow(dead_code)]

pub mod browser;
pub mod fleet;
pub mod rig;

use std::path::{Path, PathBuf};

use happiness::config::MachineConfig;
use happiness::controller::TraceSink;
use happiness::kiosk::{Backend, Kiosk, KioskConfig};
use happiness::script::{self, Outcome};
use happiness::trace::{TraceEntry, TraceRecord};
use happiness::vend::{Command, Event, Notice};
use tokio::sync::mpsc::UnboundedReceiver;

/// A surprise on every paid vend: the same item again, to share.
pub const ALWAYS_ONE_TO_SHARE: &str = r#"
[policy]
probability = 1.0
cooldown_s = 0
budget_percent = 100.0

[[surprises]]
name = "One to share"
kind = "extra_item"
weight = 1
cost_cents = 90
same = true
message = "A second {product} to share!"
"#;

/// The shipped config file's text.
pub fn shipped_config_text() -> String {
    std::fs::read_to_string(config_path()).expect("config/machine.toml")
}

/// Path of the shipped config file.
pub fn config_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/machine.toml")
}

/// A kiosk setup for `machine` with the surprises in `surprises_toml`, starting at a fixed local
/// time (Wednesday 2026-11-25 12:00).
pub fn with_surprises(
    machine: MachineConfig,
    surprises_toml: &str,
    seed: u64,
) -> happiness::kiosk::KioskConfig {
    let surprises = happiness::surprise::SurpriseConfig::from_toml(
        Path::new("surprises.toml"),
        surprises_toml,
        &machine.columns,
    )
    .expect("valid surprises");
    let start = happiness::localtime::LocalTime::from_ymd_hm(2026, 11, 25, 12, 0).expect("date");
    happiness::kiosk::KioskConfig {
        machine: std::sync::Arc::new(machine),
        surprises,
        seed,
        local_clock: happiness::controller::LocalClock::StartingAt(start),
        journal: happiness::kiosk::JournalLocation::Memory,
        config_dir: None,
        machine_text: String::new(),
        surprises_text: String::new(),
        metrics: None,
        journal_options: happiness::journal::OpenOptions::default(),
        outbox: false,
    }
}

/// A machine whose simulated mechanics are quick, so a session packs many vends into a second.
pub fn fast_machine() -> String {
    let mut text = shipped_config_text();
    for (from, to) in [
        ("drop_window_ms = 1500", "drop_window_ms = 400"),
        ("max_motor_on_ms = 3000", "max_motor_on_ms = 900"),
        ("timed_turn_ms = 1300", "timed_turn_ms = 420"),
        ("nudge_pause_ms = 250", "nudge_pause_ms = 60"),
        ("pulse_min_ms = 10", "pulse_min_ms = 5"),
        ("pulse_max_ms = 150", "pulse_max_ms = 60"),
        ("coin_gap_ms = 200\n", "coin_gap_ms = 60\n"),
        ("turn_ms = 1200", "turn_ms = 400"),
        ("home_width_ms = 100", "home_width_ms = 40"),
        ("release_at_ms = 900", "release_at_ms = 300"),
        ("fall_ms = 250", "fall_ms = 80"),
        ("press_hold_ms = 120", "press_hold_ms = 40"),
        ("coin_pulse_ms = 30", "coin_pulse_ms = 15"),
        ("coin_pulse_gap_ms = 70", "coin_pulse_gap_ms = 20"),
        ("coin_gap_ms = 400", "coin_gap_ms = 100"),
        ("pulse_ms = 60", "pulse_ms = 20"),
        ("gap_ms = 140", "gap_ms = 30"),
    ] {
        assert!(text.contains(from), "fixture lacks {from:?}");
        text = text.replacen(from, to, 1);
    }
    text
}

/// The shipped config with `from` replaced by `to` (which must be found).
pub fn config_with(edits: &[(&str, &str)]) -> MachineConfig {
    let mut text = shipped_config_text();
    for (from, to) in edits {
        assert!(text.contains(from), "config does not contain {from:?}");
        text = text.replacen(from, to, 1);
    }
    MachineConfig::from_toml(Path::new("test.toml"), &text).expect("valid edited config")
}

pub struct Harness {
    pub kiosk: Kiosk,
    trace: UnboundedReceiver<TraceRecord>,
    pub records: Vec<TraceRecord>,
}

impl Harness {
    pub fn start(config: MachineConfig, seed: u64) -> Harness {
        Harness::start_with(KioskConfig::plain(config, seed))
    }

    pub fn start_with(setup: KioskConfig) -> Harness {
        let mut sink = TraceSink::new();
        let trace = sink.subscribe();
        let kiosk = Kiosk::start(setup, Backend::Sim, sink).expect("kiosk");
        Harness {
            kiosk,
            trace,
            records: Vec::new(),
        }
    }

    /// Run script lines; every line must succeed.
    pub async fn run(&mut self, lines: &str) {
        for line in lines.lines() {
            let cmd = script::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            if let Some(cmd) = cmd {
                match script::execute(&self.kiosk, cmd).await {
                    Ok(Outcome::Continue(_)) => {}
                    Ok(Outcome::Quit) => return,
                    Err(e) => panic!("{line}: {e}"),
                }
            }
        }
        self.collect();
    }

    fn collect(&mut self) {
        while let Ok(r) = self.trace.try_recv() {
            self.records.push(r);
        }
    }

    pub fn events(&mut self) -> Vec<Event> {
        self.collect();
        self.records
            .iter()
            .filter_map(|r| match &r.entry {
                TraceEntry::Event { event } => Some(*event),
                _ => None,
            })
            .collect()
    }

    pub fn commands(&mut self) -> Vec<Command> {
        self.collect();
        self.records
            .iter()
            .filter_map(|r| match &r.entry {
                TraceEntry::Command { command, .. } => Some(command.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn notices(&mut self) -> Vec<Notice> {
        self.commands()
            .into_iter()
            .filter_map(|c| match c {
                Command::Notice(n) => Some(n),
                _ => None,
            })
            .collect()
    }

    /// Motor commands as (column number, on).
    pub fn motor_commands(&mut self) -> Vec<(usize, bool)> {
        self.commands()
            .into_iter()
            .filter_map(|c| match c {
                Command::Motor { column, on } => Some((column.number(), on)),
                _ => None,
            })
            .collect()
    }

    pub fn tray_products(&self) -> Vec<String> {
        self.kiosk
            .sim
            .as_ref()
            .expect("sim")
            .tray()
            .into_iter()
            .map(|i| i.product)
            .collect()
    }

    /// Checks that motor commands never overlap and that on and off alternate per column.
    pub fn assert_one_motor_at_a_time(&mut self) {
        let mut on: Option<usize> = None;
        for (column, is_on) in self.motor_commands() {
            if is_on {
                assert_eq!(on, None, "motor {column} started while {on:?} was on");
                on = Some(column);
            } else {
                on = None;
            }
        }
    }

    pub async fn stop(self) {
        self.kiosk.stop().await.expect("clean stop");
    }
}
