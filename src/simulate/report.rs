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
            "Simulated {} paid vends over {} days (seed {}, {} profile, {} vends/weekday, restock {:?}, {})",
            self.vends,
            self.days,
            o.seed,
            format!("{:?}", o.profile).to_lowercase(),
            o.per_day,
            o.restock,
            o.zone
                .as_ref()
                .and_then(jiff::tz::TimeZone::iana_name)
                .map_or("local time without daylight saving".to_string(), |z| format!("time zone {z}"))
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
