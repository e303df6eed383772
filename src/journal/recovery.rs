//! Making failures right, as the books tell it: offers (events `recovery_offered` and
//! `recovery_lapsed`) and free items taken (rows of kind `recovery` in `surprises`, their vends
//! referring to them), counted apart from surprises for the reports, the dashboard and the
//! engine's memory after a restart; and what a set of surprises was awarded over a period (a
//! campaign's tally).

use rusqlite::{params, Connection};
use serde::Serialize;

use super::cents;
use crate::localtime::LocalTime;
use crate::money::Cents;

/// What making failures right came to over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RecoveryTally {
    /// Offers made (free choices and apologies).
    pub offers: u64,
    /// Of them, after a failed paid vend.
    pub after_failure: u64,
    /// Of them, after an unhappy answer.
    pub after_unhappy: u64,
    /// Of them, an apology only.
    pub apologies: u64,
    /// Free choices that lapsed unused.
    pub lapsed: u64,
    /// Free items taken.
    pub items: u64,
    /// Of them, delivered.
    pub delivered: u64,
    /// Their value (price).
    pub value: Cents,
}

/// The tally of `[from, to)` (local seconds).
pub(super) fn tally(conn: &Connection, from: i64, to: i64) -> rusqlite::Result<RecoveryTally> {
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    let (offers, after_failure, after_unhappy, apologies, lapsed) = conn
        .prepare_cached(
            "SELECT sum(kind = 'recovery_offered'), \
               sum(kind = 'recovery_offered' AND json_extract(detail, '$.trigger') = 'failed_vend'), \
               sum(kind = 'recovery_offered' AND json_extract(detail, '$.trigger') = 'unhappy'), \
               sum(kind = 'recovery_offered' AND json_extract(detail, '$.offer') = 'message'), \
               sum(kind = 'recovery_lapsed') \
             FROM events WHERE at >= ?1 AND at < ?2 \
               AND kind IN ('recovery_offered', 'recovery_lapsed')",
        )?
        .query_row(params![from, to], |r| {
            Ok((
                r.get::<_, Option<i64>>(0)?.unwrap_or(0),
                r.get::<_, Option<i64>>(1)?.unwrap_or(0),
                r.get::<_, Option<i64>>(2)?.unwrap_or(0),
                r.get::<_, Option<i64>>(3)?.unwrap_or(0),
                r.get::<_, Option<i64>>(4)?.unwrap_or(0),
            ))
        })?;
    let (items, delivered, value) = conn
        .prepare_cached(
            "SELECT count(*), sum(delivered), sum(cost) FROM surprises \
             WHERE kind = 'recovery' AND at >= ?1 AND at < ?2",
        )?
        .query_row(params![from, to], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<i64>>(1)?.unwrap_or(0),
                cents(r.get::<_, Option<i64>>(2)?.unwrap_or(0)),
            ))
        })?;
    Ok(RecoveryTally {
        offers: n(offers),
        after_failure: n(after_failure),
        after_unhappy: n(after_unhappy),
        apologies: n(apologies),
        lapsed: n(lapsed),
        items: n(items),
        delivered: n(delivered),
        value,
    })
}

/// Offers made (times), and free items taken (time, value).
type History = (Vec<LocalTime>, Vec<(LocalTime, Cents)>);

/// Offers made since `since`, and free items taken since then: what the engine needs to keep
/// recovery's daily cap and budget across a restart.
pub(super) fn history(conn: &Connection, since: i64) -> rusqlite::Result<History> {
    let offers = conn
        .prepare(
            "SELECT at FROM events WHERE kind = 'recovery_offered' AND at >= ?1 ORDER BY at, id",
        )?
        .query_map([since], |r| Ok(LocalTime::from_secs(r.get(0)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let taken = conn
        .prepare(
            "SELECT at, cost FROM surprises WHERE kind = 'recovery' AND at >= ?1 ORDER BY at, id",
        )?
        .query_map([since], |r| {
            Ok((LocalTime::from_secs(r.get(0)?), cents(r.get(1)?)))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((offers, taken))
}

impl super::Journal {
    /// What the surprises named in `surprises` were awarded over `[from, to)`: (count, cost).
    /// A campaign's tally, from the books (the engine's own count restarts with the kiosk).
    pub fn awards_of(
        &self,
        surprises: &[String],
        from: LocalTime,
        to: LocalTime,
    ) -> Result<(u64, Cents), super::JournalError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT count(*), coalesce(sum(cost), 0) FROM surprises \
             WHERE kind <> 'recovery' AND name = ?1 AND at >= ?2 AND at < ?3",
        )?;
        let (mut count, mut cost) = (0u64, Cents::ZERO);
        for name in surprises {
            let (n, c): (i64, i64) = stmt
                .query_row(params![name, from.secs(), to.secs()], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
            count += u64::try_from(n).unwrap_or(0);
            cost = cost.saturating_add(cents(c));
        }
        Ok((count, cost))
    }
}
