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

use std::collections::VecDeque;
use std::fmt;

use happiness_hardware::Timestamp;
use serde::Serialize;

use crate::localtime::LocalTime;
use crate::money::Cents;
use crate::surprise::{KindName, SurpriseConfig, SurpriseEngine, VendFacts};

// The machine's vocabulary lives in a leaf module that everything may use; it is re-exported here
// because the core's events and commands speak it.
pub use crate::model::{ColumnId, ColumnSpec, LampRole, PaymentMode, PayoutSpec, VendTimings};

/// A deliberate bug, for proving that the fault campaign's invariant checks can fail. Never set
/// in a running machine: only the `torture` command's hidden `--inject-bug` option sets it.
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

/// Something that happened to the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A customer chose a column.
    Select {
        /// The column.
        column: ColumnId,
    },
    /// A coin of known value was accepted.
    Coin {
        /// Its value.
        value: Cents,
    },
    /// The acceptor sent a pulse count no configured coin has.
    UnknownCoin {
        /// The pulse count.
        pulses: u32,
    },
    /// The customer asked for their credit back.
    CoinReturn,
    /// An item fell through drop beam `sensor`.
    Drop {
        /// Sensor index.
        sensor: u8,
    },
    /// A drop beam is stuck blocked.
    SensorStuck {
        /// Sensor index.
        sensor: u8,
    },
    /// A stuck drop beam is clear again.
    SensorCleared {
        /// Sensor index.
        sensor: u8,
    },
    /// A column's spiral reached home.
    Home {
        /// The column.
        column: ColumnId,
    },
    /// The service door opened or closed.
    Door {
        /// True when open.
        open: bool,
    },
    /// The operator filled a column (or every column) to capacity.
    Restock {
        /// The column, or `None` for all.
        column: Option<ColumnId>,
    },
    /// The operator puts a column back in service (after fixing a fault, or to re-enable it).
    ResetColumn {
        /// The column.
        column: ColumnId,
    },
    /// The operator takes a column out of service.
    DisableColumn {
        /// The column.
        column: ColumnId,
    },
    /// The books' disk has run out of room (or has room again): while it is full the machine
    /// takes no money and starts no vend; what is under way finishes and the credit is kept.
    Storage {
        /// True when full.
        full: bool,
    },
}

/// Why a vend did not deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailReason {
    /// The motor ran but the beam never saw an item.
    NoDrop,
    /// The spiral never reached home within the motor's time limit.
    Jammed,
    /// The drop beam is stuck, so a delivery cannot be confirmed.
    SensorStuck,
    /// The service door was opened during the vend.
    DoorOpened,
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailReason::NoDrop => "no item reached the drop sensor",
            FailReason::Jammed => "the spiral did not turn (jam)",
            FailReason::SensorStuck => "the drop sensor is blocked",
            FailReason::DoorOpened => "the service door was opened",
        })
    }
}

/// Why a selection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// The column is empty.
    SoldOut,
    /// Not enough credit.
    InsufficientCredit,
    /// The column or its sensor is faulted.
    OutOfOrder,
    /// The service door is open.
    DoorOpen,
    /// A vend is already in progress.
    Busy,
    /// The column holds surprise gifts and is not for sale.
    NotForSale,
    /// The books cannot record a sale: the disk is full.
    StorageFull,
}

/// What the display shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "screen", rename_all = "snake_case")]
pub enum Screen {
    /// Idle, ready to sell.
    Welcome {
        /// Credit held.
        credit: Cents,
        /// Free vend mode.
        free: bool,
    },
    /// Credit changed.
    Credit {
        /// Credit held.
        credit: Cents,
    },
    /// Not enough credit for the selection.
    InsertMore {
        /// Product chosen.
        product: String,
        /// Its price.
        price: Cents,
        /// Credit held.
        credit: Cents,
    },
    /// Selection is empty.
    SoldOut {
        /// Product chosen.
        product: String,
    },
    /// Selection cannot be vended now.
    OutOfOrder {
        /// Product chosen.
        product: String,
    },
    /// Vend in progress.
    Vending {
        /// Product coming.
        product: String,
    },
    /// Please wait: a vend is already running.
    PleaseWait,
    /// A surprise! Shown after the paid item is delivered.
    Surprise {
        /// The surprise's name.
        name: String,
        /// Its message.
        message: String,
    },
    /// Item delivered.
    Enjoy {
        /// Product delivered.
        product: String,
    },
    /// Vend failed; money returned to credit.
    Refunded {
        /// Product that could not be delivered.
        product: String,
        /// Amount returned to credit.
        amount: Cents,
        /// Credit now held.
        credit: Cents,
    },
    /// A coin was not recognised.
    CoinNotRecognised,
    /// Coins are being paid back.
    PayingOut {
        /// Amount being paid.
        amount: Cents,
    },
    /// There is no way to pay out coins: credit stays for the next purchase.
    CreditKept {
        /// Credit held.
        credit: Cents,
    },
    /// The machine restarted after a power cut during a vend; the price is back in credit.
    PowerRestored {
        /// Returned to credit.
        refunded: Cents,
        /// Credit now.
        credit: Cents,
    },
    /// The service door is open.
    Service,
    /// Nothing can be sold right now.
    OutOfService {
        /// Credit held.
        credit: Cents,
    },
    /// The machine is starting: the books are being checked before anything is sold.
    StartingUp,
    /// The books' disk is full: nothing is sold, the credit is kept.
    StorageFull {
        /// Credit held.
        credit: Cents,
    },
}

impl Screen {
    /// The text for a display, with `currency` before amounts.
    pub fn text(&self, currency: &str) -> String {
        let m = |c: &Cents| c.with_symbol(currency);
        match self {
            Screen::Welcome { free: true, .. } => "Free vend today: choose a drink!".into(),
            Screen::Welcome { credit, .. } if *credit == Cents::ZERO => {
                "Insert coins, then choose".into()
            }
            Screen::Welcome { credit, .. } | Screen::Credit { credit } => {
                format!("Credit {}: choose a drink", m(credit))
            }
            Screen::InsertMore {
                product,
                price,
                credit,
            } => format!(
                "{product} costs {}: insert {} more",
                m(price),
                m(&price.saturating_sub(*credit))
            ),
            Screen::SoldOut { product } => format!("Sorry, {product} is sold out"),
            Screen::OutOfOrder { product } => {
                format!("Sorry, {product} is out of order: choose another")
            }
            Screen::Vending { product } => format!("Here comes your {product}..."),
            Screen::PleaseWait => "Please wait: your item is on its way".into(),
            Screen::Enjoy { product } => format!("Enjoy your {product}!"),
            Screen::Surprise { message, .. } => message.clone(),
            Screen::Refunded {
                product, amount, ..
            } => format!(
                "Sorry, {product} could not be delivered: {} is back in your credit",
                m(amount)
            ),
            Screen::CoinNotRecognised => "Coin not recognised: please call the operator".into(),
            Screen::PayingOut { amount } => format!("Returning {}: take your coins", m(amount)),
            Screen::CreditKept { credit } => {
                format!("Credit {} is kept for your next choice", m(credit))
            }
            Screen::PowerRestored { refunded, credit } => format!(
                "Sorry, the power went out during your purchase: {} is back in your credit ({} in all)",
                m(refunded),
                m(credit)
            ),
            Screen::Service => "Service in progress: vending paused".into(),
            Screen::OutOfService { credit } if *credit == Cents::ZERO => {
                "Out of service: sorry!".into()
            }
            Screen::OutOfService { credit } => {
                format!("Out of service: your credit {} is safe", m(credit))
            }
            Screen::StartingUp => "Starting up: one moment please".into(),
            Screen::StorageFull { credit } if *credit == Cents::ZERO => {
                "Out of service: storage full".into()
            }
            Screen::StorageFull { credit } => format!(
                "Out of service: storage full. Your credit {} is safe",
                m(credit)
            ),
        }
    }
}

/// Something worth recording, counting or telling an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "notice", rename_all = "snake_case")]
pub enum Notice {
    /// Credit was added.
    CreditIn {
        /// Amount added.
        amount: Cents,
        /// Credit now held.
        credit: Cents,
    },
    /// The acceptor reported a coin nobody configured; the money is in the cash box but not in
    /// anyone's credit, so the operator must know.
    UnknownCoin {
        /// Pulses counted.
        pulses: u32,
    },
    /// A selection was refused.
    Refused {
        /// The column.
        column: ColumnId,
        /// Why.
        reason: Refusal,
    },
    /// A vend began: the price moved from credit into escrow.
    VendStarted {
        /// The column.
        column: ColumnId,
        /// Product.
        product: String,
        /// Price held in escrow.
        price: Cents,
    },
    /// A motor run (the first, or a nudge) began.
    MotorRun {
        /// The column.
        column: ColumnId,
        /// 1 for the first run, 2 and up for nudges.
        attempt: u32,
    },
    /// The item was seen falling: the sale is final.
    VendDelivered {
        /// The column.
        column: ColumnId,
        /// Product.
        product: String,
        /// Price taken.
        price: Cents,
    },
    /// The vend failed; escrow went back to credit.
    VendFailed {
        /// The column.
        column: ColumnId,
        /// Product.
        product: String,
        /// Amount returned to credit.
        refunded: Cents,
        /// Why.
        reason: FailReason,
    },
    /// A column was taken out of service.
    ColumnFaulted {
        /// The column.
        column: ColumnId,
        /// Why.
        reason: FailReason,
    },
    /// A drop beam got stuck or recovered.
    SensorFault {
        /// Sensor index.
        sensor: u8,
        /// True when stuck.
        stuck: bool,
    },
    /// The beam saw an item when none was expected (a late item, a double drop, a hand).
    UnexpectedDrop {
        /// Sensor index.
        sensor: u8,
    },
    /// The service door changed.
    Door {
        /// True when open.
        open: bool,
    },
    /// The customer asked for credit back and there is no payout device.
    CreditKept {
        /// Credit held.
        credit: Cents,
    },
    /// Paying credit back began.
    PayoutStarted {
        /// Coins to pay.
        coins: u32,
        /// Their total.
        amount: Cents,
    },
    /// One coin was paid out; credit went down by its value.
    CoinPaidOut {
        /// The coin's value.
        amount: Cents,
        /// Credit left.
        credit: Cents,
    },
    /// Paying out ended (all coins, or stopped by the door).
    PayoutFinished {
        /// Coins paid.
        coins: u32,
        /// Credit left (less than one payout coin, or what the door interrupted).
        credit: Cents,
    },
    /// A column was filled.
    Restocked {
        /// The column.
        column: ColumnId,
        /// Items now in it.
        stock: u32,
    },
    /// A faulted or disabled column was put back in service.
    ColumnReset {
        /// The column.
        column: ColumnId,
    },
    /// The operator took a column out of service.
    ColumnDisabled {
        /// The column.
        column: ColumnId,
    },
    /// A surprise item's vend began (its intent, like `VendStarted` for a paid item).
    SurpriseItemStarted {
        /// The column.
        column: ColumnId,
        /// Product.
        product: String,
    },
    /// A surprise was awarded on a delivered paid vend.
    SurpriseAwarded {
        /// The paid vend's column.
        column: ColumnId,
        /// Surprise name.
        name: String,
        /// Its kind.
        kind: KindName,
        /// What it costs the operator.
        cost: Cents,
        /// Items it hands out: (column, count).
        items: Vec<(ColumnId, u32)>,
        /// The message shown.
        message: String,
    },
    /// A surprise item was seen falling.
    SurpriseItemDelivered {
        /// The column.
        column: ColumnId,
        /// Product.
        product: String,
    },
    /// A surprise item could not be delivered (no refund is due: it was free).
    SurpriseItemFailed {
        /// The column.
        column: ColumnId,
        /// Why.
        reason: FailReason,
    },
    /// The machine stopped selling because the books' disk is full, or sells again.
    Storage {
        /// True when full.
        full: bool,
    },
    /// A surprise finished; `partial` when fewer items were delivered than promised.
    SurpriseCompleted {
        /// Surprise name.
        name: String,
        /// Items promised.
        planned: u32,
        /// Items delivered.
        delivered: u32,
        /// Fewer delivered than promised.
        partial: bool,
    },
}

/// Something the machine must do now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Switch a motor.
    Motor {
        /// The column.
        column: ColumnId,
        /// On or off.
        on: bool,
    },
    /// Switch the lamps of a role.
    Lamp {
        /// Which lamps.
        role: LampRole,
        /// On or off.
        on: bool,
    },
    /// Show a screen.
    Display(Screen),
    /// Record or report something.
    Notice(Notice),
    /// Inhibit (or re-enable) the coin acceptor.
    CoinInhibit {
        /// True to refuse coins.
        on: bool,
    },
    /// Drive the payout hopper (one pulse = one coin).
    Payout {
        /// Pulse level.
        on: bool,
    },
    /// Run a surprise light (and sound) show.
    Show {
        /// Pattern name.
        pattern: String,
        /// Duration in milliseconds.
        duration_ms: u64,
    },
}

/// A column's service state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum ColumnStatus {
    /// Selling.
    InService,
    /// Taken out of service after a failed vend.
    Faulted(FailReason),
    /// Taken out of service by the operator.
    Disabled,
}

#[derive(Debug, Clone)]
struct ColumnState {
    spec: ColumnSpec,
    stock: u32,
    status: ColumnStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Motor on since the given time.
    Turning { since: Timestamp },
    /// Motor off; waiting for the item to reach the beam until the given time.
    Settling { until: Timestamp },
    /// Motor off; the next nudge starts at the given time.
    Pausing { until: Timestamp },
}

/// Whether a vend was paid for or is part of a surprise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VendKind {
    Paid,
    Surprise,
}

/// A surprise whose items are being dispensed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ActiveSurprise {
    name: String,
    planned: u32,
    delivered: u32,
    pending: VecDeque<ColumnId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Vend {
    kind: VendKind,
    column: ColumnId,
    price: Cents,
    attempt: u32,
    phase: Phase,
    delivered: bool,
    jammed: bool,
}

/// Paying credit back, one hopper pulse per coin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PayoutRun {
    left: u32,
    paid: u32,
    /// While a pulse is on: when it ends. Otherwise: when the next one starts.
    pulse_until: Option<Timestamp>,
    next_at: Timestamp,
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
    /// Spent on delivered items.
    pub spent: Cents,
    /// Paid back to customers.
    pub returned: Cents,
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
    engine: SurpriseEngine,
    surprise: Option<ActiveSurprise>,
    show_until: Option<Timestamp>,
    max_credit: Cents,
    inhibited: bool,
    payout_spec: Option<PayoutSpec>,
    payout: Option<PayoutRun>,
    bug: Option<InjectedBug>,
    /// The books cannot take more: no money in, no new vend.
    storage_full: bool,
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
            engine: SurpriseEngine::new(settings.surprises.clone(), settings.seed),
            surprise: None,
            show_until: None,
            max_credit: settings.max_credit,
            inhibited: false,
            payout_spec: settings.payout,
            payout: None,
            bug: settings.inject_bug,
            storage_full: false,
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

    /// Tell the core the local wall-clock time (for surprise schedules and daily caps). The
    /// controller calls this before each event; the core never reads a clock itself.
    pub fn set_local_time(&mut self, local: LocalTime) {
        self.local = local;
    }

    /// The surprise engine (for reports and operator views).
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

    /// Price held in escrow by a vend in progress.
    pub fn escrow(&self) -> Cents {
        self.vend
            .filter(|v| !v.delivered)
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
        let vend = self.vend.map(|v| self.phase_deadline(&v));
        let payout = self.payout.map(|p| p.pulse_until.unwrap_or(p.next_at));
        [vend, self.screen_until, self.show_until, payout]
            .into_iter()
            .flatten()
            .min()
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
            Event::ResetColumn { column } => self.reset_column(column, &mut out),
            Event::DisableColumn { column } => self.disable_column(column, &mut out),
            Event::Drop { sensor } => self.drop_seen(sensor, &mut out),
            Event::Home { column } => self.home(column, &mut out),
            Event::SensorStuck { sensor } => self.sensor(sensor, true, &mut out),
            Event::SensorCleared { sensor } => self.sensor(sensor, false, &mut out),
            Event::Door { open } => self.door(open, &mut out),
            Event::Storage { full } => self.storage(full, &mut out),
        }
        self.update_lamps(&mut out);
        out
    }

    fn coin_return(&mut self, out: &mut Vec<Command>) {
        if self.vend.is_some() || self.payout.is_some() {
            out.push(Command::Display(Screen::PleaseWait));
            return;
        }
        if self.storage_full {
            // Paying out is money moving: it waits until the books can record it.
            let credit = self.credit;
            self.show(Screen::StorageFull { credit }, out);
            return;
        }
        let coins = match self.payout_spec {
            Some(spec) if spec.coin > Cents::ZERO => self.credit.get() / spec.coin.get(),
            _ => 0,
        };
        let Some(spec) = self.payout_spec.filter(|_| coins > 0) else {
            out.push(Command::Notice(Notice::CreditKept {
                credit: self.credit,
            }));
            self.show(
                Screen::CreditKept {
                    credit: self.credit,
                },
                out,
            );
            return;
        };
        let coins = u32::try_from(coins).unwrap_or(u32::MAX);
        let amount = Cents::new(spec.coin.get() * u64::from(coins));
        out.push(Command::Notice(Notice::PayoutStarted { coins, amount }));
        out.push(Command::Display(Screen::PayingOut { amount }));
        self.screen_until = None;
        self.payout = Some(PayoutRun {
            left: coins,
            paid: 0,
            pulse_until: Some(self.now + spec.pulse),
            next_at: self.now,
        });
        out.push(Command::Payout { on: true });
    }

    fn payout_deadline(&mut self, at: Timestamp, out: &mut Vec<Command>) {
        let (Some(mut run), Some(spec)) = (self.payout, self.payout_spec) else {
            self.payout = None;
            return;
        };
        if run.pulse_until.take().is_some() {
            // The coin left the hopper with this pulse: take it off the credit.
            out.push(Command::Payout { on: false });
            self.credit = self.credit.saturating_sub(spec.coin);
            self.ledger.returned = self.ledger.returned.saturating_add(spec.coin);
            run.left -= 1;
            run.paid += 1;
            out.push(Command::Notice(Notice::CoinPaidOut {
                amount: spec.coin,
                credit: self.credit,
            }));
            if run.left == 0 || self.credit < spec.coin || self.storage_full {
                self.finish_payout(run, out);
                return;
            }
            run.next_at = at + spec.gap;
        } else if self.storage_full {
            self.finish_payout(run, out);
            return;
        } else {
            run.pulse_until = Some(at + spec.pulse);
            out.push(Command::Payout { on: true });
        }
        self.payout = Some(run);
    }

    fn finish_payout(&mut self, run: PayoutRun, out: &mut Vec<Command>) {
        self.payout = None;
        out.push(Command::Notice(Notice::PayoutFinished {
            coins: run.paid,
            credit: self.credit,
        }));
        if self.credit > Cents::ZERO {
            self.show(
                Screen::CreditKept {
                    credit: self.credit,
                },
                out,
            );
        } else {
            out.push(Command::Display(self.idle_screen()));
        }
    }

    fn restock(&mut self, column: Option<ColumnId>, out: &mut Vec<Command>) {
        for (i, c) in self.columns.iter_mut().enumerate() {
            let Some(id) = ColumnId::from_index(i) else {
                continue;
            };
            if column.is_some_and(|want| want != id) {
                continue;
            }
            c.stock = c.spec.capacity;
            out.push(Command::Notice(Notice::Restocked {
                column: id,
                stock: c.stock,
            }));
        }
        if self.vend.is_none() && self.screen_until.is_none() {
            out.push(Command::Display(self.idle_screen()));
        }
    }

    fn reset_column(&mut self, column: ColumnId, out: &mut Vec<Command>) {
        // A column in the middle of a vend is not touched: its state is about to change anyway.
        if self.vend.is_some_and(|v| v.column == column) {
            return;
        }
        if let Some(c) = self.columns.get_mut(column.index()) {
            if c.status != ColumnStatus::InService {
                c.status = ColumnStatus::InService;
                out.push(Command::Notice(Notice::ColumnReset { column }));
            }
        }
        if self.vend.is_none() && self.screen_until.is_none() {
            out.push(Command::Display(self.idle_screen()));
        }
    }

    fn disable_column(&mut self, column: ColumnId, out: &mut Vec<Command>) {
        // A column in the middle of a vend finishes it first; the operator can ask again.
        if self.vend.is_some_and(|v| v.column == column) {
            return;
        }
        if let Some(c) = self.columns.get_mut(column.index()) {
            if c.status != ColumnStatus::Disabled {
                c.status = ColumnStatus::Disabled;
                out.push(Command::Notice(Notice::ColumnDisabled { column }));
            }
        }
        if self.vend.is_none() && self.screen_until.is_none() {
            out.push(Command::Display(self.idle_screen()));
        }
    }

    fn advance(&mut self, now: Timestamp, out: &mut Vec<Command>) {
        self.now = self.now.max(now);
        // Deadlines can chain (a pause ends and a nudge starts), so act on each in time order.
        while let Some(deadline) = self.next_deadline() {
            if deadline > self.now {
                break;
            }
            let vend_due = self.vend.map(|v| self.phase_deadline(&v));
            let payout_due = self.payout.map(|p| p.pulse_until.unwrap_or(p.next_at));
            if vend_due.is_some_and(|d| d <= deadline) {
                self.vend_deadline(deadline, out);
            } else if payout_due.is_some_and(|d| d <= deadline) {
                self.payout_deadline(deadline, out);
            } else if self.show_until.is_some_and(|d| d <= deadline) {
                self.show_until = None;
            } else {
                self.screen_until = None;
                out.push(Command::Display(self.idle_screen()));
            }
        }
    }

    fn show(&mut self, screen: Screen, out: &mut Vec<Command>) {
        out.push(Command::Display(screen));
        self.screen_until = Some(self.now + self.timings.message);
    }

    /// Whether the column can dispense an item right now.
    fn can_dispense(&self, c: &ColumnState) -> bool {
        c.status == ColumnStatus::InService
            && c.stock > 0
            && !self
                .stuck
                .get(usize::from(c.spec.sensor))
                .copied()
                .unwrap_or(true)
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
        } else if !self.columns.iter().any(|c| self.available(c)) {
            Screen::OutOfService {
                credit: self.credit,
            }
        } else {
            Screen::Welcome {
                credit: self.credit,
                free: self.payment == PaymentMode::Free,
            }
        }
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
        let surprise = self.surprise.is_some() || self.show_until.is_some();
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

    fn coin(&mut self, value: Cents, out: &mut Vec<Command>) {
        self.credit = self.credit.saturating_add(value);
        self.ledger.inserted = self.ledger.inserted.saturating_add(value);
        out.push(Command::Notice(Notice::CreditIn {
            amount: value,
            credit: self.credit,
        }));
        if self.vend.is_none() {
            let credit = self.credit;
            let screen = if self.storage_full {
                Screen::StorageFull { credit }
            } else {
                Screen::Credit { credit }
            };
            self.show(screen, out);
        }
    }

    fn refuse(
        &mut self,
        column: ColumnId,
        reason: Refusal,
        screen: Screen,
        out: &mut Vec<Command>,
    ) {
        out.push(Command::Notice(Notice::Refused { column, reason }));
        self.show(screen, out);
    }

    fn select(&mut self, column: ColumnId, out: &mut Vec<Command>) {
        let Some(col) = self.columns.get(column.index()) else {
            return;
        };
        let product = col.spec.product.clone();
        let price = match self.payment {
            PaymentMode::Free => Cents::ZERO,
            PaymentMode::Coin => col.spec.price,
        };
        let sensor_stuck = self
            .stuck
            .get(usize::from(col.spec.sensor))
            .copied()
            .unwrap_or(true);
        if self.vend.is_some() || self.payout.is_some() {
            // Button mashing during a vend: acknowledge, never start a second motor.
            out.push(Command::Notice(Notice::Refused {
                column,
                reason: Refusal::Busy,
            }));
            out.push(Command::Display(Screen::PleaseWait));
            return;
        }
        if self.door_open {
            return self.refuse(column, Refusal::DoorOpen, Screen::Service, out);
        }
        if self.storage_full {
            let credit = self.credit;
            return self.refuse(
                column,
                Refusal::StorageFull,
                Screen::StorageFull { credit },
                out,
            );
        }
        if !col.spec.for_sale {
            return self.refuse(
                column,
                Refusal::NotForSale,
                Screen::OutOfOrder { product },
                out,
            );
        }
        if col.status != ColumnStatus::InService || sensor_stuck {
            return self.refuse(
                column,
                Refusal::OutOfOrder,
                Screen::OutOfOrder { product },
                out,
            );
        }
        if col.stock == 0 {
            return self.refuse(column, Refusal::SoldOut, Screen::SoldOut { product }, out);
        }
        let Some(rest) = self.credit.checked_sub(price) else {
            let credit = self.credit;
            return self.refuse(
                column,
                Refusal::InsufficientCredit,
                Screen::InsertMore {
                    product,
                    price,
                    credit,
                },
                out,
            );
        };
        self.credit = rest;
        out.push(Command::Notice(Notice::VendStarted {
            column,
            product: product.clone(),
            price,
        }));
        out.push(Command::Display(Screen::Vending { product }));
        self.screen_until = None;
        self.vend = Some(Vend {
            kind: VendKind::Paid,
            column,
            price,
            attempt: 0,
            phase: Phase::Pausing { until: self.now },
            delivered: false,
            jammed: false,
        });
        self.run_motor(out);
    }

    fn run_motor(&mut self, out: &mut Vec<Command>) {
        if let Some(v) = self
            .vend
            .filter(|v| v.kind == VendKind::Surprise && v.attempt == 0)
        {
            out.push(Command::Notice(Notice::SurpriseItemStarted {
                column: v.column,
                product: self.product(v.column),
            }));
        }
        let Some(v) = self.vend.as_mut() else { return };
        v.attempt += 1;
        v.phase = Phase::Turning { since: self.now };
        out.push(Command::Notice(Notice::MotorRun {
            column: v.column,
            attempt: v.attempt,
        }));
        out.push(Command::Motor {
            column: v.column,
            on: true,
        });
    }

    fn product(&self, column: ColumnId) -> String {
        self.columns
            .get(column.index())
            .map(|c| c.spec.product.clone())
            .unwrap_or_default()
    }

    fn drop_seen(&mut self, sensor: u8, out: &mut Vec<Command>) {
        // Only a vend whose motor has run can have dropped an item: a drop during the pause
        // before a surprise item's first run is a late or extra item from before.
        let expected = self.vend.filter(|v| {
            !v.delivered
                && v.attempt >= 1
                && self
                    .columns
                    .get(v.column.index())
                    .is_some_and(|c| c.spec.sensor == sensor)
        });
        let Some(mut v) = expected else {
            out.push(Command::Notice(Notice::UnexpectedDrop { sensor }));
            return;
        };
        v.delivered = true;
        let product = self.product(v.column);
        if let Some(c) = self.columns.get_mut(v.column.index()) {
            if self.bug != Some(InjectedBug::SkipStock) {
                c.stock = c.stock.saturating_sub(1);
            }
        }
        match v.kind {
            VendKind::Paid => {
                self.ledger.spent = self.ledger.spent.saturating_add(v.price);
                out.push(Command::Notice(Notice::VendDelivered {
                    column: v.column,
                    product: product.clone(),
                    price: v.price,
                }));
                self.show(Screen::Enjoy { product }, out);
                self.maybe_surprise(v.column, v.price, out);
            }
            VendKind::Surprise => {
                if let Some(active) = self.surprise.as_mut() {
                    active.delivered += 1;
                }
                out.push(Command::Notice(Notice::SurpriseItemDelivered {
                    column: v.column,
                    product,
                }));
            }
        }
        if let Phase::Turning { .. } = v.phase {
            // Let the spiral finish its turn so it parks at home for the next vend.
            self.vend = Some(v);
        } else {
            self.end_vend(out);
        }
    }

    /// Ask the surprise engine about a delivered paid vend, and set up what it awards.
    fn maybe_surprise(&mut self, column: ColumnId, price: Cents, out: &mut Vec<Command>) {
        // Never while the machine cannot keep every promise.
        if self.door_open || self.faulted() {
            return;
        }
        let stock: Vec<u32> = self
            .columns
            .iter()
            .map(|c| if self.can_dispense(c) { c.stock } else { 0 })
            .collect();
        let facts = VendFacts {
            now: self.local,
            column,
            price,
            stock: &stock,
        };
        let Some(award) = self.engine.decide(&facts).award else {
            return;
        };
        let message = self.engine.message_for(&award, |c| self.product(c));
        out.push(Command::Notice(Notice::SurpriseAwarded {
            column,
            name: award.name.clone(),
            kind: award.kind,
            cost: award.cost,
            items: award.items.clone(),
            message: message.clone(),
        }));
        self.show(
            Screen::Surprise {
                name: award.name.clone(),
                message,
            },
            out,
        );
        // The surprise lamp stays lit for the show, or for as long as the message is shown.
        let lit_for = match award.show {
            Some((pattern, duration)) => {
                out.push(Command::Show {
                    pattern,
                    duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
                });
                duration
            }
            None => self.timings.message,
        };
        self.show_until = Some(self.now + lit_for);
        let pending: VecDeque<ColumnId> = award
            .items
            .iter()
            .flat_map(|&(c, n)| std::iter::repeat_n(c, n as usize))
            .collect();
        self.surprise = Some(ActiveSurprise {
            name: award.name,
            planned: u32::try_from(pending.len()).unwrap_or(u32::MAX),
            delivered: 0,
            pending,
        });
    }

    /// A vend is over: start the next surprise item, or close the surprise.
    fn end_vend(&mut self, out: &mut Vec<Command>) {
        self.vend = None;
        loop {
            let next = self.surprise.as_mut().and_then(|a| a.pending.pop_front());
            let Some(column) = next else {
                break;
            };
            let ready = !self.door_open
                && self
                    .columns
                    .get(column.index())
                    .is_some_and(|c| self.can_dispense(c));
            if ready {
                // A short pause lets the customer read the surprise before the motor runs.
                self.vend = Some(Vend {
                    kind: VendKind::Surprise,
                    column,
                    price: Cents::ZERO,
                    attempt: 0,
                    phase: Phase::Pausing {
                        until: self.now + self.timings.nudge_pause,
                    },
                    delivered: false,
                    jammed: false,
                });
                return;
            }
        }
        if let Some(active) = self.surprise.take() {
            out.push(Command::Notice(Notice::SurpriseCompleted {
                name: active.name,
                planned: active.planned,
                delivered: active.delivered,
                partial: active.delivered < active.planned,
            }));
        }
    }

    fn home(&mut self, column: ColumnId, out: &mut Vec<Command>) {
        let Some(v) = self.vend else { return };
        if v.column != column || !matches!(v.phase, Phase::Turning { .. }) {
            return;
        }
        out.push(Command::Motor { column, on: false });
        self.after_turn(v, out);
    }

    /// The motor has just stopped after a normal turn.
    fn after_turn(&mut self, mut v: Vend, out: &mut Vec<Command>) {
        if v.delivered {
            self.finish(v, out);
            return;
        }
        v.phase = Phase::Settling {
            until: self.now + self.timings.drop_window,
        };
        self.vend = Some(v);
    }

    /// The vend is over: record a fault the last run revealed, then go on.
    fn finish(&mut self, v: Vend, out: &mut Vec<Command>) {
        if v.jammed {
            self.fault_column(v.column, FailReason::Jammed, out);
        }
        self.end_vend(out);
        if self.vend.is_none() && self.screen_until.is_none() {
            out.push(Command::Display(self.idle_screen()));
        }
    }

    fn fault_column(&mut self, column: ColumnId, reason: FailReason, out: &mut Vec<Command>) {
        if let Some(c) = self.columns.get_mut(column.index()) {
            c.status = ColumnStatus::Faulted(reason);
            out.push(Command::Notice(Notice::ColumnFaulted { column, reason }));
        }
    }

    fn vend_deadline(&mut self, at: Timestamp, out: &mut Vec<Command>) {
        let Some(mut v) = self.vend else { return };
        let saved_now = self.now;
        self.now = at;
        match v.phase {
            Phase::Turning { .. } => {
                out.push(Command::Motor {
                    column: v.column,
                    on: false,
                });
                let has_home = self
                    .columns
                    .get(v.column.index())
                    .is_some_and(|c| c.spec.has_home);
                if has_home {
                    // The hard limit ran out before the spiral came home.
                    v.jammed = true;
                    if v.delivered {
                        self.finish(v, out);
                    } else {
                        self.missed(v, FailReason::Jammed, out);
                    }
                } else {
                    self.after_turn(v, out);
                }
            }
            Phase::Settling { .. } => self.missed(v, FailReason::NoDrop, out),
            Phase::Pausing { .. } => {
                self.vend = Some(v);
                self.run_motor(out);
            }
        }
        self.now = saved_now;
    }

    /// An attempt ended without a drop: nudge again, or give the money back.
    fn missed(&mut self, mut v: Vend, reason: FailReason, out: &mut Vec<Command>) {
        let sensor_stuck = self
            .columns
            .get(v.column.index())
            .and_then(|c| self.stuck.get(usize::from(c.spec.sensor)))
            .copied()
            .unwrap_or(false);
        if v.attempt <= self.timings.nudge_retries && !sensor_stuck {
            v.phase = Phase::Pausing {
                until: self.now + self.timings.nudge_pause,
            };
            self.vend = Some(v);
            return;
        }
        let reason = if sensor_stuck {
            FailReason::SensorStuck
        } else {
            reason
        };
        self.fail(v, reason, out);
    }

    fn fail(&mut self, v: Vend, reason: FailReason, out: &mut Vec<Command>) {
        let blame_column = matches!(reason, FailReason::NoDrop | FailReason::Jammed);
        if v.kind == VendKind::Surprise {
            out.push(Command::Notice(Notice::SurpriseItemFailed {
                column: v.column,
                reason,
            }));
            if blame_column {
                self.fault_column(v.column, reason, out);
            }
            self.end_vend(out);
            return;
        }
        self.vend = None;
        if self.bug != Some(InjectedBug::SkipRefund) {
            self.credit = self.credit.saturating_add(v.price);
        }
        let product = self.product(v.column);
        out.push(Command::Notice(Notice::VendFailed {
            column: v.column,
            product: product.clone(),
            refunded: v.price,
            reason,
        }));
        // A stuck sensor or an opened door is not the column's fault.
        if blame_column {
            self.fault_column(v.column, reason, out);
        }
        let credit = self.credit;
        self.show(
            Screen::Refunded {
                product,
                amount: v.price,
                credit,
            },
            out,
        );
    }

    fn sensor(&mut self, sensor: u8, stuck: bool, out: &mut Vec<Command>) {
        let Some(s) = self.stuck.get_mut(usize::from(sensor)) else {
            return;
        };
        if *s == stuck {
            return;
        }
        *s = stuck;
        out.push(Command::Notice(Notice::SensorFault { sensor, stuck }));
        if self.vend.is_none() && self.screen_until.is_none() {
            out.push(Command::Display(self.idle_screen()));
        }
    }

    fn storage(&mut self, full: bool, out: &mut Vec<Command>) {
        if self.storage_full == full {
            return;
        }
        self.storage_full = full;
        out.push(Command::Notice(Notice::Storage { full }));
        if full {
            // What is under way finishes (the reserve is there for it); nothing new starts: no
            // more surprise items, no more coins paid out after the one leaving the hopper.
            if let Some(active) = self.surprise.as_mut() {
                active.pending.clear();
            }
            if let Some(run) = self.payout.filter(|r| r.pulse_until.is_none()) {
                self.finish_payout(run, out);
            }
        }
        if self.vend.is_none() && self.payout.is_none() {
            self.screen_until = None;
            out.push(Command::Display(self.idle_screen()));
        }
    }

    /// Whether the books' disk is full (no money in, no new vend).
    pub fn storage_full(&self) -> bool {
        self.storage_full
    }

    fn door(&mut self, open: bool, out: &mut Vec<Command>) {
        if self.door_open == open {
            return;
        }
        self.door_open = open;
        out.push(Command::Notice(Notice::Door { open }));
        if let Some(run) = self.payout.filter(|_| open) {
            if run.pulse_until.is_some() {
                // The coin of a pulse already under way has left the hopper.
                self.payout = Some(run);
                self.payout_deadline(self.now, out);
            }
            if let Some(run) = self.payout {
                self.finish_payout(run, out);
            }
        }
        if open {
            if let Some(v) = self.vend {
                if matches!(v.phase, Phase::Turning { .. }) {
                    out.push(Command::Motor {
                        column: v.column,
                        on: false,
                    });
                }
                // The door stops a surprise: what is left of it is not dispensed.
                if let Some(active) = self.surprise.as_mut() {
                    active.pending.clear();
                }
                // A surprise item still in its pause before the first run never started: there
                // is nothing to fail.
                if v.delivered || v.attempt == 0 {
                    self.end_vend(out);
                } else {
                    self.fail(v, FailReason::DoorOpened, out);
                }
            }
        }
        self.screen_until = None;
        out.push(Command::Display(self.idle_screen()));
    }
}

#[cfg(test)]
mod tests;
