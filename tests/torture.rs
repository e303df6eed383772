//! The fault campaign as part of the test suite: at least 2,000 seeds with heavy faults (full
//! disks and stopped controllers among them), every invariant checked at every step. `HAPPINESS_TORTURE_SEEDS=100000` runs a long campaign (and
//! `HAPPINESS_TORTURE_VENDS` sets the paid vends per seed, 20 by default).

mod common;

use std::path::Path;
use std::sync::Arc;

use happiness::config::MachineConfig;
use happiness::surprise::SurpriseConfig;
use happiness::torture::{run_campaign, Campaign, FaultPlan};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The shipped machine and surprises under `faults`, `vends` paid vends per seed.
fn campaign(faults: &str, vends: u32) -> Campaign {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let machine = MachineConfig::load_dir(&dir).expect("machine.toml");
    let text = std::fs::read_to_string(dir.join("surprises.toml")).expect("surprises.toml");
    let surprises = SurpriseConfig::from_toml(&dir.join("surprises.toml"), &text, &machine.columns)
        .expect("valid");
    Campaign {
        machine: Arc::new(machine),
        surprises,
        surprises_text: text,
        vends,
        faults: FaultPlan::named(faults).expect("profile"),
        inject_bug: None,
        keep_trace: false,
    }
}

#[test]
fn two_thousand_seeds_with_heavy_faults_break_no_invariant() {
    let vends = u32::try_from(env("HAPPINESS_TORTURE_VENDS", 20)).unwrap_or(20);
    let campaign = campaign("heavy", vends);
    let seeds = env("HAPPINESS_TORTURE_SEEDS", 2000);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let report = run_campaign(&campaign, 0, seeds, threads);
    eprintln!("{}", report.to_text());
    assert_eq!(report.seeds, seeds);
    assert!(report.violations.is_empty(), "{}", report.to_text());
    // Every kind of fault was actually injected.
    for kind in [
        "jam",
        "missed_beam",
        "double_drop",
        "stuck_sensor",
        "switch_bounce",
        "door_mid_vend",
        "config_reload_valid",
        "config_reload_invalid",
        "power_cut",
        "disk_full",
        "controller_stop",
        "restart",
    ] {
        assert!(
            report.faults.get(kind).copied().unwrap_or(0) > 0,
            "{kind} never injected"
        );
    }
}

/// The same campaign with fault rates drawn afresh for every seed (`--faults swarm`): mixes a
/// fixed profile makes rare, such as many power cuts and no jams. `HAPPINESS_SWARM_SEEDS` sets
/// the number of seeds (500 by default).
#[test]
fn swarm_seeds_break_no_invariant() {
    let campaign = campaign("swarm", 20);
    let seeds = env("HAPPINESS_SWARM_SEEDS", 500);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let report = run_campaign(&campaign, 0, seeds, threads);
    assert_eq!(report.seeds, seeds);
    assert!(report.violations.is_empty(), "{}", report.to_text());
}
