//! `happiness torture`: the fault campaign.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use happiness::surprise::config::SURPRISES_FILE;
use happiness::torture::{run_campaign, run_seed, Campaign, FaultPlan};
#[cfg(feature = "inject-bugs")]
use happiness::vend::InjectedBug;

use super::{config_dir, load_configs};

#[derive(Debug, clap::Args)]
pub struct TortureArgs {
    /// Directory holding machine.toml and surprises.toml (default: ./config, else
    /// /etc/happiness).
    #[arg(long)]
    config: Option<PathBuf>,
    /// How many seeds to run.
    #[arg(long, default_value_t = 1000)]
    seeds: u64,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    start: u64,
    /// Replay this one seed (with --verbose, step by step).
    #[arg(long)]
    seed: Option<u64>,
    /// Paid vends per seed.
    #[arg(long, default_value_t = 50)]
    vends: u32,
    /// Fault profile: none, light, heavy, or swarm (rates drawn afresh for every seed).
    #[arg(long, default_value = "heavy")]
    faults: String,
    /// Print every step of a replayed seed.
    #[arg(long)]
    verbose: bool,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Run a deliberately broken controller, to see the checks fail (skip-refund, skip-stock).
    /// Only in test builds (the `inject-bugs` feature).
    #[cfg(feature = "inject-bugs")]
    #[arg(long, hide = true)]
    inject_bug: Option<String>,
}

pub fn torture(args: TortureArgs) -> ExitCode {
    let dir = config_dir(args.config);
    let (machine, surprises) = match load_configs(&dir) {
        Ok(both) => both,
        Err(code) => return code,
    };
    let faults = match FaultPlan::named(&args.faults) {
        Ok(f) => f,
        Err(e) => {
            tell!("error: --faults: {e}");
            return ExitCode::from(2);
        }
    };
    #[cfg(feature = "inject-bugs")]
    let inject_bug = match args.inject_bug.as_deref() {
        None => None,
        Some("skip-refund") => Some(InjectedBug::SkipRefund),
        Some("skip-stock") => Some(InjectedBug::SkipStock),
        Some(other) => {
            tell!("error: --inject-bug: unknown bug `{other}` (skip-refund, skip-stock)");
            return ExitCode::from(2);
        }
    };
    #[cfg(not(feature = "inject-bugs"))]
    let inject_bug = None;
    let surprises_text = std::fs::read_to_string(dir.join(SURPRISES_FILE)).unwrap_or_default();
    let campaign = Campaign {
        machine: Arc::new(machine),
        surprises,
        surprises_text,
        vends: args.vends,
        faults,
        inject_bug,
        keep_trace: args.verbose,
    };
    if let Some(seed) = args.seed {
        return replay(&campaign, seed, args.verbose, args.json);
    }
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(std::num::NonZeroUsize::get)
            .unwrap_or(1)
    });
    let report = run_campaign(&campaign, args.start, args.seeds, threads);
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(j) => say!("{j}"),
            Err(e) => tell!("error: {e}"),
        }
    } else {
        say!("{}", report.to_text());
    }
    if report.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Replay one seed: its steps (with `verbose`), what it did, and its violation if any.
fn replay(campaign: &Campaign, seed: u64, verbose: bool, json: bool) -> ExitCode {
    let outcome = run_seed(campaign, seed);
    if verbose {
        for line in &outcome.trace {
            say!("{line}");
        }
    }
    if json {
        match serde_json::to_string_pretty(&outcome) {
            Ok(j) => say!("{j}"),
            Err(e) => tell!("error: {e}"),
        }
    } else {
        say!(
            "seed {seed}: {} paid vends ({} delivered), {} steps, {:.1} virtual minutes, faults {:?}",
            outcome.vends,
            outcome.delivered,
            outcome.steps,
            outcome.virtual_secs / 60.0,
            outcome.faults
        );
        if matches!(campaign.faults, FaultPlan::Swarm) {
            say!("fault rates drawn for this seed: {:?}", outcome.rates);
        }
    }
    match outcome.violation {
        Some(v) => {
            tell!("VIOLATION: {v}");
            ExitCode::FAILURE
        }
        None => {
            say!("no violations");
            ExitCode::SUCCESS
        }
    }
}
