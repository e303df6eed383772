//! Making it right (service recovery): when a paid vend fails, or a customer says it was not
//! good, the machine offers a gesture the operator chose (a free item of the customer's choice,
//! or an apology), within caps and a budget of its own, separate from the surprises'.
//!
//! Pure like the rest of the engine: it decides whether an offer can be made and how much it may
//! be worth, and keeps the memory of offers and what they cost; the vend core runs the offer
//! (which columns it covers, its expiry, dispensing the item), and never reads a clock here.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;

use super::SurpriseEngine;
use crate::i18n::Language;
use crate::localtime::LocalTime;
use crate::money::Cents;

/// What the machine offers when something went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferKind {
    /// Choose any available item now, free.
    FreeItem,
    /// An apology on the display.
    Message,
    /// Nothing beyond the refund.
    None,
}

impl OfferKind {
    /// The name as `surprises.toml` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            OfferKind::FreeItem => "free_item",
            OfferKind::Message => "message",
            OfferKind::None => "none",
        }
    }
}

/// What went wrong for the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryTrigger {
    /// A paid vend failed (a jam, or no item reached the beam): the price is back in credit.
    FailedVend,
    /// The customer answered "not happy" to "how was it?".
    Unhappy,
}

impl RecoveryTrigger {
    /// The name used in the books and the metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            RecoveryTrigger::FailedVend => "failed_vend",
            RecoveryTrigger::Unhappy => "unhappy",
        }
    }
}

/// `[recovery]` in `surprises.toml`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecoveryPolicy {
    /// The gesture.
    pub offer: OfferKind,
    /// How long a free choice stays open (it also ends when the credit is returned).
    pub offer_time: Duration,
    /// Most offers per local calendar day.
    pub max_per_day: u32,
    /// What the free items may cost over the rolling window, as a percentage of its sales.
    pub budget_percent: f64,
    /// The budget is never below this, so that a machine with few sales yet can still make a
    /// failure right.
    pub min_budget: Cents,
    /// An unhappy answer to "how was it?" gets the same offer (once per vend).
    pub on_unhappy: bool,
    /// The words on the display after the refund.
    pub message: String,
    /// The message in other languages.
    pub translations: Vec<(Language, String)>,
}

impl Default for RecoveryPolicy {
    fn default() -> Self {
        RecoveryPolicy {
            offer: OfferKind::None,
            offer_time: Duration::from_secs(60),
            max_per_day: 10,
            budget_percent: 5.0,
            min_budget: Cents::ZERO,
            on_unhappy: false,
            message: String::new(),
            translations: Vec::new(),
        }
    }
}

/// An offer the engine allows: what it is and what the free item may cost at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RecoveryOffer {
    /// A free item, or an apology only (when the budget has no room for an item).
    pub kind: OfferKind,
    /// The most the free item may be worth (its price): what the budget has room for.
    pub allowance: Cents,
    /// How long the free choice stays open.
    pub expires: Duration,
}

/// Why no offer was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryHeld {
    /// `offer = "none"`, or an unhappy answer while `on_unhappy = false`.
    Off,
    /// `max_per_day` offers made today.
    PerDay,
}

/// Running totals of recovery, for reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RecoveryTotals {
    /// Offers made.
    pub offers: u64,
    /// Free items taken.
    pub taken: u64,
    /// Their value.
    pub cost: Cents,
}

/// The engine's memory of recovery: today's offers and the cost of free items in the window.
#[derive(Debug, Clone)]
pub(super) struct RecoveryMemory {
    day: i64,
    offers_today: u32,
    /// (steady seconds, value) of each free item taken inside the budget window.
    window: VecDeque<(i64, u64)>,
    window_cost: u64,
    totals: RecoveryTotals,
}

impl Default for RecoveryMemory {
    fn default() -> Self {
        RecoveryMemory {
            day: i64::MIN,
            offers_today: 0,
            window: VecDeque::new(),
            window_cost: 0,
            totals: RecoveryTotals::default(),
        }
    }
}

impl RecoveryMemory {
    fn roll(&mut self, now: LocalTime, steady: i64, window_hours: u32) {
        if now.day() != self.day {
            self.day = now.day();
            self.offers_today = 0;
        }
        let cutoff = steady - i64::from(window_hours) * 3_600;
        while let Some(&(t, cost)) = self.window.front() {
            if t > cutoff {
                break;
            }
            self.window_cost -= cost;
            self.window.pop_front();
        }
    }

    fn take(&mut self, steady: i64, cost: u64) {
        self.window.push_back((steady, cost));
        self.window_cost += cost;
    }
}

impl SurpriseEngine {
    /// The recovery policy in force.
    pub fn recovery(&self) -> &RecoveryPolicy {
        &self.config.recovery
    }

    /// Recovery so far.
    pub fn recovery_totals(&self) -> RecoveryTotals {
        self.recovery.totals
    }

    /// What free items cost over the rolling window, and the recovery budget it is held to:
    /// `budget_percent` of the window's sales (as of the last paid vend), never below
    /// `min_budget_cents`.
    pub fn recovery_budget_now(&self) -> (Cents, Cents) {
        let r = &self.config.recovery;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let bps = (r.budget_percent * 100.0).round() as u64;
        let share = u128::from(self.window_sales) * u128::from(bps) / 10_000;
        let budget = u64::try_from(share)
            .unwrap_or(u64::MAX)
            .max(r.min_budget.get());
        (Cents::new(self.recovery.window_cost), Cents::new(budget))
    }

    /// Whether an offer can be made now for `trigger`, and what it may be worth. Counts the offer
    /// against `max_per_day` when it is made.
    pub fn offer_recovery(
        &mut self,
        now: LocalTime,
        steady: i64,
        trigger: RecoveryTrigger,
    ) -> Result<RecoveryOffer, RecoveryHeld> {
        let window_hours = self.config.policy.budget_window_hours;
        let r = &self.config.recovery;
        if r.offer == OfferKind::None || (trigger == RecoveryTrigger::Unhappy && !r.on_unhappy) {
            return Err(RecoveryHeld::Off);
        }
        let (offer, expires, max_per_day) = (r.offer, r.offer_time, r.max_per_day);
        self.recovery.roll(now, steady, window_hours);
        if self.recovery.offers_today >= max_per_day {
            return Err(RecoveryHeld::PerDay);
        }
        let (spent, budget) = self.recovery_budget_now();
        let allowance = budget.saturating_sub(spent);
        let kind = match offer {
            OfferKind::FreeItem if allowance > Cents::ZERO => OfferKind::FreeItem,
            _ => OfferKind::Message,
        };
        self.recovery.offers_today += 1;
        self.recovery.totals.offers += 1;
        Ok(RecoveryOffer {
            kind,
            allowance: if kind == OfferKind::FreeItem {
                allowance
            } else {
                Cents::ZERO
            },
            expires,
        })
    }

    /// A free item was taken: its value counts against the recovery budget.
    pub fn record_recovery(&mut self, now: LocalTime, steady: i64, value: Cents) {
        self.recovery
            .roll(now, steady, self.config.policy.budget_window_hours);
        self.recovery.take(steady, value.get());
        self.recovery.totals.taken += 1;
        self.recovery.totals.cost = self.recovery.totals.cost.saturating_add(value);
    }

    /// Rebuild the memory of recovery from the books after a restart: the times offers were
    /// made and the free items taken (time and value), each in time order; `utc_offset` as for
    /// [`SurpriseEngine::restore_history`].
    pub fn restore_recovery(
        &mut self,
        offers: &[LocalTime],
        taken: &[(LocalTime, Cents)],
        utc_offset: i64,
    ) {
        let hours = self.config.policy.budget_window_hours;
        for &t in offers {
            self.recovery.roll(t, t.secs() - utc_offset, hours);
            self.recovery.offers_today += 1;
        }
        for &(t, value) in taken {
            let steady = t.secs() - utc_offset;
            self.recovery.take(steady, value.get());
        }
        // Items taken before the window's start no longer count.
        if let Some(&t) = offers.last() {
            self.recovery.roll(t, t.secs() - utc_offset, hours);
        }
    }

    /// The recovery message and its translations.
    pub fn recovery_messages(&self) -> (String, Vec<(Language, String)>) {
        let r = &self.config.recovery;
        (r.message.clone(), r.translations.clone())
    }
}
