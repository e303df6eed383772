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

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};
use serde::Serialize;

use crate::config::MachineConfig;
use crate::localtime::LocalTime;
use crate::money::Cents;
use crate::vend::{ColumnId, ColumnStatus, FailReason, Ledger, Notice, Restored};

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
         from a backup, or move it aside to start new books",
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
    /// A write or read failed.
    #[error("journal: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The books contradict themselves (a bug, or a journal edited by hand).
    #[error("journal inconsistency: {0}")]
    Inconsistent(String),
}

/// The schema, one migration per version (index 0 takes an empty database to version 1).
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE credit_events (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('coin', 'payout')),
    amount       INTEGER NOT NULL CHECK (amount > 0),
    credit_after INTEGER NOT NULL CHECK (credit_after >= 0)
);
CREATE TABLE surprises (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    vend_id   INTEGER REFERENCES vends(id),
    name      TEXT NOT NULL,
    kind      TEXT NOT NULL,
    cost      INTEGER NOT NULL CHECK (cost >= 0),
    planned   INTEGER NOT NULL CHECK (planned >= 0),
    delivered INTEGER NOT NULL DEFAULT 0 CHECK (delivered >= 0),
    status    TEXT NOT NULL CHECK (status IN ('open', 'complete', 'partial')),
    message   TEXT NOT NULL
);
CREATE TABLE vends (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('paid', 'surprise')),
    column_no   INTEGER NOT NULL,
    product     TEXT NOT NULL,
    price       INTEGER NOT NULL CHECK (price >= 0),
    started_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 1,
    outcome     TEXT CHECK (outcome IN ('delivered', 'refunded', 'failed', 'interrupted')),
    reason      TEXT,
    ended_at    INTEGER,
    surprise_id INTEGER REFERENCES surprises(id)
);
-- At most one vend is ever open: the vend core runs one at a time.
CREATE UNIQUE INDEX vends_one_open ON vends ((outcome IS NULL)) WHERE outcome IS NULL;
CREATE TABLE inventory (
    column_no  INTEGER PRIMARY KEY,
    product    TEXT NOT NULL,
    stock      INTEGER NOT NULL CHECK (stock >= 0),
    status     TEXT NOT NULL,
    reason     TEXT,
    updated_at INTEGER NOT NULL
);
CREATE TABLE payouts (
    id         INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL,
    planned    INTEGER NOT NULL,
    paid       INTEGER NOT NULL DEFAULT 0,
    finished   INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    column_no INTEGER,
    detail    TEXT NOT NULL DEFAULT ''
);
CREATE TABLE config_versions (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    file    TEXT NOT NULL,
    source  TEXT NOT NULL,
    content TEXT NOT NULL
);
"#,
    r#"
ALTER TABLE config_versions ADD COLUMN diff TEXT NOT NULL DEFAULT '';
CREATE TABLE feedback (
    id    INTEGER PRIMARY KEY,
    at    INTEGER NOT NULL,
    happy INTEGER NOT NULL CHECK (happy IN (0, 1))
);
"#,
];

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
    /// Open (creating if needed) the journal in `dir`, check its integrity and bring its schema
    /// up to date.
    pub fn open_dir(dir: &Path) -> Result<Journal, JournalError> {
        std::fs::create_dir_all(dir).map_err(|source| JournalError::Dir {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(JOURNAL_FILE);
        let conn = Connection::open(&path).map_err(|source| JournalError::Open {
            path: path.clone(),
            source,
        })?;
        Journal::setup(conn, path)
    }

    /// A journal in memory, with exactly the same code path (for the simulator and tests).
    pub fn open_in_memory() -> Result<Journal, JournalError> {
        let conn = Connection::open_in_memory()?;
        Journal::setup(conn, PathBuf::from(":memory:"))
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
        Journal::setup(conn, PathBuf::from(format!(":memory:{name}")))
    }

    fn setup(conn: Connection, path: PathBuf) -> Result<Journal, JournalError> {
        let open_err = |source| JournalError::Open {
            path: path.clone(),
            source,
        };
        // A damaged file can fail as early as the first pragma: report it as damage.
        let damaged = |e: rusqlite::Error| JournalError::Damaged {
            path: path.clone(),
            detail: e.to_string(),
        };
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        conn.set_prepared_statement_cache_capacity(64);
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(damaged)?;
        if check != "ok" {
            return Err(JournalError::Damaged {
                path,
                detail: check,
            });
        }
        let _mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(damaged)?;
        // A small page cache: the books are read rarely, and a Pi has little memory to spare.
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -256;",
        )
        .map_err(damaged)?;
        let mut journal = Journal {
            conn,
            path,
            open_vend: None,
            last_paid_vend: None,
            credit_written: None,
            open_surprise: None,
            open_payout: None,
            stats: JournalStats::default(),
        };
        journal.migrate()?;
        Ok(journal)
    }

    /// Open an existing journal read-only (for reports while the kiosk runs).
    pub fn open_read_only(dir: &Path) -> Result<Journal, JournalError> {
        let path = dir.join(JOURNAL_FILE);
        if !path.exists() {
            return Err(JournalError::Missing {
                path: dir.to_path_buf(),
            });
        }
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| JournalError::Open {
            path: path.clone(),
            source,
        })?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| JournalError::Damaged {
                path: path.clone(),
                detail: e.to_string(),
            })?;
        if check != "ok" {
            return Err(JournalError::Damaged {
                path,
                detail: check,
            });
        }
        Ok(Journal {
            conn,
            path,
            open_vend: None,
            last_paid_vend: None,
            credit_written: None,
            open_surprise: None,
            open_payout: None,
            stats: JournalStats::default(),
        })
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

    fn migrate(&mut self) -> Result<(), JournalError> {
        let found: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let known = Journal::schema_version();
        if found > known {
            return Err(JournalError::TooNew {
                path: self.path.clone(),
                found,
                known,
            });
        }
        for (i, sql) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(found).unwrap_or(0))
        {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(
                None,
                "user_version",
                i64::try_from(i + 1).unwrap_or(i64::MAX),
            )?;
            tx.commit()?;
            self.stats.commits += 1;
        }
        Ok(())
    }

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
        let mut interrupted = Vec::new();
        {
            let mut stmt = tx.prepare(
                "SELECT id, kind, column_no, product, price FROM vends WHERE outcome IS NULL",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(InterruptedVend {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    column: r.get(2)?,
                    product: r.get(3)?,
                    price: cents(r.get(4)?),
                })
            })?;
            for row in rows {
                interrupted.push(row?);
            }
        }
        let mut refunded = Cents::ZERO;
        for v in &interrupted {
            exec(
                &tx,
                "UPDATE vends SET outcome = 'interrupted', ended_at = ?1, reason = 'power' \
                 WHERE id = ?2 AND outcome IS NULL",
                params![at, v.id],
            )?;
            if v.kind == "paid" {
                refunded = refunded.saturating_add(v.price);
            }
            exec(&tx,
                "INSERT INTO events (at, kind, column_no, detail) VALUES (?1, 'interrupted', ?2, ?3)",
                params![
                    at,
                    v.column,
                    format!(
                        "{} vend {} of {} was interrupted; {} returned to credit; motor not re-run",
                        v.kind,
                        v.id,
                        v.product,
                        if v.kind == "paid" { v.price } else { Cents::ZERO }
                    )
                ],
            )?;
        }
        exec(
            &tx,
            "UPDATE surprises SET status = CASE WHEN delivered >= planned THEN 'complete' \
             ELSE 'partial' END WHERE status = 'open'",
            [],
        )?;
        exec(
            &tx,
            "UPDATE payouts SET finished = 1 WHERE finished = 0",
            [],
        )?;

        // Inventory: the journal's count wins, unless the column now holds another product.
        let mut columns = Vec::with_capacity(machine.columns.len());
        for (i, spec) in machine.columns.iter().enumerate() {
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
                        exec(&tx,
                            "INSERT INTO events (at, kind, column_no, detail) VALUES (?1, 'product_changed', ?2, ?3)",
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
                &tx,
                "INSERT INTO inventory (column_no, product, stock, status, reason, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(column_no) DO UPDATE SET \
                 product = excluded.product, stock = excluded.stock, status = excluded.status, \
                 reason = excluded.reason, updated_at = excluded.updated_at",
                params![no, spec.product, stock, status_s, reason_s, at],
            )?;
            columns.push((stock, status));
        }

        let money = money_totals(&tx)?;
        let credit = money.held_computed;
        exec(
            &tx,
            "INSERT INTO meta (key, value) VALUES ('credit', ?1) \
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [sql_cents(credit).to_string()],
        )?;

        let since = at - i64::from(history_hours.max(25)) * 3600;
        let sales = time_amounts(
            &tx,
            "SELECT ended_at, price FROM vends WHERE kind = 'paid' AND outcome = 'delivered' \
             AND ended_at >= ?1 ORDER BY ended_at, id",
            since,
        )?;
        let awards = time_amounts(
            &tx,
            "SELECT at, cost FROM surprises WHERE at >= ?1 ORDER BY at, id",
            since,
        )?;
        let last_surprise: Option<i64> =
            tx.query_row("SELECT max(vend_id) FROM surprises", [], |r| r.get(0))?;
        let streak: i64 = tx.query_row(
            "SELECT count(*) FROM vends WHERE kind = 'paid' AND outcome = 'delivered' AND id > ?1",
            [last_surprise.unwrap_or(0)],
            |r| r.get(0),
        )?;
        tx.commit()?;
        self.stats.commits += 1;
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
                },
                columns,
            },
            interrupted,
            refunded,
            surprise_history: SurpriseHistory {
                sales,
                awards,
                streak: u32::try_from(streak).unwrap_or(u32::MAX),
            },
        })
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

/// Rows opened by earlier notices that later ones refer to.
struct Open {
    vend: Option<i64>,
    last_paid: Option<i64>,
    surprise: Option<i64>,
    payout: Option<i64>,
}

fn journaled(n: &Notice) -> bool {
    !matches!(
        n,
        Notice::Refused { .. } | Notice::MotorRun { attempt: 1, .. } | Notice::CreditKept { .. }
    )
}

/// Runs a statement through the connection's statement cache: the same few statements run for
/// every vend, and parsing them again each time would cost more than running them.
fn exec(tx: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
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

fn apply(tx: &Connection, at: i64, notice: &Notice, open: &mut Open) -> Result<(), JournalError> {
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
        Notice::VendStarted {
            column,
            product,
            price,
        } => {
            if let Some(id) = open.vend {
                return Err(JournalError::Inconsistent(format!(
                    "vend started while vend {id} is still open"
                )));
            }
            exec(tx,
                "INSERT INTO vends (kind, column_no, product, price, started_at) VALUES ('paid', ?1, ?2, ?3, ?4)",
                params![col_no(*column), product, sql_cents(*price), at],
            )?;
            open.vend = Some(tx.last_insert_rowid());
        }
        Notice::SurpriseItemStarted { column, product } => {
            if let Some(id) = open.vend {
                return Err(JournalError::Inconsistent(format!(
                    "surprise item started while vend {id} is still open"
                )));
            }
            exec(
                tx,
                "INSERT INTO vends (kind, column_no, product, price, started_at, surprise_id) \
                 VALUES ('surprise', ?1, ?2, 0, ?3, ?4)",
                params![col_no(*column), product, at, open.surprise],
            )?;
            open.vend = Some(tx.last_insert_rowid());
        }
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
            close_vend(
                tx,
                at,
                &mut open.vend,
                "refunded",
                Some(reason_text(*reason)),
            )?;
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
        Notice::SurpriseItemFailed { reason, .. } => {
            close_vend(tx, at, &mut open.vend, "failed", Some(reason_text(*reason)))?;
        }
        Notice::SurpriseAwarded {
            name,
            kind,
            cost,
            items,
            message,
            ..
        } => {
            let planned: u32 = items.iter().map(|(_, n)| n).sum();
            let kind = serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            exec(
                tx,
                "INSERT INTO surprises (at, vend_id, name, kind, cost, planned, status, message) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open', ?7)",
                params![
                    at,
                    open.last_paid,
                    name,
                    kind,
                    sql_cents(*cost),
                    planned,
                    message
                ],
            )?;
            open.surprise = Some(tx.last_insert_rowid());
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
        Notice::ColumnFaulted { column, reason } => {
            exec(tx,
                "UPDATE inventory SET status = 'faulted', reason = ?1, updated_at = ?2 WHERE column_no = ?3",
                params![reason_text(*reason), at, col_no(*column)],
            )?;
            event(
                tx,
                at,
                "column_fault",
                Some(col_no(*column)),
                reason_text(*reason),
            )?;
        }
        Notice::ColumnReset { column } => {
            exec(tx,
                "UPDATE inventory SET status = 'in_service', reason = NULL, updated_at = ?1 WHERE column_no = ?2",
                params![at, col_no(*column)],
            )?;
            event(tx, at, "column_reset", Some(col_no(*column)), "")?;
        }
        Notice::ColumnDisabled { column } => {
            exec(
                tx,
                "UPDATE inventory SET status = 'disabled', reason = NULL, updated_at = ?1 WHERE column_no = ?2",
                params![at, col_no(*column)],
            )?;
            event(tx, at, "column_disabled", Some(col_no(*column)), "")?;
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
                &format!("stock {stock}"),
            )?;
        }
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
        Notice::Refused { .. } | Notice::CreditKept { .. } => {}
    }
    Ok(())
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

/// The money balance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MoneyBalance {
    /// Every coin inserted.
    pub inserted: Cents,
    /// Spent on paid items the drop sensor saw delivered.
    pub spent: Cents,
    /// Paid back to customers by the payout hopper.
    pub paid_out: Cents,
    /// Still held: the controller's last recorded credit plus the escrow of an open vend.
    pub held: Cents,
    /// Held as the books compute it: inserted - spent - paid out.
    pub held_computed: Cents,
    /// Whether inserted = spent + paid out + held, to the cent.
    pub balanced: bool,
}

fn sum(conn: &Connection, sql: &str) -> rusqlite::Result<Cents> {
    conn.query_row(sql, [], |r| r.get::<_, Option<i64>>(0))
        .map(|v| cents(v.unwrap_or(0)))
}

fn money_totals(conn: &Connection) -> Result<MoneyBalance, JournalError> {
    let inserted = sum(
        conn,
        "SELECT sum(amount) FROM credit_events WHERE kind = 'coin'",
    )?;
    let paid_out = sum(
        conn,
        "SELECT sum(amount) FROM credit_events WHERE kind = 'payout'",
    )?;
    let spent = sum(
        conn,
        "SELECT sum(price) FROM vends WHERE kind = 'paid' AND outcome = 'delivered'",
    )?;
    let escrow = sum(
        conn,
        "SELECT sum(price) FROM vends WHERE kind = 'paid' AND outcome IS NULL",
    )?;
    let recorded: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'credit'", [], |r| {
            r.get(0)
        })
        .optional()?;
    let recorded = cents(recorded.and_then(|v| v.parse().ok()).unwrap_or(0));
    let held = recorded.saturating_add(escrow);
    let held_computed = inserted.saturating_sub(spent).saturating_sub(paid_out);
    let balanced = inserted
        .checked_sub(spent)
        .and_then(|r| r.checked_sub(paid_out))
        == Some(held)
        && held == held_computed;
    Ok(MoneyBalance {
        inserted,
        spent,
        paid_out,
        held,
        held_computed,
        balanced,
    })
}

/// Sales of one product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductSales {
    /// Product.
    pub product: String,
    /// Items sold.
    pub count: u64,
    /// Revenue.
    pub amount: Cents,
}

/// Surprises of one name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SurpriseTotals {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Times awarded.
    pub count: u64,
    /// Total cost.
    pub cost: Cents,
    /// Items handed out.
    pub items: u64,
    /// Awards that ended partial.
    pub partial: u64,
}

/// Faults of one column (or of the whole machine, column `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaultCount {
    /// Column number, or none for machine-wide events.
    pub column: Option<i64>,
    /// Kind of fault.
    pub kind: String,
    /// How often.
    pub count: u64,
}

/// One column's state in the books.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InventoryLine {
    /// Column number.
    pub column: i64,
    /// Product.
    pub product: String,
    /// Stock.
    pub stock: i64,
    /// "in_service" or "faulted".
    pub status: String,
    /// Why it is faulted.
    pub reason: Option<String>,
}

/// Everything `happiness report` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BooksReport {
    /// Money in and out, and whether it adds up.
    pub money: MoneyBalance,
    /// Sales per product.
    pub sales: Vec<ProductSales>,
    /// Paid vends whose price went back to credit, per reason: (reason, count, amount).
    pub refunds: Vec<(String, u64, Cents)>,
    /// Surprises per name.
    pub surprises: Vec<SurpriseTotals>,
    /// Total surprise cost.
    pub surprise_cost: Cents,
    /// Faults.
    pub faults: Vec<FaultCount>,
    /// Vends a power cut interrupted.
    pub interrupted: u64,
    /// Vends of any kind with no outcome (only while a vend is under way).
    pub open_vends: u64,
    /// Coins the acceptor reported that no configured coin matches.
    pub unknown_coins: u64,
    /// Stock and state per column.
    pub inventory: Vec<InventoryLine>,
    /// Config versions recorded.
    pub config_versions: u64,
    /// Answers to "how was it?": (happy, not happy).
    pub feedback: (u64, u64),
    /// `PRAGMA integrity_check`.
    pub integrity: String,
}

fn books_report(conn: &Connection) -> Result<BooksReport, JournalError> {
    let money = money_totals(conn)?;
    let mut sales = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT product, count(*), sum(price) FROM vends WHERE kind = 'paid' AND outcome = 'delivered' \
             GROUP BY product ORDER BY product",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ProductSales {
                product: r.get(0)?,
                count: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                amount: cents(r.get(2)?),
            })
        })?;
        for row in rows {
            sales.push(row?);
        }
    }
    let mut refunds = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT coalesce(reason, ''), count(*), sum(price) FROM vends WHERE kind = 'paid' \
             AND outcome IN ('refunded', 'interrupted') GROUP BY reason ORDER BY reason",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                cents(r.get(2)?),
            ))
        })?;
        for row in rows {
            refunds.push(row?);
        }
    }
    let mut surprises = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT name, kind, count(*), sum(cost), sum(delivered), sum(status = 'partial') \
             FROM surprises GROUP BY name, kind ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SurpriseTotals {
                name: r.get(0)?,
                kind: r.get(1)?,
                count: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                cost: cents(r.get(3)?),
                items: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
                partial: u64::try_from(r.get::<_, i64>(5)?).unwrap_or(0),
            })
        })?;
        for row in rows {
            surprises.push(row?);
        }
    }
    let surprise_cost = surprises.iter().map(|s| s.cost).sum();
    let mut faults = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT column_no, kind, count(*) FROM events WHERE kind IN \
             ('column_fault', 'sensor_stuck', 'unexpected_drop', 'interrupted', 'unknown_coin') \
             GROUP BY column_no, kind ORDER BY column_no, kind",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(FaultCount {
                column: r.get(0)?,
                kind: r.get(1)?,
                count: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
            })
        })?;
        for row in rows {
            faults.push(row?);
        }
    }
    let count = |sql: &str| -> rusqlite::Result<u64> {
        conn.query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|n| u64::try_from(n).unwrap_or(0))
    };
    let mut inventory = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT column_no, product, stock, status, reason FROM inventory ORDER BY column_no",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(InventoryLine {
                column: r.get(0)?,
                product: r.get(1)?,
                stock: r.get(2)?,
                status: r.get(3)?,
                reason: r.get(4)?,
            })
        })?;
        for row in rows {
            inventory.push(row?);
        }
    }
    Ok(BooksReport {
        money,
        sales,
        refunds,
        surprises,
        surprise_cost,
        faults,
        interrupted: count("SELECT count(*) FROM vends WHERE outcome = 'interrupted'")?,
        open_vends: count("SELECT count(*) FROM vends WHERE outcome IS NULL")?,
        unknown_coins: count("SELECT count(*) FROM events WHERE kind = 'unknown_coin'")?,
        inventory,
        config_versions: count("SELECT count(*) FROM config_versions")?,
        feedback: (
            count("SELECT count(*) FROM feedback WHERE happy = 1")?,
            count("SELECT count(*) FROM feedback WHERE happy = 0")?,
        ),
        integrity: conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?,
    })
}

impl BooksReport {
    /// The report for people.
    pub fn to_text(&self, currency: &str) -> String {
        use std::fmt::Write as _;
        let m = |c: Cents| c.with_symbol(currency);
        let mut out = String::new();
        let b = &self.money;
        let _ = writeln!(out, "Money");
        let _ = writeln!(out, "  inserted            {:>12}", m(b.inserted));
        let _ = writeln!(out, "  spent on items      {:>12}", m(b.spent));
        let _ = writeln!(out, "  paid back (coins)   {:>12}", m(b.paid_out));
        let _ = writeln!(out, "  still held (credit) {:>12}", m(b.held));
        let _ = writeln!(
            out,
            "  balance: {}",
            if b.balanced {
                "OK: inserted = spent + paid back + held".to_string()
            } else {
                format!(
                    "MISMATCH: the books compute {} held, the controller recorded {}",
                    m(b.held_computed),
                    m(b.held)
                )
            }
        );
        let _ = writeln!(out, "\nSales");
        for s in &self.sales {
            let _ = writeln!(
                out,
                "  {:<20} {:>6} x  {:>12}",
                s.product,
                s.count,
                m(s.amount)
            );
        }
        let _ = writeln!(out, "\nRefunds to credit");
        for (reason, n, amount) in &self.refunds {
            let _ = writeln!(out, "  {reason:<20} {n:>6} x  {:>12}", m(*amount));
        }
        let _ = writeln!(out, "\nSurprises (cost {})", m(self.surprise_cost));
        for s in &self.surprises {
            let _ = writeln!(
                out,
                "  {:<20} {:<10} {:>6} x  {:>10}  items {:>5}  partial {}",
                s.name,
                s.kind,
                s.count,
                m(s.cost),
                s.items,
                s.partial
            );
        }
        let _ = writeln!(out, "\nFaults");
        for f in &self.faults {
            let column = f.column.map_or("-".to_string(), |c| c.to_string());
            let _ = writeln!(out, "  column {column:<3} {:<16} {:>6}", f.kind, f.count);
        }
        let _ = writeln!(
            out,
            "  interrupted vends: {}   unknown coins: {}   vends open now: {}",
            self.interrupted, self.unknown_coins, self.open_vends
        );
        let _ = writeln!(out, "\nInventory");
        for i in &self.inventory {
            let _ = writeln!(
                out,
                "  [{}] {:<16} stock {:>4}  {}{}",
                i.column,
                i.product,
                i.stock,
                i.status,
                i.reason
                    .as_ref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            );
        }
        let _ = write!(
            out,
            "\nConfig versions recorded: {}   integrity: {}",
            self.config_versions, self.integrity
        );
        out
    }
}

#[cfg(test)]
mod tests;
