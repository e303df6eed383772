//! The books over a period, for the operator's dashboard: sales per hour or per day, surprise
//! spend against the budget line, surprises by kind, the promise kept, refunds and faults per
//! column, customer feedback.
//!
//! Read only, and cheap: plain aggregates over the period (no seal check, which
//! `happiness report` and `GET /api/books` without a period do), so a page may read it after
//! every sale. Times are the books' local times.

use std::collections::HashMap;

use rusqlite::{params, Connection};
use serde::Serialize;

use super::report::all;
use super::{cents, JournalError};
use crate::localtime::LocalTime;
use crate::money::Cents;

/// The longest period one question may cover (a year and a day).
pub const MAX_PERIOD_DAYS: i64 = 366;

/// The longest period cut hour by hour.
pub const MAX_HOURLY_DAYS: i64 = 31;

/// Faults an operator acts on, as the events table names them.
const FAULT_KINDS: &str =
    "('column_fault', 'sensor_stuck', 'unexpected_drop', 'interrupted', 'storage_full')";

/// How the series is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// One row per hour.
    Hour,
    /// One row per local day.
    Day,
}

impl Bucket {
    /// Seconds in one bucket.
    pub const fn secs(self) -> i64 {
        match self {
            Bucket::Hour => 3_600,
            Bucket::Day => 86_400,
        }
    }

    /// The cut that reads best for a period: hours up to two days, days beyond.
    pub fn for_span(from: LocalTime, to: LocalTime) -> Bucket {
        if to.secs() - from.secs() <= 2 * 86_400 {
            Bucket::Hour
        } else {
            Bucket::Day
        }
    }

    /// `hour` or `day`.
    pub fn from_name(name: &str) -> Option<Bucket> {
        match name {
            "hour" => Some(Bucket::Hour),
            "day" => Some(Bucket::Day),
            _ => None,
        }
    }
}

/// A period of the books: `from` inclusive, `to` exclusive, local times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First second in the period.
    pub from: LocalTime,
    /// First second after it.
    pub to: LocalTime,
    /// How its series is cut.
    pub bucket: Bucket,
}

impl Period {
    /// A period, or why it cannot be one (backwards, empty, or longer than a year).
    pub fn new(from: LocalTime, to: LocalTime, bucket: Option<Bucket>) -> Result<Period, String> {
        if to <= from {
            return Err(format!("the period ends ({to}) before it starts ({from})"));
        }
        if to.secs() - from.secs() > MAX_PERIOD_DAYS * 86_400 {
            return Err(format!(
                "the period is longer than {MAX_PERIOD_DAYS} days: ask for less"
            ));
        }
        let bucket = bucket.unwrap_or_else(|| Bucket::for_span(from, to));
        if bucket == Bucket::Hour && to.secs() - from.secs() > MAX_HOURLY_DAYS * 86_400 {
            return Err(format!(
                "hour by hour covers at most {MAX_HOURLY_DAYS} days: ask for bucket=day"
            ));
        }
        Ok(Period { from, to, bucket })
    }
}

/// A period as asked for: any of its ends, or the last N local days (today included), resolved
/// against the machine's clock by [`PeriodQuery::resolve`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeriodQuery {
    /// First second.
    pub from: Option<LocalTime>,
    /// First second after.
    pub to: Option<LocalTime>,
    /// The last N local days, today included (whole days: today's hours still to come are in it).
    pub days: Option<u32>,
    /// How to cut the series.
    pub bucket: Option<Bucket>,
}

impl PeriodQuery {
    /// The period meant, at `now`: the last N days when asked for them; otherwise from `from`
    /// (default: seven days before the end) to `to` (default: now).
    pub fn resolve(&self, now: LocalTime) -> Result<Period, String> {
        if let Some(days) = self.days {
            if self.from.is_some() || self.to.is_some() {
                return Err("ask for a number of days or for from/to, not both".into());
            }
            if days == 0 || i64::from(days) > MAX_PERIOD_DAYS {
                return Err(format!("days must be 1 to {MAX_PERIOD_DAYS}"));
            }
            let tomorrow = LocalTime::from_secs((now.day() + 1) * 86_400);
            return Period::new(
                tomorrow.plus_secs(-i64::from(days) * 86_400),
                tomorrow,
                self.bucket,
            );
        }
        let to = self.to.unwrap_or(now);
        let from = self.from.unwrap_or(to.plus_secs(-7 * 86_400));
        Period::new(from, to, self.bucket)
    }
}

/// The surprise budget rule in force: spend at most `percent` of sales over the rolling window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BudgetRule {
    /// Percentage of sales.
    pub percent: f64,
    /// The rolling window, in hours.
    pub window_hours: u32,
}

/// A count and the money it stands for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// How many.
    pub count: u64,
    /// Worth.
    pub value: Cents,
}

/// Whether customers got what they paid for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PromiseKept {
    /// Paid vends finished in the period.
    pub paid: u64,
    /// Of those, delivered.
    pub delivered: u64,
    /// Of those, the price back in credit.
    pub refunded: u64,
    /// Delivered / paid, when anything was paid.
    pub ratio: Option<f64>,
}

/// One kind of surprise in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindTally {
    /// `extra_item`, `share_pack`, `gift`, `show`, `message`.
    pub kind: String,
    /// Awards.
    pub count: u64,
    /// Their cost.
    pub cost: Cents,
}

/// One column in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnTally {
    /// Column number.
    pub column: i64,
    /// Product, as the inventory has it now.
    pub product: String,
    /// Paid items delivered.
    pub sales: Tally,
    /// Paid vends whose price went back to credit.
    pub refunds: u64,
    /// Faults recorded against it.
    pub faults: u64,
}

/// Customer answers to "how was it?".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FeedbackTally {
    /// Happy.
    pub happy: u64,
    /// Not happy.
    pub unhappy: u64,
}

/// One hour or day of the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BucketRow {
    /// Its first second, local (`2026-11-27 14:00:00`).
    pub start: String,
    /// Paid items delivered in it.
    pub sales: Tally,
    /// Surprises awarded in it, and their cost.
    pub surprises: Tally,
    /// Surprise spend over the budget's rolling window ending with this bucket (none for a
    /// bucket that has not begun yet).
    pub window_spend: Option<Cents>,
    /// The budget over that window: the percentage of the window's sales.
    pub window_budget: Option<Cents>,
    /// Paid vends refunded to credit.
    pub refunds: u64,
    /// Faults.
    pub faults: u64,
    /// Feedback given in it.
    pub feedback: FeedbackTally,
}

/// The books over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodBooks {
    /// First second, local.
    pub from: String,
    /// First second after the period, local.
    pub to: String,
    /// How the series is cut.
    pub bucket: Bucket,
    /// Paid items delivered.
    pub sales: Tally,
    /// Surprises awarded and their cost.
    pub surprises: Tally,
    /// The budget rule the spend is measured against.
    pub budget: BudgetRule,
    /// Surprise spend over the rolling window ending with the period.
    pub window_spend: Cents,
    /// The budget over that window.
    pub window_budget: Cents,
    /// Delivered against paid.
    pub promise: PromiseKept,
    /// Surprises by kind.
    pub surprises_by_kind: Vec<KindTally>,
    /// Sales, refunds and faults per column.
    pub columns: Vec<ColumnTally>,
    /// Feedback.
    pub feedback: FeedbackTally,
    /// Failures made right: offers, free items and their value (apart from surprises).
    pub recovery: super::RecoveryTally,
    /// The series, one row per bucket from `from` to `to`.
    pub series: Vec<BucketRow>,
}

/// Hour index -> amount, for the rolling window.
type Hourly = HashMap<i64, i64>;

fn hourly(conn: &Connection, sql: &str, from: i64, to: i64) -> rusqlite::Result<Hourly> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map(params![from, to], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Per bucket index (from the period's start): the rows `sql` gives as (bucket, a, b).
fn per_bucket(
    conn: &Connection,
    sql: &str,
    period: &Period,
) -> rusqlite::Result<HashMap<i64, (i64, i64)>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map(
        params![period.from.secs(), period.to.secs(), period.bucket.secs()],
        |r| {
            Ok((
                r.get(0)?,
                (r.get(1)?, r.get::<_, Option<i64>>(2)?.unwrap_or(0)),
            ))
        },
    )?;
    rows.collect()
}

/// Paid vends finished in the period: (bucket, count, value) of those delivered.
const SALES: &str = "SELECT (coalesce(ended_at, started_at) - ?1) / ?3, count(*), sum(price) \
    FROM vends WHERE kind = 'paid' AND outcome = 'delivered' \
    AND coalesce(ended_at, started_at) >= ?1 AND coalesce(ended_at, started_at) < ?2 GROUP BY 1";
const SURPRISES: &str = "SELECT (at - ?1) / ?3, count(*), sum(cost) FROM surprises \
    WHERE at >= ?1 AND at < ?2 AND kind <> 'recovery' GROUP BY 1";
const REFUNDS: &str = "SELECT (coalesce(ended_at, started_at) - ?1) / ?3, count(*), 0 FROM vends \
    WHERE kind = 'paid' AND outcome IN ('refunded', 'interrupted') \
    AND coalesce(ended_at, started_at) >= ?1 AND coalesce(ended_at, started_at) < ?2 GROUP BY 1";
const FEEDBACK: &str = "SELECT (at - ?1) / ?3, sum(happy = 1), sum(happy = 0) FROM feedback \
    WHERE at >= ?1 AND at < ?2 GROUP BY 1";

fn faults_sql() -> String {
    format!(
        "SELECT (at - ?1) / ?3, count(*), 0 FROM events WHERE kind IN {FAULT_KINDS} \
         AND at >= ?1 AND at < ?2 GROUP BY 1"
    )
}

/// The rolling budget: for each moment asked, the spend and the budget over the window ending
/// there.
struct Rolling {
    sales: Hourly,
    spend: Hourly,
    rule: BudgetRule,
}

impl Rolling {
    fn read(conn: &Connection, period: &Period, rule: BudgetRule) -> rusqlite::Result<Rolling> {
        let from = period.from.secs() - i64::from(rule.window_hours) * 3_600;
        let to = period.to.secs();
        Ok(Rolling {
            sales: hourly(
                conn,
                "SELECT coalesce(ended_at, started_at) / 3600, sum(price) FROM vends \
                 WHERE kind = 'paid' AND outcome = 'delivered' \
                 AND coalesce(ended_at, started_at) >= ?1 AND coalesce(ended_at, started_at) < ?2 \
                 GROUP BY 1",
                from,
                to,
            )?,
            spend: hourly(
                conn,
                "SELECT at / 3600, sum(cost) FROM surprises WHERE at >= ?1 AND at < ?2 \
                 AND kind <> 'recovery' GROUP BY 1",
                from,
                to,
            )?,
            rule,
        })
    }

    /// (spend, budget) over the window ending at `end` (exclusive), hour by hour.
    fn at(&self, end: i64) -> (Cents, Cents) {
        let last = (end - 1).div_euclid(3_600);
        let first = last - i64::from(self.rule.window_hours.max(1)) + 1;
        let sum = |m: &Hourly| -> i64 {
            m.iter()
                .filter(|(h, _)| (first..=last).contains(*h))
                .map(|(_, v)| *v)
                .sum()
        };
        let budget = (sum(&self.sales) as f64 * self.rule.percent / 100.0).floor();
        // A budget is a whole number of cents; a percentage above 100 is refused by validation.
        (cents(sum(&self.spend)), cents(budget as i64))
    }
}

/// The books over `period` as they stand at `now`, with surprise spend measured against `rule`.
pub(super) fn period_books(
    conn: &Connection,
    period: &Period,
    rule: BudgetRule,
    now: LocalTime,
) -> Result<PeriodBooks, JournalError> {
    let sales = per_bucket(conn, SALES, period)?;
    let surprises = per_bucket(conn, SURPRISES, period)?;
    let refunds = per_bucket(conn, REFUNDS, period)?;
    let faults = per_bucket(conn, &faults_sql(), period)?;
    let feedback = per_bucket(conn, FEEDBACK, period)?;
    let rolling = Rolling::read(conn, period, rule)?;
    let step = period.bucket.secs();
    let buckets = (period.to.secs() - period.from.secs() + step - 1) / step;
    let pick = |m: &HashMap<i64, (i64, i64)>, i: i64| m.get(&i).copied().unwrap_or((0, 0));
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    let series: Vec<BucketRow> = (0..buckets)
        .map(|i| {
            let start = period.from.plus_secs(i * step);
            let end = start.plus_secs(step).min(period.to).min(now);
            let (window_spend, window_budget) = if start <= now {
                let (spend, budget) = rolling.at(end.secs());
                (Some(spend), Some(budget))
            } else {
                (None, None)
            };
            let (s_n, s_v) = pick(&sales, i);
            let (p_n, p_v) = pick(&surprises, i);
            let (happy, unhappy) = pick(&feedback, i);
            BucketRow {
                start: start.to_string(),
                sales: Tally {
                    count: count(s_n),
                    value: cents(s_v),
                },
                surprises: Tally {
                    count: count(p_n),
                    value: cents(p_v),
                },
                window_spend,
                window_budget,
                refunds: count(pick(&refunds, i).0),
                faults: count(pick(&faults, i).0),
                feedback: FeedbackTally {
                    happy: count(happy),
                    unhappy: count(unhappy),
                },
            }
        })
        .collect();
    let total = |f: &dyn Fn(&BucketRow) -> u64| series.iter().map(f).sum::<u64>();
    let money = |f: &dyn Fn(&BucketRow) -> Cents| series.iter().map(f).sum::<Cents>();
    let (window_spend, window_budget) = rolling.at(period.to.min(now).secs());
    let promise = promise(conn, period)?;
    Ok(PeriodBooks {
        from: period.from.to_string(),
        to: period.to.to_string(),
        bucket: period.bucket,
        sales: Tally {
            count: total(&|r| r.sales.count),
            value: money(&|r| r.sales.value),
        },
        surprises: Tally {
            count: total(&|r| r.surprises.count),
            value: money(&|r| r.surprises.value),
        },
        budget: rule,
        window_spend,
        window_budget,
        promise,
        surprises_by_kind: by_kind(conn, period)?,
        columns: columns(conn, period)?,
        feedback: FeedbackTally {
            happy: total(&|r| r.feedback.happy),
            unhappy: total(&|r| r.feedback.unhappy),
        },
        recovery: super::recovery::tally(conn, period.from.secs(), period.to.secs())?,
        series,
    })
}

fn promise(conn: &Connection, period: &Period) -> rusqlite::Result<PromiseKept> {
    let (paid, delivered, refunded): (i64, Option<i64>, Option<i64>) = conn.query_row(
        "SELECT count(*), sum(outcome = 'delivered'), sum(outcome IN ('refunded', 'interrupted')) \
         FROM vends WHERE kind = 'paid' AND outcome IS NOT NULL \
         AND coalesce(ended_at, started_at) >= ?1 AND coalesce(ended_at, started_at) < ?2",
        params![period.from.secs(), period.to.secs()],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    let (paid, delivered) = (n(paid), n(delivered.unwrap_or(0)));
    Ok(PromiseKept {
        paid,
        delivered,
        refunded: n(refunded.unwrap_or(0)),
        ratio: (paid > 0).then(|| delivered as f64 / paid as f64),
    })
}

fn by_kind(conn: &Connection, period: &Period) -> rusqlite::Result<Vec<KindTally>> {
    let mut stmt = conn.prepare(
        "SELECT kind, count(*), sum(cost) FROM surprises WHERE at >= ?1 AND at < ?2 \
         AND kind <> 'recovery' GROUP BY kind ORDER BY count(*) DESC, kind",
    )?;
    let rows = stmt.query_map(params![period.from.secs(), period.to.secs()], |r| {
        Ok(KindTally {
            kind: r.get(0)?,
            count: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
            cost: cents(r.get(2)?),
        })
    })?;
    rows.collect()
}

/// Sales, refunds and faults per column: every column in the inventory, and any other the
/// period's records name.
fn columns(conn: &Connection, period: &Period) -> rusqlite::Result<Vec<ColumnTally>> {
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    let mut by_column: std::collections::BTreeMap<i64, ColumnTally> = all(
        conn,
        "SELECT column_no, product FROM inventory ORDER BY column_no",
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?
    .into_iter()
    .map(|(column, product)| {
        (
            column,
            ColumnTally {
                column,
                product,
                sales: Tally::default(),
                refunds: 0,
                faults: 0,
            },
        )
    })
    .collect();
    let blank = |column| ColumnTally {
        column,
        product: String::new(),
        sales: Tally::default(),
        refunds: 0,
        faults: 0,
    };
    let (from, to) = (period.from.secs(), period.to.secs());
    let mut stmt = conn.prepare(
        "SELECT column_no, sum(outcome = 'delivered'), \
           sum(CASE WHEN outcome = 'delivered' THEN price ELSE 0 END), \
           sum(outcome IN ('refunded', 'interrupted')) \
         FROM vends WHERE kind = 'paid' AND coalesce(ended_at, started_at) >= ?1 \
           AND coalesce(ended_at, started_at) < ?2 GROUP BY column_no",
    )?;
    let rows = stmt.query_map(params![from, to], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, Option<i64>>(1)?,
            r.get::<_, Option<i64>>(2)?,
            r.get::<_, Option<i64>>(3)?,
        ))
    })?;
    for row in rows {
        let (column, count, value, refunds) = row?;
        let c = by_column.entry(column).or_insert_with(|| blank(column));
        c.sales = Tally {
            count: n(count.unwrap_or(0)),
            value: cents(value.unwrap_or(0)),
        };
        c.refunds = n(refunds.unwrap_or(0));
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT column_no, count(*) FROM events WHERE column_no IS NOT NULL \
           AND kind IN {FAULT_KINDS} AND at >= ?1 AND at < ?2 GROUP BY column_no"
    ))?;
    let rows = stmt.query_map(params![from, to], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    })?;
    for row in rows {
        let (column, faults) = row?;
        by_column
            .entry(column)
            .or_insert_with(|| blank(column))
            .faults = n(faults);
    }
    Ok(by_column.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_forward_and_at_most_a_year() {
        let t = |d| LocalTime::from_ymd_hm(2026, 11, d, 0, 0).expect("date");
        assert!(Period::new(t(27), t(26), None).is_err());
        assert!(Period::new(t(27), t(27), None).is_err());
        assert_eq!(
            Period::new(t(26), t(27), None).map(|p| p.bucket),
            Ok(Bucket::Hour)
        );
        assert_eq!(
            Period::new(t(20), t(27), None).map(|p| p.bucket),
            Ok(Bucket::Day)
        );
        let year = LocalTime::from_ymd_hm(2025, 12, 1, 0, 0).expect("date");
        assert!(Period::new(year, t(27), Some(Bucket::Hour))
            .expect_err("too many hours")
            .contains("bucket=day"));
        let long = LocalTime::from_ymd_hm(2024, 1, 1, 0, 0).expect("date");
        assert!(Period::new(long, t(27), None)
            .expect_err("too long")
            .contains("366 days"));
    }

    #[test]
    fn asked_periods_resolve_against_the_machines_clock() {
        let now = LocalTime::from_ymd_hm(2026, 11, 27, 15, 30).expect("date");
        let day = |d| LocalTime::from_ymd_hm(2026, 11, d, 0, 0).expect("date");
        let today = PeriodQuery {
            days: Some(1),
            ..PeriodQuery::default()
        };
        let p = today.resolve(now).expect("today");
        assert_eq!((p.from, p.to, p.bucket), (day(27), day(28), Bucket::Hour));
        let week = PeriodQuery {
            days: Some(7),
            ..PeriodQuery::default()
        };
        assert_eq!(week.resolve(now).map(|p| p.from), Ok(day(21)));
        let open = PeriodQuery::default().resolve(now).expect("default");
        assert_eq!((open.from, open.to), (now.plus_secs(-7 * 86_400), now));
        let both = PeriodQuery {
            days: Some(7),
            from: Some(day(1)),
            ..PeriodQuery::default()
        };
        assert!(both.resolve(now).is_err());
        let zero = PeriodQuery {
            days: Some(0),
            ..PeriodQuery::default()
        };
        assert!(zero.resolve(now).is_err());
    }
}
