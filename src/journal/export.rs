//! The sales export: one line per paid vend in a period (time, column, product, price, outcome,
//! the surprise it earned and its cost, the free item that made a failure right and its value),
//! and its CSV.

use rusqlite::Connection;
use serde::Serialize;

use super::period::Period;
use super::report::all;
use super::{cents, JournalError};
use crate::localtime::LocalTime;
use crate::money::Cents;

/// One paid vend, for the sales export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SaleLine {
    /// When it ended (or started, while under way), local.
    pub time: String,
    /// Column number.
    pub column: i64,
    /// Product.
    pub product: String,
    /// Price paid.
    pub price: Cents,
    /// `delivered`, `refunded`, `interrupted`, or `open` while under way.
    pub outcome: String,
    /// Why it was refunded, when it was.
    pub reason: String,
    /// The surprise it earned, if any.
    pub surprise: String,
    /// That surprise's cost.
    pub surprise_cost: Cents,
    /// The free item given to make this vend right (after a failure or "not happy"), if any.
    pub made_right: String,
    /// Its value (price).
    pub made_right_value: Cents,
}

/// Every paid vend in the period, oldest first.
pub(super) fn sales_lines(
    conn: &Connection,
    period: &Period,
) -> Result<Vec<SaleLine>, JournalError> {
    let lines = all(
        conn,
        &format!(
            "SELECT coalesce(v.ended_at, v.started_at), v.column_no, v.product, v.price, \
               coalesce(v.outcome, 'open'), coalesce(v.reason, ''), coalesce(s.name, ''), \
               coalesce(s.cost, 0), coalesce(r.message, ''), coalesce(r.cost, 0) \
             FROM vends v \
             LEFT JOIN surprises s ON s.vend_id = v.id AND s.kind <> 'recovery' \
             LEFT JOIN surprises r ON r.vend_id = v.id AND r.kind = 'recovery' \
             WHERE v.kind = 'paid' AND coalesce(v.ended_at, v.started_at) >= {} \
               AND coalesce(v.ended_at, v.started_at) < {} ORDER BY v.id",
            period.from.secs(),
            period.to.secs()
        ),
        |r| {
            Ok(SaleLine {
                time: LocalTime::from_secs(r.get(0)?).to_string(),
                column: r.get(1)?,
                product: r.get(2)?,
                price: cents(r.get(3)?),
                outcome: r.get(4)?,
                reason: r.get(5)?,
                surprise: r.get(6)?,
                surprise_cost: cents(r.get(7)?),
                made_right: r.get(8)?,
                made_right_value: cents(r.get(9)?),
            })
        },
    )?;
    Ok(lines)
}

/// The export as CSV (RFC 4180: a header, CRLF line ends, fields quoted when they need it).
pub fn sales_csv(lines: &[SaleLine]) -> String {
    let mut out =
        String::from("time,column,product,price,outcome,reason,surprise,surprise_cost,made_right,made_right_value\r\n");
    for l in lines {
        let fields = [
            l.time.clone(),
            l.column.to_string(),
            l.product.clone(),
            l.price.to_string(),
            l.outcome.clone(),
            l.reason.clone(),
            l.surprise.clone(),
            l.surprise_cost.to_string(),
            l.made_right.clone(),
            l.made_right_value.to_string(),
        ];
        let quoted: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&quoted.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A field as CSV writes it. A field a spreadsheet would run as a formula (`=`, `+`, `-`, `@`
/// first) gets a leading apostrophe: product and surprise names are the operator's text.
fn csv_field(f: &str) -> String {
    let f = if f.starts_with(['=', '+', '-', '@']) && f.parse::<f64>().is_err() {
        format!("'{f}")
    } else {
        f.to_string()
    };
    if f.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("Cola"), "Cola");
        assert_eq!(csv_field("Cola, cold"), "\"Cola, cold\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("-1.50"), "-1.50");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
    }
}
