//! Recovery at start: close what a crash left open and rebuild the state the machine starts
//! from.

use rusqlite::{params, OptionalExtension, Transaction};

use super::apply::exec;
use super::report::money_totals;
use super::{
    cents, reason_from, sql_cents, status_text, InterruptedVend, Journal, JournalError,
    RecordedVend, Recovery, SurpriseHistory,
};
use crate::config::MachineConfig;
use crate::localtime::LocalTime;
use crate::model::ColumnSpec;
use crate::money::Cents;
use crate::vend::{ColumnStatus, Ledger, Restored};

impl Journal {
    /// Close what a crash left open, reconcile inventory with `machine`, and return the state
    /// the vend core starts from.
    pub fn recover(
        &mut self,
        machine: &MachineConfig,
        now: LocalTime,
        history_hours: u32,
    ) -> Result<Recovery, JournalError> {
        let at = now.secs();
        let tx = self.conn.transaction()?;
        let (interrupted, refunded) = close_interrupted(&tx, at)?;
        let columns = reconcile_inventory(&tx, at, &machine.columns)?;
        let money = money_totals(&tx)?;
        let credit = money.held_computed;
        exec(
            &tx,
            "INSERT INTO meta (key, value) VALUES ('credit', ?1) \
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [sql_cents(credit).to_string()],
        )?;
        let surprise_history = surprise_history(&tx, at - i64::from(history_hours.max(25)) * 3600)?;
        if self.disk.refuses_commit(self.stats.commits) {
            return Err(super::disk_full().into());
        }
        tx.commit()?;
        self.committed();
        self.open_vend = None;
        self.open_surprise = None;
        self.open_payout = None;
        self.credit_written = Some(credit);
        Ok(Recovery {
            restored: Restored {
                credit,
                ledger: Ledger {
                    inserted: money.inserted,
                    spent: money.spent,
                    returned: money.paid_out,
                    card: money.card,
                },
                columns,
            },
            interrupted,
            refunded,
            surprise_history,
        })
    }
}

/// Mark every vend with an intent and no outcome as interrupted (its motor is never run again),
/// and close open surprises and payouts. Returns those vends and the credit paid ones give back.
fn close_interrupted(
    tx: &Transaction<'_>,
    at: i64,
) -> Result<(Vec<InterruptedVend>, Cents), JournalError> {
    let mut interrupted = Vec::new();
    {
        let mut stmt = tx.prepare(
            "SELECT id, kind, column_no, product, price, \
             id IN (SELECT vend_id FROM card_vends) FROM vends WHERE outcome IS NULL",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(InterruptedVend {
                id: r.get(0)?,
                kind: r.get(1)?,
                column: r.get(2)?,
                product: r.get(3)?,
                price: cents(r.get(4)?),
                card: r.get(5)?,
            })
        })?;
        for row in rows {
            interrupted.push(row?);
        }
    }
    let mut refunded = Cents::ZERO;
    for v in &interrupted {
        exec(
            tx,
            "UPDATE vends SET outcome = 'interrupted', ended_at = ?1, reason = 'power' \
             WHERE id = ?2 AND outcome IS NULL",
            params![at, v.id],
        )?;
        let back = match v.kind {
            RecordedVend::Paid if !v.card => v.price,
            RecordedVend::Paid | RecordedVend::Surprise | RecordedVend::Test => Cents::ZERO,
        };
        refunded = refunded.saturating_add(back);
        exec(
            tx,
            "INSERT INTO events (at, kind, column_no, detail) VALUES (?1, 'interrupted', ?2, ?3)",
            params![
                at,
                v.column,
                if v.card {
                    format!(
                        "card vend {} of {} was interrupted; the card is not charged; motor \
                         not re-run",
                        v.id, v.product,
                    )
                } else {
                    format!(
                        "{} vend {} of {} was interrupted; {back} returned to credit; motor \
                         not re-run",
                        v.kind.as_str(),
                        v.id,
                        v.product,
                    )
                }
            ],
        )?;
    }
    exec(
        tx,
        "UPDATE surprises SET status = CASE WHEN delivered >= planned THEN 'complete' \
         ELSE 'partial' END WHERE status = 'open'",
        [],
    )?;
    exec(tx, "UPDATE payouts SET finished = 1 WHERE finished = 0", [])?;
    Ok((interrupted, refunded))
}

/// Inventory: the journal's count and state win, unless the column now holds another product
/// (then machine.toml's stock, in service, and an event saying so).
fn reconcile_inventory(
    tx: &Transaction<'_>,
    at: i64,
    specs: &[ColumnSpec],
) -> Result<Vec<(u32, ColumnStatus)>, JournalError> {
    let mut columns = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let no = i64::try_from(i + 1).unwrap_or(i64::MAX);
        let row: Option<(String, i64, String, Option<String>)> = tx
            .query_row(
                "SELECT product, stock, status, reason FROM inventory WHERE column_no = ?1",
                [no],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let (stock, status) = match row {
            Some((product, stock, status, reason)) if product == spec.product => (
                u32::try_from(stock).unwrap_or(0).min(spec.capacity),
                match status.as_str() {
                    "faulted" => ColumnStatus::Faulted(reason_from(reason.as_deref())),
                    "disabled" => ColumnStatus::Disabled,
                    _ => ColumnStatus::InService,
                },
            ),
            other => {
                if let Some((old, ..)) = other {
                    exec(
                        tx,
                        "INSERT INTO events (at, kind, column_no, detail) \
                         VALUES (?1, 'product_changed', ?2, ?3)",
                        params![
                            at,
                            no,
                            format!(
                                "column now holds {} (was {old}): stock taken from machine.toml",
                                spec.product
                            )
                        ],
                    )?;
                }
                (spec.stock, ColumnStatus::InService)
            }
        };
        let (status_s, reason_s) = status_text(status);
        exec(
            tx,
            "INSERT INTO inventory (column_no, product, stock, status, reason, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(column_no) DO UPDATE SET \
             product = excluded.product, stock = excluded.stock, status = excluded.status, \
             reason = excluded.reason, updated_at = excluded.updated_at",
            params![no, spec.product, stock, status_s, reason_s, at],
        )?;
        columns.push((stock, status));
    }
    Ok(columns)
}

/// Sales and awards since `since`, and paid vends since the last surprise: what the surprise
/// engine needs to keep its caps and budgets across a restart.
fn surprise_history(tx: &Transaction<'_>, since: i64) -> Result<SurpriseHistory, JournalError> {
    let sales = time_amounts(
        tx,
        "SELECT ended_at, price FROM vends WHERE kind = 'paid' AND outcome = 'delivered' \
         AND ended_at >= ?1 ORDER BY ended_at, id",
        since,
    )?;
    let awards = time_amounts(
        tx,
        "SELECT at, cost FROM surprises WHERE at >= ?1 AND kind <> 'recovery' ORDER BY at, id",
        since,
    )?;
    let last_surprise: Option<i64> = tx.query_row(
        "SELECT max(vend_id) FROM surprises WHERE kind <> 'recovery'",
        [],
        |r| r.get(0),
    )?;
    let streak: i64 = tx.query_row(
        "SELECT count(*) FROM vends WHERE kind = 'paid' AND outcome = 'delivered' AND id > ?1",
        [last_surprise.unwrap_or(0)],
        |r| r.get(0),
    )?;
    let (recovery_offers, recovery_taken) = super::recovery::history(tx, since)?;
    // The operator's pause holds until they resume, restarts included.
    let last_switch: Option<String> = tx
        .query_row(
            "SELECT kind FROM events WHERE kind IN ('surprises_paused', 'surprises_resumed') \
             ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(SurpriseHistory {
        paused: last_switch.as_deref() == Some("surprises_paused"),
        sales,
        awards,
        streak: u32::try_from(streak).unwrap_or(u32::MAX),
        recovery_offers,
        recovery_taken,
    })
}

fn time_amounts(
    tx: &Transaction<'_>,
    sql: &str,
    since: i64,
) -> Result<Vec<(LocalTime, Cents)>, JournalError> {
    let mut stmt = tx.prepare(sql)?;
    let rows = stmt.query_map([since], |r| {
        Ok((LocalTime::from_secs(r.get(0)?), cents(r.get(1)?)))
    })?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row?);
    }
    Ok(out)
}
