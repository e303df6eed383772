//! Today's figures for the fleet and the pages: paid sales, surprises and their cost, the last
//! sale. Read from the books when selling starts, then counted on from the notices booked, and
//! started afresh at local midnight; cheap enough to publish after every step.

use serde::Serialize;

use super::*;
use crate::journal::PeriodQuery;

/// Today's figures (local day).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Today {
    /// Paid items delivered today.
    pub sales: u64,
    /// What they brought in.
    pub sales_value: Cents,
    /// Surprises given today (chance, gifts, secrets; failures made right are apart).
    pub surprises: u64,
    /// What they cost.
    pub surprise_cost: Cents,
    /// The last paid sale, local (`2026-11-28 09:15:00`), today or before.
    pub last_sale: Option<String>,
    /// The local day these count, as days since 1970 (for starting afresh at midnight).
    #[serde(skip)]
    day: i64,
}

fn day_of(t: LocalTime) -> i64 {
    t.secs().div_euclid(86_400)
}

impl Controller {
    /// Read today's figures from the books (at the start of selling).
    pub(super) fn load_today(&mut self) {
        let query = PeriodQuery {
            days: Some(1),
            ..PeriodQuery::default()
        };
        let rule = self.budget_rule();
        let now = self.local;
        let books = query
            .resolve(now)
            .ok()
            .and_then(|p| self.journal.period_books(&p, rule, now).ok());
        let last = self.journal.last_sale().ok().flatten();
        self.today = Today {
            sales: books.as_ref().map_or(0, |b| b.sales.count),
            sales_value: books.as_ref().map_or(Cents::ZERO, |b| b.sales.value),
            surprises: books.as_ref().map_or(0, |b| b.surprises.count),
            surprise_cost: books.as_ref().map_or(Cents::ZERO, |b| b.surprises.value),
            last_sale: last.map(|t| t.to_string()),
            day: day_of(now),
        };
    }

    /// Count a step's notices into today's figures.
    pub(super) fn count_today(&mut self, cmds: &[Command]) {
        let today = day_of(self.local);
        if today != self.today.day {
            let last_sale = self.today.last_sale.take();
            self.today = Today {
                last_sale,
                day: today,
                ..Today::default()
            };
        }
        for c in cmds {
            match c {
                Command::Notice(Notice::VendDelivered { price, .. }) => {
                    self.today.sales += 1;
                    self.today.sales_value = self.today.sales_value.saturating_add(*price);
                    self.today.last_sale = Some(self.local.to_string());
                }
                Command::Notice(Notice::SurpriseAwarded { cost, .. }) => {
                    self.today.surprises += 1;
                    self.today.surprise_cost = self.today.surprise_cost.saturating_add(*cost);
                }
                _ => {}
            }
        }
    }
}
