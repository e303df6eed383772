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

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::Serialize;

use crate::localtime::LocalTime;
use crate::money::Cents;
use crate::vend::{ColumnId, ColumnStatus, FailReason, Notice, Restored};

mod apply;
mod disk;
mod open;
mod recover;
mod report;
mod schema;
mod seal;

use apply::{apply, exec, journaled, Open};
use disk::Disk;
pub use disk::{DiskFault, StorageLimits, StorageStatus, RESERVE_FILE};
pub use open::{OpenOptions, LOCK_FILE};
use report::books_report;
pub use report::{
    BooksReport, FaultCount, InventoryLine, MoneyBalance, ProductSales, SurpriseTotals,
};
use schema::{Step, MIGRATIONS};
pub use seal::{SealProblem, SealReport};

/// File name of the journal inside the data directory.
pub const JOURNAL_FILE: &str = "journal.db";

/// A journal problem.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The data directory could not be created.
    #[error("cannot create the data directory {}: {source}", path.display())]
    Dir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database could not be opened.
    #[error("cannot open the journal {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
    /// `integrity_check` failed: the books cannot be trusted.
    #[error(
        "the journal {} is damaged ({detail}); the machine will not vend on bad books: restore it \
         from a backup, or move it aside and start new books with --new-books",
        path.display()
    )]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What SQLite reported.
        detail: String,
    },
    /// Written by a newer version of this program.
    #[error(
        "the journal {} has schema version {found}, newer than this program's {known}: upgrade the program",
        path.display()
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// Ours.
        known: i64,
    },
    /// There is no journal where one was expected.
    #[error("there is no journal in {} (the kiosk creates it on first start)", path.display())]
    Missing {
        /// The directory.
        path: PathBuf,
    },
    /// Another process holds the data directory's lock.
    #[error(
        "the journal in {} is in use by another happiness process ({}): one kiosk per set of books",
        dir.display(),
        pid.map_or_else(|| "pid unknown".to_string(), |p| format!("pid {p}"))
    )]
    InUse {
        /// The data directory.
        dir: PathBuf,
        /// The other process, when it could be read.
        pid: Option<u32>,
    },
    /// The data directory cannot be written.
    #[error(
        "the data directory {} cannot be written ({cause}): the kiosk must write its books there. \
         The books themselves are not damaged: `happiness report --data {}` reads them",
        dir.display(),
        dir.display()
    )]
    ReadOnly {
        /// The data directory.
        dir: PathBuf,
        /// What the system said.
        cause: String,
    },
    /// The disk holding the data directory is full.
    #[error(
        "the disk holding {} is full ({} free): the kiosk cannot write its books. The books are \
         not damaged: free some space and start the kiosk again",
        dir.display(),
        free.map_or_else(|| "no space".to_string(), |f| format!("{} KiB", f / 1024))
    )]
    StorageFull {
        /// The data directory.
        dir: PathBuf,
        /// Free bytes, when known.
        free: Option<u64>,
    },
    /// The directory holds files but no journal: the books were moved or deleted.
    #[error(
        "there is no journal in {}, but the directory is not empty (it holds {}): the books may \
         have been moved or deleted. Put journal.db back (from a backup), or start new books with \
         --new-books",
        dir.display(),
        found.join(", ")
    )]
    NoBooks {
        /// The data directory.
        dir: PathBuf,
        /// What it holds.
        found: Vec<String>,
    },
    /// The journal file is empty or holds no books.
    #[error(
        "the journal {} is empty (it holds no books): they were truncated or replaced, which no \
         restart repairs. Restore it from a backup, or start new books with --new-books (the \
         empty file is kept aside)",
        path.display()
    )]
    EmptyJournal {
        /// The file.
        path: PathBuf,
    },
    /// A write or read failed.
    #[error("journal: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The books contradict themselves (a bug, or a journal edited by hand).
    #[error("journal inconsistency: {0}")]
    Inconsistent(String),
    /// Records do not match their seals: the books were changed outside the journal.
    #[error(
        "the books in {} were altered: {first} ({count} problem(s) in all); the machine will not \
         sell on altered books: see `happiness report`, and restore the journal from a backup",
        path.display()
    )]
    Altered {
        /// The file.
        path: PathBuf,
        /// The first problem found.
        first: String,
        /// How many were found.
        count: usize,
    },
}

impl JournalError {
    /// Whether only an operator can set this right (the books are damaged, altered, emptied,
    /// missing, or newer than this program): starting again would fail the same way.
    pub fn needs_operator(&self) -> bool {
        matches!(
            self,
            JournalError::Damaged { .. }
                | JournalError::Altered { .. }
                | JournalError::EmptyJournal { .. }
                | JournalError::NoBooks { .. }
                | JournalError::TooNew { .. }
        )
    }

    /// Whether this is the disk running out of room (the error a reserve can fix).
    pub fn is_storage_full(&self) -> bool {
        match self {
            JournalError::StorageFull { .. } => true,
            JournalError::Sql(e) => e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull),
            _ => false,
        }
    }
}

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
}

/// A vend found open at start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterruptedVend {
    /// Journal id.
    pub id: i64,
    /// "paid" or "surprise".
    pub kind: String,
    /// Column number.
    pub column: i64,
    /// Product.
    pub product: String,
    /// Price (back to credit for a paid vend).
    pub price: Cents,
}

/// The books.
pub struct Journal {
    conn: Connection,
    path: PathBuf,
    open_vend: Option<i64>,
    last_paid_vend: Option<i64>,
    open_surprise: Option<i64>,
    open_payout: Option<i64>,
    /// The credit last committed to `meta`, so a step that leaves it alone does not rewrite it.
    credit_written: Option<Cents>,
    stats: JournalStats,
    disk: Disk,
    limits: StorageLimits,
    /// The data directory's lock, for journals on disk.
    lock: Option<open::DirLock>,
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
    /// A journal in memory, with exactly the same code path (for the simulator and tests).
    pub fn open_in_memory() -> Result<Journal, JournalError> {
        let conn = Connection::open_in_memory()?;
        Journal::setup(
            conn,
            PathBuf::from(":memory:"),
            Disk::memory(),
            StorageLimits::default(),
        )
    }

    /// A named in-memory journal that outlives this connection for as long as a
    /// [`MemoryKeeper`] for the same name is alive: a simulated power cut drops the controller's
    /// connection, and the restart opens the same books again.
    pub fn open_shared_memory(name: &str) -> Result<Journal, JournalError> {
        let conn = Connection::open_with_flags(
            shared_memory_uri(name),
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Journal::setup(
            conn,
            PathBuf::from(format!(":memory:{name}")),
            Disk::memory(),
            StorageLimits::default(),
        )
    }

    /// Set a connection up for writing the books: the seal functions, WAL with full syncs, a
    /// small cache, and the schema brought up to date (after an integrity check, when existing
    /// books are migrated: a migration must not seal damage in).
    fn setup(
        conn: Connection,
        path: PathBuf,
        disk: Disk,
        limits: StorageLimits,
    ) -> Result<Journal, JournalError> {
        let fail = |e: rusqlite::Error| open::classify(&path, e);
        seal::register(&conn).map_err(fail)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(fail)?;
        conn.set_prepared_statement_cache_capacity(64);
        let _mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(fail)?;
        // A small page cache: the books are read rarely, and a Pi has little memory to spare.
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -256;",
        )
        .map_err(fail)?;
        let on_disk = matches!(disk, Disk::Dir { .. });
        let mut journal = Journal::with_connection(conn, path, disk, limits);
        let found = journal.user_version()?;
        if on_disk && found == 0 {
            // New books are built whole before they get this name (see `open`): a journal file
            // without a schema was made by something else, or emptied.
            return Err(JournalError::EmptyJournal {
                path: journal.path.clone(),
            });
        }
        if found > 0 && found < Journal::schema_version() {
            let check = journal.integrity()?;
            if check != "ok" {
                return Err(JournalError::Damaged {
                    path: journal.path.clone(),
                    detail: check,
                });
            }
        }
        let path = journal.path.clone();
        journal.stats.commits += migrate(&mut journal.conn, &path)?;
        Ok(journal)
    }

    fn with_connection(
        conn: Connection,
        path: PathBuf,
        disk: Disk,
        limits: StorageLimits,
    ) -> Journal {
        Journal {
            conn,
            path,
            open_vend: None,
            last_paid_vend: None,
            credit_written: None,
            open_surprise: None,
            open_payout: None,
            stats: JournalStats::default(),
            disk,
            limits,
            lock: None,
        }
    }

    fn user_version(&self) -> Result<i64, JournalError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| open::classify(&self.path, e))
    }

    /// Where the journal lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Commit counters.
    pub fn stats(&self) -> JournalStats {
        self.stats
    }

    /// The schema version this program writes.
    pub fn schema_version() -> i64 {
        i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
    }

    /// Record a config file's text, with where it came from and a diff against the previous
    /// version, if it differs from that version. Returns the version number, and whether it is
    /// new.
    pub fn record_config(
        &mut self,
        now: LocalTime,
        file: &str,
        content: &str,
        source: &str,
    ) -> Result<(i64, bool), JournalError> {
        let last: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT id, content FROM config_versions WHERE file = ?1 ORDER BY id DESC LIMIT 1",
                [file],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((id, text)) = &last {
            if text == content {
                return Ok((*id, false));
            }
        }
        let previous = last.as_ref().map_or("", |(_, t)| t.as_str());
        self.gate()?;
        let diff = similar::TextDiff::from_lines(previous, content)
            .unified_diff()
            .header("previous", "new")
            .to_string();
        self.conn.execute(
            "INSERT INTO config_versions (at, file, source, content, diff) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![now.secs(), file, source, content, diff],
        )?;
        self.stats.commits += 1;
        Ok((self.conn.last_insert_rowid(), true))
    }

    /// The versions of a config file, newest first.
    pub fn config_versions(&self, file: &str) -> Result<Vec<ConfigVersion>, JournalError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, at, source, diff FROM config_versions WHERE file = ?1 ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([file], |r| {
            Ok(ConfigVersion {
                version: r.get(0)?,
                at: LocalTime::from_secs(r.get(1)?).to_string(),
                source: r.get(2)?,
                diff: r.get(3)?,
            })
        })?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row?);
        }
        Ok(out)
    }

    /// The text of one version of a config file.
    pub fn config_text(&self, file: &str, version: i64) -> Result<Option<String>, JournalError> {
        Ok(self
            .conn
            .query_row(
                "SELECT content FROM config_versions WHERE file = ?1 AND id = ?2",
                params![file, version],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Record a customer's answer to "how was it?".
    pub fn record_feedback(&mut self, now: LocalTime, happy: bool) -> Result<(), JournalError> {
        self.gate()?;
        self.conn.execute(
            "INSERT INTO feedback (at, happy) VALUES (?1, ?2)",
            params![now.secs(), happy],
        )?;
        self.stats.commits += 1;
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
        self.stats.commits += 1;
        Ok(())
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
                apply(conn, at, notice, &mut state)?;
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
        self.stats.commits += 1;
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

    /// Run the checks the kiosk passes before it sells: SQLite's integrity check and every seal.
    pub fn check_books(&self) -> Result<BooksCheck, JournalError> {
        check_connection(&self.conn, &self.path)
    }

    /// The report behind `happiness report`.
    pub fn report(&self) -> Result<BooksReport, JournalError> {
        books_report(&self.conn)
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

    /// Vends with an intent and no outcome.
    pub fn open_vends(&self) -> Result<u64, JournalError> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM vends WHERE outcome IS NULL")?
            .query_row([], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Run `PRAGMA integrity_check` now.
    pub fn integrity(&self) -> Result<String, JournalError> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

/// The error SQLite gives when the disk is full, for commits a disk fault refuses.
fn disk_full() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
        Some("database or disk is full".into()),
    )
}

/// What the checks before selling found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BooksCheck {
    /// `PRAGMA integrity_check`: "ok", or what is wrong with the file's structure.
    pub integrity: String,
    /// Every record against its seal.
    pub seals: SealReport,
    /// How long the checks took.
    pub millis: u64,
}

impl BooksCheck {
    /// The books can be sold on: the file is sound and nothing was altered.
    pub fn passed(&self) -> bool {
        self.integrity == "ok" && self.seals.ok()
    }

    /// The error to stop with when the checks did not pass.
    pub fn failure(&self, path: &Path) -> Option<JournalError> {
        if self.integrity != "ok" {
            return Some(JournalError::Damaged {
                path: path.to_path_buf(),
                detail: self.integrity.clone(),
            });
        }
        self.seals
            .problems
            .first()
            .map(|first| JournalError::Altered {
                path: path.to_path_buf(),
                first: first.to_string(),
                count: self.seals.problems.len(),
            })
    }
}

fn check_connection(conn: &Connection, path: &Path) -> Result<BooksCheck, JournalError> {
    let began = std::time::Instant::now();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| open::classify(path, e))?;
    // Seals over a file whose structure is broken would only add noise.
    let seals = if integrity == "ok" {
        seal::check(conn).map_err(|e| open::classify(path, e))?
    } else {
        SealReport::default()
    };
    Ok(BooksCheck {
        integrity,
        seals,
        millis: u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// Run the checks on the journal in `dir` through a connection of their own, read-only: how the
/// kiosk checks its books on another thread while its display and pages are already up.
pub fn check_books_in(dir: &Path) -> Result<BooksCheck, JournalError> {
    let journal = Journal::open_read_only(dir)?;
    journal.check_books()
}

/// Bring the schema of the books behind `conn` up to this program's version, one transaction per
/// migration. Returns the commits made.
fn migrate(conn: &mut Connection, path: &Path) -> Result<u64, JournalError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = Journal::schema_version();
    if found > known {
        return Err(JournalError::TooNew {
            path: path.to_path_buf(),
            found,
            known,
        });
    }
    let mut commits = 0;
    for (i, step) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        let tx = conn.transaction()?;
        match step {
            Step::Sql(sql) => tx.execute_batch(sql)?,
            Step::Seals => seal::install(&tx)?,
        }
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(i + 1).unwrap_or(i64::MAX),
        )?;
        tx.commit()?;
        commits += 1;
    }
    Ok(commits)
}

fn shared_memory_uri(name: &str) -> String {
    format!("file:{name}?mode=memory&cache=shared")
}

/// Keeps a named in-memory journal alive between connections.
pub struct MemoryKeeper {
    _conn: Connection,
}

impl MemoryKeeper {
    /// Keep the in-memory journal `name` alive until this is dropped.
    pub fn new(name: &str) -> Result<MemoryKeeper, JournalError> {
        let conn = Connection::open_with_flags(
            shared_memory_uri(name),
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Ok(MemoryKeeper { _conn: conn })
    }
}

/// One recorded version of a config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigVersion {
    /// Version number.
    pub version: i64,
    /// When it was recorded (local time).
    pub at: String,
    /// Where it came from: start, file, api, rollback of N.
    pub source: String,
    /// Unified diff against the previous version.
    pub diff: String,
}

#[cfg(test)]
mod tests;
