//! The fault campaign: the real controller, vend core, surprise engine, journal and simulated
//! hardware, run in virtual time by one seed that decides every customer, every fault and every
//! random number, with the machine's invariants checked after every step.
//!
//! Nothing here is a copy: a seed runs [`Controller`] (the same code `happiness run` uses) over a
//! [`SimHandle`]'s pins, with a named in-memory [`Journal`] that survives simulated power cuts. The
//! clock is manual and jumps from one deadline to the next, so an hour of machine time passes in
//! milliseconds and a seed replays exactly.
//!
//! Invariants (each violation names the invariant, the seed and the step):
//! - `credit-conserved`: inserted = spent + paid back + credit + escrow;
//! - `one-delivery-per-vend`: a motor runs only for an open, undelivered vend, and a vend is
//!   delivered at most once (so no payment dispenses its item twice);
//! - `one-motor`: at most one motor on in the simulated machine;
//! - `motor-time-limit`: no motor on longer than `timings.max_motor_on_ms`;
//! - `stock-matches-journal`: stock within capacity and equal to the journal's inventory;
//! - `surprise-caps`: surprises only right after a paid delivery, and never beyond a cap or
//!   budget of the policy in force;
//! - `intent-has-one-outcome`: at the end, every vend intent in the journal has its outcome;
//! - `books-balance`: the journal's money balance adds up;
//! - `books-sealed`: every record still matches its seal, at every restart and at the end;
//! - `acceptor-follows-books`: no coin goes in while the books cannot record it (no controller
//!   running, or the books' disk full): the acceptor is inhibited;
//! - `coins-accounted`: at the end, every coin customers put in is in the books, was handed back
//!   by the inhibited acceptor (`coin_returned_by_acceptor`), or is named in the log of a
//!   controller that stopped because even the space reserve could not record it;
//! - `safe-stop`: a controller that stops leaves no motor on;
//! - `loss-noticed`: books that lost committed records (a damaged write-ahead log) are named at
//!   the next start, which refuses to sell;
//! - `edit-noticed`: a record deleted without the seal key is named at the next start, which
//!   refuses to sell;
//! - `controller-error`: the controller stopped with an error the fault model did not provoke.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use happiness_hardware::sim::{self, Fault, SimHandle, SimNotice};
use happiness_hardware::{Clock, ManualTime, Timestamp};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::config::MachineConfig;
use crate::controller::{
    ConfigRejection, Controller, ControllerError, LocalClock, Setup, TraceSink,
};
use crate::journal::{edit_memory_books_without_key, DiskFault, Journal, MemoryCopy, MemoryKeeper};
use crate::localtime::LocalTime;
use crate::surprise::SurpriseConfig;
use crate::trace::{TraceEntry, TraceRecord};
use crate::vend::{ColumnId, Command, Event, InjectedBug, Notice};

/// What a campaign runs.
#[derive(Debug, Clone)]
pub struct Campaign {
    /// The machine.
    pub machine: Arc<MachineConfig>,
    /// Surprises at start.
    pub surprises: SurpriseConfig,
    /// Their file text (reloads are variations of it).
    pub surprises_text: String,
    /// Paid vends to start per seed.
    pub vends: u32,
    /// Fault rates: one profile for every seed, or drawn per seed.
    pub faults: FaultPlan,
    /// A deliberate bug, to prove the checks can fail.
    pub inject_bug: Option<InjectedBug>,
    /// Keep every trace line (for `--verbose` and replay comparisons).
    pub keep_trace: bool,
}

/// A broken invariant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// Which invariant.
    pub invariant: Invariant,
    /// The seed that found it.
    pub seed: u64,
    /// The step it was found at.
    pub step: u64,
    /// Virtual time, in milliseconds.
    pub t_ms: f64,
    /// What was seen.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seed {} step {} at {:.3}s: invariant `{}` violated: {} (replay: happiness torture --seed {} --verbose)",
            self.seed,
            self.step,
            self.t_ms / 1000.0,
            self.invariant,
            self.detail,
            self.seed
        )
    }
}

/// What one seed did.
#[derive(Debug, Clone, Serialize)]
pub struct SeedOutcome {
    /// The seed.
    pub seed: u64,
    /// Paid vends started.
    pub vends: u64,
    /// Paid vends delivered.
    pub delivered: u64,
    /// Steps taken.
    pub steps: u64,
    /// Virtual time covered.
    pub virtual_secs: f64,
    /// The fault rates it ran with.
    pub rates: FaultRates,
    /// Faults injected, per kind.
    pub faults: BTreeMap<&'static str, u64>,
    /// The first violation, if any.
    pub violation: Option<Violation>,
    /// Every trace line, when kept.
    #[serde(skip)]
    pub trace: Vec<String>,
}

impl SeedOutcome {
    /// A seed that has done nothing yet.
    fn new(seed: u64, rates: FaultRates) -> Self {
        SeedOutcome {
            seed,
            vends: 0,
            delivered: 0,
            steps: 0,
            virtual_secs: 0.0,
            rates,
            faults: BTreeMap::new(),
            violation: None,
            trace: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    Arrive,
    Coin(u32),
    Press(usize),
    CoinReturn,
    Take,
    Fault(FaultAction),
    Door(bool),
    ReloadValid,
    ReloadInvalid,
    PowerCut,
    Service,
    EndService,
    DiskFull,
    DiskFreed,
    ControllerStop,
    Restart,
    WalFlip,
    KeylessEdit,
}

mod actions;
mod checker;
mod faults;
mod invariants;
mod lifecycle;
mod report;
mod workload;

use faults::FaultAction;
pub use faults::{FaultPlan, FaultRates};
pub use report::{run_campaign, CampaignReport};
use workload::surprise_variant;

pub use checker::Invariant;
use checker::{Checked, Checker};

/// Unique names for the in-memory journals of seeds running at the same time.
static JOURNALS: AtomicU64 = AtomicU64::new(0);

struct Run<'c> {
    campaign: &'c Campaign,
    seed: u64,
    /// This seed's fault rates.
    faults: FaultRates,
    rng: ChaCha8Rng,
    hand: ManualTime,
    clock: Clock,
    sim: SimHandle,
    controller: Option<Controller>,
    trace: Option<UnboundedReceiver<TraceRecord>>,
    journal_name: String,
    _keeper: MemoryKeeper,
    queue: BinaryHeap<Reverse<(Timestamp, u64, Action)>>,
    seq: u64,
    step: u64,
    start_local: LocalTime,
    outcome: SeedOutcome,
    check: Checker,
    reloads: u32,
    /// The surprise config in force (what a restart starts with).
    surprises_now: SurpriseConfig,
    /// The books' disk while it is full.
    disk: Option<DiskFault>,
    /// Money customers put into the slot, the acceptor handed back, and a stopped controller
    /// named in its log as not booked: every coin must be in one of the books, the return cup or
    /// that log.
    coins: CoinCount,
    /// The books as they were at the last start (what a damaged write-ahead log leaves).
    copy: Option<MemoryCopy>,
    /// The books were damaged on purpose and the start named it: the machine refuses to sell
    /// until an operator comes, which ends the seed (its end checks would only find the damage).
    refused: Option<String>,
}

#[derive(Debug, Default)]
struct CoinCount {
    offered: u64,
    returned_by_acceptor: u64,
    logged_unrecorded: u64,
}

impl<'c> Run<'c> {
    fn new(campaign: &'c Campaign, seed: u64) -> Result<Run<'c>, String> {
        let (clock, hand) = Clock::manual();
        let machine = &campaign.machine;
        let columns = machine.sim_columns();
        let mut params = machine.sim.clone();
        params.seed = seed;
        let (_, sim) = sim::build(&machine.wiring, columns, params, clock.clone())
            .map_err(|e| e.to_string())?;
        let journal_name = format!(
            "happiness-torture-{}-{seed}",
            JOURNALS.fetch_add(1, Ordering::Relaxed)
        );
        let keeper = MemoryKeeper::new(&journal_name).map_err(|e| e.to_string())?;
        let mut run = Run {
            campaign,
            seed,
            faults: campaign.faults.rates_for(seed),
            rng: ChaCha8Rng::seed_from_u64(seed),
            hand,
            clock,
            sim,
            controller: None,
            trace: None,
            journal_name,
            _keeper: keeper,
            queue: BinaryHeap::new(),
            seq: 0,
            step: 0,
            start_local: LocalTime::from_ymd_hm(2026, 1, 5, 7, 0).unwrap_or_default(),
            outcome: SeedOutcome::new(seed, campaign.faults.rates_for(seed)),
            check: Checker {
                open: None,
                policy: campaign.surprises.policy.clone(),
                sales: Vec::new(),
                awards: Vec::new(),
                delivered_now: None,
                stock_changed: false,
                recovery: campaign.surprises.recovery.clone(),
                failed_now: false,
                offer: None,
                offers: Vec::new(),
                taken: Vec::new(),
            },
            reloads: 0,
            surprises_now: campaign.surprises.clone(),
            disk: None,
            coins: CoinCount::default(),
            copy: None,
            refused: None,
        };
        run.boot().map_err(|(_, d)| d)?;
        run.schedule(Timestamp::from_millis(500), Action::Arrive);
        Ok(run)
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn schedule(&mut self, at: Timestamp, action: Action) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, action)));
    }

    fn later(&mut self, ms: std::ops::Range<u64>, action: Action) {
        let delay = self.rng.random_range(ms);
        let at = self.now() + Duration::from_millis(delay);
        self.schedule(at, action);
    }

    fn count(&mut self, kind: &'static str) {
        *self.outcome.faults.entry(kind).or_insert(0) += 1;
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.rng.random::<f64>() < p
    }

    fn next_time(&self) -> Option<Timestamp> {
        let queued = self.queue.peek().map(|Reverse((t, _, _))| *t);
        let controller = self.controller.as_ref().and_then(Controller::next_deadline);
        [queued, controller, self.sim.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    fn step_once(&mut self, t: Timestamp) -> Checked {
        self.hand.set(t);
        self.check.delivered_now = None;
        self.check.failed_now = false;
        let (edges, notices) = self.sim.advance(t);
        self.count_returned(&notices);
        // With no controller running (stopped, not yet restarted) the world goes on alone.
        if let Some(controller) = self.controller.as_mut() {
            let result = step_controller(controller, t, edges, notices);
            self.settle(result)?;
        }
        self.drain()?;
        self.check.delivered_now = None;
        self.check.failed_now = false;
        while let Some(Reverse((at, _, action))) = self.queue.peek().copied() {
            if at > t {
                break;
            }
            self.queue.pop();
            if self.campaign.keep_trace {
                self.outcome.trace.push(format!(
                    "{:>6} [{:>9.3}s] action  {action:?}",
                    self.step,
                    t.as_micros() as f64 / 1e6
                ));
            }
            self.perform(action)?;
            self.drain()?;
        }
        self.invariants()
    }

    fn fail(&mut self, (invariant, detail): (Invariant, String)) {
        #[allow(clippy::cast_precision_loss)]
        let t_ms = self.now().as_micros() as f64 / 1000.0;
        self.outcome.violation = Some(Violation {
            invariant,
            seed: self.seed,
            step: self.step,
            t_ms,
            detail,
        });
    }

    fn run(mut self) -> SeedOutcome {
        // A hard stop for a seed that never settles: plenty for the vends asked for.
        let horizon = Timestamp::from_millis(u64::from(self.campaign.vends) * 120_000 + 600_000);
        let result = loop {
            let Some(t) = self.next_time() else {
                break Ok(());
            };
            if t > horizon
                || (self.queue.is_empty() && self.outcome.vends >= u64::from(self.campaign.vends))
            {
                break Ok(());
            }
            self.step += 1;
            if let Err(e) = self.step_once(t) {
                break Err(e);
            }
            if self.refused.is_some() {
                break Ok(());
            }
        };
        let result = if self.refused.is_some() {
            result
        } else {
            result.and_then(|()| self.finish())
        };
        if let Err(e) = result {
            self.fail(e);
        }
        self.outcome.steps = self.step;
        #[allow(clippy::cast_precision_loss)]
        {
            self.outcome.virtual_secs = self.now().as_micros() as f64 / 1e6;
        }
        self.outcome
    }
}

/// Hand a controller what the world did up to `t`, and act on its due deadlines. As in the
/// kiosk's dispatch, a step that fails stops the controller at once, and the edges after it
/// still reach the stopped controller (which counts a coin already on its way in).
fn step_controller(
    controller: &mut Controller,
    t: Timestamp,
    edges: Vec<happiness_hardware::RawEdge>,
    notices: Vec<happiness_hardware::Stamped<SimNotice>>,
) -> Result<(), ControllerError> {
    let mut first = None;
    let mut note = |c: &mut Controller, result: Result<(), ControllerError>| {
        if let Err(e) = result {
            c.halt(&e.to_string());
            first.get_or_insert(e);
        }
    };
    for edge in edges {
        let result = controller.on_edge(edge);
        note(controller, result);
    }
    for notice in notices {
        controller.on_sim_notice(notice);
    }
    if controller.next_deadline().is_some_and(|d| d <= t) {
        let result = controller.on_tick();
        note(controller, result);
    }
    first.map_or(Ok(()), Err)
}

/// Run one seed.
pub fn run_seed(campaign: &Campaign, seed: u64) -> SeedOutcome {
    match Run::new(campaign, seed) {
        Ok(run) => run.run(),
        Err(detail) => SeedOutcome {
            violation: Some(Violation {
                invariant: Invariant::ControllerError,
                seed,
                step: 0,
                t_ms: 0.0,
                detail,
            }),
            ..SeedOutcome::new(seed, campaign.faults.rates_for(seed))
        },
    }
}

#[cfg(test)]
mod tests;
