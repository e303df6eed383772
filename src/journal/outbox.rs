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

/// One kind of copy: the trigger that makes it.
struct Copy {
    /// The trigger's name.
    name: &'static str,
    /// The table it watches.
    table: &'static str,
    /// `INSERT`, or `UPDATE OF column`.
    on: &'static str,
    /// When it fires (empty: always).
    when: &'static str,
    /// The JSON object's keys and values (SQL over `NEW`); `AT(column)` becomes the local time
    /// `2026-11-28T09:15:00` (the books' times are local seconds).
    object: &'static str,
}

/// Every record's copy. Each names its table (`record`), its `type`, the record's own id, and
/// what the record says.
const COPIES: &[Copy] = &[
    Copy {
        name: "outbox_credit",
        table: "credit_events",
        on: "INSERT",
        when: "",
        object: "'record', 'credit', 'type', CASE NEW.kind WHEN 'coin' THEN 'coin' \
                 ELSE 'coin_paid_out' END, 'id', NEW.id, 'at', AT(NEW.at), \
                 'amount', NEW.amount, 'credit_after', NEW.credit_after",
    },
    Copy {
        name: "outbox_vend_started",
        table: "vends",
        on: "INSERT",
        when: "",
        object: "'record', 'vend', 'type', 'vend_started', 'id', NEW.id, \
                 'at', AT(NEW.started_at), 'kind', NEW.kind, 'column', NEW.column_no, \
                 'product', NEW.product, 'price', NEW.price, 'surprise_id', NEW.surprise_id",
    },
    Copy {
        name: "outbox_vend_ended",
        table: "vends",
        on: "UPDATE OF outcome",
        when: "WHEN OLD.outcome IS NULL AND NEW.outcome IS NOT NULL",
        object: "'record', 'vend', 'type', 'vend_ended', 'id', NEW.id, 'at', AT(NEW.ended_at), \
                 'kind', NEW.kind, 'column', NEW.column_no, 'product', NEW.product, \
                 'price', NEW.price, 'outcome', NEW.outcome, 'reason', NEW.reason, \
                 'attempts', NEW.attempts, 'surprise_id', NEW.surprise_id, \
                 'payment', CASE WHEN NEW.kind <> 'paid' THEN NULL WHEN EXISTS \
                 (SELECT 1 FROM main.card_vends WHERE vend_id = NEW.id) THEN 'card' \
                 ELSE 'cash' END",
    },
    Copy {
        name: "outbox_surprise",
        table: "surprises",
        on: "INSERT",
        when: "",
        object: "'record', 'surprise', 'type', 'surprise', 'id', NEW.id, 'at', AT(NEW.at), \
                 'vend_id', NEW.vend_id, 'name', NEW.name, 'kind', NEW.kind, \
                 'cost', NEW.cost, 'items', NEW.planned, 'message', NEW.message",
    },
    Copy {
        name: "outbox_surprise_ended",
        table: "surprises",
        on: "UPDATE OF status",
        when: "WHEN OLD.status = 'open' AND NEW.status <> 'open'",
        object: "'record', 'surprise', 'type', 'surprise_ended', 'id', NEW.id, \
                 'name', NEW.name, 'kind', NEW.kind, 'status', NEW.status, \
                 'items', NEW.planned, 'delivered', NEW.delivered",
    },
    Copy {
        name: "outbox_payout",
        table: "payouts",
        on: "INSERT",
        when: "",
        object: "'record', 'payout', 'type', 'payout_started', 'id', NEW.id, \
                 'at', AT(NEW.started_at), 'coins', NEW.planned",
    },
    Copy {
        name: "outbox_payout_finished",
        table: "payouts",
        on: "UPDATE OF finished",
        when: "WHEN OLD.finished = 0 AND NEW.finished <> 0",
        object: "'record', 'payout', 'type', 'payout_finished', 'id', NEW.id, \
                 'coins', NEW.planned, 'paid', NEW.paid",
    },
    Copy {
        name: "outbox_event",
        table: "events",
        on: "INSERT",
        when: "",
        object: "'record', 'event', 'type', NEW.kind, 'id', NEW.id, 'at', AT(NEW.at), \
                 'column', NEW.column_no, 'detail', NEW.detail",
    },
    Copy {
        name: "outbox_config",
        table: "config_versions",
        on: "INSERT",
        when: "",
        object: "'record', 'config', 'type', 'config_version', 'version', NEW.id, \
                 'at', AT(NEW.at), 'file', NEW.file, 'source', NEW.source, 'diff', NEW.diff",
    },
    Copy {
        name: "outbox_feedback",
        table: "feedback",
        on: "INSERT",
        when: "",
        object: "'record', 'feedback', 'type', 'feedback', 'id', NEW.id, 'at', AT(NEW.at), \
                 'happy', json(CASE WHEN NEW.happy THEN 'true' ELSE 'false' END)",
    },
    Copy {
        name: "outbox_audit_read",
        table: "audit_reads",
        on: "INSERT",
        when: "",
        object: "'record', 'audit', 'type', CASE WHEN NEW.reset THEN 'audit_read_reset' \
                 ELSE 'audit_read' END, 'id', NEW.id, 'at', AT(NEW.at), 'reader', NEW.reader",
    },
    Copy {
        name: "outbox_card_vend",
        table: "card_vends",
        on: "INSERT",
        when: "",
        object: "'record', 'vend', 'type', 'card_payment', 'id', NEW.vend_id, \
                 'reader', NEW.reader",
    },
];

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

impl Copy {
    /// The `CREATE TEMP TRIGGER` statement.
    fn sql(&self) -> String {
        let mut object = String::new();
        let mut rest = self.object;
        while let Some(i) = rest.find("AT(") {
            let (before, after) = rest.split_at(i);
            let end = after.find(')').unwrap_or(after.len());
            object.push_str(before);
            object.push_str(&format!(
                "strftime('%Y-%m-%dT%H:%M:%S', {}, 'unixepoch')",
                &after[3..end]
            ));
            rest = after.get(end + 1..).unwrap_or("");
        }
        object.push_str(rest);
        format!(
            "CREATE TEMP TRIGGER IF NOT EXISTS {} AFTER {} ON main.{} {} BEGIN \
             INSERT INTO outbox (payload) VALUES (json_object({object})); END",
            self.name, self.on, self.table, self.when
        )
    }
}

impl Journal {
    /// Copy every record from now on into the outbox (the machine belongs to a fleet).
    /// Idempotent.
    pub fn enable_outbox(&mut self) -> Result<(), JournalError> {
        for copy in COPIES {
            self.conn.execute_batch(&copy.sql())?;
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
            self.committed();
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
    fn every_table_of_records_has_its_copy() {
        // Stock and credit are state kept in place; every change to them is also a record
        // (a restock event, a coin), which is copied.
        for t in crate::journal::seal::SEALED {
            if matches!(t.table, "inventory" | "meta") {
                continue;
            }
            assert!(
                COPIES
                    .iter()
                    .any(|c| c.table == t.table && c.on == "INSERT"),
                "records of {} never reach the fleet",
                t.table
            );
        }
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
