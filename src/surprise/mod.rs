//! The surprise engine: after a paid item is confirmed delivered, decide whether the customer gets
//! a surprise and which, within every cap and budget the operator set.
//!
//! Pure code: the random generator is injected (ChaCha8, so a seed replays the same on every
//! platform) and the local time comes in with each decision. It owns the policy's memory (recent
//! surprises, today's count and spend, the rolling sales and cost window, the streak since the
//! last surprise) and nothing else: it never dispenses anything (the vend core does) and never
//! reads a clock or a file.
//!
//! A decision goes: record the sale; roll the configured probability (or, with `pity_after`,
//! force a surprise after too long a streak); check the global caps (per hour, per day,
//! cooldown); keep the catalogue entries whose conditions match and that pass the per-surprise
//! checks (stock for every item, value cap, rolling budget, daily pacing); pick one by weight.

mod campaign;
pub mod config;
mod recovery;
mod secret;

use std::collections::VecDeque;
use std::time::Duration;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

pub use config::{
    Conditions, ItemSource, KindName, Pacing, Policy, Surprise, SurpriseConfig, SurpriseKind,
    MAX_SURPRISES,
};

pub use campaign::{Campaign, CampaignReport, CampaignSpend, Odds, Preset};
pub use recovery::{
    OfferKind, RecoveryHeld, RecoveryOffer, RecoveryPolicy, RecoveryTotals, RecoveryTrigger,
};
pub use secret::{Secret, SecretAnswer, SecretGift, SECRET_LENGTH};

use crate::i18n::Language;
use crate::localtime::LocalTime;
use crate::model::{ColumnId, ShowPattern};
use crate::money::Cents;

/// The caps and budgets that can hold a surprise back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cap {
    /// `max_per_hour`.
    PerHour,
    /// `max_per_day`.
    PerDay,
    /// `cooldown_s`.
    Cooldown,
    /// `max_value_multiple`.
    ValueCap,
    /// `budget_percent` over the rolling window.
    Budget,
    /// The daily pacing allowance.
    Pacing,
    /// Not enough stock for the surprise's items.
    Stock,
    /// Its campaign's budget or awards are spent, or its preset bounds the prize.
    Campaign,
}

impl Cap {
    /// Every cap, in report order.
    pub const ALL: [Cap; 8] = [
        Cap::PerHour,
        Cap::PerDay,
        Cap::Cooldown,
        Cap::ValueCap,
        Cap::Budget,
        Cap::Pacing,
        Cap::Stock,
        Cap::Campaign,
    ];

    /// The name of the setting in `surprises.toml` that makes this cap.
    pub fn field(self) -> &'static str {
        match self {
            Cap::PerHour => "max_per_hour",
            Cap::PerDay => "max_per_day",
            Cap::Cooldown => "cooldown_s",
            Cap::ValueCap => "max_value_multiple",
            Cap::Budget => "budget_percent",
            Cap::Pacing => "pacing",
            Cap::Stock => "stock",
            Cap::Campaign => "campaigns",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// What the caps hold back at one moment ([`SurpriseEngine::limits_now`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Limits {
    /// Caps that stop every surprise now.
    pub every: Vec<Cap>,
    /// The budget or pacing, when no surprise that costs something fits now.
    pub costly: Option<Cap>,
}

/// A set of [`Cap`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Caps(u8);

impl Caps {
    /// Whether `cap` is in the set.
    pub fn contains(self, cap: Cap) -> bool {
        self.0 & cap.bit() != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn insert(&mut self, cap: Cap) {
        self.0 |= cap.bit();
    }

    /// The caps in the set.
    pub fn iter(self) -> impl Iterator<Item = Cap> {
        Cap::ALL.into_iter().filter(move |c| self.contains(*c))
    }
}

impl Serialize for Caps {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// What the engine knows about the vend it is deciding on.
#[derive(Debug, Clone, Copy)]
pub struct VendFacts<'a> {
    /// Local time of the delivery: for the hours and days a surprise may fire on, the daily
    /// cap and pacing.
    pub now: LocalTime,
    /// The same moment in seconds on a timeline that the wall clock's jumps (daylight saving,
    /// a time zone change) do not move, such as UTC: the hourly cap, the cooldown and the
    /// rolling budget window are durations and count on it.
    pub steady: i64,
    /// The column the customer bought from.
    pub column: ColumnId,
    /// What they paid.
    pub price: Cents,
    /// Items each column can hand out right now (0 for a faulted column or one whose sensor is
    /// stuck), after the paid item.
    pub stock: &'a [u32],
}

/// A surprise awarded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Award {
    /// Index into the catalogue.
    pub index: usize,
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: KindName,
    /// What it costs the operator (counted against caps and budgets in full).
    pub cost: Cents,
    /// Items to dispense: (column, how many).
    pub items: Vec<(ColumnId, u32)>,
    /// A show to run: pattern and duration.
    pub show: Option<(ShowPattern, Duration)>,
}

/// The result of one decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// The probability roll came up (or the fairness rule forced a surprise).
    pub lucky: bool,
    /// The fairness rule forced the attempt.
    pub forced: bool,
    /// Caps and budgets that held back at least one candidate (or all of them).
    pub bound: Caps,
    /// The surprise, if any.
    pub award: Option<Award>,
}

impl Decision {
    fn none() -> Self {
        Decision {
            lucky: false,
            forced: false,
            bound: Caps::default(),
            award: None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    hour: i64,
    sales: u64,
    cost: u64,
}

/// Running totals a report needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EngineTotals {
    /// Paid vends decided on.
    pub vends: u64,
    /// Surprises awarded.
    pub surprises: u64,
    /// Their cost.
    pub cost: Cents,
    /// Sales decided on.
    pub sales: Cents,
}

/// The surprise engine. See the module documentation.
#[derive(Debug, Clone)]
pub struct SurpriseEngine {
    config: SurpriseConfig,
    paused: bool,
    rng: ChaCha8Rng,
    recent: VecDeque<i64>,
    day: i64,
    day_count: u32,
    day_spent: u64,
    last: Option<i64>,
    streak: u32,
    window: VecDeque<Bucket>,
    window_sales: u64,
    window_cost: u64,
    totals: EngineTotals,
    recovery: recovery::RecoveryMemory,
    /// What each campaign of the config has given, in config order.
    campaign_spend: Vec<CampaignSpend>,
    /// The local day of the secrets' counts, and each secret's answers that day.
    secret_day: i64,
    secret_counts: Vec<u32>,
}

impl SurpriseEngine {
    /// An engine with `config`, its randomness seeded with `seed`.
    pub fn new(config: SurpriseConfig, seed: u64) -> Self {
        SurpriseEngine {
            config,
            paused: false,
            rng: ChaCha8Rng::seed_from_u64(seed),
            recent: VecDeque::new(),
            day: i64::MIN,
            day_count: 0,
            day_spent: 0,
            last: None,
            streak: 0,
            window: VecDeque::new(),
            window_sales: 0,
            window_cost: 0,
            totals: EngineTotals::default(),
            recovery: recovery::RecoveryMemory::default(),
            campaign_spend: Vec::new(),
            secret_day: i64::MIN,
            secret_counts: Vec::new(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &SurpriseConfig {
        &self.config
    }

    /// Swap in a new configuration, keeping the memory of past surprises and sales, so that a
    /// config change can never reset a cap.
    pub fn set_config(&mut self, config: SurpriseConfig) {
        let spent: Vec<(String, CampaignSpend)> = self
            .config
            .campaigns
            .iter()
            .map(|c| c.name.clone())
            .zip(self.campaign_spend.iter().copied())
            .collect();
        self.config = config;
        self.set_campaign_spend(&spent);
    }

    /// Pause or resume every surprise (an operator switch, on top of `policy.enabled`).
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }

    /// Whether surprises are paused by the operator.
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Totals so far.
    pub fn totals(&self) -> EngineTotals {
        self.totals
    }

    /// Paid vends since the last surprise.
    pub fn streak(&self) -> u32 {
        self.streak
    }

    /// Surprise value and sales inside the rolling budget window, as of the last decision.
    pub fn window(&self) -> (Cents, Cents) {
        (Cents::new(self.window_cost), Cents::new(self.window_sales))
    }

    /// Surprise spend over the rolling budget window and the budget it is held to
    /// (`budget_percent` of the window's sales, in whole cents), as of the last decision.
    pub fn budget_now(&self) -> (Cents, Cents) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let bps = (self.config.policy.budget_percent * 100.0).round() as u64;
        let budget = u128::from(self.window_sales) * u128::from(bps) / 10_000;
        (
            Cents::new(self.window_cost),
            Cents::new(u64::try_from(budget).unwrap_or(u64::MAX)),
        )
    }

    /// Surprises and value on the local day of the last decision.
    pub fn today(&self) -> (u32, Cents) {
        (self.day_count, Cents::new(self.day_spent))
    }

    fn roll_time(&mut self, now: LocalTime, steady: i64) {
        let day = now.day();
        if day != self.day {
            self.day = day;
            self.day_count = 0;
            self.day_spent = 0;
        }
        let hour = steady.div_euclid(3_600);
        let window = i64::from(self.config.policy.budget_window_hours);
        while let Some(front) = self.window.front() {
            if front.hour > hour - window {
                break;
            }
            self.window_sales -= front.sales;
            self.window_cost -= front.cost;
            self.window.pop_front();
        }
        // A clock that steps back adds to the newest bucket rather than reorder the window.
        if self.window.back().is_none_or(|b| b.hour < hour) {
            self.window.push_back(Bucket {
                hour,
                sales: 0,
                cost: 0,
            });
        }
        let cutoff = steady - 3600;
        while self.recent.front().is_some_and(|&t| t <= cutoff) {
            self.recent.pop_front();
        }
    }

    fn add_to_window(&mut self, sales: u64, cost: u64) {
        if let Some(b) = self.window.back_mut() {
            b.sales += sales;
            b.cost += cost;
        }
        self.window_sales += sales;
        self.window_cost += cost;
    }

    /// What the caps hold back at this moment (local `now`, `steady` seconds on the UTC
    /// timeline), read without changing anything: `every` for the caps that stop every surprise
    /// (the hourly and daily counts, the cooldown), and `costly` when no surprise that costs
    /// something fits the budget or today's pacing (free ones still can). The budget is as of
    /// the last paid vend.
    pub fn limits_now(&self, now: LocalTime, steady: i64) -> Limits {
        let p = &self.config.policy;
        let mut every = Vec::new();
        let in_hour = self.recent.iter().filter(|&&t| steady - t < 3_600).count();
        if in_hour >= p.max_per_hour as usize {
            every.push(Cap::PerHour);
        }
        if now.day() == self.day && self.day_count >= p.max_per_day {
            every.push(Cap::PerDay);
        }
        let cooldown = i64::try_from(p.cooldown.as_secs()).unwrap_or(i64::MAX);
        if self.last.is_some_and(|t| steady - t < cooldown) {
            every.push(Cap::Cooldown);
        }
        let cheapest = self
            .config
            .catalogue
            .iter()
            .map(|s| s.cost.get())
            .filter(|&c| c > 0)
            .min();
        let spent_today = if now.day() == self.day {
            self.day_spent
        } else {
            0
        };
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let bps = (p.budget_percent * 100.0).round() as u64;
        let costly = cheapest.and_then(|cost| {
            let spend = u128::from(self.window_cost + cost) * 10_000;
            if spend > u128::from(bps) * u128::from(self.window_sales) {
                Some(Cap::Budget)
            } else {
                p.pacing
                    .as_ref()
                    .filter(|pacing| spent_today + cost > Self::allowance(pacing, now))
                    .map(|_| Cap::Pacing)
            }
        });
        Limits { every, costly }
    }

    fn global_caps(&self, steady: i64) -> Caps {
        let p = &self.config.policy;
        let mut bound = Caps::default();
        if self.recent.len() >= p.max_per_hour as usize {
            bound.insert(Cap::PerHour);
        }
        if self.day_count >= p.max_per_day {
            bound.insert(Cap::PerDay);
        }
        let cooldown = i64::try_from(p.cooldown.as_secs()).unwrap_or(i64::MAX);
        if self.last.is_some_and(|t| steady - t < cooldown) {
            bound.insert(Cap::Cooldown);
        }
        bound
    }

    /// Pacing allowance for today at `now`.
    fn allowance(pacing: &Pacing, now: LocalTime) -> u64 {
        let budget = pacing.daily_budget.get();
        let minute = now.minute_of_day();
        let released = match pacing.hours.elapsed(minute) {
            Some(elapsed) => {
                let len = u64::from(pacing.hours.minutes().max(1));
                budget.saturating_mul(u64::from(elapsed)) / len
            }
            None if minute >= pacing.hours.end => budget,
            None => 0,
        };
        released.saturating_add(pacing.burst.get()).min(budget)
    }

    fn conditions_match(when: &Conditions, facts: &VendFacts<'_>) -> bool {
        let column_bit = 1u64.checked_shl(u32::try_from(facts.column.index()).unwrap_or(64));
        column_bit.is_some_and(|b| when.columns & b != 0)
            && when.days & (1 << facts.now.weekday().index()) != 0
            && facts.price >= when.min_price
            && (when.hours.is_empty()
                || when
                    .hours
                    .iter()
                    .any(|w| w.contains(facts.now.minute_of_day())))
    }

    fn stock_of(facts: &VendFacts<'_>, column: ColumnId) -> u32 {
        facts.stock.get(column.index()).copied().unwrap_or(0)
    }

    fn has_stock(kind: &SurpriseKind, facts: &VendFacts<'_>) -> bool {
        let Some((source, count)) = kind.items() else {
            return true;
        };
        match source {
            ItemSource::Same => Self::stock_of(facts, facts.column) >= count,
            ItemSource::Column { column } => Self::stock_of(facts, column) >= count,
            ItemSource::Product { columns } => {
                let mut total = 0u32;
                for (i, &s) in facts.stock.iter().enumerate().take(64) {
                    if columns & (1u64 << i) != 0 {
                        total = total.saturating_add(s);
                    }
                }
                total >= count
            }
        }
    }

    fn resolve_items(kind: &SurpriseKind, facts: &VendFacts<'_>) -> Vec<(ColumnId, u32)> {
        let Some((source, count)) = kind.items() else {
            return Vec::new();
        };
        match source {
            ItemSource::Same => vec![(facts.column, count)],
            ItemSource::Column { column } => vec![(column, count)],
            ItemSource::Product { columns } => {
                let mut left = count;
                let mut items = Vec::new();
                for (i, &s) in facts.stock.iter().enumerate().take(64) {
                    if left == 0 {
                        break;
                    }
                    if columns & (1u64 << i) != 0 && s > 0 {
                        let take = s.min(left);
                        if let Some(column) = ColumnId::from_index(i) {
                            items.push((column, take));
                            left -= take;
                        }
                    }
                }
                items
            }
        }
    }

    /// Per-surprise checks beyond the conditions; returns the cap that rules it out.
    fn candidate_cap(&self, s: &Surprise, facts: &VendFacts<'_>) -> Option<Cap> {
        self.candidate_cap_priced(s, facts, true)
    }

    /// [`Self::candidate_cap`], with the value cap (a multiple of the purchase price) only when
    /// there is a purchase.
    fn candidate_cap_priced(
        &self,
        s: &Surprise,
        facts: &VendFacts<'_>,
        priced: bool,
    ) -> Option<Cap> {
        let p = &self.config.policy;
        let cost = s.cost.get();
        if let Some(k) = s.campaign {
            let price = if priced {
                facts.price
            } else {
                Cents::new(u64::MAX)
            };
            if self.campaign_hold(k, s.cost, price, facts.now).is_some() {
                return Some(Cap::Campaign);
            }
        }
        // f64 is exact for any realistic price; the multiple is the operator's own number.
        #[allow(clippy::cast_precision_loss)]
        let value_limit = p.max_value_multiple * facts.price.get() as f64;
        #[allow(clippy::cast_precision_loss)]
        if priced && cost as f64 > value_limit {
            return Some(Cap::ValueCap);
        }
        // Budget: (cost so far + this one) <= percent/100 * sales, in basis points to stay exact.
        // The percentage is validated to 0..=100, so the rounded value fits.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let bps = (p.budget_percent * 100.0).round() as u64;
        let spend = u128::from(self.window_cost + cost) * 10_000;
        if spend > u128::from(bps) * u128::from(self.window_sales) {
            return Some(Cap::Budget);
        }
        if let Some(pacing) = &p.pacing {
            if self.day_spent + cost > Self::allowance(pacing, facts.now) {
                return Some(Cap::Pacing);
            }
        }
        if !Self::has_stock(&s.kind, facts) {
            return Some(Cap::Stock);
        }
        None
    }

    /// Rebuild the memory of past sales and surprises (from the journal after a restart), so that
    /// caps and budgets hold across power cuts. Both lists in time order; `streak` is the number
    /// of paid vends since the last surprise. The books keep local times: `utc_offset` (local
    /// minus UTC, in seconds, as it is now) puts them on the steady timeline; a record from
    /// before a daylight-saving change is then off by that change, which only shifts how long
    /// it counts in the hourly cap and the budget window.
    pub fn restore_history(
        &mut self,
        sales: &[(LocalTime, Cents)],
        awards: &[(LocalTime, Cents)],
        streak: u32,
        utc_offset: i64,
    ) {
        let (mut s, mut a) = (sales.iter().peekable(), awards.iter().peekable());
        loop {
            let take_sale = match (s.peek(), a.peek()) {
                (Some((ts, _)), Some((ta, _))) => ts <= ta,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            if take_sale {
                if let Some(&(t, price)) = s.next() {
                    self.roll_time(t, t.secs() - utc_offset);
                    self.add_to_window(price.get(), 0);
                }
            } else if let Some(&(t, cost)) = a.next() {
                let steady = t.secs() - utc_offset;
                self.roll_time(t, steady);
                self.recent.push_back(steady);
                self.day_count += 1;
                self.day_spent += cost.get();
                self.last = Some(steady);
                self.add_to_window(0, cost.get());
            }
        }
        self.streak = streak;
    }

    /// Count a paid vend's sale in the window and the totals.
    fn record_sale(&mut self, facts: &VendFacts<'_>) {
        self.roll_time(facts.now, facts.steady);
        self.add_to_window(facts.price.get(), 0);
        self.totals.vends += 1;
        self.totals.sales = self.totals.sales.saturating_add(facts.price);
    }

    /// Decide on a paid vend whose item was just confirmed delivered, with an operator's gift
    /// waiting (catalogue index, and whether it overrides the caps): the gift when it can be
    /// given now (the `bool` says so), otherwise the usual decision.
    pub fn decide_with_gift(
        &mut self,
        facts: &VendFacts<'_>,
        gift: Option<(usize, bool)>,
    ) -> (Decision, bool) {
        let Some((index, override_caps)) = gift else {
            return (self.decide(facts), false);
        };
        self.record_sale(facts);
        if !self.config.policy.enabled || self.paused {
            return (Decision::none(), false);
        }
        match self.gift(index, facts, override_caps) {
            Ok(award) => {
                let decision = Decision {
                    lucky: true,
                    forced: false,
                    bound: Caps::default(),
                    award: Some(award),
                };
                (decision, true)
            }
            Err(_) => (self.decide_recorded(facts), false),
        }
    }

    /// Decide on a paid vend whose item was just confirmed delivered.
    pub fn decide(&mut self, facts: &VendFacts<'_>) -> Decision {
        self.record_sale(facts);
        self.decide_recorded(facts)
    }

    /// [`Self::decide`], the sale already counted.
    fn decide_recorded(&mut self, facts: &VendFacts<'_>) -> Decision {
        let policy = &self.config.policy;
        if !policy.enabled || self.paused {
            self.streak = 0;
            return Decision::none();
        }
        self.streak = self.streak.saturating_add(1);
        let forced = policy.pity_after.is_some_and(|n| self.streak > n);
        let lucky = forced || self.rng.random::<f64>() < policy.probability;
        if !lucky {
            return Decision::none();
        }
        let mut decision = Decision {
            lucky,
            forced,
            bound: self.global_caps(facts.steady),
            award: None,
        };
        if !decision.bound.is_empty() {
            return decision;
        }
        let mut total = 0.0;
        let mut eligible = [false; MAX_SURPRISES];
        for (i, s) in self.config.catalogue.iter().enumerate().take(MAX_SURPRISES) {
            if !Self::conditions_match(&s.when, facts)
                || s.campaign.is_some_and(|k| {
                    self.config
                        .campaigns
                        .get(k)
                        .is_none_or(|c| !c.running(facts.now))
                })
            {
                continue;
            }
            match self.candidate_cap(s, facts) {
                Some(cap) => decision.bound.insert(cap),
                None => {
                    eligible[i] = true;
                    total += s.weight;
                }
            }
        }
        if total <= 0.0 {
            return decision;
        }
        let mut r = self.rng.random::<f64>() * total;
        let mut chosen = None;
        for (i, s) in self.config.catalogue.iter().enumerate().take(MAX_SURPRISES) {
            if eligible[i] {
                chosen = Some(i);
                if r < s.weight {
                    break;
                }
                r -= s.weight;
            }
        }
        let Some(index) = chosen else {
            return decision;
        };
        decision.award = Some(self.grant(index, facts));
        decision
    }

    /// Award catalogue entry `index` on `facts`: its items and show, booked against every cap,
    /// budget and campaign (the caller has checked they allow it).
    pub(super) fn grant(&mut self, index: usize, facts: &VendFacts<'_>) -> Award {
        let s = &self.config.catalogue[index];
        let items = Self::resolve_items(&s.kind, facts);
        let award = Award {
            index,
            name: s.name.clone(),
            kind: s.kind.name(),
            cost: s.cost,
            items,
            show: match &s.kind {
                SurpriseKind::Show { pattern, duration } => Some((*pattern, *duration)),
                _ => None,
            },
        };
        let (cost, cost_cents, campaign) = (s.cost.get(), s.cost, s.campaign);
        if let Some(k) = campaign {
            self.campaign_award(k, cost_cents);
        }
        self.streak = 0;
        self.recent.push_back(facts.steady);
        self.day_count += 1;
        self.day_spent += cost;
        self.last = Some(facts.steady);
        self.add_to_window(0, cost);
        self.totals.surprises += 1;
        self.totals.cost = self.totals.cost.saturating_add(cost_cents);
        award
    }

    /// The display text for an award: the surprise's message with `{product}` and `{count}`
    /// filled in; `product_of` names a column's product.
    pub fn message_for(&self, award: &Award, product_of: impl Fn(ColumnId) -> String) -> String {
        self.messages_for(award, product_of).0
    }

    /// The award's message, and its translations, with `{product}` and `{count}` filled in.
    pub fn messages_for(
        &self,
        award: &Award,
        product_of: impl Fn(ColumnId) -> String,
    ) -> (String, Vec<(Language, String)>) {
        let Some(s) = self.config.catalogue.get(award.index) else {
            return (String::new(), Vec::new());
        };
        let count: u32 = award.items.iter().map(|(_, n)| n).sum();
        let product = award
            .items
            .first()
            .map(|(c, _)| product_of(*c))
            .unwrap_or_default();
        let fill = |text: &str| {
            text.replace("{product}", &product)
                .replace("{count}", &count.to_string())
        };
        let translations = s
            .translations
            .iter()
            .map(|(lang, text)| (*lang, fill(text)))
            .collect();
        (fill(&s.message), translations)
    }
}

#[cfg(test)]
mod tests;
