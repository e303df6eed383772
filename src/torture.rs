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
use crate::journal::{DiskFault, Journal, MemoryKeeper};
use crate::localtime::LocalTime;
use crate::surprise::SurpriseConfig;
use crate::trace::{TraceEntry, TraceRecord};
use crate::vend::{ColumnId, Command, Event, InjectedBug, Notice};

/// How often each fault is injected, per customer visit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FaultRates {
    /// A spiral jams.
    pub jam: f64,
    /// A column's items fall past the beam unseen.
    pub miss: f64,
    /// An item hangs on the spiral until the next turn.
    pub hang: f64,
    /// A turn drops two items.
    pub double: f64,
    /// A column is physically empty while the controller believes otherwise.
    pub empty: f64,
    /// The drop beam sticks for a while.
    pub stuck: f64,
    /// Switches and coin pulses bounce during the visit.
    pub bounce: f64,
    /// The service door opens in the middle of a vend.
    pub door_mid_vend: f64,
    /// A valid surprise config is loaded mid-vend.
    pub reload_valid: f64,
    /// An invalid surprise config is offered mid-vend.
    pub reload_invalid: f64,
    /// The power fails (and comes back) around a vend.
    pub power_cut: f64,
    /// The operator services the machine (fixes faults, restocks, resets columns).
    pub service: f64,
    /// The books' disk fills up at a random commit (usually the space reserve lets what is
    /// under way finish; now and then it is gone too and the controller stops).
    pub disk_full: f64,
    /// The controller stops mid-vend (a dead driver, a bug) and the service manager restarts it
    /// on the same books a few seconds later.
    pub controller_stop: f64,
}

impl FaultRates {
    /// A named profile: `none`, `light` or `heavy`.
    pub fn profile(name: &str) -> Result<FaultRates, String> {
        let none = FaultRates {
            jam: 0.0,
            miss: 0.0,
            hang: 0.0,
            double: 0.0,
            empty: 0.0,
            stuck: 0.0,
            bounce: 0.0,
            door_mid_vend: 0.0,
            reload_valid: 0.0,
            reload_invalid: 0.0,
            power_cut: 0.0,
            service: 0.05,
            disk_full: 0.0,
            controller_stop: 0.0,
        };
        match name {
            "none" => Ok(none),
            "light" => Ok(FaultRates {
                jam: 0.02,
                miss: 0.02,
                hang: 0.03,
                double: 0.02,
                empty: 0.01,
                stuck: 0.01,
                bounce: 0.05,
                door_mid_vend: 0.02,
                reload_valid: 0.02,
                reload_invalid: 0.02,
                power_cut: 0.02,
                service: 0.1,
                disk_full: 0.005,
                controller_stop: 0.005,
            }),
            "heavy" => Ok(FaultRates {
                jam: 0.08,
                miss: 0.08,
                hang: 0.1,
                double: 0.06,
                empty: 0.04,
                stuck: 0.05,
                bounce: 0.2,
                door_mid_vend: 0.08,
                reload_valid: 0.06,
                reload_invalid: 0.06,
                power_cut: 0.08,
                service: 0.2,
                disk_full: 0.03,
                controller_stop: 0.03,
            }),
            other => Err(format!(
                "unknown fault profile `{other}` (use none, light or heavy)"
            )),
        }
    }
}

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
    /// Fault rates.
    pub faults: FaultRates,
    /// A deliberate bug, to prove the checks can fail.
    pub inject_bug: Option<InjectedBug>,
    /// Keep every trace line (for `--verbose` and replay comparisons).
    pub keep_trace: bool,
}

/// A broken invariant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// Which invariant.
    pub invariant: &'static str,
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
    /// Faults injected, per kind.
    pub faults: BTreeMap<&'static str, u64>,
    /// The first violation, if any.
    pub violation: Option<Violation>,
    /// Every trace line, when kept.
    #[serde(skip)]
    pub trace: Vec<String>,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum FaultAction {
    Jam(u8),
    Miss(u8),
    Hang(u8),
    Double(u8),
    Empty(u8),
    Stuck(bool),
    Bounce(bool),
}

impl FaultAction {
    fn name(self) -> &'static str {
        match self {
            FaultAction::Jam(_) => "jam",
            FaultAction::Miss(_) => "missed_beam",
            FaultAction::Hang(_) => "hung_item",
            FaultAction::Double(_) => "double_drop",
            FaultAction::Empty(_) => "empty_column",
            FaultAction::Stuck(_) => "stuck_sensor",
            FaultAction::Bounce(_) => "switch_bounce",
        }
    }

    fn fault(self) -> Fault {
        match self {
            FaultAction::Jam(column) => Fault::Jam { column },
            FaultAction::Miss(column) => Fault::MissBeam { column },
            FaultAction::Hang(column) => Fault::Hang { column },
            FaultAction::Double(column) => Fault::DoubleDrop { column },
            FaultAction::Empty(column) => Fault::Empty { column },
            FaultAction::Stuck(stuck) => Fault::StuckBeam { sensor: 0, stuck },
            FaultAction::Bounce(on) => Fault::Bounce { on },
        }
    }
}

mod checker;

use checker::{Checked, Checker};

/// Unique names for the in-memory journals of seeds running at the same time.
static JOURNALS: AtomicU64 = AtomicU64::new(0);

struct Run<'c> {
    campaign: &'c Campaign,
    seed: u64,
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
}

#[derive(Debug, Default)]
struct CoinCount {
    offered: u64,
    returned_by_acceptor: u64,
    logged_unrecorded: u64,
}

fn surprise_variant(text: &str, probability: f64) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut replaced = false;
    for line in text.lines() {
        if !replaced && line.trim_start().starts_with("probability") {
            out.push_str(&format!("probability = {probability}"));
            replaced = true;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if !replaced {
        out = out.replacen(
            "[policy]",
            &format!("[policy]\nprobability = {probability}"),
            1,
        );
    }
    out
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
            outcome: SeedOutcome {
                seed,
                vends: 0,
                delivered: 0,
                steps: 0,
                virtual_secs: 0.0,
                faults: BTreeMap::new(),
                violation: None,
                trace: Vec::new(),
            },
            check: Checker {
                open: None,
                policy: campaign.surprises.policy.clone(),
                sales: Vec::new(),
                awards: Vec::new(),
                delivered_now: None,
                stock_changed: false,
            },
            reloads: 0,
            surprises_now: campaign.surprises.clone(),
            disk: None,
            coins: CoinCount::default(),
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

    /// Start (or restart after a power cut) the controller on the books kept in memory.
    fn boot(&mut self) -> Checked {
        let err = |e: String| ("controller-error", e);
        let mut journal =
            Journal::open_shared_memory(&self.journal_name).map_err(|e| err(e.to_string()))?;
        let elapsed = i64::try_from(self.now().as_micros() / 1_000_000).unwrap_or(0);
        let surprises = self.surprises_now.clone();
        // Every start checks the books first, as the kiosk does: the seals must hold over
        // whatever the journal wrote, cut short or not.
        let check = journal
            .check_books()
            .map_err(|e| ("books-sealed", e.to_string()))?;
        if let Some(e) = check.failure(journal.path()) {
            return Err(("books-sealed", e.to_string()));
        }
        // A disk still full at a restart has no reserve left: it went to the last run.
        journal.set_disk_fault(self.disk.map(|_| DiskFault {
            full_at_commit: 0,
            reserve_helps: false,
        }));
        let recovery = match journal.recover(
            &self.campaign.machine,
            self.start_local.plus_secs(elapsed),
            surprises.policy.budget_window_hours,
        ) {
            Ok(r) => r,
            // A full disk with no reserve left: the kiosk cannot start until room is made (the
            // service manager keeps trying; the outputs stay as the last stop left them).
            Err(e) if e.is_storage_full() && self.disk.is_some() => {
                self.controller = None;
                return Ok(());
            }
            Err(e) => return Err(err(e.to_string())),
        };
        let machine = self.sim.machine().map_err(|e| err(e.to_string()))?;
        let mut sink = TraceSink::new();
        self.trace = Some(sink.subscribe());
        // The controller's local time starts at the simulation's start, so it must count from the
        // same zero as the manual clock: give it the start and let it add elapsed time.
        let mut setup = Setup::basic(
            Arc::clone(&self.campaign.machine),
            surprises,
            self.seed ^ 0x5eed_5a4f_0000_0001,
            LocalClock::StartingAt(self.start_local),
        );
        setup.inject_bug = self.campaign.inject_bug;
        let started = Controller::new(
            setup,
            Box::new(machine),
            self.clock.clone(),
            sink,
            journal,
            &recovery,
        );
        self.controller = match started {
            Ok((controller, _status)) => Some(controller),
            Err(ControllerError::Journal(e)) if e.is_storage_full() && self.disk.is_some() => None,
            Err(e) => return Err(err(e.to_string())),
        };
        // A restarted machine knows no open vend; what the cut left open was closed by recovery.
        self.check.open = None;
        Ok(())
    }

    fn count(&mut self, kind: &'static str) {
        *self.outcome.faults.entry(kind).or_insert(0) += 1;
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.rng.random::<f64>() < p
    }

    fn customer(&mut self) {
        let rates = self.campaign.faults;
        let machine = Arc::clone(&self.campaign.machine);
        let buttons = machine.buttons.len().max(1);
        let button = self.rng.random_range(1..=buttons);
        let price = machine
            .buttons
            .get(button - 1)
            .and_then(|c| machine.columns.get(c.index()))
            .map_or(0, |c| c.price.get());
        let mut t = self.now();
        // Coins until the price is covered (now and then a customer gives up short).
        let mut paid = 0u64;
        let short = self.chance(0.1);
        while paid < price && !(short && paid > 0) && !machine.coins.is_empty() {
            // Most people pay with one coin that covers the price; some count out small ones.
            let covering = machine
                .coins
                .iter()
                .filter(|c| c.value.get() >= price - paid)
                .min_by_key(|c| c.value);
            let coin = match covering {
                Some(c) if self.chance(0.7) => *c,
                _ => machine.coins[self.rng.random_range(0..machine.coins.len())],
            };
            paid += coin.value.get();
            self.schedule(t, Action::Coin(coin.pulses));
            t = t + Duration::from_millis(900);
        }
        let presses = if self.chance(0.15) {
            self.rng.random_range(2..=5)
        } else {
            1
        };
        let press_at = t;
        for i in 0..presses {
            let b = if i == 0 {
                button
            } else {
                self.rng.random_range(1..=buttons)
            };
            self.schedule(t, Action::Press(b));
            t = t + Duration::from_millis(self.rng.random_range(60..400));
        }
        let mut faults = Vec::new();
        let columns = u8::try_from(machine.columns.len()).unwrap_or(1).max(1);
        let mut column = || self.rng.random_range(0..columns);
        let c = (column(), column(), column(), column(), column());
        for (rate, fault) in [
            (rates.jam, FaultAction::Jam(c.0)),
            (rates.miss, FaultAction::Miss(c.1)),
            (rates.hang, FaultAction::Hang(c.2)),
            (rates.double, FaultAction::Double(c.3)),
            (rates.empty, FaultAction::Empty(c.4)),
        ] {
            if self.chance(rate) {
                faults.push(fault);
            }
        }
        for f in faults {
            self.schedule(self.now(), Action::Fault(f));
        }
        if self.chance(rates.stuck) {
            let on = press_at + Duration::from_millis(self.rng.random_range(0..3000));
            self.schedule(on, Action::Fault(FaultAction::Stuck(true)));
            let off = on + Duration::from_millis(self.rng.random_range(1000..8000));
            self.schedule(off, Action::Fault(FaultAction::Stuck(false)));
        }
        if self.chance(rates.bounce) {
            self.schedule(self.now(), Action::Fault(FaultAction::Bounce(true)));
            self.schedule(
                t + Duration::from_secs(5),
                Action::Fault(FaultAction::Bounce(false)),
            );
        }
        if self.chance(rates.door_mid_vend) {
            let open = press_at + Duration::from_millis(self.rng.random_range(200..1500));
            self.schedule(open, Action::Door(true));
            let close = open + Duration::from_millis(self.rng.random_range(500..4000));
            self.schedule(close, Action::Door(false));
        }
        if self.chance(rates.reload_valid) {
            let at = press_at + Duration::from_millis(self.rng.random_range(100..1500));
            self.schedule(at, Action::ReloadValid);
        }
        if self.chance(rates.reload_invalid) {
            let at = press_at + Duration::from_millis(self.rng.random_range(100..1500));
            self.schedule(at, Action::ReloadInvalid);
        }
        if self.chance(rates.power_cut) {
            let at = press_at + Duration::from_millis(self.rng.random_range(0..3000));
            self.schedule(at, Action::PowerCut);
        }
        if self.chance(rates.disk_full) {
            let at = press_at + Duration::from_millis(self.rng.random_range(0..3000));
            self.schedule(at, Action::DiskFull);
        }
        if self.chance(rates.controller_stop) {
            let at = press_at + Duration::from_millis(self.rng.random_range(0..3000));
            self.schedule(at, Action::ControllerStop);
        }
        let done = t + Duration::from_millis(self.rng.random_range(3000..7000));
        self.schedule(done, Action::Take);
        if self.chance(0.3) {
            self.schedule(done, Action::CoinReturn);
        }
        let faulted = self.controller.as_ref().is_some_and(|c| {
            (0..c.core().column_count()).any(|i| {
                ColumnId::from_index(i)
                    .and_then(|col| c.core().status(col))
                    .is_some_and(|s| s != crate::vend::ColumnStatus::InService)
            })
        });
        if self.chance(if faulted { 0.5 } else { rates.service }) {
            self.schedule(done + Duration::from_secs(1), Action::Service);
        }
        if self.outcome.vends < u64::from(self.campaign.vends) {
            let next = done + Duration::from_millis(self.rng.random_range(500..15_000));
            self.schedule(next, Action::Arrive);
        }
    }

    /// What a controller's step came to: a stop the fault model provoked (the disk full with
    /// the reserve gone) is the machine stopping safely; anything else is a violation.
    fn settle(&mut self, result: Result<(), ControllerError>) -> Checked {
        match result {
            Ok(()) => Ok(()),
            Err(ControllerError::Journal(e)) if e.is_storage_full() && self.disk.is_some() => {
                self.stop_controller(&e.to_string())
            }
            Err(e) => Err(("controller-error", e.to_string())),
        }
    }

    /// The controller stops as the kiosk's does: safe state, out of service, counting only a coin
    /// already on its way in, until the service manager restarts it.
    fn stop_controller(&mut self, reason: &str) -> Checked {
        if let Some(c) = self.controller.as_mut() {
            c.halt(reason);
            if !self.sim.motors_on().is_empty() {
                return Err((
                    "safe-stop",
                    format!("motors on after the stop: {:?}", self.sim.motors_on()),
                ));
            }
        }
        self.drain()
    }

    fn count_returned(&mut self, notices: &[happiness_hardware::Stamped<SimNotice>]) {
        for n in notices {
            if let SimNotice::CoinReturnedByAcceptor { pulses } = n.event {
                self.coins.returned_by_acceptor += self.value_of(pulses);
            }
        }
    }

    fn value_of(&self, pulses: u32) -> u64 {
        self.campaign
            .machine
            .coin_for_pulses(pulses)
            .map_or(0, |c| c.get())
    }

    /// The controller, if one runs and has not stopped.
    fn running(&mut self) -> Option<&mut Controller> {
        self.controller.as_mut().filter(|c| !c.is_halted())
    }

    fn controller(&mut self) -> Result<&mut Controller, (&'static str, String)> {
        self.controller
            .as_mut()
            .ok_or(("controller-error", "no controller running".to_string()))
    }

    fn perform(&mut self, action: Action) -> Checked {
        match action {
            Action::Arrive => self.customer(),
            // Refusals (an inhibited acceptor, a machine without a part) are part of the game.
            Action::Coin(pulses) => {
                self.coins.offered += self.value_of(pulses);
                // Handed back if the acceptor is inhibited: the simulator reports that.
                let _ = self.sim.insert_coin(pulses);
            }
            Action::Press(n) => {
                let _ = self.sim.press(n);
            }
            Action::CoinReturn => {
                let _ = self.sim.press_coin_return();
            }
            Action::Take => {
                self.sim.take_tray();
            }
            Action::Fault(f) => {
                self.count(f.name());
                let _ = self.sim.inject(f.fault());
            }
            Action::Door(open) => {
                if open {
                    self.count("door_mid_vend");
                }
                let _ = self.sim.set_door(open);
            }
            Action::ReloadValid => {
                self.count("config_reload_valid");
                self.reloads += 1;
                let p = f64::from(self.rng.random_range(0..=100u32)) / 100.0;
                let text = surprise_variant(&self.campaign.surprises_text, p);
                let parsed = SurpriseConfig::from_toml(
                    std::path::Path::new("surprises.toml"),
                    &text,
                    &self.campaign.machine,
                );
                let cfg = parsed
                    .map_err(|e| ("controller-error", format!("valid reload refused: {e}")))?;
                let disk_full = self.disk.is_some();
                let Some(controller) = self.running() else {
                    return Ok(());
                };
                match controller.apply_surprises(&text, "torture") {
                    Ok(_) => {
                        self.check.policy = cfg.policy.clone();
                        self.surprises_now = cfg;
                    }
                    // A change the books cannot record is refused, and the old one stays.
                    Err(ConfigRejection::Storage { .. }) if disk_full => {}
                    Err(e) => {
                        return Err(("controller-error", format!("valid reload refused: {e:?}")))
                    }
                }
            }
            Action::ReloadInvalid => {
                self.count("config_reload_invalid");
                let text = surprise_variant(&self.campaign.surprises_text, 7.0);
                let Some(controller) = self.running() else {
                    return Ok(());
                };
                if controller.apply_surprises(&text, "torture").is_ok() {
                    return Err((
                        "controller-error",
                        "an invalid surprise config was accepted".into(),
                    ));
                }
            }
            Action::PowerCut => {
                self.count("power_cut");
                self.sim.power_cut();
                // The controller dies with the power: no shutdown, no all-off, no goodbyes.
                self.drain()?;
                self.controller = None;
                self.boot()?;
            }
            Action::DiskFull => {
                if self.disk.is_some() {
                    return Ok(());
                }
                self.count("disk_full");
                let reserve_helps = self.chance(0.85);
                let after = self.rng.random_range(0..4u64);
                let commits = self
                    .controller
                    .as_ref()
                    .map_or(0, |c| c.journal().stats().commits);
                let fault = DiskFault {
                    full_at_commit: commits + after,
                    reserve_helps,
                };
                if let Some(c) = self.controller.as_mut() {
                    c.journal_mut().set_disk_fault(Some(fault));
                }
                self.disk = Some(fault);
                self.later(20_000..120_000, Action::DiskFreed);
            }
            Action::DiskFreed => {
                self.disk = None;
                match self.running() {
                    // The controller notices by itself (it looks again while the disk is full).
                    Some(c) => c.journal_mut().set_disk_fault(None),
                    // The service manager keeps trying to start it; now it can.
                    None => self.later(1_000..5_000, Action::Restart),
                }
            }
            Action::ControllerStop => {
                if self.running().is_some() {
                    self.count("controller_stop");
                    self.stop_controller("the controller stopped (a dead driver, a bug)")?;
                    self.later(1_000..8_000, Action::Restart);
                }
            }
            Action::Restart => {
                if self.running().is_none() {
                    self.count("restart");
                    self.drain()?;
                    self.controller = None;
                    self.boot()?;
                }
            }
            Action::Service => {
                self.count("operator_service");
                let _ = self.sim.set_door(true);
                let columns = self.campaign.machine.columns.len();
                for i in 0..columns {
                    let column = u8::try_from(i).unwrap_or(0);
                    let _ = self.sim.inject(Fault::Fix { column });
                    let capacity = self.campaign.machine.columns[i].capacity;
                    let have = self.sim.stock(i + 1).unwrap_or(0);
                    let _ = self.sim.load(i + 1, capacity.saturating_sub(have));
                }
                let _ = self.sim.inject(Fault::StuckBeam {
                    sensor: 0,
                    stuck: false,
                });
                self.later(2000..20_000, Action::EndService);
            }
            Action::EndService => {
                let now = self.now();
                if let Some(controller) = self.running() {
                    let mut result = controller.feed(now, Event::Restock { column: None });
                    for i in 0..controller.core().column_count() {
                        if let Some(column) = ColumnId::from_index(i) {
                            result = result
                                .and_then(|()| controller.feed(now, Event::ResetColumn { column }));
                        }
                    }
                    self.settle(result)?;
                }
                let _ = self.sim.set_door(false);
            }
        }
        Ok(())
    }

    /// Feed the controller's trace to the checker (and keep it, when asked to).
    fn drain(&mut self) -> Checked {
        let Some(rx) = self.trace.as_mut() else {
            return Ok(());
        };
        let mut records = Vec::new();
        while let Ok(r) = rx.try_recv() {
            records.push(r);
        }
        for r in records {
            if self.campaign.keep_trace {
                self.outcome.trace.push(format!(
                    "{:>6} {}",
                    self.step,
                    r.to_text(&self.campaign.machine.currency)
                ));
            }
            if let TraceEntry::Unrecorded { notices } = &r.entry {
                for n in notices {
                    if let Notice::CreditIn { amount, .. } = n {
                        self.coins.logged_unrecorded += amount.get();
                    }
                }
            }
            if let TraceEntry::Command {
                command: Command::Notice(n),
                ..
            } = &r.entry
            {
                match n {
                    Notice::VendStarted { .. } => self.outcome.vends += 1,
                    Notice::VendDelivered { .. } => self.outcome.delivered += 1,
                    _ => {}
                }
            }
            self.check.command(self.start_local, &r)?;
        }
        Ok(())
    }

    fn invariants(&mut self) -> Checked {
        // No coin goes in that the books cannot record: without a running controller that can
        // write its books, the acceptor is inhibited.
        let why_not = match self.controller.as_ref() {
            None => Some("no controller runs"),
            Some(c) if c.is_halted() => Some("the controller has stopped"),
            Some(c) if c.core().storage_full() => Some("the books' disk is full"),
            Some(_) => None,
        };
        // (A machine wired without an inhibit line cannot keep coins out; the shipped one can.)
        let can_inhibit = self.campaign.machine.wiring.coin_inhibit.is_some();
        if let Some(why) = why_not.filter(|_| can_inhibit && !self.sim.inhibited()) {
            return Err((
                "acceptor-follows-books",
                format!("the acceptor takes coins while {why}"),
            ));
        }
        // A stopped controller's core holds what its last step did, recorded or not: the books
        // are checked at the restart instead.
        let Some(controller) = self.controller.as_ref().filter(|c| !c.is_halted()) else {
            return Ok(());
        };
        let core = controller.core();
        let l = core.ledger();
        let held = l
            .spent
            .saturating_add(l.returned)
            .saturating_add(core.credit())
            .saturating_add(core.escrow());
        if l.inserted != held {
            return Err((
                "credit-conserved",
                format!(
                    "inserted {} != spent {} + paid back {} + credit {} + escrow {}",
                    l.inserted,
                    l.spent,
                    l.returned,
                    core.credit(),
                    core.escrow()
                ),
            ));
        }
        let on = self.sim.motors_on_since();
        if on.len() > 1 {
            return Err(("one-motor", format!("motors on: {on:?}")));
        }
        let limit = self.campaign.machine.timings.max_motor_on;
        if let Some((c, since)) = on.first() {
            let for_how_long = self.now().saturating_since(*since);
            if for_how_long > limit {
                return Err((
                    "motor-time-limit",
                    format!(
                        "column {} motor on for {for_how_long:?} (limit {limit:?})",
                        c + 1
                    ),
                ));
            }
        }
        if std::mem::take(&mut self.check.stock_changed) {
            let books = controller
                .journal()
                .inventory()
                .map_err(|e| ("stock-matches-journal", e.to_string()))?;
            for (no, stock) in books {
                let column = usize::try_from(no).ok().and_then(ColumnId::from_number);
                let Some(column) = column else { continue };
                let mine = core.stock(column).unwrap_or(0);
                let capacity = self.campaign.machine.columns[column.index()].capacity;
                if i64::from(mine) != stock || mine > capacity {
                    return Err((
                        "stock-matches-journal",
                        format!(
                            "column {column}: controller says {mine}, journal says {stock} (capacity {capacity})"
                        ),
                    ));
                }
            }
        }
        Ok(())
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
        let (edges, notices) = self.sim.advance(t);
        self.count_returned(&notices);
        // With no controller running (stopped, not yet restarted) the world goes on alone.
        if let Some(controller) = self.controller.as_mut() {
            let result = step_controller(controller, t, edges, notices);
            self.settle(result)?;
        }
        self.drain()?;
        self.check.delivered_now = None;
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

    fn finish(&mut self) -> Checked {
        // The operator makes room and the kiosk runs again, for the last checks.
        if self.disk.take().is_some() {
            if let Some(c) = self.controller.as_mut() {
                c.journal_mut().set_disk_fault(None);
            }
        }
        if self.running().is_none() {
            self.drain()?;
            self.controller = None;
            self.boot()?;
        }
        // Let the last vend, surprise and payout finish.
        let end = self.now() + Duration::from_secs(60);
        while let Some(t) = self.next_time() {
            if t > end {
                break;
            }
            self.step += 1;
            self.step_once(t)?;
        }
        let controller = self.controller()?;
        controller
            .stop()
            .map_err(|e| ("controller-error", e.to_string()))?;
        self.drain()?;
        let controller = self.controller()?;
        let journal = controller.journal();
        let open = journal
            .open_vends()
            .map_err(|e| ("intent-has-one-outcome", e.to_string()))?;
        if open > 0 && !controller.core().is_vending() {
            return Err((
                "intent-has-one-outcome",
                format!("{open} vend intents without an outcome"),
            ));
        }
        let report = journal
            .report()
            .map_err(|e| ("books-balance", e.to_string()))?;
        if !report.money.balanced {
            return Err(("books-balance", format!("{:?}", report.money)));
        }
        if report.integrity != "ok" {
            return Err(("books-balance", format!("integrity: {}", report.integrity)));
        }
        if let Some(problem) = report.seals.problems.first() {
            return Err(("books-sealed", problem.to_string()));
        }
        // Every coin a customer put in is in the books, back in their hand (an inhibited
        // acceptor returns it), or named in the log of a controller that stopped on a full disk.
        let (_, late) = self.sim.advance(self.now());
        self.count_returned(&late);
        let c = &self.coins;
        let recorded = report.money.inserted.get();
        if c.offered != recorded + c.returned_by_acceptor + c.logged_unrecorded {
            return Err((
                "coins-accounted",
                format!(
                    "customers inserted {} but the books hold {recorded}, the acceptor handed \
                     back {} and {} were logged as not recorded",
                    c.offered, c.returned_by_acceptor, c.logged_unrecorded
                ),
            ));
        }
        Ok(())
    }

    fn fail(&mut self, (invariant, detail): (&'static str, String)) {
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
        };
        let result = result.and_then(|()| self.finish());
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
            seed,
            vends: 0,
            delivered: 0,
            steps: 0,
            virtual_secs: 0.0,
            faults: BTreeMap::new(),
            violation: Some(Violation {
                invariant: "controller-error",
                seed,
                step: 0,
                t_ms: 0.0,
                detail,
            }),
            trace: Vec::new(),
        },
    }
}

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

#[cfg(test)]
mod tests;
