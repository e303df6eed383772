//! `happiness simulate`: a Monte Carlo report of what a surprise policy does and costs.
//!
//! Runs the real [`SurpriseEngine`] over simulated paid vends with a traffic profile (how many
//! vends a day, when in the day, weekdays versus weekends), with stock that sells down and is
//! restocked daily (or never), and reports the surprise rate, counts and value per surprise, value
//! as a share of sales, how often each cap and budget held a surprise back, the longest run of
//! vends without one, and stock consumed. It simulates the policy, not the mechanics: every vend
//! delivers (mechanical faults are the fault campaign's business).

use std::str::FromStr;
use std::time::Instant;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::config::MachineConfig;
use crate::localtime::LocalTime;
use crate::model::ColumnId;
use crate::money::Cents;
use crate::surprise::{Cap, KindName, SurpriseConfig, SurpriseEngine, VendFacts};

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
        }
    }
}

/// One surprise's line in the report.
#[derive(Debug, Clone, Serialize)]
pub struct SurpriseLine {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: KindName,
    /// Times awarded.
    pub count: u64,
    /// Share of all surprises.
    pub share: f64,
    /// Its configured weight's share of the catalogue.
    pub weight_share: f64,
    /// Total value.
    pub value: Cents,
}

/// How often a cap held something back.
#[derive(Debug, Clone, Serialize)]
pub struct CapLine {
    /// Which cap.
    pub cap: Cap,
    /// Lucky vends on which it ruled out at least one surprise (or all of them).
    pub times: u64,
}

/// One column's stock use.
#[derive(Debug, Clone, Serialize)]
pub struct StockLine {
    /// Column.
    pub column: ColumnId,
    /// Product.
    pub product: String,
    /// Items sold.
    pub sold: u64,
    /// Items given as surprises.
    pub surprised: u64,
    /// Times a customer found it empty.
    pub sold_out: u64,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The options it ran with.
    pub options: SimulateOptions,
    /// Paid vends simulated.
    pub vends: u64,
    /// Simulated days.
    pub days: u64,
    /// Sales.
    pub sales: Cents,
    /// Surprises awarded.
    pub surprises: u64,
    /// Surprises per paid vend.
    pub surprise_rate: f64,
    /// The configured probability.
    pub configured_probability: f64,
    /// Vends on which the roll came up (or fairness forced a try).
    pub lucky: u64,
    /// Lucky vends that ended without a surprise because of caps and budgets.
    pub held_back: u64,
    /// Total surprise value.
    pub surprise_value: Cents,
    /// Surprise value as a percentage of sales.
    pub value_percent_of_sales: f64,
    /// The configured budget percentage.
    pub budget_percent: f64,
    /// Per surprise.
    pub per_surprise: Vec<SurpriseLine>,
    /// Per cap.
    pub caps: Vec<CapLine>,
    /// Longest run of paid vends without a surprise.
    pub longest_streak_without_surprise: u64,
    /// Per column.
    pub stock: Vec<StockLine>,
    /// Customers who found everything sold out (restock = never).
    pub turned_away: u64,
    /// Wall time of the run.
    pub elapsed_ms: u64,
    /// Surprise decisions per second of wall time.
    pub decisions_per_second: f64,
}

/// Run the simulation.
pub fn simulate(
    machine: &MachineConfig,
    surprises: &SurpriseConfig,
    options: &SimulateOptions,
) -> Report {
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut engine = SurpriseEngine::new(surprises.clone(), options.seed ^ 0x5eed_5a4f_0000_0001);
    let columns = &machine.columns;
    let for_sale: Vec<usize> = (0..columns.len())
        .filter(|&i| columns[i].for_sale)
        .collect();
    let mut stock: Vec<u32> = columns.iter().map(|c| c.stock).collect();
    let n = surprises.catalogue.len();
    let mut counts = vec![0u64; n];
    let mut values = vec![Cents::ZERO; n];
    let mut cap_times = [0u64; Cap::ALL.len()];
    let mut sold = vec![0u64; columns.len()];
    let mut surprised = vec![0u64; columns.len()];
    let mut sold_out = vec![0u64; columns.len()];
    let (mut vends, mut lucky, mut held_back, mut turned_away) = (0u64, 0u64, 0u64, 0u64);
    let (mut streak, mut longest) = (0u64, 0u64);
    let mut sales = Cents::ZERO;
    let hours = options.profile.hours();
    let hour_total: u32 = hours.iter().sum();
    let mut day = 0i64;
    let mut times: Vec<i64> = Vec::new();
    let mut exhausted = false;

    while vends < options.vends && !exhausted && hour_total > 0 && !for_sale.is_empty() {
        let day_start = options.start.plus_secs(day * 86_400);
        if options.restock == Restock::Daily {
            for (s, c) in stock.iter_mut().zip(columns) {
                *s = c.capacity;
            }
        }
        let factor = options.profile.day_factor(day_start.weekday().index());
        let expected = f64::from(options.per_day) * factor;
        // Whole customers: round the expectation up or down at random, unbiased.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let mut today = expected.floor() as u64;
        if rng.random::<f64>() < expected.fract() {
            today += 1;
        }
        times.clear();
        for _ in 0..today {
            let mut pick = rng.random_range(0..hour_total);
            let mut hour = 0i64;
            for (h, &w) in hours.iter().enumerate() {
                if pick < w {
                    hour = i64::try_from(h).unwrap_or(0);
                    break;
                }
                pick -= w;
            }
            times.push(hour * 3600 + rng.random_range(0..3600i64));
        }
        times.sort_unstable();
        for &offset in &times {
            if vends >= options.vends {
                break;
            }
            let wanted = for_sale[rng.random_range(0..for_sale.len())];
            // A customer facing an empty column picks another one that has stock.
            let chosen = if stock[wanted] > 0 {
                Some(wanted)
            } else {
                sold_out[wanted] += 1;
                for_sale.iter().copied().find(|&i| stock[i] > 0)
            };
            let Some(c) = chosen else {
                turned_away += 1;
                if options.restock == Restock::Never {
                    exhausted = true;
                    break;
                }
                continue;
            };
            let Some(column) = ColumnId::from_index(c) else {
                continue;
            };
            stock[c] -= 1;
            sold[c] += 1;
            vends += 1;
            let price = columns[c].price;
            sales = sales.saturating_add(price);
            let decision = engine.decide(&VendFacts {
                now: day_start.plus_secs(offset),
                column,
                price,
                stock: &stock,
            });
            if decision.lucky {
                lucky += 1;
            }
            for cap in decision.bound.iter() {
                cap_times[cap as usize] += 1;
            }
            match decision.award {
                Some(award) => {
                    counts[award.index] += 1;
                    values[award.index] = values[award.index].saturating_add(award.cost);
                    for (col, k) in award.items {
                        let i = col.index();
                        stock[i] = stock[i].saturating_sub(k);
                        surprised[i] += u64::from(k);
                    }
                    streak = 0;
                }
                None => {
                    if decision.lucky {
                        held_back += 1;
                    }
                    streak += 1;
                    longest = longest.max(streak);
                }
            }
        }
        day += 1;
    }

    let elapsed = started.elapsed();
    let total: u64 = counts.iter().sum();
    let value: Cents = values.iter().copied().sum();
    let weight_total: f64 = surprises.catalogue.iter().map(|s| s.weight).sum();
    #[allow(clippy::cast_precision_loss)]
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Report {
        options: options.clone(),
        vends,
        days: u64::try_from(day).unwrap_or(0),
        sales,
        surprises: total,
        surprise_rate: ratio(total, vends),
        configured_probability: surprises.policy.probability,
        lucky,
        held_back,
        surprise_value: value,
        value_percent_of_sales: 100.0 * ratio(value.get(), sales.get()),
        budget_percent: surprises.policy.budget_percent,
        per_surprise: surprises
            .catalogue
            .iter()
            .enumerate()
            .map(|(i, s)| SurpriseLine {
                name: s.name.clone(),
                kind: s.kind.name(),
                count: counts[i],
                share: ratio(counts[i], total),
                weight_share: if weight_total > 0.0 {
                    s.weight / weight_total
                } else {
                    0.0
                },
                value: values[i],
            })
            .collect(),
        caps: Cap::ALL
            .iter()
            .map(|&cap| CapLine {
                cap,
                times: cap_times[cap as usize],
            })
            .collect(),
        longest_streak_without_surprise: longest,
        stock: columns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                Some(StockLine {
                    column: ColumnId::from_index(i)?,
                    product: c.product.clone(),
                    sold: sold[i],
                    surprised: surprised[i],
                    sold_out: sold_out[i],
                })
            })
            .collect(),
        turned_away,
        elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        decisions_per_second: {
            let secs = elapsed.as_secs_f64();
            #[allow(clippy::cast_precision_loss)]
            if secs > 0.0 {
                vends as f64 / secs
            } else {
                0.0
            }
        },
    }
}

impl Report {
    /// The report for people; `currency` goes before amounts.
    pub fn to_text(&self, currency: &str) -> String {
        use std::fmt::Write as _;
        let m = |c: Cents| c.with_symbol(currency);
        let mut out = String::new();
        let o = &self.options;
        let _ = writeln!(
            out,
            "Simulated {} paid vends over {} days (seed {}, {} profile, {} vends/weekday, restock {:?})",
            self.vends, self.days, o.seed, format!("{:?}", o.profile).to_lowercase(), o.per_day, o.restock
        );
        let _ = writeln!(out, "Sales: {}", m(self.sales));
        let _ = writeln!(
            out,
            "Surprises: {} ({:.3}% of vends; configured probability {:.3}%; {} lucky rolls, {} held back by caps)",
            self.surprises,
            100.0 * self.surprise_rate,
            100.0 * self.configured_probability,
            self.lucky,
            self.held_back
        );
        let _ = writeln!(
            out,
            "Surprise value: {} = {:.3}% of sales (budget {}% of sales)",
            m(self.surprise_value),
            self.value_percent_of_sales,
            self.budget_percent
        );
        let _ = writeln!(out, "\nPer surprise:");
        for s in &self.per_surprise {
            let _ = writeln!(
                out,
                "  {:<24} {:<10} {:>9} ({:>5.1}% of surprises; weight {:>5.1}%)  value {}",
                s.name,
                format!("{:?}", s.kind),
                s.count,
                100.0 * s.share,
                100.0 * s.weight_share,
                m(s.value)
            );
        }
        let _ = writeln!(
            out,
            "\nCaps that held a surprise back (lucky vends affected):"
        );
        for c in &self.caps {
            let _ = writeln!(out, "  {:<10} {:>9}", format!("{:?}", c.cap), c.times);
        }
        let _ = writeln!(
            out,
            "\nLongest run without a surprise: {} vends",
            self.longest_streak_without_surprise
        );
        let _ = writeln!(out, "\nStock consumed:");
        for s in &self.stock {
            let _ = writeln!(
                out,
                "  [{}] {:<16} sold {:>9}  surprises {:>8}  found empty {:>7}",
                s.column, s.product, s.sold, s.surprised, s.sold_out
            );
        }
        if self.turned_away > 0 {
            let _ = writeln!(
                out,
                "Customers turned away (all sold out): {}",
                self.turned_away
            );
        }
        let _ = write!(
            out,
            "\nRan in {} ms: {:.1} million surprise decisions per second",
            self.elapsed_ms,
            self.decisions_per_second / 1e6
        );
        out
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
}
