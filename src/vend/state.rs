//! The state of what is under way in the core: a column's state, a vend with its phase and
//! kind, a surprise being dispensed, a payout. Plain data with the little that reads it; the
//! rules that change it are the core's (`dispense`, `payout`, `change`, `surprise_run`).

use happiness_hardware::Timestamp;

use super::{ColumnId, ColumnSpec, ColumnStatus, Tender};
use crate::money::Cents;
use std::collections::VecDeque;

#[derive(Debug, Clone)]
pub(super) struct ColumnState {
    pub(super) spec: ColumnSpec,
    pub(super) stock: u32,
    pub(super) status: ColumnStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Motor on since the given time.
    Turning { since: Timestamp },
    /// Motor off; waiting for the item to reach the beam until the given time.
    Settling { until: Timestamp },
    /// Motor off; the next nudge starts at the given time.
    Pausing { until: Timestamp },
}

/// Whether a vend was paid for or is part of a surprise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum VendKind {
    Paid,
    Surprise,
    /// An operator's service test: nothing paid, nothing promised.
    Test,
}

/// A surprise whose items are being dispensed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ActiveSurprise {
    pub(super) name: String,
    pub(super) planned: u32,
    pub(super) delivered: u32,
    pub(super) pending: VecDeque<ColumnId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Vend {
    pub(super) kind: VendKind,
    /// How a paid vend is paid (cash for the other kinds).
    pub(super) tender: Tender,
    pub(super) column: ColumnId,
    pub(super) price: Cents,
    pub(super) attempt: u32,
    pub(super) phase: Phase,
    pub(super) delivered: bool,
    pub(super) jammed: bool,
}

impl Vend {
    /// A vend about to run: no motor run yet, its first one due at `first_run`.
    pub(super) fn starting(
        kind: VendKind,
        column: ColumnId,
        price: Cents,
        first_run: Timestamp,
    ) -> Vend {
        Vend {
            kind,
            tender: Tender::Cash,
            column,
            price,
            attempt: 0,
            phase: Phase::Pausing { until: first_run },
            delivered: false,
            jammed: false,
        }
    }
}

impl PayoutRun {
    /// When the hopper next needs attention: the end of the pulse under way, or the next pulse.
    pub(super) fn deadline(&self) -> Timestamp {
        self.pulse_until.unwrap_or(self.next_at)
    }
}

/// Paying credit back, one hopper pulse per coin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PayoutRun {
    pub(super) left: u32,
    pub(super) paid: u32,
    /// While a pulse is on: when it ends. Otherwise: when the next one starts (for the
    /// changer: when the core stops waiting for its answer).
    pub(super) pulse_until: Option<Timestamp>,
    pub(super) next_at: Timestamp,
    /// Paid by the MDB changer in one PAYOUT of this amount, not by the hopper's pulses.
    pub(super) changer: Option<Cents>,
}
