//! Running many seeds on several threads, and what they found.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use super::{run_seed, Campaign, SeedOutcome, Violation};

/// What a campaign found.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignReport {
    /// Seeds run.
    pub seeds: u64,
    /// Paid vends started.
    pub vends: u64,
    /// Paid vends delivered.
    pub delivered: u64,
    /// Steps taken.
    pub steps: u64,
    /// Virtual hours covered.
    pub virtual_hours: f64,
    /// Faults injected per kind.
    pub faults: BTreeMap<&'static str, u64>,
    /// Every violation found (the first per seed).
    pub violations: Vec<Violation>,
    /// Wall time.
    pub elapsed_ms: u64,
    /// Paid vends per second of wall time, per thread.
    pub vends_per_second_per_core: f64,
    /// Threads used.
    pub threads: usize,
}

/// Run seeds `start..start + count` on `threads` threads; the report is the same whatever the
/// thread count.
pub fn run_campaign(campaign: &Campaign, start: u64, count: u64, threads: usize) -> CampaignReport {
    let began = std::time::Instant::now();
    let threads = threads.max(1);
    let next = AtomicU64::new(0);
    let mut outcomes: Vec<SeedOutcome> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= count {
                            break;
                        }
                        let mut outcome = run_seed(campaign, start + i);
                        outcome.trace.clear();
                        mine.push(outcome);
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    outcomes.sort_by_key(|o| o.seed);
    let elapsed = began.elapsed();
    let mut faults = BTreeMap::new();
    for o in &outcomes {
        for (k, v) in &o.faults {
            *faults.entry(*k).or_insert(0) += v;
        }
    }
    let vends: u64 = outcomes.iter().map(|o| o.vends).sum();
    #[allow(clippy::cast_precision_loss)]
    let per_core = if elapsed.as_secs_f64() > 0.0 {
        vends as f64 / elapsed.as_secs_f64() / threads as f64
    } else {
        0.0
    };
    CampaignReport {
        seeds: outcomes.len() as u64,
        vends,
        delivered: outcomes.iter().map(|o| o.delivered).sum(),
        steps: outcomes.iter().map(|o| o.steps).sum(),
        virtual_hours: outcomes.iter().map(|o| o.virtual_secs).sum::<f64>() / 3600.0,
        faults,
        violations: outcomes
            .iter()
            .filter_map(|o| o.violation.clone())
            .collect(),
        elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        vends_per_second_per_core: per_core,
        threads,
    }
}

impl CampaignReport {
    /// The report for people.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Seeds run: {}   paid vends: {} ({} delivered)   steps: {}   virtual time: {:.1} h",
            self.seeds, self.vends, self.delivered, self.steps, self.virtual_hours
        );
        let _ = writeln!(out, "Faults injected:");
        for (k, v) in &self.faults {
            let _ = writeln!(out, "  {k:<22} {v:>9}");
        }
        let _ = writeln!(out, "Violations: {}", self.violations.len());
        for v in self.violations.iter().take(20) {
            let _ = writeln!(out, "  {v}");
        }
        let _ = write!(
            out,
            "Ran in {} ms on {} threads: {:.0} simulated vends per second per core",
            self.elapsed_ms, self.threads, self.vends_per_second_per_core
        );
        out
    }
}
