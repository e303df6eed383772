//! `happiness simulate`: a Monte Carlo report of what a surprise policy does and costs.
//!
//! Runs the real [`SurpriseEngine`] over simulated paid vends with a traffic profile (how many
//! vends a day, when in the day, weekdays versus weekends), with stock that sells down and is
//! restocked daily (or never), and reports the surprise rate, counts and value per surprise, value
//! as a share of sales, how often each cap and budget held a surprise back, the longest run of
//! vends without one, and stock consumed. It simulates the policy, not the mechanics: a paid vend
//! fails only at the `failure_rate` given (to see what making failures right costs: the offer
//! `[recovery]` allows, and the free item the customer then takes), and every other vend delivers
//! (the mechanics of faults are the fault campaign's business). Campaigns are reported one by
//! one.

use std::str::FromStr;
use std::time::Instant;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::config::MachineConfig;

use crate::localtime::LocalTime;
use crate::model::{ColumnId, ColumnSpec};
use crate::money::Cents;
use crate::surprise::{Cap, OfferKind, RecoveryTrigger, SurpriseConfig, SurpriseEngine, VendFacts};
use arrivals::arrivals;
pub use arrivals::MAX_PER_DAY;

/// When customers come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrafficProfile {
    /// Office lobby: morning, lunch and afternoon peaks on weekdays, quiet weekends.
    Office,
    /// Station: commuter peaks at 7-9 and 17-19, every day.
    Station,
    /// Even traffic from 07:00 to 22:00, every day.
    Flat,
}

impl FromStr for TrafficProfile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "office" => Ok(TrafficProfile::Office),
            "station" => Ok(TrafficProfile::Station),
            "flat" => Ok(TrafficProfile::Flat),
            other => Err(format!(
                "unknown traffic profile `{other}` (use office, station or flat)"
            )),
        }
    }
}

impl TrafficProfile {
    /// Relative traffic for each hour of the day.
    fn hours(self) -> [u32; 24] {
        match self {
            TrafficProfile::Office => [
                0, 0, 0, 0, 0, 0, 1, 4, 10, 8, 6, 8, 14, 12, 6, 8, 9, 6, 3, 1, 1, 0, 0, 0,
            ],
            TrafficProfile::Station => [
                0, 0, 0, 0, 0, 1, 4, 12, 12, 5, 3, 3, 4, 4, 3, 3, 5, 11, 12, 6, 4, 3, 2, 1,
            ],
            TrafficProfile::Flat => [
                0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0,
            ],
        }
    }

    /// Traffic on a weekday index (0 = Monday) relative to an average weekday.
    fn day_factor(self, weekday: u8) -> f64 {
        match (self, weekday) {
            (TrafficProfile::Office, 5 | 6) => 0.15,
            (TrafficProfile::Station, 5 | 6) => 0.6,
            _ => 1.0,
        }
    }
}

/// How the operator refills the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Restock {
    /// Every column is filled to capacity each morning.
    Daily,
    /// Never: the run ends when nothing is left to sell.
    Never,
}

impl FromStr for Restock {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "daily" => Ok(Restock::Daily),
            "never" => Ok(Restock::Never),
            other => Err(format!("unknown restock `{other}` (use daily or never)")),
        }
    }
}

/// What to simulate.
#[derive(Debug, Clone, Serialize)]
pub struct SimulateOptions {
    /// Paid vends to simulate.
    pub vends: u64,
    /// Seed for traffic and the engine.
    pub seed: u64,
    /// Average paid vends per weekday.
    pub per_day: u32,
    /// When customers come.
    pub profile: TrafficProfile,
    /// Restocking.
    pub restock: Restock,
    /// Local time the simulation starts at.
    pub start: LocalTime,
    /// The time zone the machine stands in, with its daylight-saving changes: the hourly cap,
    /// cooldowns and the budget window then count on UTC as the kiosk does. None: local time
    /// without changes.
    #[serde(rename = "tz", serialize_with = "zone_name")]
    pub zone: Option<jiff::tz::TimeZone>,
    /// The share of paid vends that fail (a jam, no drop), refunded and made right as
    /// `[recovery]` says.
    pub failure_rate: f64,
}

fn zone_name<S: serde::Serializer>(
    zone: &Option<jiff::tz::TimeZone>,
    to: S,
) -> Result<S::Ok, S::Error> {
    to.serialize_some(&zone.as_ref().and_then(jiff::tz::TimeZone::iana_name))
}

/// Seconds on the steady (UTC) timeline of the local time `local` in `zone`; a local time that
/// daylight saving skips counts as the moment after the jump, as a clock set by hand would.
/// Without a zone, local time is its own steady timeline.
pub fn steady_secs(zone: Option<&jiff::tz::TimeZone>, local: LocalTime) -> i64 {
    let Some(zone) = zone else {
        return local.secs();
    };
    // The local time's fields, read as if they were UTC, are the civil date and time.
    let civil =
        jiff::Timestamp::from_second(local.secs()).map(|t| jiff::tz::TimeZone::UTC.to_datetime(t));
    civil
        .and_then(|c| zone.to_ambiguous_zoned_datetime(c).compatible())
        .map_or(local.secs(), |z| z.timestamp().as_second())
}

impl Default for SimulateOptions {
    fn default() -> Self {
        SimulateOptions {
            vends: 1_000_000,
            seed: 42,
            per_day: 30,
            profile: TrafficProfile::Office,
            restock: Restock::Daily,
            // A Monday.
            start: LocalTime::from_ymd_hm(2026, 1, 5, 0, 0).unwrap_or_default(),
            zone: None,
            failure_rate: DEFAULT_FAILURE_RATE,
        }
    }
}

/// Failed paid vends assumed when none is given: one in 200.
pub const DEFAULT_FAILURE_RATE: f64 = 0.005;

mod arrivals;
mod report;

pub use report::{CapLine, RecoveryLine, Report, StockLine, SurpriseLine};

/// Run the simulation.
pub fn simulate(
    machine: &MachineConfig,
    surprises: &SurpriseConfig,
    options: &SimulateOptions,
) -> Report {
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let engine = SurpriseEngine::new(surprises.clone(), options.seed ^ 0x5eed_5a4f_0000_0001);
    let columns = &machine.columns;
    let mut run = Run {
        engine,
        zone: options.zone.as_ref(),
        columns,
        for_sale: (0..columns.len())
            .filter(|&i| columns[i].for_sale)
            .collect(),
        stock: columns.iter().map(|c| c.stock).collect(),
        tally: Tally::new(columns.len(), surprises.catalogue.len()),
        failures: ChaCha8Rng::seed_from_u64(options.seed ^ 0xfa11_0000_0000_0001),
        failure_rate: options.failure_rate.clamp(0.0, 1.0),
    };
    let hours = options.profile.hours();
    let mut day = 0i64;
    let mut exhausted = false;
    // Every loop ends: no customers at all (a day of none, or no hours with any) sells nothing,
    // and failed vends count towards the bound too, so that a failure rate of 1 (every vend
    // fails) ends after as many customers as vends were asked for.
    while run.tally.vends < options.vends
        && run.tally.recovery.failed < options.vends
        && options.per_day > 0
        && !exhausted
        && hours.iter().sum::<u32>() > 0
        && !run.for_sale.is_empty()
    {
        let day_start = options.start.plus_secs(day * 86_400);
        if options.restock == Restock::Daily {
            for (s, c) in run.stock.iter_mut().zip(columns) {
                *s = c.capacity;
            }
        }
        for offset in arrivals(&mut rng, options, day_start, &hours) {
            if run.tally.vends >= options.vends {
                break;
            }
            let served = run.customer(&mut rng, day_start.plus_secs(offset));
            if !served && options.restock == Restock::Never {
                exhausted = true;
                break;
            }
        }
        day += 1;
    }
    let end = options.start.plus_secs(day * 86_400);
    let campaigns = run.engine.campaign_reports(end);
    let mut report = run
        .tally
        .report(options, surprises, columns, day, started.elapsed());
    report.campaigns = campaigns;
    report
}

/// A simulation in progress: the engine, the machine's stock and what has been counted.
struct Run<'a> {
    engine: SurpriseEngine,
    zone: Option<&'a jiff::tz::TimeZone>,
    columns: &'a [ColumnSpec],
    for_sale: Vec<usize>,
    stock: Vec<u32>,
    tally: Tally,
    /// Whether a paid vend fails: a stream of its own, so that the customers are the same
    /// whatever the rate.
    failures: ChaCha8Rng,
    failure_rate: f64,
}

impl Run<'_> {
    /// One customer at `now`: picks a column (another with stock if theirs is empty), pays, and
    /// the engine decides. False when everything was sold out and they left.
    fn customer(&mut self, rng: &mut ChaCha8Rng, now: LocalTime) -> bool {
        let t = &mut self.tally;
        let wanted = self.for_sale[rng.random_range(0..self.for_sale.len())];
        let chosen = if self.stock[wanted] > 0 {
            Some(wanted)
        } else {
            t.sold_out[wanted] += 1;
            self.for_sale.iter().copied().find(|&i| self.stock[i] > 0)
        };
        let Some(c) = chosen else {
            t.turned_away += 1;
            return false;
        };
        let Some(column) = ColumnId::from_index(c) else {
            return true;
        };
        if self.failure_rate > 0.0 && self.failures.random::<f64>() < self.failure_rate {
            self.make_it_right(c, now);
            return true;
        }
        self.stock[c] -= 1;
        t.sold[c] += 1;
        t.vends += 1;
        let price = self.columns[c].price;
        t.sales = t.sales.saturating_add(price);
        let decision = self.engine.decide(&VendFacts {
            now,
            steady: steady_secs(self.zone, now),
            column,
            price,
            stock: &self.stock,
        });
        if decision.lucky {
            t.lucky += 1;
        }
        for cap in decision.bound.iter() {
            t.cap_times[cap as usize] += 1;
        }
        match decision.award {
            Some(award) => {
                t.counts[award.index] += 1;
                t.values[award.index] = t.values[award.index].saturating_add(award.cost);
                for (col, k) in award.items {
                    let i = col.index();
                    self.stock[i] = self.stock[i].saturating_sub(k);
                    t.surprised[i] += u64::from(k);
                }
                t.streak = 0;
            }
            None => {
                if decision.lucky {
                    t.held_back += 1;
                }
                t.streak += 1;
                t.longest = t.longest.max(t.streak);
            }
        }
        true
    }
}

impl Run<'_> {
    /// A paid vend from column `c` failed (its price back in credit): the offer `[recovery]`
    /// allows, and the free item the customer takes (the one they wanted, else the cheapest
    /// within the offer).
    fn make_it_right(&mut self, c: usize, now: LocalTime) {
        let steady = steady_secs(self.zone, now);
        let t = &mut self.tally;
        t.recovery.failed += 1;
        let Ok(offer) = self
            .engine
            .offer_recovery(now, steady, RecoveryTrigger::FailedVend)
        else {
            return;
        };
        t.recovery.offers += 1;
        if offer.kind != OfferKind::FreeItem {
            t.recovery.apologies += 1;
            return;
        }
        // The failed column is out of order now; the customer picks among the others.
        let fits =
            |i: usize| i != c && self.stock[i] > 0 && self.columns[i].price <= offer.allowance;
        let pick = self
            .for_sale
            .iter()
            .copied()
            .filter(|&i| fits(i))
            .min_by_key(|&i| self.columns[i].price);
        let Some(i) = pick else {
            t.recovery.apologies += 1;
            return;
        };
        let value = self.columns[i].price;
        self.engine.record_recovery(now, steady, value);
        self.stock[i] -= 1;
        t.recovery.items += 1;
        t.recovery.value = t.recovery.value.saturating_add(value);
    }
}

/// What a run counts.
struct Tally {
    /// Per surprise: times awarded and value.
    counts: Vec<u64>,
    values: Vec<Cents>,
    /// Per cap: lucky vends it held something back on.
    cap_times: [u64; Cap::ALL.len()],
    /// Per column: sold, given as surprises, found empty.
    sold: Vec<u64>,
    surprised: Vec<u64>,
    sold_out: Vec<u64>,
    vends: u64,
    lucky: u64,
    held_back: u64,
    turned_away: u64,
    streak: u64,
    longest: u64,
    sales: Cents,
    recovery: RecoveryLine,
}

impl Tally {
    fn new(columns: usize, surprises: usize) -> Self {
        Tally {
            counts: vec![0; surprises],
            values: vec![Cents::ZERO; surprises],
            cap_times: [0; Cap::ALL.len()],
            sold: vec![0; columns],
            surprised: vec![0; columns],
            sold_out: vec![0; columns],
            vends: 0,
            lucky: 0,
            held_back: 0,
            turned_away: 0,
            streak: 0,
            longest: 0,
            sales: Cents::ZERO,
            recovery: RecoveryLine::default(),
        }
    }

    /// The report of a run that took `elapsed` over `days` days.
    fn report(
        self,
        options: &SimulateOptions,
        surprises: &SurpriseConfig,
        columns: &[ColumnSpec],
        days: i64,
        elapsed: std::time::Duration,
    ) -> Report {
        let total: u64 = self.counts.iter().sum();
        let value: Cents = self.values.iter().copied().sum();
        let weight_total: f64 = surprises.catalogue.iter().map(|s| s.weight).sum();
        #[allow(clippy::cast_precision_loss)]
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let secs = elapsed.as_secs_f64();
        #[allow(clippy::cast_precision_loss)]
        let decisions_per_second = if secs > 0.0 {
            self.vends as f64 / secs
        } else {
            0.0
        };
        Report {
            options: options.clone(),
            vends: self.vends,
            days: u64::try_from(days).unwrap_or(0),
            sales: self.sales,
            surprises: total,
            surprise_rate: ratio(total, self.vends),
            configured_probability: surprises.policy.probability,
            lucky: self.lucky,
            held_back: self.held_back,
            surprise_value: value,
            value_percent_of_sales: 100.0 * ratio(value.get(), self.sales.get()),
            budget_percent: surprises.policy.budget_percent,
            per_surprise: surprises
                .catalogue
                .iter()
                .enumerate()
                .map(|(i, s)| SurpriseLine {
                    name: s.name.clone(),
                    kind: s.kind.name(),
                    count: self.counts[i],
                    share: ratio(self.counts[i], total),
                    weight_share: if weight_total > 0.0 {
                        s.weight / weight_total
                    } else {
                        0.0
                    },
                    value: self.values[i],
                })
                .collect(),
            caps: Cap::ALL
                .iter()
                .map(|&cap| CapLine {
                    cap,
                    times: self.cap_times[cap as usize],
                })
                .collect(),
            longest_streak_without_surprise: self.longest,
            stock: columns
                .iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    Some(StockLine {
                        column: ColumnId::from_index(i)?,
                        product: c.product.clone(),
                        sold: self.sold[i],
                        surprised: self.surprised[i],
                        sold_out: self.sold_out[i],
                    })
                })
                .collect(),
            turned_away: self.turned_away,
            elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            decisions_per_second,
            recovery: RecoveryLine {
                value_percent_of_sales: 100.0 * ratio(self.recovery.value.get(), self.sales.get()),
                ..self.recovery
            },
            campaigns: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn configs() -> (MachineConfig, SurpriseConfig) {
        let machine = MachineConfig::from_toml(
            Path::new("machine.toml"),
            include_str!("../config/machine.toml"),
        )
        .expect("machine");
        let surprises = SurpriseConfig::from_toml(
            Path::new("surprises.toml"),
            include_str!("../config/surprises.toml"),
            &machine.columns,
        )
        .expect("surprises");
        (machine, surprises)
    }

    #[test]
    fn report_is_consistent_and_replays_from_its_seed() {
        let (machine, surprises) = configs();
        let options = SimulateOptions {
            vends: 50_000,
            ..SimulateOptions::default()
        };
        let a = simulate(&machine, &surprises, &options);
        let b = simulate(&machine, &surprises, &options);
        assert_eq!(a.vends, 50_000);
        assert_eq!(a.surprises, b.surprises);
        assert_eq!(a.sales, b.sales);
        let per: u64 = a.per_surprise.iter().map(|s| s.count).sum();
        assert_eq!(per, a.surprises);
        let sold: u64 = a.stock.iter().map(|s| s.sold).sum();
        assert_eq!(sold, a.vends);
        assert!(a.lucky >= a.surprises);
        assert_eq!(a.lucky - a.surprises, a.held_back);
        // The shipped budget is never exceeded over the whole run either.
        assert!(a.value_percent_of_sales <= surprises.policy.budget_percent + 1e-9);
        assert!(a.surprises > 0);
        let text = a.to_text("€");
        assert!(text.contains("Per surprise:") && text.contains("Thank-you note"));
        let json = serde_json::to_value(&a).expect("json");
        assert_eq!(json["vends"], 50_000);
    }

    #[test]
    fn never_restocking_ends_when_the_machine_is_empty() {
        let (machine, surprises) = configs();
        let options = SimulateOptions {
            vends: 10_000,
            restock: Restock::Never,
            ..SimulateOptions::default()
        };
        let r = simulate(&machine, &surprises, &options);
        let for_sale: u32 = machine
            .columns
            .iter()
            .filter(|c| c.for_sale)
            .map(|c| c.stock)
            .sum();
        assert!(r.vends <= u64::from(for_sale));
        assert!(r.turned_away >= 1);
    }

    #[test]
    fn a_time_zone_puts_daylight_saving_days_on_the_steady_timeline() {
        let paris = jiff::tz::TimeZone::get("Europe/Paris")
            .expect("the system's time zone database (tzdata; .ci/run installs it)");
        let at = |d, h, m| LocalTime::from_ymd_hm(2026, 3, d, h, m).expect("date");
        let steady = |local| steady_secs(Some(&paris), local);
        // The night the clocks go forward: 01:59 and 03:00 are a minute apart.
        assert_eq!(steady(at(29, 3, 0)) - steady(at(29, 1, 59)), 60);
        assert_eq!(
            steady_secs(None, at(29, 3, 0)) - steady_secs(None, at(29, 1, 59)),
            3660
        );
        // 02:30 does not exist that night: it counts as the moment after the jump (03:30).
        assert_eq!(steady(at(29, 2, 30)), steady(at(29, 3, 30)));
        // In winter Paris is an hour ahead of UTC: 12:00 local is 11:00 UTC.
        assert_eq!(steady(at(2, 12, 0)), at(2, 11, 0).secs());
        // The report names the zone.
        let (machine, surprises) = configs();
        let options = SimulateOptions {
            vends: 2_000,
            start: at(28, 0, 0),
            zone: Some(paris),
            ..SimulateOptions::default()
        };
        let report = simulate(&machine, &surprises, &options);
        let json = serde_json::to_value(&report).expect("json");
        assert_eq!(json["options"]["tz"], "Europe/Paris");
    }
}
