//! The simulation's report: per surprise, per cap and per column, and its text for people.

use serde::Serialize;

use super::SimulateOptions;
use crate::model::ColumnId;
use crate::money::Cents;
use crate::surprise::{Cap, KindName};

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
    /// Failed paid vends and what making them right cost (apart from surprises).
    pub recovery: RecoveryLine,
    /// Each campaign at the end: awards and cost against its budget and planned sales.
    pub campaigns: Vec<crate::surprise::CampaignReport>,
}

/// Failed paid vends and what making them right cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RecoveryLine {
    /// Paid vends that failed (refunded to credit).
    pub failed: u64,
    /// Offers made.
    pub offers: u64,
    /// Of them, an apology only (off its daily count's or budget's room, or nothing fit).
    pub apologies: u64,
    /// Free items taken.
    pub items: u64,
    /// Their value.
    pub value: Cents,
    /// Their value as a share of sales.
    pub value_percent_of_sales: f64,
}

/// `n` with a thin separator every three digits: 100,000.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate per day as people say it: "about 4", "about 0.4", "less than 0.1".
fn about(x: f64) -> String {
    if x >= 10.0 {
        format!("about {x:.0}")
    } else if x >= 0.1 {
        format!("about {x:.1}")
    } else if x > 0.0 {
        "less than 0.1".to_string()
    } else {
        "none".to_string()
    }
}

impl Report {
    /// Surprises and their cost per day and per week, as people say them.
    pub fn per_day_text(&self, currency: &str) -> String {
        #[allow(clippy::cast_precision_loss)]
        let days = self.days.max(1) as f64;
        #[allow(clippy::cast_precision_loss)]
        let (n, value) = (self.surprises as f64, self.surprise_value.get() as f64);
        let money = |cents: f64| {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let c = Cents::new(cents.round().max(0.0) as u64);
            c.with_symbol(currency)
        };
        format!(
            "{} surprises and {} a day; {} and {} a week",
            about(n / days),
            money(value / days),
            about(7.0 * n / days),
            money(7.0 * value / days)
        )
    }

    /// Why the surprise rate differs from the configured probability, in the file's words.
    pub fn rate_text(&self) -> String {
        let mut caps: Vec<&CapLine> = self.caps.iter().filter(|c| c.times > 0).collect();
        caps.sort_by_key(|c| std::cmp::Reverse(c.times));
        let named: Vec<String> = caps
            .iter()
            .take(3)
            .map(|c| format!("{} ({} lucky vends)", c.cap.field(), grouped(c.times)))
            .collect();
        let mut text = format!(
            "{:.1}% of paid vends got a surprise against probability = {} ({:.1}%)",
            100.0 * self.surprise_rate,
            self.configured_probability,
            100.0 * self.configured_probability
        );
        if self.held_back > 0 {
            text.push_str(&format!(
                ": {} lucky vends got none because caps and budgets ruled out every surprise",
                grouped(self.held_back)
            ));
        }
        if !named.is_empty() {
            text.push_str(&format!(
                "; what ruled surprises out most often: {}",
                named.join(", ")
            ));
        }
        text
    }

    /// A warning for each column the traffic empties before it is restocked.
    pub fn stock_warnings(&self) -> Vec<String> {
        #[allow(clippy::cast_precision_loss)]
        let days = self.days.max(1) as f64;
        self.stock
            .iter()
            .filter(|s| s.sold_out > 0)
            .map(|s| {
                #[allow(clippy::cast_precision_loss)]
                let per_day = (s.sold + s.surprised) as f64 / days;
                format!(
                    "warning: column {} ({}) was found empty {} times: this traffic takes {} \
                     a day from it (restock {}); restock more often, load more, or expect \
                     customers to be turned away",
                    s.column,
                    s.product,
                    grouped(s.sold_out),
                    about(per_day),
                    format!("{:?}", self.options.restock).to_lowercase()
                )
            })
            .collect()
    }

    /// What making failures right cost, and each campaign.
    fn write_recovery_and_campaigns(&self, out: &mut String, currency: &str) {
        use std::fmt::Write as _;
        let r = &self.recovery;
        let _ = writeln!(
            out,
            "Made right (at a failure rate of {:.2}%): {} failed vends, {} offers ({} an apology only), \
             {} free items worth {} = {:.2}% of sales, apart from surprises",
            100.0 * self.options.failure_rate,
            grouped(r.failed),
            grouped(r.offers),
            grouped(r.apologies),
            grouped(r.items),
            r.value.with_symbol(currency),
            r.value_percent_of_sales
        );
        for c in &self.campaigns {
            let _ = writeln!(out, "Campaign{}", c.to_text(currency));
        }
    }

    /// The report for people; `currency` goes before amounts.
    pub fn to_text(&self, currency: &str) -> String {
        use std::fmt::Write as _;
        let m = |c: Cents| c.with_symbol(currency);
        let mut out = String::new();
        let o = &self.options;
        let _ = writeln!(
            out,
            "Simulated {} paid vends over {} days (seed {}, {} profile, {} vends a weekday, restock {}, {})",
            grouped(self.vends),
            grouped(self.days),
            o.seed,
            format!("{:?}", o.profile).to_lowercase(),
            o.per_day,
            format!("{:?}", o.restock).to_lowercase(),
            o.zone
                .as_ref()
                .and_then(jiff::tz::TimeZone::iana_name)
                .map_or("local time without daylight saving".to_string(), |z| format!("time zone {z}"))
        );
        let _ = writeln!(out, "In short: {}.", self.per_day_text(currency));
        let _ = writeln!(out, "Sales: {}", m(self.sales));
        let _ = writeln!(out, "Surprise rate: {}.", self.rate_text());
        let _ = writeln!(
            out,
            "Surprise cost: {} = {:.2}% of sales (budget_percent = {})",
            m(self.surprise_value),
            self.value_percent_of_sales,
            self.budget_percent
        );
        self.write_recovery_and_campaigns(&mut out, currency);
        for w in self.stock_warnings() {
            let _ = writeln!(out, "{w}");
        }
        let _ = writeln!(out, "\nPer surprise:");
        for s in &self.per_surprise {
            let _ = writeln!(
                out,
                "  {:<24} {:<10} {:>9} ({:>5.1}% of surprises; weight {:>5.1}%)  cost {}",
                s.name,
                s.kind.as_str(),
                grouped(s.count),
                100.0 * s.share,
                100.0 * s.weight_share,
                m(s.value)
            );
        }
        let _ = writeln!(
            out,
            "\nCaps that ruled out a surprise (lucky vends affected, by the setting's name):"
        );
        for c in &self.caps {
            let _ = writeln!(out, "  {:<18} {:>9}", c.cap.field(), grouped(c.times));
        }
        let _ = writeln!(
            out,
            "\nLongest run without a surprise: {} vends",
            grouped(self.longest_streak_without_surprise)
        );
        let _ = writeln!(out, "\nStock used:");
        for s in &self.stock {
            let _ = writeln!(
                out,
                "  [{}] {:<16} sold {:>9}  surprises {:>8}  found empty {:>7}",
                s.column,
                s.product,
                grouped(s.sold),
                grouped(s.surprised),
                grouped(s.sold_out)
            );
        }
        if self.turned_away > 0 {
            let _ = writeln!(
                out,
                "Customers turned away (all sold out): {}",
                grouped(self.turned_away)
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

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(about(4.44), "about 4.4");
        assert_eq!(about(31.2), "about 31");
        assert_eq!(about(0.04), "less than 0.1");
        assert_eq!(about(0.0), "none");
    }
}
