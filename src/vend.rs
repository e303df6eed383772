//! The vend session state machine: events and the current time in, commands out.
//!
//! No I/O, no clock reads, no runtime: [`VendCore::handle`] takes the time an event happened,
//! [`VendCore::next_deadline`] says when the core next needs [`VendCore::poll`], and everything the
//! machine must do comes back as [`Command`]s. This is what lets the same logic run on GPIO, on the
//! simulator, and in deterministic tests.
//!
//! It owns the rules customers depend on:
//! - at most one motor on, and never longer than the hard maximum on-time;
//! - sure-vend: a vend is delivered only when the drop beam sees the item; a miss is retried with a
//!   bounded number of nudges, then the customer's money goes back to their credit and the column
//!   is taken out of service;
//! - sold-out, out-of-order and door-open refuse to vend, with a message, and keep the credit;
//! - credit is conserved: every cent inserted is held, spent on a delivered item, or returned;
//! - surprises are asked for only after a paid item is confirmed delivered, never while the door is
//!   open or anything is faulted, and their items go through the same sure-vend path.
//!
//! It must not know about pins, files or the clock.
//!
//! One type, its `impl` spread over files by concern: this file holds the state, the entry points
//! and the shared helpers (deadlines, the idle screen, lamps); `dispense.rs` selling and sure-vend,
//! `card.rs` paying by card through the cashless reader, `change.rs` change from an MDB changer,
//! `payout.rs` the hopper, `service.rs` columns, sensors, the door and the disk,
//! `surprise_run.rs` running an award; `protocol.rs` and `screen.rs` hold the types that go in
//! and out.

use std::collections::VecDeque;

use happiness_hardware::Timestamp;
use serde::Serialize;

use crate::localtime::LocalTime;
use crate::money::Cents;
use crate::surprise::{SurpriseConfig, SurpriseEngine, VendFacts};

pub use card::{CARD_WAIT, CHOICE_WAIT};
pub use change::CHANGE_WAIT;
pub use protocol::{
    AwardOrigin, ColumnStatus, Command, Event, FailReason, Notice, Refusal, SurpriseHold,
};
pub use recovery::{Lapse, OfferView, RECOVERY_NAME, UNHAPPY_WINDOW};
pub use screen::{Reveal, RevealItem, Screen};
use state::{ActiveSurprise, ColumnState, PayoutRun, Phase, Vend, VendKind};
use timers::Timer;

// The machine's vocabulary lives in a leaf module that everything may use; it is re-exported here
// because the core's events and commands speak it.
pub use crate::model::{
    ColumnId, ColumnSpec, LampRole, PaymentMode, PayoutSpec, ShowPattern, Tender, VendTimings,
};

/// A deliberate bug, for proving that the fault campaign's invariant checks can fail. It has an
/// effect only in builds with the `inject-bugs` feature, which only the tests enable: the binary
/// that ships neither has the buggy paths nor the `--inject-bug` option that sets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InjectedBug {
    /// A failed vend keeps the customer's money.
    SkipRefund,
    /// A delivered vend does not take the item off the stock count.
    SkipStock,
}

/// Everything the core needs to know about the machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VendSettings {
    /// Free or coin.
    pub payment: PaymentMode,
    /// Columns in order.
    pub columns: Vec<ColumnSpec>,
    /// Timing rules.
    pub timings: VendTimings,
    /// Number of drop sensors.
    pub sensors: usize,
    /// Most credit a customer can hold before the acceptor is inhibited.
    pub max_credit: Cents,
    /// The payout hopper, if fitted.
    pub payout: Option<PayoutSpec>,
    /// Surprise catalogue and policy.
    pub surprises: SurpriseConfig,
    /// Seed for the surprise engine's randomness.
    pub seed: u64,
    /// A deliberate bug (only for testing the checks that must catch it).
    pub inject_bug: Option<InjectedBug>,
}

/// What a restarted machine takes over from its journal.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Restored {
    /// Credit held (including the escrow of vends a power cut interrupted).
    pub credit: Cents,
    /// Money totals so far.
    pub ledger: Ledger,
    /// Per column: stock and status.
    pub columns: Vec<(u32, ColumnStatus)>,
}

/// Money totals, for checking that credit is conserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Ledger {
    /// All credit ever inserted.
    pub inserted: Cents,
    /// Credit spent on delivered items.
    pub spent: Cents,
    /// Paid back to customers.
    pub returned: Cents,
    /// Charged to cards for delivered items (never credit: outside the cash balance).
    pub card: Cents,
}

/// The vend state machine. See the module documentation.
#[derive(Debug, Clone)]
pub struct VendCore {
    payment: PaymentMode,
    timings: VendTimings,
    columns: Vec<ColumnState>,
    stuck: Vec<bool>,
    credit: Cents,
    door_open: bool,
    vend: Option<Vend>,
    screen_until: Option<Timestamp>,
    lamps: [bool; LampRole::ALL.len()],
    ledger: Ledger,
    now: Timestamp,
    local: LocalTime,
    /// The same moment on a timeline the wall clock's jumps do not move (see `set_wall_time`).
    steady: i64,
    engine: SurpriseEngine,
    surprise: Option<ActiveSurprise>,
    show_until: Option<Timestamp>,
    /// The light show running (its pattern and start) while `show_until` holds, and when the
    /// surprise lamp next changes in its pattern.
    show: Option<(ShowPattern, Timestamp)>,
    blink_at: Option<Timestamp>,
    max_credit: Cents,
    inhibited: bool,
    payout_spec: Option<PayoutSpec>,
    payout: Option<PayoutRun>,
    #[cfg(feature = "inject-bugs")]
    bug: Option<InjectedBug>,
    /// The books cannot take more: no money in, no new vend.
    storage_full: bool,
    /// A free choice offered to make a failure right.
    offer: Option<recovery::Offer>,
    /// The last paid vend to finish, for an unhappy answer about it.
    last_paid: Option<recovery::LastPaid>,
    /// An operator's gift for the next paying customer: catalogue index, overriding the caps.
    gift: Option<(usize, bool)>,
    /// Recent presses while no credit is held (time in ms, column), for secret sequences.
    presses: VecDeque<(u64, ColumnId)>,
    /// The cashless reader: whether it is up, the session, a vend asked of it.
    card: card::CardState,
    /// The MDB coin changer is up: coin return pays from its tubes.
    changer_ready: bool,
}

impl VendCore {
    /// A core for a machine with the given settings, idle, door closed, no credit.
    pub fn new(settings: &VendSettings) -> Self {
        VendCore {
            payment: settings.payment,
            timings: settings.timings,
            columns: settings
                .columns
                .iter()
                .map(|spec| ColumnState {
                    stock: spec.stock,
                    spec: spec.clone(),
                    status: ColumnStatus::InService,
                })
                .collect(),
            stuck: vec![false; settings.sensors],
            credit: Cents::ZERO,
            door_open: false,
            vend: None,
            screen_until: None,
            lamps: [false; LampRole::ALL.len()],
            ledger: Ledger::default(),
            now: Timestamp::ZERO,
            local: LocalTime::default(),
            steady: 0,
            engine: SurpriseEngine::new(settings.surprises.clone(), settings.seed),
            surprise: None,
            show_until: None,
            show: None,
            blink_at: None,
            max_credit: settings.max_credit,
            inhibited: false,
            payout_spec: settings.payout,
            payout: None,
            #[cfg(feature = "inject-bugs")]
            bug: settings.inject_bug,
            storage_full: false,
            offer: None,
            last_paid: None,
            gift: None,
            presses: VecDeque::new(),
            card: card::CardState::default(),
            changer_ready: false,
        }
    }

    /// Take over credit, money totals, stock and column states from the journal (before
    /// [`VendCore::start`]). Columns the journal does not know keep their configured state.
    pub fn restore(&mut self, restored: &Restored) {
        self.credit = restored.credit;
        self.ledger = restored.ledger;
        for (c, (stock, status)) in self.columns.iter_mut().zip(&restored.columns) {
            c.stock = (*stock).min(c.spec.capacity);
            c.status = *status;
        }
    }

    /// Tell the core the wall-clock time: `local` for surprise schedules and daily caps, and
    /// `steady` (seconds on a timeline daylight saving does not move, such as UTC) for hourly
    /// caps, cooldowns and budgets. The controller calls this before each event; the core never
    /// reads a clock itself.
    pub fn set_wall_time(&mut self, local: LocalTime, steady: i64) {
        self.local = local;
        self.steady = steady;
    }

    /// The surprise engine (for reports and operator views).
    /// Why no surprise can be awarded right now, whatever the caps say, if something holds every
    /// surprise back (checked in this order).
    pub fn surprises_held(&self) -> Option<SurpriseHold> {
        let stuck = self.stuck.iter().position(|&s| s);
        let faulted = self
            .columns
            .iter()
            .position(|c| matches!(c.status, ColumnStatus::Faulted(_)))
            .and_then(ColumnId::from_index);
        if !self.engine.config().policy.enabled {
            Some(SurpriseHold::Disabled)
        } else if self.engine.paused() {
            Some(SurpriseHold::Paused)
        } else if self.door_open {
            Some(SurpriseHold::DoorOpen)
        } else if self.storage_full {
            Some(SurpriseHold::StorageFull)
        } else if let Some(column) = faulted {
            Some(SurpriseHold::ColumnFault { column })
        } else if let Some(sensor) = stuck {
            Some(SurpriseHold::SensorStuck {
                sensor: u8::try_from(sensor).unwrap_or(u8::MAX),
            })
        } else {
            let limits = self.engine.limits_now(self.local, self.steady);
            limits.every.first().map(|&cap| SurpriseHold::Cap { cap })
        }
    }

    /// When surprises can come but only free ones: the budget or today's pacing allowance has
    /// no room for one that costs something.
    pub fn surprises_limited(&self) -> Option<SurpriseHold> {
        if self.surprises_held().is_some() {
            return None;
        }
        self.engine
            .limits_now(self.local, self.steady)
            .costly
            .map(|cap| SurpriseHold::OnlyFree { cap })
    }

    /// The drop sensors (0-based) that are stuck now.
    pub fn stuck_sensors(&self) -> Vec<u8> {
        self.stuck
            .iter()
            .enumerate()
            .filter(|(_, &s)| s)
            .filter_map(|(i, _)| u8::try_from(i).ok())
            .collect()
    }

    pub fn surprises(&self) -> &SurpriseEngine {
        &self.engine
    }

    /// The surprise engine, to change its configuration or pause it. Its memory of past
    /// surprises and sales survives, so caps hold across changes.
    pub fn surprises_mut(&mut self) -> &mut SurpriseEngine {
        &mut self.engine
    }

    /// The commands that bring the display and lamps to the core's current state (at start-up).
    pub fn start(&mut self, now: Timestamp) -> Vec<Command> {
        self.now = self.now.max(now);
        let mut out = vec![Command::Display(self.idle_screen())];
        self.inhibited = !self.credit_below_max() || self.storage_full;
        out.push(Command::CoinInhibit { on: self.inhibited });
        self.update_lamps(&mut out);
        out
    }

    /// After a restart that interrupted vends: tell the customer their money is safe.
    pub fn power_restored(&mut self, now: Timestamp, refunded: Cents) -> Vec<Command> {
        self.now = self.now.max(now);
        let mut out = Vec::new();
        if refunded > Cents::ZERO {
            let credit = self.credit;
            self.show(Screen::PowerRestored { refunded, credit }, &mut out);
        }
        out
    }

    fn credit_below_max(&self) -> bool {
        self.credit < self.max_credit
    }

    /// Whether coins are being paid back.
    pub fn is_paying_out(&self) -> bool {
        self.payout.is_some()
    }

    /// Credit held for the customer (not counting a vend in escrow).
    pub fn credit(&self) -> Cents {
        self.credit
    }

    /// Cash held in escrow by a vend in progress (a card vend holds none: the card is charged
    /// only when the item drops).
    pub fn escrow(&self) -> Cents {
        self.vend
            .filter(|v| !v.delivered && v.tender == Tender::Cash)
            .map_or(Cents::ZERO, |v| v.price)
    }

    /// Money totals so far.
    pub fn ledger(&self) -> Ledger {
        self.ledger
    }

    /// Items the controller believes column `c` holds.
    pub fn stock(&self, column: ColumnId) -> Option<u32> {
        self.columns.get(column.index()).map(|c| c.stock)
    }

    /// Service state of column `c`.
    pub fn status(&self, column: ColumnId) -> Option<ColumnStatus> {
        self.columns.get(column.index()).map(|c| c.status)
    }

    /// The column whose motor is on, if any. There is never more than one.
    pub fn motor_on(&self) -> Option<ColumnId> {
        match self.vend {
            Some(Vend {
                column,
                phase: Phase::Turning { .. },
                ..
            }) => Some(column),
            _ => None,
        }
    }

    /// Whether a vend is in progress.
    pub fn is_vending(&self) -> bool {
        self.vend.is_some()
    }

    /// Whether the door is open.
    pub fn door_open(&self) -> bool {
        self.door_open
    }

    /// Number of columns.
    pub fn column_count(&self) -> usize {
        self.columns.len()
    }

    /// When [`VendCore::poll`] next has work, if ever.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.next_timer().map(|(at, _)| at)
    }

    fn phase_deadline(&self, v: &Vend) -> Timestamp {
        match v.phase {
            Phase::Turning { since } => {
                let has_home = self
                    .columns
                    .get(v.column.index())
                    .is_some_and(|c| c.spec.has_home);
                let limit = if has_home {
                    self.timings.max_motor_on
                } else {
                    self.timings.timed_turn.min(self.timings.max_motor_on)
                };
                since + limit
            }
            Phase::Settling { until } | Phase::Pausing { until } => until,
        }
    }

    /// Act on deadlines that have passed by `now`.
    pub fn poll(&mut self, now: Timestamp) -> Vec<Command> {
        let mut out = Vec::new();
        self.advance(now, &mut out);
        self.update_lamps(&mut out);
        out
    }

    /// Handle `event`, which happened at `now`. Deadlines that passed before `now` are acted on
    /// first. Times earlier than one already seen are treated as that time.
    pub fn handle(&mut self, now: Timestamp, event: Event) -> Vec<Command> {
        let mut out = Vec::new();
        self.advance(now, &mut out);
        match event {
            Event::Select { column } => self.select(column, &mut out),
            Event::Coin { value } => self.coin(value, &mut out),
            Event::UnknownCoin { pulses } => {
                out.push(Command::Notice(Notice::UnknownCoin { pulses }));
                self.show(Screen::CoinNotRecognised, &mut out);
            }
            Event::CoinReturn => self.coin_return(&mut out),
            Event::Restock { column } => self.restock(column, &mut out),
            Event::Load { column, count } => self.load(column, count, &mut out),
            Event::ResetColumn { column } => self.reset_column(column, &mut out),
            Event::DisableColumn { column } => self.disable_column(column, &mut out),
            Event::Drop { sensor } => self.drop_seen(sensor, &mut out),
            Event::Home { column } => self.home(column, &mut out),
            Event::SensorStuck { sensor } => self.sensor(sensor, true, &mut out),
            Event::SensorCleared { sensor } => self.sensor(sensor, false, &mut out),
            Event::Door { open } => self.door(open, &mut out),
            Event::Storage { full } => self.storage(full, &mut out),
            Event::TestVend { column } => self.test_vend(column, &mut out),
            Event::Unhappy => self.unhappy(&mut out),
            Event::CardReader { ready } => self.card_reader(ready, &mut out),
            Event::CardSession { funds } => self.card_session(funds, &mut out),
            Event::CardApproved { amount } => self.card_approved(amount, &mut out),
            Event::CardDenied => self.card_denied(&mut out),
            Event::CardSessionEnded => self.card_session_ended(&mut out),
            Event::Changer { ready } => self.changer_ready = ready,
            Event::ChangePaid { paid, owed } => self.change_paid(paid, owed, &mut out),
        }
        self.update_lamps(&mut out);
        out
    }

    fn advance(&mut self, now: Timestamp, out: &mut Vec<Command>) {
        let now = self.now.max(now);
        // Deadlines can chain (a pause ends and a nudge starts), so act on each in time order,
        // each at its own time: whatever it starts is timed from when it fell due.
        while let Some((at, timer)) = self.next_timer().filter(|(at, _)| *at <= now) {
            self.now = at;
            match timer {
                Timer::Vend => self.vend_deadline(out),
                Timer::Payout => self.payout_deadline(out),
                Timer::Offer => self.lapse_offer(Lapse::Expired, out),
                Timer::Card => self.card_deadline(out),
                Timer::Show => {
                    self.show_until = None;
                    self.show = None;
                }
                // The lamp's next state is worked out from the pattern in `update_lamps`.
                Timer::Blink => self.blink_at = None,
                Timer::Screen => {
                    self.screen_until = None;
                    out.push(Command::Display(self.idle_screen()));
                }
            }
        }
        self.now = now;
    }

    /// Whether a deliberate bug is on (never, in a build without the `inject-bugs` feature).
    fn bug(&self, which: InjectedBug) -> bool {
        #[cfg(feature = "inject-bugs")]
        {
            self.bug == Some(which)
        }
        #[cfg(not(feature = "inject-bugs"))]
        {
            let _ = which;
            false
        }
    }

    /// Show the idle screen, unless a vend or a message has the display.
    fn refresh_idle(&self, out: &mut Vec<Command>) {
        if self.vend.is_none() && self.screen_until.is_none() {
            out.push(Command::Display(self.idle_screen()));
        }
    }

    /// Whether drop sensor `sensor` is stuck. One the machine does not have counts as stuck: a
    /// sensor that cannot be read cannot confirm a delivery.
    fn sensor_stuck(&self, sensor: u8) -> bool {
        self.stuck.get(usize::from(sensor)).copied().unwrap_or(true)
    }

    fn show(&mut self, screen: Screen, out: &mut Vec<Command>) {
        out.push(Command::Display(screen));
        self.screen_until = Some(self.now + self.timings.message);
    }

    /// Whether the column can dispense an item right now.
    fn can_dispense(&self, c: &ColumnState) -> bool {
        c.status == ColumnStatus::InService && c.stock > 0 && !self.sensor_stuck(c.spec.sensor)
    }

    /// Whether a customer can buy from the column right now.
    fn available(&self, c: &ColumnState) -> bool {
        c.spec.for_sale && self.can_dispense(c)
    }

    /// Whether any column or sensor is faulted (a column the operator disabled is not a fault).
    fn faulted(&self) -> bool {
        self.storage_full
            || self
                .columns
                .iter()
                .any(|c| matches!(c.status, ColumnStatus::Faulted(_)))
            || self.stuck.iter().any(|&s| s)
    }

    fn idle_screen(&self) -> Screen {
        if self.door_open {
            Screen::Service
        } else if self.storage_full {
            Screen::StorageFull {
                credit: self.credit,
            }
        } else if let Some(screen) = self.offer_screen() {
            screen
        } else if !self.columns.iter().any(|c| self.available(c)) {
            Screen::OutOfService {
                credit: self.credit,
            }
        } else if let Some(screen) = self.card_idle_screen() {
            screen
        } else {
            Screen::Welcome {
                credit: self.credit,
                free: self.payment == PaymentMode::Free,
            }
        }
    }

    /// Whether the surprise lamp is lit: in its show's pattern while a show runs, otherwise
    /// while a surprise is announced or its items are coming.
    fn surprise_lamp(&mut self) -> bool {
        self.blink_at = None;
        let Some((pattern, since)) = self.show.filter(|_| self.show_until.is_some()) else {
            return self.surprise.is_some() || self.show_until.is_some();
        };
        let elapsed = u64::try_from(self.now.saturating_since(since).as_millis()).unwrap_or(0);
        let (on, left) = pattern.lamp_at(elapsed);
        self.blink_at = Some(since + std::time::Duration::from_millis(elapsed + left));
        on
    }

    fn update_lamps(&mut self, out: &mut Vec<Command>) {
        let inhibit = !self.credit_below_max() || self.storage_full;
        if inhibit != self.inhibited {
            self.inhibited = inhibit;
            out.push(Command::CoinInhibit { on: inhibit });
        }
        let fault = self.faulted();
        let ready = self.vend.is_none()
            && self.payout.is_none()
            && !self.door_open
            && !self.storage_full
            && self.columns.iter().any(|c| self.available(c));
        let surprise = self.surprise_lamp();
        let wanted = [ready, self.vend.is_some(), fault, surprise];
        for (i, role) in LampRole::ALL.iter().enumerate() {
            if self.lamps[i] != wanted[i] {
                self.lamps[i] = wanted[i];
                out.push(Command::Lamp {
                    role: *role,
                    on: wanted[i],
                });
            }
        }
    }
}

mod card;
mod change;
mod dispense;
mod payout;
mod protocol;
mod recovery;
mod screen;
mod secret;
mod service;
mod state;
mod surprise_run;
mod timers;

#[cfg(test)]
mod tests;
