use std::path::Path;

use super::*;

fn campaign(profile: &str, vends: u32) -> Campaign {
    let machine = MachineConfig::from_toml(
        Path::new("machine.toml"),
        include_str!("../../config/machine.toml"),
    )
    .expect("machine");
    let text = include_str!("../../config/surprises.toml").to_string();
    let surprises = SurpriseConfig::from_toml(Path::new("surprises.toml"), &text, &machine.columns)
        .expect("surprises");
    Campaign {
        machine: Arc::new(machine),
        surprises,
        surprises_text: text,
        vends,
        faults: FaultPlan::named(profile).expect("profile"),
        inject_bug: None,
        keep_trace: false,
    }
}

#[test]
fn a_quiet_seed_sells_and_breaks_nothing() {
    let outcome = run_seed(&campaign("none", 20), 1);
    assert!(outcome.violation.is_none(), "{:?}", outcome.violation);
    assert!(outcome.vends >= 20, "{outcome:?}");
    assert!(outcome.delivered >= 15, "{outcome:?}");
}

#[test]
fn heavy_faults_break_no_invariant() {
    let report = run_campaign(&campaign("heavy", 20), 0, 40, 2);
    assert!(report.violations.is_empty(), "{}", report.to_text());
    assert_eq!(report.seeds, 40);
    for kind in ["jam", "power_cut", "door_mid_vend", "config_reload_invalid"] {
        assert!(
            report.faults.get(kind).copied().unwrap_or(0) > 0,
            "no {kind}: {:?}",
            report.faults
        );
    }
}

#[test]
fn the_same_seed_gives_the_same_trace_byte_for_byte() {
    let mut c = campaign("heavy", 15);
    c.keep_trace = true;
    let a = run_seed(&c, 77).trace.join("\n");
    let b = run_seed(&c, 77).trace.join("\n");
    assert!(a.len() > 1000);
    assert_eq!(a, b);
    let other = run_seed(&c, 78).trace.join("\n");
    assert_ne!(a, other);
}

#[test]
fn the_checker_catches_a_vend_that_keeps_the_money_and_names_the_seed() {
    let mut c = campaign("heavy", 30);
    c.inject_bug = Some(InjectedBug::SkipRefund);
    let report = run_campaign(&c, 0, 30, 2);
    let v = report
        .violations
        .first()
        .expect("a refund-skipping controller must be caught");
    assert_eq!(v.invariant, Invariant::CreditConserved);
    assert!(v.to_string().contains(&format!("seed {}", v.seed)));
    assert!(v.to_string().contains("--seed"));
    // And the violation replays from its seed.
    let again = run_seed(&c, v.seed).violation.expect("replays");
    assert_eq!(again.step, v.step);
}

#[test]
fn the_checker_catches_stock_that_drifts_from_the_books() {
    let mut c = campaign("none", 10);
    c.inject_bug = Some(InjectedBug::SkipStock);
    let outcome = run_seed(&c, 3);
    let v = outcome.violation.expect("caught");
    assert_eq!(v.invariant, Invariant::StockMatchesJournal);
}

/// Seeds that found bugs in the edges: a coin whose last pulses were counted in the same step as
/// an input whose commit failed on a full disk was lost (1120), and one whose pulses ran on as the
/// controller stopped on a full disk was not counted (1701).
#[test]
fn seeds_that_lost_a_coin_at_a_stop_keep_every_coin_now() {
    for (seed, vends) in [(1120, 30), (1701, 20)] {
        let outcome = run_seed(&campaign("heavy", vends), seed);
        assert!(
            outcome.violation.is_none(),
            "seed {seed}: {:?}",
            outcome.violation
        );
        assert!(outcome.faults.get("disk_full").copied().unwrap_or(0) > 0);
    }
}

#[test]
fn swarm_rates_are_drawn_per_seed_and_replay_the_same() {
    let plan = FaultPlan::named("swarm").expect("swarm");
    let a = plan.rates_for(5);
    assert_eq!(a, plan.rates_for(5), "a seed replays with its rates");
    let many: Vec<FaultRates> = (0..50).map(|s| plan.rates_for(s)).collect();
    assert!(many.iter().any(|r| *r != a), "seeds differ");
    // Each fault is left out for some seeds and heavy for others.
    assert!(many.iter().any(|r| r.power_cut == 0.0));
    assert!(many.iter().any(|r| r.power_cut > 0.08));
    assert!(many.iter().all(|r| r.service >= 0.05 && r.jam <= 0.5));
    // The fixed profiles are the same for every seed.
    let heavy = FaultPlan::named("heavy").expect("heavy");
    assert_eq!(heavy.rates_for(1), heavy.rates_for(2));
    assert!(FaultPlan::named("stormy").is_err());
}

#[test]
fn swarm_seeds_break_no_invariant() {
    let report = run_campaign(&campaign("swarm", 20), 0, 60, 2);
    assert!(report.violations.is_empty(), "{}", report.to_text());
    assert_eq!(report.seeds, 60);
}

/// Books damaged on purpose while the power is off (a write-ahead log that lost its tail, a
/// record deleted without the key) are named at the next start, which refuses to sell: each
/// seed that met one ends there with no violation.
#[test]
fn lost_commits_and_keyless_edits_are_named_at_the_next_start() {
    for (fault, name) in [
        (
            FaultRates {
                wal_flip: 0.3,
                ..FaultRates::profile("light").expect("light")
            },
            "wal_flip",
        ),
        (
            FaultRates {
                keyless_edit: 0.3,
                ..FaultRates::profile("light").expect("light")
            },
            "keyless_edit",
        ),
    ] {
        let mut c = campaign("none", 30);
        c.faults = FaultPlan::Fixed(fault);
        let report = run_campaign(&c, 0, 20, 2);
        assert!(report.violations.is_empty(), "{}", report.to_text());
        let caught = report.faults.get(name).copied().unwrap_or(0);
        assert!(
            caught >= 10,
            "{name}: {caught} of 20 seeds: {:?}",
            report.faults
        );
    }
}
