//! A yes to a crazy request: secret sequences of selection buttons that answer with a surprise or
//! a message, and gifts an operator sends to the next paying customer.
//!
//! Pure: the vend core keeps the presses and says when a secret may count (no credit held, so no
//! press of a sequence ever starts a vend); here a sequence is recognised exactly and the answer
//! is held to its own daily count and to the policy's caps and budgets.

use std::time::Duration;

use serde::Serialize;

use super::{Award, Cap, SurpriseEngine, VendFacts};
use crate::i18n::Language;
use crate::model::ColumnId;

/// Fewest and most buttons in a secret: fewer would be found by chance.
pub const SECRET_LENGTH: std::ops::RangeInclusive<usize> = 3..=8;

/// What a secret answers with.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretAnswer {
    /// A surprise from the catalogue (by index).
    Surprise(usize),
    /// A message on the display.
    Message {
        /// The words.
        text: String,
        /// In other languages.
        translations: Vec<(Language, String)>,
    },
}

/// One `[[secrets]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Secret {
    /// Name shown to operators (and booked with its awards).
    pub name: String,
    /// The columns whose selection buttons make the sequence, in order.
    pub sequence: Vec<ColumnId>,
    /// The whole sequence must be pressed within this time.
    pub within: Duration,
    /// The answer.
    pub answer: SecretAnswer,
    /// Most answers per local day.
    pub max_per_day: u32,
}

/// A secret's answer, granted.
#[derive(Debug, Clone, PartialEq)]
pub enum SecretGift {
    /// A surprise (items, a show or its message).
    Award(Award),
    /// A message only.
    Message {
        /// The secret's name.
        name: String,
        /// The words.
        text: String,
        /// In other languages.
        translations: Vec<(Language, String)>,
    },
}

impl SurpriseEngine {
    /// The secrets in force.
    pub fn secrets(&self) -> &[Secret] {
        &self.config.secrets
    }

    /// The secret that `presses` (oldest first, each with its time in milliseconds) end with,
    /// pressed within its time: the last presses equal its sequence exactly.
    pub fn match_secret(&self, presses: &[(u64, ColumnId)]) -> Option<usize> {
        self.config.secrets.iter().position(|s| {
            let n = s.sequence.len();
            let Some(tail) = presses.len().checked_sub(n).map(|i| &presses[i..]) else {
                return false;
            };
            let within = u64::try_from(s.within.as_millis()).unwrap_or(u64::MAX);
            tail.iter().map(|(_, c)| *c).eq(s.sequence.iter().copied())
                && tail[n - 1].0.saturating_sub(tail[0].0) <= within
        })
    }

    /// Answer secret `k` on `facts` (the pressed column, no purchase), if its daily count and the
    /// policy's caps, budgets and stock allow; a surprise answer is booked like any award
    /// (without the value cap, which needs a purchase).
    pub fn open_secret(&mut self, k: usize, facts: &VendFacts<'_>) -> Option<SecretGift> {
        let secret = self.config.secrets.get(k)?.clone();
        let p = &self.config.policy;
        if !p.enabled || self.paused {
            return None;
        }
        self.roll_time(facts.now, facts.steady);
        if self.secret_day != facts.now.day() {
            self.secret_day = facts.now.day();
            self.secret_counts.clear();
        }
        self.secret_counts.resize(self.config.secrets.len(), 0);
        if self.secret_counts[k] >= secret.max_per_day || !self.global_caps(facts.steady).is_empty()
        {
            return None;
        }
        let gift = match secret.answer {
            SecretAnswer::Surprise(i) => {
                let s = self.config.catalogue.get(i)?;
                if self.candidate_cap_priced(s, facts, false).is_some() {
                    return None;
                }
                SecretGift::Award(self.grant(i, facts))
            }
            SecretAnswer::Message { text, translations } => {
                self.book_free(facts.steady);
                SecretGift::Message {
                    name: secret.name.clone(),
                    text,
                    translations,
                }
            }
        };
        self.secret_counts[k] += 1;
        Some(gift)
    }

    /// Give catalogue entry `index` on a paid vend as an operator's gift: within the caps and
    /// budgets unless `override_caps`, always within the stock. `Err` names what holds it back
    /// (the gift then waits for the next customer).
    pub fn gift(
        &mut self,
        index: usize,
        facts: &VendFacts<'_>,
        override_caps: bool,
    ) -> Result<Award, Cap> {
        self.roll_time(facts.now, facts.steady);
        let Some(s) = self.config.catalogue.get(index) else {
            return Err(Cap::Stock);
        };
        if !Self::has_stock(&s.kind, facts) {
            return Err(Cap::Stock);
        }
        if !override_caps {
            if let Some(cap) = self.global_caps(facts.steady).iter().next() {
                return Err(cap);
            }
            if let Some(cap) = self.candidate_cap(s, facts) {
                return Err(cap);
            }
        }
        Ok(self.grant(index, facts))
    }

    /// The index of the catalogue entry called `name` (any case).
    pub fn surprise_named(&self, name: &str) -> Option<usize> {
        self.config
            .catalogue
            .iter()
            .position(|s| s.name.eq_ignore_ascii_case(name.trim()))
    }

    /// Book a free answer (a secret's message) against the caps.
    fn book_free(&mut self, steady: i64) {
        self.recent.push_back(steady);
        self.day_count += 1;
        self.last = Some(steady);
        self.totals.surprises += 1;
    }
}
