//! The journal: the machine's books in SQLite, kept so that a power cut at the worst moment never
//! costs a customer money and never gives one payment two items.
//!
//! One writer connection, WAL mode, `synchronous = FULL` (a commit is on disk when it returns),
//! `PRAGMA integrity_check` at every start, versioned schema migrations. The controller hands over
//! the notices of each step of the vend core in one transaction *before* it touches the hardware
//! for that step, so a vend's intent is on disk before its motor starts, and its outcome
//! (delivered, refunded, or, after a crash, interrupted) is written exactly once.
//!
//! Recovery at start marks a vend with an intent but no outcome as interrupted: its price stays
//! the customer's credit and its motor is never run again. Credit, money totals, stock and column
//! states are rebuilt from the books. This module owns the database and nothing else: it never
//! touches hardware and never decides anything a customer sees.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};
use serde::Serialize;

use crate::localtime::LocalTime;
use crate::money::Cents;
use crate::vend::{ColumnId, ColumnStatus, FailReason, Notice, Restored};

mod apply;
mod audit;
mod check;
mod commands;
mod configs;
mod disk;
mod error;
mod export;
mod key;
mod mark;
mod memory;
mod open;
mod outbox;
mod period;
mod recover;
mod recovery;
mod report;
mod schema;
mod seal;
mod setup;

use apply::{apply, exec, journaled, Open};
pub use audit::{AuditRequest, MAX_EVENT_LINES};
pub use check::{check_books_in, BooksCheck};
pub use commands::{CommandSeen, COMMAND_MEMORY_SECS};
pub use configs::ConfigVersion;
use disk::Disk;
pub use disk::{DiskFault, StorageLimits, StorageStatus, RESERVE_FILE};
pub use error::JournalError;
pub use export::{sales_csv, SaleLine};
pub use key::{SealKey, KEY_FILE};
pub use mark::MARK_FILE;
pub use memory::{edit_memory_books_without_key, MemoryCopy};
pub use open::{book_files, OpenOptions, LOCK_FILE};
pub use outbox::{OutboxBacklog, OutboxEntry};
pub use period::{
    Bucket, BucketRow, BudgetRule, ColumnTally, FeedbackTally, KindTally, Period, PeriodBooks,
    PeriodQuery, PromiseKept, Tally, MAX_PERIOD_DAYS,
};
pub use recovery::RecoveryTally;
use report::books_report;
pub use report::{
    BooksReport, FaultCount, InventoryLine, MoneyBalance, ProductSales, SurpriseTotals,
};
use schema::{Step, MIGRATIONS};
pub use seal::{SealProblem, SealReport};
pub use setup::MemoryKeeper;

/// File name of the journal inside the data directory.
pub const JOURNAL_FILE: &str = "journal.db";

/// Counters for the journal's cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct JournalStats {
    /// Transactions committed (each is one WAL fsync with `synchronous = FULL`).
    pub commits: u64,
}

/// What recovery found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Recovery {
    /// State for the vend core.
    #[serde(skip)]
    pub restored: Restored,
    /// Vends a power cut interrupted, now closed; paid ones went back to credit.
    pub interrupted: Vec<InterruptedVend>,
    /// Credit returned because of them.
    pub refunded: Cents,
    /// What the surprise engine needs to keep its caps across the restart.
    #[serde(skip)]
    pub surprise_history: SurpriseHistory,
}

/// Recent sales and surprises, for the surprise engine's caps and budgets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SurpriseHistory {
    /// (time, price) of paid items delivered, oldest first.
    pub sales: Vec<(LocalTime, Cents)>,
    /// (time, cost) of surprises awarded, oldest first.
    pub awards: Vec<(LocalTime, Cents)>,
    /// Paid vends since the last surprise.
    pub streak: u32,
    /// Times of offers to make a failure right, oldest first.
    pub recovery_offers: Vec<LocalTime>,
    /// (time, value) of free items given to make failures right, oldest first.
    pub recovery_taken: Vec<(LocalTime, Cents)>,
    /// The operator paused every surprise and has not resumed them.
    pub paused: bool,
}

/// A vend found open at start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterruptedVend {
    /// Journal id.
    pub id: i64,
    /// Paid for, or part of a surprise.
    pub kind: RecordedVend,
    /// Column number.
    pub column: i64,
    /// Product.
    pub product: String,
    /// Price (back to credit for a paid vend paid in cash).
    pub price: Cents,
    /// Paid by card: nothing goes back to credit (the reader never heard VEND SUCCESS, so the
    /// card is not charged).
    pub card: bool,
}

/// What a recorded vend was: the `kind` column of `vends`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordedVend {
    /// Paid for: its price goes back to credit if it never finished.
    Paid,
    /// An item of a surprise: nothing was paid for it.
    Surprise,
    /// An operator's service test: nothing was paid for it.
    Test,
}

impl RecordedVend {
    /// As written in the books.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordedVend::Paid => "paid",
            RecordedVend::Surprise => "surprise",
            RecordedVend::Test => "test",
        }
    }
}

impl rusqlite::types::FromSql for RecordedVend {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        match value.as_str()? {
            "paid" => Ok(RecordedVend::Paid),
            "surprise" => Ok(RecordedVend::Surprise),
            "test" => Ok(RecordedVend::Test),
            other => Err(rusqlite::types::FromSqlError::Other(
                format!("`{other}` is not a kind of vend").into(),
            )),
        }
    }
}

/// The books.
pub struct Journal {
    conn: Connection,
    path: PathBuf,
    open_vend: Option<i64>,
    last_paid_vend: Option<i64>,
    open_surprise: Option<i64>,
    open_payout: Option<i64>,
    /// The cashless reader taking cards now, named in each card sale's row.
    card_reader: Option<String>,
    /// The credit last committed to `meta`, so a step that leaves it alone does not rewrite it.
    credit_written: Option<Cents>,
    stats: JournalStats,
    disk: Disk,
    limits: StorageLimits,
    /// The data directory's lock, for journals on disk.
    lock: Option<open::DirLock>,
    /// Records are copied into the outbox for the fleet link.
    outbox: bool,
    /// Who asked for the operator's changes recorded now (the controller sets it around one).
    acting: Option<String>,
    /// The commit mark beside books on disk.
    mark: Option<mark::Mark>,
    /// The machine's seal key, when the books were opened with one.
    key: Option<SealKey>,
}

fn status_text(status: ColumnStatus) -> (&'static str, Option<&'static str>) {
    match status {
        ColumnStatus::InService => ("in_service", None),
        ColumnStatus::Faulted(r) => ("faulted", Some(reason_text(r))),
        ColumnStatus::Disabled => ("disabled", None),
    }
}

fn reason_text(r: FailReason) -> &'static str {
    match r {
        FailReason::NoDrop => "no_drop",
        FailReason::Jammed => "jammed",
        FailReason::SensorStuck => "sensor_stuck",
        FailReason::DoorOpened => "door_opened",
    }
}

fn reason_from(text: Option<&str>) -> FailReason {
    match text {
        Some("jammed") => FailReason::Jammed,
        Some("sensor_stuck") => FailReason::SensorStuck,
        Some("door_opened") => FailReason::DoorOpened,
        _ => FailReason::NoDrop,
    }
}

fn cents(v: i64) -> Cents {
    Cents::new(u64::try_from(v).unwrap_or(0))
}

fn sql_cents(c: Cents) -> i64 {
    i64::try_from(c.get()).unwrap_or(i64::MAX)
}

fn col_no(c: ColumnId) -> i64 {
    i64::try_from(c.number()).unwrap_or(i64::MAX)
}

impl Journal {
    /// Where the journal lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The seal key the books were opened with, for checks on a connection of their own.
    pub fn seal_key(&self) -> Option<SealKey> {
        self.key.clone()
    }

    /// Commit counters.
    pub fn stats(&self) -> JournalStats {
        self.stats
    }

    /// Count a commit that has returned, and raise the commit mark to the books' count of record
    /// writes. A mark that cannot be written is logged, not an error: the commit is done, and a
    /// lagging mark only misses a loss, it never raises a false one.
    fn committed(&mut self) {
        self.stats.commits += 1;
        self.advance_mark();
    }

    fn advance_mark(&mut self) {
        let Some(mark) = self.mark.as_mut() else {
            return;
        };
        let written = mark::books_count(&self.conn)
            .map_err(|e| e.to_string())
            .and_then(|count| match count {
                Some(n) => mark.advance(n).map_err(|e| e.to_string()),
                None => Ok(()),
            });
        if let Err(e) = written {
            tracing::warn!(journal = %self.path.display(), error = %e, "the commit mark was not written");
        }
    }

    /// The schema version this program writes.
    pub fn schema_version() -> i64 {
        i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
    }

    /// Record a customer's answer to "how was it?".
    pub fn record_feedback(&mut self, now: LocalTime, happy: bool) -> Result<(), JournalError> {
        self.gate()?;
        self.conn.execute(
            "INSERT INTO feedback (at, happy) VALUES (?1, ?2)",
            params![now.secs(), happy],
        )?;
        self.committed();
        Ok(())
    }

    /// Record an operator action or other event that is not a notice of the vend core.
    pub fn record_event(
        &mut self,
        now: LocalTime,
        kind: &str,
        detail: &str,
    ) -> Result<(), JournalError> {
        self.gate()?;
        self.conn.execute(
            "INSERT INTO events (at, kind, detail) VALUES (?1, ?2, ?3)",
            params![now.secs(), kind, detail],
        )?;
        self.committed();
        Ok(())
    }

    /// Record an operator's live change to a column (`detail` says what and who): the product in
    /// the inventory, and the change among the events, in one transaction.
    pub fn record_column_edit(
        &mut self,
        now: LocalTime,
        column: ColumnId,
        product: &str,
        detail: &str,
    ) -> Result<(), JournalError> {
        self.gate()?;
        let no = i64::try_from(column.number()).unwrap_or(i64::MAX);
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE inventory SET product = ?1, updated_at = ?2 WHERE column_no = ?3 AND product <> ?1",
            params![product, now.secs(), no],
        )?;
        tx.execute(
            "INSERT INTO events (at, kind, column_no, detail) VALUES (?1, 'column_changed', ?2, ?3)",
            params![now.secs(), no, detail],
        )?;
        tx.commit()?;
        self.committed();
        Ok(())
    }

    /// Name the cashless reader taking cards (its manufacturer code and serial number), for the
    /// card sales recorded from now on.
    pub fn set_card_reader(&mut self, reader: Option<String>) {
        self.card_reader = reader;
    }

    /// Name who asks for the operator's changes recorded from now on, until set back to `None`.
    pub fn set_acting(&mut self, by: Option<String>) {
        self.acting = by;
    }

    /// Record the notices of one step of the vend core, and the credit after it, in one
    /// transaction. Nothing is written if no notice concerns the books.
    pub fn record(
        &mut self,
        now: LocalTime,
        notices: &[&Notice],
        credit: Cents,
    ) -> Result<(), JournalError> {
        if !notices.iter().any(|n| journaled(n)) {
            return Ok(());
        }
        let at = now.secs();
        let mut state = Open {
            vend: self.open_vend,
            last_paid: self.last_paid_vend,
            surprise: self.open_surprise,
            payout: self.open_payout,
            card_reader: self.card_reader.clone(),
        };
        // BEGIN and COMMIT through the statement cache: this runs for every step of every vend,
        // and parsing them anew each time costs more than the work inside.
        let refuse = self.disk.refuses_commit(self.stats.commits);
        let conn = &self.conn;
        conn.prepare_cached("BEGIN")?.execute([])?;
        let body = (|| -> Result<(), JournalError> {
            // A vend row starts with one attempt, and refusals are not books: writing only
            // what matters keeps the step between a press and its motor short.
            for notice in notices.iter().filter(|n| journaled(n)) {
                apply(conn, at, notice, &mut state, self.acting.as_deref())?;
            }
            // Most steps leave the credit alone (a motor run, a delivery in free vend): the
            // fewer statements stand between a press and its motor, the sooner it turns.
            if self.credit_written != Some(credit) {
                exec(
                    conn,
                    "INSERT INTO meta (key, value) VALUES ('credit', ?1) \
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [sql_cents(credit).to_string()],
                )?;
            }
            if refuse {
                return Err(disk_full().into());
            }
            conn.prepare_cached("COMMIT")?.execute([])?;
            Ok(())
        })();
        if let Err(e) = body {
            // Nothing of a failed step may stay behind.
            if !conn.is_autocommit() {
                let _ = conn
                    .prepare_cached("ROLLBACK")
                    .and_then(|mut stmt| stmt.execute([]));
            }
            return Err(e);
        }
        self.committed();
        self.credit_written = Some(credit);
        self.open_vend = state.vend;
        self.last_paid_vend = state.last_paid;
        self.open_surprise = state.surprise;
        self.open_payout = state.payout;
        Ok(())
    }

    /// Fail the way a full disk does, when a disk fault says this commit has no room.
    fn gate(&self) -> Result<(), JournalError> {
        if self.disk.refuses_commit(self.stats.commits) {
            return Err(disk_full().into());
        }
        Ok(())
    }

    /// The disk's free space and reserve, and whether the floor is reached. Cheap (a `statvfs`
    /// and a `stat` on disk): the controller asks after every commit and before every vend.
    pub fn storage(&mut self) -> StorageStatus {
        self.disk.status(self.stats.commits, self.limits)
    }

    /// Give the reserve's room to the books, after a commit failed for lack of space, so that it
    /// can be retried. Returns whether there was a reserve to release.
    pub fn release_reserve(&mut self) -> bool {
        let released = self.disk.release_reserve();
        if released {
            tracing::error!(
                journal = %self.path.display(),
                "the disk is full: the space reserve was released to finish what is under way"
            );
        }
        released
    }

    /// Put the reserve back once there is room above the floor again. Returns whether it is in
    /// place.
    pub fn restore_reserve(&mut self) -> bool {
        self.disk.restore_reserve(self.stats.commits, self.limits)
    }

    /// The free-space rules in force.
    pub fn limits(&self) -> StorageLimits {
        self.limits
    }

    /// Make a journal in memory run out of space from a given commit on, or (`None`) have room
    /// again: the failing-write hook of tests and the fault campaign. A journal on disk ignores
    /// it (a real disk fills up by itself).
    pub fn set_disk_fault(&mut self, fault: Option<DiskFault>) {
        self.disk.set_fault(fault);
    }

    /// The report behind `happiness report`.
    pub fn report(&self) -> Result<BooksReport, JournalError> {
        books_report(&self.conn, &self.path, self.key.as_ref())
    }

    /// The books over a period as they stand at `now`, surprise spend measured against `rule`
    /// (no seal check: cheap enough to read after every sale).
    pub fn period_books(
        &self,
        period: &Period,
        rule: BudgetRule,
        now: LocalTime,
    ) -> Result<PeriodBooks, JournalError> {
        period::period_books(&self.conn, period, rule, now)
    }

    /// Every paid vend in a period, oldest first, for the sales export.
    pub fn sales_lines(&self, period: &Period) -> Result<Vec<SaleLine>, JournalError> {
        export::sales_lines(&self.conn, period)
    }

    /// Stock per column (1-based column numbers) as the books have it.
    pub fn inventory(&self) -> Result<Vec<(i64, i64)>, JournalError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT column_no, stock FROM inventory ORDER BY column_no")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row?);
        }
        Ok(out)
    }

    /// When the last paid item was delivered, if ever.
    pub fn last_sale(&self) -> Result<Option<LocalTime>, JournalError> {
        let at: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT max(ended_at) FROM vends WHERE kind = 'paid' AND outcome = 'delivered'",
            )?
            .query_row([], |r| r.get(0))?;
        Ok(at.map(LocalTime::from_secs))
    }

    /// Vends with an intent and no outcome.
    pub fn open_vends(&self) -> Result<u64, JournalError> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM vends WHERE outcome IS NULL")?
            .query_row([], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// The error SQLite gives when the disk is full, for commits a disk fault refuses.
fn disk_full() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
        Some("database or disk is full".into()),
    )
}

#[cfg(test)]
mod tests;
