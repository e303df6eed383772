//! Campaigns: surprises that belong to a promotion with a start and an end, a total budget, a
//! most number of awards, and optionally a legal preset that bounds each prize and the total.
//!
//! Pure: the engine asks here whether a campaign's surprise may fire at a moment and for a
//! purchase, and counts what each campaign has given. What a campaign has given before a
//! restart or a config change comes from the books ([`SurpriseEngine::set_campaign_spend`]).

use serde::Serialize;

use super::SurpriseEngine;
use crate::localtime::LocalTime;
use crate::money::Cents;

/// Rules for prizes that the law sets, chosen by name in `surprises.toml`. Amounts are in the
/// machine's smallest money unit, which is the yen on a yen machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// Japan, prizes drawn by chance with a purchase (一般懸賞, Premiums Act and the JFTC's
    /// notice on prize premiums): each prize at most 20 times the purchase price, at most
    /// ¥100,000 for a purchase of ¥5,000 or more; all prizes together at most 2% of the
    /// campaign's planned sales.
    JpGeneralLottery,
    /// Japan, a prize given to every buyer (総付景品): at most ¥200 for a purchase under
    /// ¥1,000, otherwise at most 20% of the price.
    JpEveryBuyer,
}

impl Preset {
    /// The name as `surprises.toml` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::JpGeneralLottery => "jp-general-lottery",
            Preset::JpEveryBuyer => "jp-every-buyer",
        }
    }

    /// The preset named `name`.
    pub fn from_name(name: &str) -> Option<Preset> {
        match name {
            "jp-general-lottery" => Some(Preset::JpGeneralLottery),
            "jp-every-buyer" => Some(Preset::JpEveryBuyer),
            _ => None,
        }
    }

    /// The most one prize may be worth with a purchase at `price`.
    pub fn prize_limit(self, price: Cents) -> Cents {
        let p = price.get();
        Cents::new(match self {
            Preset::JpGeneralLottery if p >= 5_000 => 100_000,
            Preset::JpGeneralLottery => p.saturating_mul(20),
            Preset::JpEveryBuyer if p < 1_000 => 200,
            Preset::JpEveryBuyer => p.saturating_mul(20) / 100,
        })
    }

    /// The most all prizes together may be worth, as a share of planned sales in basis points
    /// (none: the preset sets no total).
    pub fn total_bps(self) -> Option<u64> {
        match self {
            Preset::JpGeneralLottery => Some(200),
            Preset::JpEveryBuyer => None,
        }
    }
}

/// One `[[campaigns]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Campaign {
    /// Name shown to operators.
    pub name: String,
    /// First moment (local).
    pub start: LocalTime,
    /// First moment after it (local).
    pub end: LocalTime,
    /// The names of its surprises.
    pub surprises: Vec<String>,
    /// Most its surprises may cost in all.
    pub budget: Cents,
    /// Most surprises it may award.
    pub max_awards: u32,
    /// The sales the operator expects over the campaign, if stated.
    pub planned_sales: Option<Cents>,
    /// The legal preset it keeps to, if any.
    pub preset: Option<Preset>,
}

impl Campaign {
    /// Whether `now` is inside the campaign.
    pub fn running(&self, now: LocalTime) -> bool {
        self.start <= now && now < self.end
    }
}

/// A campaign's figures for operators: what it gave against its budget, awards and planned
/// sales.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignReport {
    /// Its name.
    pub name: String,
    /// First moment (local).
    pub start: String,
    /// First moment after it (local).
    pub end: String,
    /// `upcoming`, `running` or `ended` at the time of the report.
    pub state: &'static str,
    /// Surprises awarded, and the most it may award.
    pub awards: u32,
    /// The most it may award.
    pub max_awards: u32,
    /// What they cost.
    pub cost: Cents,
    /// Its total budget.
    pub budget: Cents,
    /// Cost as a percentage of the budget.
    pub budget_used_percent: f64,
    /// The sales the operator planned, if stated.
    pub planned_sales: Option<Cents>,
    /// Cost as a percentage of the planned sales.
    pub cost_of_planned_percent: Option<f64>,
    /// The legal preset it keeps to.
    pub preset: Option<Preset>,
}

impl Campaign {
    /// The campaign's figures at `now`, given what it has awarded.
    pub fn report(&self, spent: CampaignSpend, now: LocalTime) -> CampaignReport {
        #[allow(clippy::cast_precision_loss)]
        let percent = |part: Cents, whole: Cents| part.get() as f64 * 100.0 / whole.get() as f64;
        CampaignReport {
            name: self.name.clone(),
            start: self.start.to_string(),
            end: self.end.to_string(),
            state: if now < self.start {
                "upcoming"
            } else if now < self.end {
                "running"
            } else {
                "ended"
            },
            awards: spent.awards,
            max_awards: self.max_awards,
            cost: spent.cost,
            budget: self.budget,
            budget_used_percent: if self.budget > Cents::ZERO {
                percent(spent.cost, self.budget)
            } else {
                0.0
            },
            planned_sales: self.planned_sales,
            cost_of_planned_percent: self
                .planned_sales
                .filter(|p| *p > Cents::ZERO)
                .map(|p| percent(spent.cost, p)),
            preset: self.preset,
        }
    }
}

impl CampaignReport {
    /// One line for people, amounts with `currency`.
    pub fn to_text(&self, currency: &str) -> String {
        let m = |c: Cents| c.with_symbol(currency);
        let mut line = format!(
            "  {:<24} {:<8} {:>4} of {:<4} awards  {:>10} of {} ({:.0}% of the budget)",
            self.name,
            self.state,
            self.awards,
            self.max_awards,
            m(self.cost),
            m(self.budget),
            self.budget_used_percent
        );
        if let (Some(planned), Some(share)) = (self.planned_sales, self.cost_of_planned_percent) {
            line.push_str(&format!(", {share:.2}% of planned sales {}", m(planned)));
        }
        if let Some(p) = self.preset {
            line.push_str(&format!(" [{}]", p.as_str()));
        }
        line
    }
}

/// What a campaign has given so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CampaignSpend {
    /// Surprises awarded.
    pub awards: u32,
    /// Their cost.
    pub cost: Cents,
}

/// Why a campaign's surprise may not fire now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CampaignHold {
    /// Outside its start and end.
    Closed,
    /// Its budget, or its number of awards, is spent.
    Spent,
    /// The prize is worth more than its preset allows with this purchase.
    Preset,
}

/// The odds a kiosk discloses: "1 in 5 purchases gets a surprise today", and what can be won.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Odds {
    /// One purchase in this many gets a surprise (the policy's probability, rounded).
    pub one_in: u32,
    /// The surprises that can come today (their hours and days, their campaign running and not
    /// spent), in catalogue order.
    pub prizes: Vec<String>,
}

impl SurpriseEngine {
    /// The odds to show customers at `now`, when the policy discloses them and surprises can
    /// come today. Computed from the policy in force: the chance per purchase, and the
    /// surprises whose days, hours and campaign allow them today.
    pub fn odds(&self, now: LocalTime) -> Option<Odds> {
        let p = &self.config.policy;
        if !p.disclose_odds || !p.enabled || self.paused || p.probability <= 0.0 {
            return None;
        }
        let today = 1u8 << now.weekday().index();
        let prizes: Vec<String> = self
            .config
            .catalogue
            .iter()
            .filter(|s| {
                let later_today = |w: &crate::localtime::TimeWindow| {
                    w.start > w.end || w.end > now.minute_of_day()
                };
                s.when.days & today != 0
                    && (s.when.hours.is_empty() || s.when.hours.iter().any(later_today))
                    && s.campaign.is_none_or(|k| self.campaign_open_today(k, now))
            })
            .map(|s| s.name.clone())
            .collect();
        if prizes.is_empty() {
            return None;
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let one_in = (1.0 / p.probability).round().clamp(1.0, 1e6) as u32;
        Some(Odds { one_in, prizes })
    }

    /// Whether campaign `k` runs at some time from `now` to the end of today, with budget and
    /// awards left.
    fn campaign_open_today(&self, k: usize, now: LocalTime) -> bool {
        let Some(c) = self.config.campaigns.get(k) else {
            return false;
        };
        let spent = self.campaign_spend.get(k).copied().unwrap_or_default();
        c.start.day() <= now.day()
            && now < c.end
            && spent.awards < c.max_awards
            && spent.cost < c.budget
    }

    /// What each campaign of the config in force has given, in config order.
    pub fn campaign_spend(&self) -> &[CampaignSpend] {
        &self.campaign_spend
    }

    /// Every campaign's figures at `now`.
    pub fn campaign_reports(&self, now: LocalTime) -> Vec<CampaignReport> {
        self.config
            .campaigns
            .iter()
            .enumerate()
            .map(|(k, c)| c.report(self.campaign_spend.get(k).copied().unwrap_or_default(), now))
            .collect()
    }

    /// Take over what each campaign has given, by name (from the books, after a restart or a
    /// config change). Campaigns not named start from nothing.
    pub fn set_campaign_spend(&mut self, spent: &[(String, CampaignSpend)]) {
        self.campaign_spend = self
            .config
            .campaigns
            .iter()
            .map(|c| {
                spent
                    .iter()
                    .find(|(name, _)| *name == c.name)
                    .map(|(_, s)| *s)
                    .unwrap_or_default()
            })
            .collect();
    }

    /// Whether campaign `k`'s surprise costing `cost` may fire at `now` on a purchase at `price`.
    pub(super) fn campaign_hold(
        &self,
        k: usize,
        cost: Cents,
        price: Cents,
        now: LocalTime,
    ) -> Option<CampaignHold> {
        let Some(c) = self.config.campaigns.get(k) else {
            return Some(CampaignHold::Closed);
        };
        if !c.running(now) {
            return Some(CampaignHold::Closed);
        }
        let spent = self.campaign_spend.get(k).copied().unwrap_or_default();
        if spent.awards >= c.max_awards || spent.cost.saturating_add(cost) > c.budget {
            return Some(CampaignHold::Spent);
        }
        if c.preset.is_some_and(|p| cost > p.prize_limit(price)) {
            return Some(CampaignHold::Preset);
        }
        None
    }

    /// Count an award of campaign `k`.
    pub(super) fn campaign_award(&mut self, k: usize, cost: Cents) {
        if self.campaign_spend.len() < self.config.campaigns.len() {
            self.campaign_spend
                .resize(self.config.campaigns.len(), CampaignSpend::default());
        }
        if let Some(s) = self.campaign_spend.get_mut(k) {
            s.awards = s.awards.saturating_add(1);
            s.cost = s.cost.saturating_add(cost);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_japanese_presets_bound_each_prize_by_the_purchase() {
        let lottery = Preset::JpGeneralLottery;
        assert_eq!(lottery.prize_limit(Cents::new(150)), Cents::new(3_000));
        assert_eq!(lottery.prize_limit(Cents::new(4_999)), Cents::new(99_980));
        assert_eq!(lottery.prize_limit(Cents::new(5_000)), Cents::new(100_000));
        assert_eq!(lottery.prize_limit(Cents::new(50_000)), Cents::new(100_000));
        assert_eq!(lottery.total_bps(), Some(200));
        let every = Preset::JpEveryBuyer;
        assert_eq!(every.prize_limit(Cents::new(150)), Cents::new(200));
        assert_eq!(every.prize_limit(Cents::new(999)), Cents::new(200));
        assert_eq!(every.prize_limit(Cents::new(1_000)), Cents::new(200));
        assert_eq!(every.prize_limit(Cents::new(2_500)), Cents::new(500));
        assert_eq!(every.total_bps(), None);
        assert_eq!(Preset::from_name("jp-every-buyer"), Some(every));
        assert_eq!(Preset::from_name("jp-lottery"), None);
    }
}
