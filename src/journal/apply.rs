//! Writing one step's notices into the tables.

use rusqlite::{params, Connection};

use super::{col_no, reason_text, sql_cents, status_text, JournalError};
use crate::vend::{AwardOrigin, ColumnId, ColumnStatus, Notice, Tender};

/// Rows opened by earlier notices that later ones refer to.
pub(super) struct Open {
    pub(super) vend: Option<i64>,
    /// The last paid vend to finish (delivered or refunded): a surprise or an offer to make
    /// it right refers to it.
    pub(super) last_paid: Option<i64>,
    pub(super) surprise: Option<i64>,
    pub(super) payout: Option<i64>,
    /// The cashless reader taking cards (its manufacturer and serial), for card sales' rows.
    pub(super) card_reader: Option<String>,
}

pub(super) fn journaled(n: &Notice) -> bool {
    !matches!(
        n,
        Notice::Refused { .. } | Notice::MotorRun { attempt: 1, .. } | Notice::CreditKept { .. }
    )
}

/// Runs a statement through the connection's statement cache: the same few statements run for
/// every vend, and parsing them again each time would cost more than running them.
pub(super) fn exec(
    tx: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    tx.prepare_cached(sql)?.execute(params)
}

fn event(
    tx: &Connection,
    at: i64,
    kind: &str,
    column: Option<i64>,
    detail: &str,
) -> rusqlite::Result<usize> {
    exec(
        tx,
        "INSERT INTO events (at, kind, column_no, detail) VALUES (?1, ?2, ?3, ?4)",
        params![at, kind, column, detail],
    )
}

fn close_vend(
    tx: &Connection,
    at: i64,
    open: &mut Option<i64>,
    outcome: &str,
    reason: Option<&str>,
) -> Result<i64, JournalError> {
    let id = open.take().ok_or_else(|| {
        JournalError::Inconsistent(format!("a vend outcome ({outcome}) with no vend open"))
    })?;
    let changed = exec(tx,
        "UPDATE vends SET outcome = ?1, reason = ?2, ended_at = ?3 WHERE id = ?4 AND outcome IS NULL",
        params![outcome, reason, at, id],
    )?;
    if changed != 1 {
        return Err(JournalError::Inconsistent(format!(
            "vend {id} already has an outcome"
        )));
    }
    Ok(id)
}

fn take_stock(tx: &Connection, at: i64, column: ColumnId) -> rusqlite::Result<usize> {
    exec(
        tx,
        "UPDATE inventory SET stock = max(stock - 1, 0), updated_at = ?1 WHERE column_no = ?2",
        params![at, col_no(column)],
    )
}

/// Write one notice of a step into the tables, inside the step's transaction. Each concern has
/// its own function; this match only says which.
/// `by` names who asked for an operator's change (a column restocked, reset or disabled).
pub(super) fn apply(
    tx: &Connection,
    at: i64,
    notice: &Notice,
    open: &mut Open,
    by: Option<&str>,
) -> Result<(), JournalError> {
    match notice {
        Notice::CreditIn { .. }
        | Notice::UnknownCoin { .. }
        | Notice::PayoutStarted { .. }
        | Notice::CoinPaidOut { .. }
        | Notice::PayoutFinished { .. } => money(tx, at, notice, open),
        Notice::VendStarted { .. }
        | Notice::SurpriseItemStarted { .. }
        | Notice::MotorRun { .. }
        | Notice::VendDelivered { .. }
        | Notice::VendFailed { .. }
        | Notice::SurpriseItemDelivered { .. }
        | Notice::SurpriseItemFailed { .. }
        | Notice::TestVendStarted { .. }
        | Notice::TestVendDelivered { .. }
        | Notice::TestVendFailed { .. } => vend(tx, at, notice, open),
        Notice::RecoveryOffered { .. }
        | Notice::RecoveryTaken { .. }
        | Notice::RecoveryLapsed { .. } => recovery(tx, at, notice, open),
        Notice::SurpriseAwarded { .. } | Notice::SurpriseCompleted { .. } => {
            surprise(tx, at, notice, open)
        }
        Notice::ColumnFaulted { .. }
        | Notice::ColumnReset { .. }
        | Notice::ColumnDisabled { .. }
        | Notice::Restocked { .. } => column(tx, at, notice, by),
        Notice::SensorFault { .. }
        | Notice::UnexpectedDrop { .. }
        | Notice::Door { .. }
        | Notice::Storage { .. } => machine_event(tx, at, notice),
        Notice::Refused { .. } | Notice::CreditKept { .. } => Ok(()),
    }
}

/// Coins in and change out: the credit events and the hopper's payouts.
fn money(tx: &Connection, at: i64, notice: &Notice, open: &mut Open) -> Result<(), JournalError> {
    match notice {
        Notice::CreditIn { amount, credit } => {
            exec(tx,
                "INSERT INTO credit_events (at, kind, amount, credit_after) VALUES (?1, 'coin', ?2, ?3)",
                params![at, sql_cents(*amount), sql_cents(*credit)],
            )?;
        }
        Notice::UnknownCoin { pulses } => {
            event(
                tx,
                at,
                "unknown_coin",
                None,
                &format!("{pulses} pulses: in the cash box, not credited"),
            )?;
        }
        Notice::PayoutStarted { coins, .. } => {
            exec(
                tx,
                "INSERT INTO payouts (started_at, planned) VALUES (?1, ?2)",
                params![at, coins],
            )?;
            open.payout = Some(tx.last_insert_rowid());
        }
        Notice::CoinPaidOut { amount, credit } => {
            exec(tx,
                "INSERT INTO credit_events (at, kind, amount, credit_after) VALUES (?1, 'payout', ?2, ?3)",
                params![at, sql_cents(*amount), sql_cents(*credit)],
            )?;
            if let Some(p) = open.payout {
                exec(tx, "UPDATE payouts SET paid = paid + 1 WHERE id = ?1", [p])?;
            }
        }
        Notice::PayoutFinished { .. } => {
            if let Some(p) = open.payout.take() {
                exec(tx, "UPDATE payouts SET finished = 1 WHERE id = ?1", [p])?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A vend's row: its intent before the motor, its attempts, its one outcome, the stock it took.
fn vend(tx: &Connection, at: i64, notice: &Notice, open: &mut Open) -> Result<(), JournalError> {
    match notice {
        Notice::VendStarted {
            column,
            product,
            price,
            tender,
        } => {
            start_vend(
                tx,
                open,
                "vend",
                "INSERT INTO vends (kind, column_no, product, price, started_at) \
                 VALUES ('paid', ?1, ?2, ?3, ?4)",
                params![col_no(*column), product, sql_cents(*price), at],
            )?;
            if *tender == Tender::Card {
                exec(
                    tx,
                    "INSERT INTO card_vends (vend_id, reader) VALUES (?1, ?2)",
                    params![open.vend, open.card_reader],
                )?;
            }
        }
        Notice::SurpriseItemStarted { column, product } => {
            let surprise = open.surprise;
            start_vend(
                tx,
                open,
                "surprise item",
                "INSERT INTO vends (kind, column_no, product, price, started_at, surprise_id) \
                 VALUES ('surprise', ?1, ?2, 0, ?3, ?4)",
                params![col_no(*column), product, at, surprise],
            )?;
        }
        // A test vend's price is what the item is worth (the audit's test-vend value): nothing
        // was paid, and every sum of money reads only paid vends.
        Notice::TestVendStarted {
            column,
            product,
            value,
        } => start_vend(
            tx,
            open,
            "test vend",
            "INSERT INTO vends (kind, column_no, product, price, started_at) \
             VALUES ('test', ?1, ?2, ?3, ?4)",
            params![col_no(*column), product, sql_cents(*value), at],
        )?,
        Notice::MotorRun { attempt, .. } => {
            if let Some(id) = open.vend {
                exec(
                    tx,
                    "UPDATE vends SET attempts = ?1 WHERE id = ?2",
                    params![attempt, id],
                )?;
            }
        }
        Notice::VendDelivered { column, .. } => {
            let id = close_vend(tx, at, &mut open.vend, "delivered", None)?;
            open.last_paid = Some(id);
            take_stock(tx, at, *column)?;
        }
        Notice::VendFailed { reason, .. } => {
            open.last_paid = Some(close_vend(
                tx,
                at,
                &mut open.vend,
                "refunded",
                Some(reason_text(*reason)),
            )?);
        }
        Notice::SurpriseItemDelivered { column, .. } => {
            close_vend(tx, at, &mut open.vend, "delivered", None)?;
            take_stock(tx, at, *column)?;
            if let Some(s) = open.surprise {
                exec(
                    tx,
                    "UPDATE surprises SET delivered = delivered + 1 WHERE id = ?1",
                    [s],
                )?;
            }
        }
        Notice::TestVendDelivered { column, .. } => {
            close_vend(tx, at, &mut open.vend, "delivered", None)?;
            take_stock(tx, at, *column)?;
        }
        Notice::TestVendFailed { reason, .. } => {
            close_vend(tx, at, &mut open.vend, "failed", Some(reason_text(*reason)))?;
        }
        Notice::SurpriseItemFailed { reason, .. } => {
            close_vend(tx, at, &mut open.vend, "failed", Some(reason_text(*reason)))?;
        }
        _ => {}
    }
    Ok(())
}

/// A vend's intent: its row with no outcome yet. At most one vend is ever open.
fn start_vend(
    tx: &Connection,
    open: &mut Open,
    what: &str,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<(), JournalError> {
    if let Some(id) = open.vend {
        return Err(JournalError::Inconsistent(format!(
            "{what} started while vend {id} is still open"
        )));
    }
    exec(tx, sql, params)?;
    open.vend = Some(tx.last_insert_rowid());
    Ok(())
}

/// A surprise's row: awarded after a paid delivery, completed (or partial) after its items.
fn surprise(
    tx: &Connection,
    at: i64,
    notice: &Notice,
    open: &mut Open,
) -> Result<(), JournalError> {
    match notice {
        Notice::SurpriseAwarded {
            name,
            kind,
            cost,
            items,
            message,
            origin,
            ..
        } => {
            let planned: u32 = items.iter().map(|(_, n)| n).sum();
            // A secret comes with no purchase; a gift is an operator's, and booked as such.
            let vend = (*origin != AwardOrigin::Secret)
                .then_some(open.last_paid)
                .flatten();
            let kind = serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            exec(
                tx,
                "INSERT INTO surprises (at, vend_id, name, kind, cost, planned, status, message) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open', ?7)",
                params![at, vend, name, kind, sql_cents(*cost), planned, message],
            )?;
            open.surprise = Some(tx.last_insert_rowid());
            if *origin != AwardOrigin::Chance {
                let detail = serde_json::json!({ "surprise": name, "vend_id": vend });
                let kind = if *origin == AwardOrigin::Gift {
                    "gift_given"
                } else {
                    "secret_found"
                };
                event(tx, at, kind, None, &detail.to_string())?;
            }
        }
        Notice::SurpriseCompleted { partial, .. } => {
            if let Some(s) = open.surprise.take() {
                exec(
                    tx,
                    "UPDATE surprises SET status = ?1 WHERE id = ?2",
                    params![if *partial { "partial" } else { "complete" }, s],
                )?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Making a failure right: the offer and its end are events (with the vend they are about); a
/// free item taken is a row in `surprises` of kind `recovery` (worth its price), and its vend
/// refers to it like a surprise item's, so that the books tell it apart from surprises.
fn recovery(
    tx: &Connection,
    at: i64,
    notice: &Notice,
    open: &mut Open,
) -> Result<(), JournalError> {
    match notice {
        Notice::RecoveryOffered {
            column,
            trigger,
            offer,
            columns,
            allowance,
            expires_s,
        } => {
            let detail = serde_json::json!({
                "vend_id": open.last_paid,
                "trigger": trigger,
                "offer": offer,
                "columns": columns,
                "allowance": allowance,
                "expires_s": expires_s,
            });
            event(
                tx,
                at,
                "recovery_offered",
                Some(col_no(*column)),
                &detail.to_string(),
            )?;
        }
        Notice::RecoveryTaken {
            column,
            product,
            value,
        } => {
            exec(
                tx,
                "INSERT INTO surprises (at, vend_id, name, kind, cost, planned, status, message) \
                 VALUES (?1, ?2, ?3, 'recovery', ?4, 1, 'open', ?5)",
                params![
                    at,
                    open.last_paid,
                    crate::vend::RECOVERY_NAME,
                    sql_cents(*value),
                    format!("a free {product} from column {column}")
                ],
            )?;
            open.surprise = Some(tx.last_insert_rowid());
        }
        Notice::RecoveryLapsed { why } => {
            let detail = serde_json::json!({ "vend_id": open.last_paid, "why": why });
            event(tx, at, "recovery_lapsed", None, &detail.to_string())?;
        }
        _ => {}
    }
    Ok(())
}

/// Column states and stock set by faults and the operator (`by`: who asked).
fn column(tx: &Connection, at: i64, notice: &Notice, by: Option<&str>) -> Result<(), JournalError> {
    let said = |what: String| match by {
        Some(who) if what.is_empty() => format!("by {who}"),
        Some(who) => format!("{what} by {who}"),
        None => what,
    };
    match notice {
        Notice::ColumnFaulted { column, reason } => {
            let why = reason_text(*reason);
            set_status(
                tx,
                at,
                *column,
                ColumnStatus::Faulted(*reason),
                "column_fault",
                why,
            )?;
        }
        Notice::ColumnReset { column } => {
            let detail = said(String::new());
            set_status(
                tx,
                at,
                *column,
                ColumnStatus::InService,
                "column_reset",
                &detail,
            )?;
        }
        Notice::ColumnDisabled { column } => {
            set_status(
                tx,
                at,
                *column,
                ColumnStatus::Disabled,
                "column_disabled",
                &said(String::new()),
            )?;
        }
        Notice::Restocked { column, stock } => {
            exec(
                tx,
                "UPDATE inventory SET stock = ?1, updated_at = ?2 WHERE column_no = ?3",
                params![stock, at, col_no(*column)],
            )?;
            event(
                tx,
                at,
                "restock",
                Some(col_no(*column)),
                &said(format!("stock {stock}")),
            )?;
        }
        _ => {}
    }
    Ok(())
}

/// A column's service state in the inventory, and the event that says why.
fn set_status(
    tx: &Connection,
    at: i64,
    column: ColumnId,
    status: ColumnStatus,
    kind: &str,
    detail: &str,
) -> rusqlite::Result<usize> {
    let (status, reason) = status_text(status);
    exec(
        tx,
        "UPDATE inventory SET status = ?1, reason = ?2, updated_at = ?3 WHERE column_no = ?4",
        params![status, reason, at, col_no(column)],
    )?;
    event(tx, at, kind, Some(col_no(column)), detail)
}

/// What happened to the machine itself: sensors, the door, the disk.
fn machine_event(tx: &Connection, at: i64, notice: &Notice) -> Result<(), JournalError> {
    match notice {
        Notice::SensorFault { sensor, stuck } => {
            event(
                tx,
                at,
                if *stuck {
                    "sensor_stuck"
                } else {
                    "sensor_clear"
                },
                None,
                &format!("drop sensor {}", usize::from(*sensor) + 1),
            )?;
        }
        Notice::UnexpectedDrop { sensor } => {
            event(
                tx,
                at,
                "unexpected_drop",
                None,
                &format!("drop sensor {}", usize::from(*sensor) + 1),
            )?;
        }
        Notice::Door { open: is_open } => {
            event(
                tx,
                at,
                if *is_open { "door_open" } else { "door_closed" },
                None,
                "",
            )?;
        }
        Notice::Storage { full } => {
            event(
                tx,
                at,
                if *full { "storage_full" } else { "storage_ok" },
                None,
                if *full {
                    "the disk is full: no money taken, no vend started"
                } else {
                    "the disk has room again: selling"
                },
            )?;
        }
        _ => {}
    }
    Ok(())
}
