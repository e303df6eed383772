//! The fleet link's outbox: a copy of every record as one JSON object, numbered in commit order
//! (`seq`), written in the same transaction as the record and deleted only once the broker has
//! acknowledged it, so that no record is lost to a broker outage, a dropped connection or a
//! restart.
//!
//! The copies are made by SQL triggers, so every way a record reaches the books (a vend step,
//! an operator's event, a config version, a customer's answer) is covered without any of them
//! knowing. The triggers are `TEMP`: they live on this connection only and are created when the
//! machine belongs to a fleet ([`Journal::enable_outbox`]), so a machine without one writes
//! nothing extra and keeps no queue. The records themselves stay in the books whatever becomes
//! of their copies.

use rusqlite::params;
use serde::Serialize;

use super::{Journal, JournalError};

/// Local seconds as `2026-11-28T09:15:00` (the books' times are local).
const AT: &str = "strftime('%Y-%m-%dT%H:%M:%S', {}, 'unixepoch')";

/// One record's copy waiting for the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Its place in commit order: contiguous, never reused.
    pub seq: u64,
    /// The record as a JSON object (without `seq`).
    pub payload: String,
}

/// How much waits in the outbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutboxBacklog {
    /// Copies waiting.
    pub waiting: u64,
    /// The oldest waiting, if any.
    pub first: Option<u64>,
    /// The last sequence number given (waiting or not).
    pub last: Option<u64>,
}

fn at(column: &str) -> String {
    AT.replace("{}", column)
}

/// The trigger statements: (name, SQL).
fn triggers() -> Vec<(&'static str, String)> {
    let insert = |name: &str, table: &str, when: &str, event: &str, object: String| {
        format!(
            "CREATE TEMP TRIGGER IF NOT EXISTS {name} AFTER {event} ON main.{table} {when} BEGIN \
             INSERT INTO outbox (payload) VALUES (json_object({object})); END"
        )
    };
    vec![
        (
            "outbox_credit",
            insert(
                "outbox_credit",
                "credit_events",
                "",
                "INSERT",
                format!(
                    "'record', 'credit', 'type', CASE NEW.kind WHEN 'coin' THEN 'coin' \
                     ELSE 'coin_paid_out' END, 'id', NEW.id, 'at', {}, 'amount', NEW.amount, \
                     'credit_after', NEW.credit_after",
                    at("NEW.at")
                ),
            ),
        ),
        (
            "outbox_vend_started",
            insert(
                "outbox_vend_started",
                "vends",
                "",
                "INSERT",
                format!(
                    "'record', 'vend', 'type', 'vend_started', 'id', NEW.id, 'at', {}, \
                     'kind', NEW.kind, 'column', NEW.column_no, 'product', NEW.product, \
                     'price', NEW.price, 'surprise_id', NEW.surprise_id",
                    at("NEW.started_at")
                ),
            ),
        ),
        (
            "outbox_vend_ended",
            insert(
                "outbox_vend_ended",
                "vends",
                "WHEN OLD.outcome IS NULL AND NEW.outcome IS NOT NULL",
                "UPDATE OF outcome",
                format!(
                    "'record', 'vend', 'type', 'vend_ended', 'id', NEW.id, 'at', {}, \
                     'kind', NEW.kind, 'column', NEW.column_no, 'product', NEW.product, \
                     'price', NEW.price, 'outcome', NEW.outcome, 'reason', NEW.reason, \
                     'attempts', NEW.attempts, 'surprise_id', NEW.surprise_id",
                    at("NEW.ended_at")
                ),
            ),
        ),
        (
            "outbox_surprise",
            insert(
                "outbox_surprise",
                "surprises",
                "",
                "INSERT",
                format!(
                    "'record', 'surprise', 'type', 'surprise', 'id', NEW.id, 'at', {}, \
                     'vend_id', NEW.vend_id, 'name', NEW.name, 'kind', NEW.kind, \
                     'cost', NEW.cost, 'items', NEW.planned, 'message', NEW.message",
                    at("NEW.at")
                ),
            ),
        ),
        (
            "outbox_surprise_ended",
            insert(
                "outbox_surprise_ended",
                "surprises",
                "WHEN OLD.status = 'open' AND NEW.status <> 'open'",
                "UPDATE OF status",
                "'record', 'surprise', 'type', 'surprise_ended', 'id', NEW.id, \
                 'name', NEW.name, 'kind', NEW.kind, 'status', NEW.status, \
                 'items', NEW.planned, 'delivered', NEW.delivered"
                    .to_string(),
            ),
        ),
        (
            "outbox_payout",
            insert(
                "outbox_payout",
                "payouts",
                "",
                "INSERT",
                format!(
                    "'record', 'payout', 'type', 'payout_started', 'id', NEW.id, 'at', {}, \
                     'coins', NEW.planned",
                    at("NEW.started_at")
                ),
            ),
        ),
        (
            "outbox_payout_finished",
            insert(
                "outbox_payout_finished",
                "payouts",
                "WHEN OLD.finished = 0 AND NEW.finished <> 0",
                "UPDATE OF finished",
                "'record', 'payout', 'type', 'payout_finished', 'id', NEW.id, \
                 'coins', NEW.planned, 'paid', NEW.paid"
                    .to_string(),
            ),
        ),
        (
            "outbox_event",
            insert(
                "outbox_event",
                "events",
                "",
                "INSERT",
                format!(
                    "'record', 'event', 'type', NEW.kind, 'id', NEW.id, 'at', {}, \
                     'column', NEW.column_no, 'detail', NEW.detail",
                    at("NEW.at")
                ),
            ),
        ),
        (
            "outbox_config",
            insert(
                "outbox_config",
                "config_versions",
                "",
                "INSERT",
                format!(
                    "'record', 'config', 'type', 'config_version', 'version', NEW.id, \
                     'at', {}, 'file', NEW.file, 'source', NEW.source, 'diff', NEW.diff",
                    at("NEW.at")
                ),
            ),
        ),
        (
            "outbox_feedback",
            insert(
                "outbox_feedback",
                "feedback",
                "",
                "INSERT",
                format!(
                    "'record', 'feedback', 'type', 'feedback', 'id', NEW.id, 'at', {}, \
                     'happy', json(CASE WHEN NEW.happy THEN 'true' ELSE 'false' END)",
                    at("NEW.at")
                ),
            ),
        ),
    ]
}

impl Journal {
    /// Copy every record from now on into the outbox (the machine belongs to a fleet).
    /// Idempotent.
    pub fn enable_outbox(&mut self) -> Result<(), JournalError> {
        for (_, sql) in triggers() {
            self.conn.execute_batch(&sql)?;
        }
        self.outbox = true;
        Ok(())
    }

    /// Whether records are copied into the outbox.
    pub fn outbox_enabled(&self) -> bool {
        self.outbox
    }

    /// Up to `limit` copies after `after` (0 for the first), in order.
    pub fn outbox_after(&self, after: u64, limit: usize) -> Result<Vec<OutboxEntry>, JournalError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, payload FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![after, limit], |r| {
            let seq: i64 = r.get(0)?;
            Ok(OutboxEntry {
                seq: u64::try_from(seq).unwrap_or(0),
                payload: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The broker has every copy up to and including `upto`: delete them. Returns how many
    /// were deleted.
    pub fn outbox_delivered(&mut self, upto: u64) -> Result<u64, JournalError> {
        let upto = i64::try_from(upto).unwrap_or(i64::MAX);
        let n = self
            .conn
            .prepare_cached("DELETE FROM outbox WHERE seq <= ?1")?
            .execute([upto])?;
        if n > 0 {
            self.stats.commits += 1;
        }
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// How much waits, and the last sequence number given.
    pub fn outbox_backlog(&self) -> Result<OutboxBacklog, JournalError> {
        let (waiting, first): (i64, Option<i64>) = self
            .conn
            .prepare_cached("SELECT count(*), min(seq) FROM outbox")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let last: Option<i64> = self
            .conn
            .prepare_cached("SELECT max(seq) FROM (SELECT seq FROM sqlite_sequence WHERE name = 'outbox' UNION ALL SELECT max(seq) FROM outbox)")?
            .query_row([], |r| r.get(0))?;
        let unsigned = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(OutboxBacklog {
            waiting: unsigned(waiting),
            first: first.map(unsigned),
            last: last.map(unsigned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::localtime::LocalTime;

    fn journal() -> Journal {
        let mut j = Journal::open_in_memory().expect("journal");
        j.enable_outbox().expect("outbox");
        j
    }

    fn payloads(j: &Journal) -> Vec<serde_json::Value> {
        j.outbox_after(0, 1000)
            .expect("read")
            .into_iter()
            .map(|e| serde_json::from_str(&e.payload).expect("json"))
            .collect()
    }

    #[test]
    fn every_record_is_copied_in_the_same_transaction() {
        let mut j = journal();
        let now = LocalTime::from_ymd_hm(2026, 11, 28, 9, 15).expect("time");
        j.record_event(now, "restock", "stock 5 (fleet)")
            .expect("event");
        j.record_feedback(now, true).expect("feedback");
        let all = payloads(&j);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0]["type"], "restock");
        assert_eq!(all[0]["detail"], "stock 5 (fleet)");
        assert_eq!(all[0]["at"], "2026-11-28T09:15:00");
        assert_eq!(all[1]["type"], "feedback");
        assert_eq!(all[1]["happy"], true);
        let seqs: Vec<u64> = j
            .outbox_after(0, 10)
            .expect("read")
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, [1, 2]);
    }

    #[test]
    fn delivered_copies_go_and_numbers_are_never_reused() {
        let mut j = journal();
        let now = LocalTime::from_ymd_hm(2026, 11, 28, 9, 15).expect("time");
        for _ in 0..3 {
            j.record_event(now, "door", "opened").expect("event");
        }
        assert_eq!(j.outbox_delivered(3).expect("ack"), 3);
        let empty = j.outbox_backlog().expect("backlog");
        assert_eq!((empty.waiting, empty.first, empty.last), (0, None, Some(3)));
        j.record_event(now, "door", "closed").expect("event");
        let left = j.outbox_after(0, 10).expect("read");
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].seq, 4);
        assert_eq!(j.outbox_after(4, 10).expect("read"), []);
    }

    #[test]
    fn without_a_fleet_nothing_is_copied() {
        let mut j = Journal::open_in_memory().expect("journal");
        let now = LocalTime::from_ymd_hm(2026, 11, 28, 9, 15).expect("time");
        j.record_event(now, "door", "opened").expect("event");
        assert!(!j.outbox_enabled());
        assert_eq!(j.outbox_backlog().expect("backlog").waiting, 0);
    }

    #[test]
    fn a_failed_step_leaves_no_copy() {
        let mut j = journal();
        let now = LocalTime::from_ymd_hm(2026, 11, 28, 9, 15).expect("time");
        let commits = j.stats().commits;
        j.set_disk_fault(Some(crate::journal::DiskFault {
            full_at_commit: commits,
            reserve_helps: false,
        }));
        let door = crate::vend::Notice::Door { open: true };
        assert!(j.record(now, &[&door], crate::money::Cents::ZERO).is_err());
        assert_eq!(j.outbox_backlog().expect("backlog").waiting, 0);
    }
}
