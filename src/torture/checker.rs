//! The invariants of the fault campaign that follow the controller's trace, step by step: one
//! delivery per vend and a motor only for an open vend, and surprises within the caps and budgets
//! of the policy in force, and offers to make a failure right only after one, within their own
//! caps and budget.

use serde::Serialize;

use crate::localtime::LocalTime;
use crate::money::Cents;
use crate::surprise::{OfferKind, Policy, RecoveryPolicy, RecoveryTrigger};
use crate::trace::{TraceEntry, TraceRecord};
use crate::vend::{AwardOrigin, ColumnId, Command, FailReason, Notice};

/// Follows the controller's commands, step by step.
pub(super) struct Checker {
    pub(super) open: Option<(usize, bool)>,
    pub(super) policy: Policy,
    pub(super) sales: Vec<(LocalTime, u64)>,
    pub(super) awards: Vec<(LocalTime, u64)>,
    pub(super) delivered_now: Option<u64>,
    pub(super) stock_changed: bool,
    /// Making failures right, as the policy in force says.
    pub(super) recovery: RecoveryPolicy,
    /// A paid vend failed in this step by the column's fault (a jam, no drop).
    pub(super) failed_now: bool,
    /// A free choice open: the columns it covers and the most it may be worth.
    pub(super) offer: Option<(Vec<ColumnId>, Cents)>,
    /// Offers made (times), and free items taken (time, value).
    pub(super) offers: Vec<LocalTime>,
    pub(super) taken: Vec<(LocalTime, u64)>,
}

/// A check's result: a broken invariant and what was seen.
pub(super) type Checked = Result<(), (Invariant, String)>;

/// The invariants the campaign checks. Each names a promise to customers or operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Invariant {
    /// The controller refused or failed something it must do (a valid reload, a stop, a start).
    ControllerError,
    /// At most one motor runs at a time.
    OneMotor,
    /// Surprises only after a paid delivery, within the policy's caps, value cap and budget.
    SurpriseCaps,
    /// Offers to make it right only after a failed paid vend, never with a surprise, a free
    /// item only from an open offer, within `max_per_day` and the recovery budget.
    RecoveryRules,
    /// A motor runs only for an open vend, and a vend has at most one delivery.
    OneDeliveryPerVend,
    /// Every record matches its seal.
    BooksSealed,
    /// The books balance to the cent, and the file is sound.
    BooksBalance,
    /// Every vend intent in the books has exactly one outcome.
    IntentHasOneOutcome,
    /// The controller's stock is the books' stock, within capacity.
    StockMatchesJournal,
    /// The coin acceptor takes no coin the books could not hold (stopped, full disk, starting).
    AcceptorFollowsBooks,
    /// Money inserted equals spent, paid back, credit and escrow.
    CreditConserved,
    /// No motor runs longer than the hard limit.
    MotorTimeLimit,
    /// Every coin a customer inserted is in the books, handed back, or logged as unrecorded.
    CoinsAccounted,
    /// After a stop, every motor is off.
    SafeStop,
    /// Committed records that vanished are named at the next start.
    LossNoticed,
    /// A record deleted without the key is named at the next start.
    EditNoticed,
}

impl Invariant {
    /// Its name in reports (kebab-case, as in JSON).
    pub fn name(self) -> &'static str {
        match self {
            Invariant::ControllerError => "controller-error",
            Invariant::OneMotor => "one-motor",
            Invariant::SurpriseCaps => "surprise-caps",
            Invariant::RecoveryRules => "recovery-rules",
            Invariant::OneDeliveryPerVend => "one-delivery-per-vend",
            Invariant::BooksSealed => "books-sealed",
            Invariant::BooksBalance => "books-balance",
            Invariant::IntentHasOneOutcome => "intent-has-one-outcome",
            Invariant::StockMatchesJournal => "stock-matches-journal",
            Invariant::AcceptorFollowsBooks => "acceptor-follows-books",
            Invariant::CreditConserved => "credit-conserved",
            Invariant::MotorTimeLimit => "motor-time-limit",
            Invariant::CoinsAccounted => "coins-accounted",
            Invariant::SafeStop => "safe-stop",
            Invariant::LossNoticed => "loss-noticed",
            Invariant::EditNoticed => "edit-noticed",
        }
    }
}

impl std::fmt::Display for Invariant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Checker {
    fn local(start: LocalTime, at_ms: f64) -> LocalTime {
        // Matches `LocalClock::StartingAt`: whole seconds since start.
        #[allow(clippy::cast_possible_truncation)]
        let secs = (at_ms / 1000.0).floor() as i64;
        start.plus_secs(secs)
    }

    pub(super) fn command(&mut self, start: LocalTime, record: &TraceRecord) -> Checked {
        let TraceEntry::Command { command, .. } = &record.entry else {
            return Ok(());
        };
        let bad = |detail: String| Err((Invariant::OneDeliveryPerVend, detail));
        match command {
            Command::Notice(Notice::VendStarted { column, .. })
            | Command::Notice(Notice::SurpriseItemStarted { column, .. }) => {
                if let Some((c, false)) = self.open {
                    return bad(format!(
                        "a vend on column {column} began while column {c} was still open"
                    ));
                }
                self.open = Some((column.number(), false));
            }
            Command::Notice(Notice::MotorRun { column, .. })
            | Command::Motor { column, on: true } => match self.open {
                Some((c, false)) if c == column.number() => {}
                other => {
                    return bad(format!(
                        "motor of column {column} ran with open vend {other:?}"
                    ))
                }
            },
            Command::Notice(Notice::VendDelivered { price, .. }) => {
                match self.open {
                    Some((c, false)) => self.open = Some((c, true)),
                    other => return bad(format!("a delivery with open vend {other:?}")),
                }
                self.delivered_now = Some(price.get());
                self.sales
                    .push((Checker::local(start, record.t_ms), price.get()));
                self.stock_changed = true;
            }
            Command::Notice(Notice::SurpriseItemDelivered { .. }) => {
                match self.open {
                    Some((c, false)) => self.open = Some((c, true)),
                    other => return bad(format!("a surprise item with open vend {other:?}")),
                }
                self.stock_changed = true;
            }
            Command::Notice(Notice::VendFailed { reason, .. }) => {
                self.open = None;
                self.failed_now = matches!(reason, FailReason::Jammed | FailReason::NoDrop);
            }
            Command::Notice(Notice::SurpriseItemFailed { .. }) => self.open = None,
            Command::Notice(n @ Notice::RecoveryOffered { .. })
            | Command::Notice(n @ Notice::RecoveryTaken { .. })
            | Command::Notice(n @ Notice::RecoveryLapsed { .. }) => {
                self.recovery(Checker::local(start, record.t_ms), n)?;
            }
            Command::Notice(Notice::Restocked { .. }) => self.stock_changed = true,
            Command::Notice(Notice::SurpriseAwarded { cost, origin, .. }) => {
                self.awarded(Checker::local(start, record.t_ms), cost.get(), *origin)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// A surprise: by chance or a gift after a paid delivery in the same step (never with a
    /// failure), or a secret with no purchase (every cap and budget but the value multiple).
    fn awarded(&mut self, t: LocalTime, cost: u64, origin: AwardOrigin) -> Checked {
        if origin == AwardOrigin::Secret {
            return self.award(t, cost, u64::MAX / 1_000_000);
        }
        if self.failed_now {
            return Err((
                Invariant::RecoveryRules,
                "a surprise in the same step as a failed vend".into(),
            ));
        }
        let Some(price) = self.delivered_now else {
            return Err((
                Invariant::SurpriseCaps,
                "a surprise without a paid delivery in the same step".into(),
            ));
        };
        self.award(t, cost, price)
    }

    /// An offer, a free item taken, or an offer's end.
    fn recovery(&mut self, t: LocalTime, notice: &Notice) -> Checked {
        let fail = |d: String| Err((Invariant::RecoveryRules, d));
        let r = &self.recovery;
        match notice {
            Notice::RecoveryOffered {
                trigger,
                offer,
                columns,
                allowance,
                ..
            } => {
                if *trigger == RecoveryTrigger::FailedVend && !self.failed_now {
                    return fail("an offer without a failed paid vend in the same step".into());
                }
                if self.delivered_now.is_some() {
                    return fail("an offer in the same step as a delivery".into());
                }
                if r.offer == OfferKind::None {
                    return fail("an offer while `offer = \"none\"`".into());
                }
                self.offers.push(t);
                let today = self.offers.iter().filter(|o| o.day() == t.day()).count();
                if today > r.max_per_day as usize {
                    return fail(format!("{today} offers in a day (cap {})", r.max_per_day));
                }
                self.offer = (*offer == OfferKind::FreeItem).then(|| (columns.clone(), *allowance));
            }
            Notice::RecoveryTaken { column, value, .. } => {
                let Some((columns, allowance)) = self.offer.take() else {
                    return fail(format!(
                        "a free item from column {column} with no offer open"
                    ));
                };
                if !columns.contains(column) || *value > allowance {
                    return fail(format!(
                        "a free item from column {column} worth {value}: the offer covered {columns:?} up to {allowance}"
                    ));
                }
                self.taken.push((t, value.get()));
                // Every sale so far is at least the window's: the budget can be no larger.
                let window = i64::from(self.policy.budget_window_hours) * 3_600;
                let given: u64 = self
                    .taken
                    .iter()
                    .filter(|(a, _)| t.secs() - a.secs() < window)
                    .map(|(_, v)| v)
                    .sum();
                let sales: u64 = self.sales.iter().map(|(_, p)| p).sum();
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let bps = (r.budget_percent * 100.0).round() as u128;
                let budget = (u128::from(sales) * bps / 10_000).max(u128::from(r.min_budget.get()));
                if u128::from(given) > budget {
                    return fail(format!(
                        "free items worth {given} over the recovery budget {budget}"
                    ));
                }
            }
            _ => self.offer = None,
        }
        Ok(())
    }

    fn award(&mut self, t: LocalTime, cost: u64, price: u64) -> Checked {
        let p = &self.policy;
        let fail = |d: String| Err((Invariant::SurpriseCaps, d));
        #[allow(clippy::cast_precision_loss)]
        if cost as f64 > p.max_value_multiple * price as f64 + 1e-9 {
            return fail(format!(
                "cost {cost} above {}x the price {price}",
                p.max_value_multiple
            ));
        }
        self.awards.push((t, cost));
        let in_hour = self
            .awards
            .iter()
            .filter(|(a, _)| t.secs() - a.secs() < 3600)
            .count();
        if in_hour > p.max_per_hour as usize {
            return fail(format!(
                "{in_hour} surprises within an hour (cap {})",
                p.max_per_hour
            ));
        }
        let today: Vec<u64> = self
            .awards
            .iter()
            .filter(|(a, _)| a.day() == t.day())
            .map(|(_, c)| *c)
            .collect();
        if today.len() > p.max_per_day as usize {
            return fail(format!(
                "{} surprises in a day (cap {})",
                today.len(),
                p.max_per_day
            ));
        }
        if let [.., (prev, _), _] = self.awards.as_slice() {
            let gap = t.secs() - prev.secs();
            if gap < i64::try_from(p.cooldown.as_secs()).unwrap_or(i64::MAX) {
                return fail(format!(
                    "surprises {gap} s apart (cooldown {:?})",
                    p.cooldown
                ));
            }
        }
        let first_hour = t.hour_index() - i64::from(p.budget_window_hours) + 1;
        let cost_sum: u64 = self
            .awards
            .iter()
            .filter(|(a, _)| a.hour_index() >= first_hour)
            .map(|(_, c)| c)
            .sum();
        let sales_sum: u64 = self
            .sales
            .iter()
            .filter(|(s, _)| s.hour_index() >= first_hour)
            .map(|(_, c)| c)
            .sum();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let bps = (p.budget_percent * 100.0).round() as u128;
        if u128::from(cost_sum) * 10_000 > bps * u128::from(sales_sum) {
            return fail(format!(
                "surprise value {cost_sum} over {}% of sales {sales_sum}",
                p.budget_percent
            ));
        }
        if let Some(pacing) = &p.pacing {
            let spent: u64 = today.iter().sum();
            if spent > pacing.daily_budget.get() {
                return fail(format!(
                    "{spent} spent today, daily budget {}",
                    pacing.daily_budget
                ));
            }
        }
        Ok(())
    }
}
