//! What goes in and out of the vend core: events, the commands it returns, the notices among
//! them that the books and the metrics record, and why things fail or are refused.

use std::fmt;

use serde::Serialize;

use crate::model::{ColumnId, LampRole, ShowPattern, Tender};
use crate::money::Cents;
use crate::surprise::{KindName, OfferKind, RecoveryTrigger};

use super::Screen;

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
    /// The operator loaded `count` more items into a column (never beyond its capacity).
    Load {
        /// The column.
        column: ColumnId,
        /// Items added.
        count: u32,
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
    /// The operator tests a column: one item through sure-vend, without payment, booked as a
    /// test vend (never a sale, never a surprise).
    TestVend {
        /// The column.
        column: ColumnId,
    },
    /// The customer answered "not happy" to "how was it?".
    Unhappy,
    /// The books' disk has run out of room (or has room again): while it is full the machine
    /// takes no money and starts no vend; what is under way finishes and the credit is kept.
    Storage {
        /// True when full.
        full: bool,
    },
    /// The cashless reader came up (or was lost): while it is down nobody is asked to tap.
    CardReader {
        /// True when the reader takes cards.
        ready: bool,
    },
    /// A card (or phone) was presented: a session is open with this much to spend (`None`:
    /// the reader does not say).
    CardSession {
        /// Funds available.
        funds: Option<Cents>,
    },
    /// The reader approved the card vend asked for: this amount will be charged, and only if
    /// the item drops.
    CardApproved {
        /// What the card will be charged.
        amount: Cents,
    },
    /// The reader refused the card vend asked for.
    CardDenied,
    /// The card session is over (card taken away, the reader's own time-out, a reader cancel).
    CardSessionEnded,
    /// The MDB coin changer came up (or was lost): while it is up, coin return pays change
    /// from its tubes.
    Changer {
        /// True when it can pay.
        ready: bool,
    },
    /// The changer's payout is over: this much left the tubes, and `owed` of what was asked
    /// could not be paid.
    ChangePaid {
        /// Paid out.
        paid: Cents,
        /// Asked for and not paid.
        owed: Cents,
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
    /// A free choice is open and does not cover this column.
    NotInOffer,
    /// The card reader declined the card (or the session ended before an answer).
    CardDeclined,
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
    /// A vend began: the price moved from credit into escrow (cash), or the reader approved it
    /// (card).
    VendStarted {
        /// The column.
        column: ColumnId,
        /// Product.
        product: String,
        /// Price held in escrow, or approved on the card.
        price: Cents,
        /// How it is paid.
        tender: Tender,
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
        /// How it was paid (a card is charged only now).
        tender: Tender,
    },
    /// The vend failed; escrow went back to credit (cash), or the card is not charged (card).
    VendFailed {
        /// The column.
        column: ColumnId,
        /// Product.
        product: String,
        /// Amount returned to credit, or left uncharged on the card.
        refunded: Cents,
        /// How it was paid.
        tender: Tender,
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
        /// Chance, an operator's gift, or a secret sequence.
        origin: AwardOrigin,
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
    /// Something went wrong for a customer and the machine offers to make it right.
    RecoveryOffered {
        /// The column of the vend that went wrong.
        column: ColumnId,
        /// What went wrong.
        trigger: RecoveryTrigger,
        /// A free choice, or an apology only.
        offer: OfferKind,
        /// The columns a free choice covers.
        columns: Vec<ColumnId>,
        /// The most the free item may be worth.
        allowance: Cents,
        /// Seconds the free choice stays open (0 for an apology).
        expires_s: u32,
    },
    /// The customer chose their free item: its vend follows like a surprise item's.
    RecoveryTaken {
        /// The column.
        column: ColumnId,
        /// Product.
        product: String,
        /// Its price: what the gesture is worth, counted against the recovery budget.
        value: Cents,
    },
    /// A free choice ended without an item.
    RecoveryLapsed {
        /// Why.
        why: super::Lapse,
    },
    /// An operator's test vend began (its intent, like `VendStarted`, but nothing is paid).
    TestVendStarted {
        /// The column.
        column: ColumnId,
        /// Product.
        product: String,
        /// The column's price: what the item is worth in the audit's test-vend value.
        value: Cents,
    },
    /// The test vend's item was seen falling.
    TestVendDelivered {
        /// The column.
        column: ColumnId,
        /// Product.
        product: String,
    },
    /// The test vend did not deliver (the column is taken out of service as after a sale).
    TestVendFailed {
        /// The column.
        column: ColumnId,
        /// Why.
        reason: FailReason,
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

/// Where a surprise came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AwardOrigin {
    /// The policy's odds, after a paid delivery.
    Chance,
    /// An operator's gift to the next paying customer, after their delivery.
    Gift,
    /// A secret sequence of buttons (no purchase: its column is the last button pressed).
    Secret,
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
    /// Have the MDB coin changer pay this much from its tubes (level 3 PAYOUT).
    PayChange {
        /// The amount.
        amount: Cents,
    },
    /// Ask the cashless reader to approve a card vend (VEND REQUEST).
    CardVend {
        /// The column (the item number the reader is told).
        column: ColumnId,
        /// The price.
        price: Cents,
    },
    /// Tell the reader how the approved vend ended: dropped (VEND SUCCESS: the card is charged)
    /// or not (VEND FAILURE: the reader refunds the card).
    CardVendResult {
        /// Whether the drop sensor saw the item.
        dropped: bool,
    },
    /// End the card session (SESSION COMPLETE).
    CardEndSession,
    /// Tell the reader about a sale paid with cash, for its own audit (CASH SALE).
    CardCashSale {
        /// The column.
        column: ColumnId,
        /// The price.
        price: Cents,
    },
    /// Run a surprise light (and sound) show.
    Show {
        /// Pattern.
        pattern: ShowPattern,
        /// Duration in milliseconds.
        duration_ms: u64,
    },
}

/// What holds every surprise back (the caps and budgets come on top, vend by vend).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum SurpriseHold {
    /// `enabled = false` in surprises.toml.
    Disabled,
    /// The operator paused them.
    Paused,
    /// The service door is open.
    DoorOpen,
    /// The books' disk is full.
    StorageFull,
    /// A column failed a vend and is out of service: no promise is made until it is cleared.
    ColumnFault {
        /// The column (the first one, if several).
        column: ColumnId,
    },
    /// A drop sensor is stuck.
    SensorStuck {
        /// The sensor (0-based).
        sensor: u8,
    },
    /// A cap that stops every surprise for now: `max_per_hour`, `max_per_day` or `cooldown_s`.
    Cap {
        /// Which.
        cap: crate::surprise::Cap,
    },
    /// Only free surprises fit now: the budget or today's pacing allowance is spent.
    OnlyFree {
        /// `budget_percent` or `pacing`.
        cap: crate::surprise::Cap,
    },
}

impl fmt::Display for SurpriseHold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SurpriseHold::Disabled => {
                f.write_str("switched off in surprises.toml (enabled = false)")
            }
            SurpriseHold::Paused => f.write_str("paused by an operator"),
            SurpriseHold::DoorOpen => f.write_str("the service door is open"),
            SurpriseHold::StorageFull => f.write_str("the books' disk is full"),
            SurpriseHold::ColumnFault { column } => write!(
                f,
                "column {column} is out of order: every surprise waits until it is reset"
            ),
            SurpriseHold::SensorStuck { sensor } => write!(
                f,
                "drop sensor {} is stuck: every surprise waits until it clears",
                u16::from(*sensor) + 1
            ),
            SurpriseHold::Cap { cap } => match cap {
                crate::surprise::Cap::PerHour => f.write_str(
                    "max_per_hour reached: the next surprise waits for the hour to pass",
                ),
                crate::surprise::Cap::PerDay => {
                    f.write_str("max_per_day reached: surprises resume tomorrow")
                }
                other => write!(
                    f,
                    "{}: the last surprise was moments ago, the next one waits",
                    other.field()
                ),
            },
            SurpriseHold::OnlyFree { cap } => write!(
                f,
                "only free surprises for now: the {} is spent (it grows back with sales)",
                if *cap == crate::surprise::Cap::Pacing {
                    "pacing allowance for today so far"
                } else {
                    "budget (budget_percent of sales)"
                }
            ),
        }
    }
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
