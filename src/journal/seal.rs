//! Seals: every record of the books carries a hash of its own content and position, and every
//! table a running digest of its records' seals and its record count, so that any change made
//! outside the journal (a flipped bit on the card, an edit with a plain SQLite client, a deleted
//! or added row) is noticed and named.
//!
//! Why seals and not a chain over rows: a vend's row is written twice (the intent, then the
//! outcome closes it), and stock and credit rows are updated in place, so a chain linking each
//! row to the one before would break at every legitimate update. Instead, each row's seal covers
//! its table, its row id (its place in commit order) and every column; SQL triggers reseal a row
//! whenever the journal writes it and keep each table's digest (the sum of its rows' seals modulo
//! 2^128) and row count in the `seals` table, in the same transaction as the write. A check
//! recomputes every seal, the digests and the counts.
//!
//! The triggers call functions that only this program registers: an edit made with another
//! SQLite client fails ("no such function: hm_seal") unless the triggers are dropped first, and
//! then the check finds both the dropped triggers and the edited rows. With the machine's key
//! (`super::key`) every seal is an HMAC, and the books' own seal (`books_seal.mac`) is a keyed
//! hash over every table's count and digest: someone who registers stand-ins for the functions
//! cannot make seals that match, nor delete a row (even a table's last) without the books' seal
//! showing it. Whoever holds the key can forge books; that is the key's limit, not the seals'.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::SealKey;

mod books;
mod schema;
mod tables;

pub(super) use books::{books_key_id, holds_records, key_books};
use books::{books_mac, books_problem};
use schema::schema_problems;
pub(super) use tables::{Sealed, SEALED};

const DOMAIN: &[u8] = b"happiness-seal-v1\0";

/// What a seal is computed with: plain SHA-256 (books from before the key, or opened without
/// one), or the machine's key (an HMAC that nobody without the key can reproduce).
enum Sealer {
    Plain(Sha256),
    Keyed(hmac::Hmac<Sha256>),
}

impl Sealer {
    fn update(&mut self, bytes: &[u8]) {
        match self {
            Sealer::Plain(h) => h.update(bytes),
            Sealer::Keyed(m) => hmac::Mac::update(m, bytes),
        }
    }
}

/// The seal of one row: 16 bytes of SHA-256 (or, with a key, of HMAC-SHA-256) over the table,
/// the row id and every value.
pub(super) fn seal_of(
    key: Option<&SealKey>,
    table: &str,
    rowid: i64,
    values: &[ValueRef<'_>],
) -> [u8; 16] {
    let mut h = match key {
        Some(key) => Sealer::Keyed(key.hasher()),
        None => Sealer::Plain(Sha256::new()),
    };
    h.update(DOMAIN);
    h.update(table.as_bytes());
    h.update(&[0]);
    h.update(&rowid.to_le_bytes());
    for v in values {
        match v {
            ValueRef::Null => h.update(&[0]),
            ValueRef::Integer(i) => {
                h.update(&[1]);
                h.update(&i.to_le_bytes());
            }
            ValueRef::Real(f) => {
                h.update(&[2]);
                h.update(&f.to_bits().to_le_bytes());
            }
            ValueRef::Text(t) => {
                h.update(&[3]);
                h.update(&u64::try_from(t.len()).unwrap_or(u64::MAX).to_le_bytes());
                h.update(t);
            }
            ValueRef::Blob(b) => {
                h.update(&[4]);
                h.update(&u64::try_from(b.len()).unwrap_or(u64::MAX).to_le_bytes());
                h.update(b);
            }
        }
    }
    let full: [u8; 32] = match h {
        Sealer::Plain(h) => h.finalize().into(),
        Sealer::Keyed(m) => hmac::Mac::finalize(m).into_bytes().into(),
    };
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

fn as_u128(v: ValueRef<'_>) -> u128 {
    match v {
        ValueRef::Blob(b) if b.len() == 16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            u128::from_le_bytes(a)
        }
        // A missing seal counts as zero: the check reports the row, not the arithmetic.
        _ => 0,
    }
}

/// Register the functions the seal triggers call, sealing with `key` (plain SHA-256 without
/// one). Every connection that writes the books needs them; without them a write to a sealed
/// table fails, and a connection without the books' key cannot write keyed books at all.
pub(super) fn register(conn: &Connection, key: Option<&SealKey>) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8
        | FunctionFlags::SQLITE_DETERMINISTIC
        | FunctionFlags::SQLITE_INNOCUOUS;
    let row_key = key.cloned();
    conn.create_scalar_function("hm_seal", -1, flags, move |ctx: &mut Context<'_>| {
        let table = ctx.get_raw(0).as_str().unwrap_or("").to_string();
        let rowid = ctx.get_raw(1).as_i64().unwrap_or(0);
        let values: Vec<ValueRef<'_>> = (2..ctx.len()).map(|i| ctx.get_raw(i)).collect();
        Ok(seal_of(row_key.as_ref(), &table, rowid, &values).to_vec())
    })?;
    let books_key = key.cloned();
    conn.create_scalar_function("hm_mac", 3, flags, move |ctx: &mut Context<'_>| {
        let Ok(id) = ctx.get_raw(0).as_str() else {
            // Books not sealed with a key have no books' seal.
            return Ok(None);
        };
        match &books_key {
            Some(key) if key.id_str() == id => {
                let n = ctx.get_raw(1).as_i64().unwrap_or(0);
                let digests = ctx.get_raw(2).as_str().unwrap_or("");
                Ok(Some(books_mac(key, n, digests).to_vec()))
            }
            _ => Err(rusqlite::Error::UserFunctionError(
                format!(
                    "these books are sealed with key {id}, which this connection does not hold"
                )
                .into(),
            )),
        }
    })?;
    conn.create_scalar_function("hm_add", 2, flags, |ctx: &mut Context<'_>| {
        let sum = as_u128(ctx.get_raw(0)).wrapping_add(as_u128(ctx.get_raw(1)));
        Ok(sum.to_le_bytes().to_vec())
    })?;
    conn.create_scalar_function("hm_sub", 2, flags, |ctx: &mut Context<'_>| {
        let sum = as_u128(ctx.get_raw(0)).wrapping_sub(as_u128(ctx.get_raw(1)));
        Ok(sum.to_le_bytes().to_vec())
    })?;
    Ok(())
}

/// The functions someone who read the schema would register to edit the books without the
/// key: seals without it, and a books' seal of zeros. Only the fault campaign uses them, to
/// prove that the checks name such an edit.
pub(super) fn register_stand_ins(conn: &Connection) -> rusqlite::Result<()> {
    register(conn, None)?;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("hm_mac", 3, flags, |_ctx: &mut Context<'_>| {
        Ok(Some(vec![0u8; 32]))
    })
}

fn new_values(t: &Sealed) -> String {
    t.columns
        .iter()
        .map(|c| format!("NEW.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The triggers that keep one table sealed, by name.
pub(super) fn triggers(t: &Sealed) -> Vec<(String, String)> {
    let table = t.table;
    let new = new_values(t);
    let updated: Vec<&str> =
        t.id.iter()
            .copied()
            .chain(t.columns.iter().copied())
            .collect();
    vec![
        (
            format!("{table}_seal_insert"),
            format!(
                "CREATE TRIGGER {table}_seal_insert AFTER INSERT ON {table} BEGIN \
                 UPDATE {table} SET seal = hm_seal('{table}', NEW.rowid, {new}) WHERE rowid = NEW.rowid; \
                 UPDATE seals SET rows = rows + 1, digest = hm_add(digest, \
                 (SELECT seal FROM {table} WHERE rowid = NEW.rowid)) WHERE tbl = '{table}'; END"
            ),
        ),
        (
            format!("{table}_seal_update"),
            format!(
                "CREATE TRIGGER {table}_seal_update AFTER UPDATE OF {} ON {table} BEGIN \
                 UPDATE {table} SET seal = hm_seal('{table}', NEW.rowid, {new}) WHERE rowid = NEW.rowid; \
                 UPDATE seals SET digest = hm_add(hm_sub(digest, OLD.seal), \
                 (SELECT seal FROM {table} WHERE rowid = NEW.rowid)) WHERE tbl = '{table}'; END",
                updated.join(", ")
            ),
        ),
        (
            format!("{table}_seal_delete"),
            format!(
                "CREATE TRIGGER {table}_seal_delete AFTER DELETE ON {table} BEGIN \
                 UPDATE seals SET rows = rows - 1, digest = hm_sub(digest, OLD.seal) \
                 WHERE tbl = '{table}'; END"
            ),
        ),
    ]
}

/// Seal the books: add the seal columns, seal every existing row, record each table's digest
/// and count, and install the triggers. Runs once, as a schema migration, inside its
/// transaction.
pub(super) fn install(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE seals (tbl TEXT PRIMARY KEY, rows INTEGER NOT NULL, digest BLOB NOT NULL)",
    )?;
    // Tables added by later migrations are sealed by theirs ([`install_table`]).
    for t in SEALED.iter().filter(|t| !LATER.contains(&t.table)) {
        seal_table(conn, t)?;
    }
    Ok(())
}

/// Tables that came after the seals, each sealed by the migration that makes it.
const LATER: &[&str] = &["audit_reads", "card_vends"];

/// Seal one table made after the seals were installed: its seal column, its digest and count,
/// its triggers.
pub(super) fn install_table(conn: &Connection, table: &str) -> rusqlite::Result<()> {
    match SEALED.iter().find(|t| t.table == table) {
        Some(t) => seal_table(conn, t),
        None => Err(rusqlite::Error::InvalidParameterName(format!(
            "{table} is not a sealed table"
        ))),
    }
}

fn seal_table(conn: &Connection, t: &Sealed) -> rusqlite::Result<()> {
    let table = t.table;
    conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN seal BLOB"))?;
    let values = t.columns.join(", ");
    conn.execute(
        &format!("UPDATE {table} SET seal = hm_seal('{table}', rowid, {values})"),
        [],
    )?;
    // Tables are sealed by migrations, before any key: plain seals, keyed later with the rest.
    let scan = scan_table(conn, None, t, &mut |_| {})?;
    conn.execute(
        "INSERT INTO seals (tbl, rows, digest) VALUES (?1, ?2, ?3)",
        rusqlite::params![
            table,
            i64::try_from(scan.rows).unwrap_or(i64::MAX),
            scan.digest.to_le_bytes().to_vec()
        ],
    )?;
    for (_, sql) in triggers(t) {
        conn.execute_batch(&sql)?;
    }
    Ok(())
}

/// Something about the books that does not match its seal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SealProblem {
    /// The table.
    pub table: String,
    /// The record (row id), when one can be named.
    pub record: Option<i64>,
    /// What does not match.
    pub problem: String,
}

impl std::fmt::Display for SealProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.record {
            Some(id) => write!(f, "{} record {id}: {}", self.table, self.problem),
            None => write!(f, "{}: {}", self.table, self.problem),
        }
    }
}

/// What checking every seal found.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct SealReport {
    /// Records checked.
    pub records: u64,
    /// Problems, in the order of the tables and records (the first is the one to look at).
    pub problems: Vec<SealProblem>,
}

impl SealReport {
    /// Whether every record matches its seal and every table its digest.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

struct Scan {
    rows: u64,
    digest: u128,
}

/// One row as a scan sees it: row id, the seal its content gives, the seal stored with it.
type ScannedRow = (i64, [u8; 16], Option<Vec<u8>>);

/// Walk a table in row id order, computing each row's seal; `row` sees (row id, computed seal,
/// stored seal) for every row.
fn scan_table(
    conn: &Connection,
    key: Option<&SealKey>,
    t: &Sealed,
    row: &mut dyn FnMut(ScannedRow),
) -> rusqlite::Result<Scan> {
    let sql = format!(
        "SELECT rowid, {}, seal FROM {} ORDER BY rowid",
        t.columns.join(", "),
        t.table
    );
    let mut stmt = conn.prepare(&sql)?;
    let n = t.columns.len();
    let mut rows = stmt.query([])?;
    let mut scan = Scan { rows: 0, digest: 0 };
    while let Some(r) = rows.next()? {
        let rowid: i64 = r.get(0)?;
        let mut values = Vec::with_capacity(n);
        for i in 0..n {
            values.push(r.get_ref(i + 1)?);
        }
        let computed = seal_of(key, t.table, rowid, &values);
        let stored: Option<Vec<u8>> = r.get(n + 1).ok();
        scan.rows += 1;
        scan.digest = scan.digest.wrapping_add(u128::from_le_bytes(computed));
        row((rowid, computed, stored));
    }
    Ok(scan)
}

/// At most this many problems are listed; the first ones say where to look.
const MAX_PROBLEMS: usize = 20;

/// Check every record against its seal, every table against its digest and count, and the
/// schema (tables, indexes, and the triggers that seal) against this program's. Problems come
/// records first (the one to look at), then tables, then the schema.
///
/// `key` is the machine's seal key, when it is at hand: books sealed with a key are checked with
/// it (and cannot be checked without it); books sealed without one while a key is at hand were
/// sealed again without it, which only someone without the key would do.
pub(super) fn check(conn: &Connection, key: Option<&SealKey>) -> rusqlite::Result<SealReport> {
    let mut report = SealReport::default();
    let has_seals: bool = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'seals'",
            [],
            |_| Ok(true),
        )
        .optional()?
        .unwrap_or(false);
    if !has_seals {
        report.problems.push(SealProblem {
            table: "seals".into(),
            record: None,
            problem: "the table of seals is missing: the books cannot be checked".into(),
        });
        return Ok(report);
    }
    let books = books_problem(conn, key)?;
    let sealed_with = match books_key_id(conn)? {
        Some(id) => match key.filter(|k| k.id() == id) {
            Some(key) => Some(key),
            // Without the books' key no seal can be checked: the one problem says why.
            None => {
                report.problems.extend(books);
                return Ok(report);
            }
        },
        None => None,
    };
    let mut records = Vec::new();
    let mut tables = Vec::new();
    for t in SEALED {
        let scan = record_problems(conn, sealed_with, t, &mut records)?;
        report.records += scan.rows;
        tables.extend(table_problem(conn, t, &scan)?);
    }
    let schema = schema_problems(conn)?;
    // Books sealed again without the machine's key: that is the edit to name first (every
    // record then also disagrees with the key it was sealed with).
    let resealed = sealed_with.is_none() && books.is_some();
    if resealed {
        report.problems.extend(books.clone());
    }
    report.problems.extend(records);
    report.problems.extend(tables);
    if !resealed {
        report.problems.extend(books);
    }
    report.problems.extend(schema);
    report.problems.truncate(MAX_PROBLEMS);
    Ok(report)
}

/// Scan one table's records against their seals (and, for append-only tables, for gaps in the
/// ids), adding what does not match to `records` (up to [`MAX_PROBLEMS`]).
fn record_problems(
    conn: &Connection,
    key: Option<&SealKey>,
    t: &Sealed,
    records: &mut Vec<SealProblem>,
) -> rusqlite::Result<Scan> {
    let mut expected_id = 1i64;
    scan_table(conn, key, t, &mut |(rowid, computed, stored)| {
        if records.len() >= MAX_PROBLEMS {
            return;
        }
        if t.append_only && rowid != expected_id {
            let missing = if rowid == expected_id + 1 {
                format!("record {expected_id} is missing")
            } else {
                format!("records {expected_id} to {} are missing", rowid - 1)
            };
            records.push(SealProblem {
                table: t.table.into(),
                record: Some(expected_id),
                problem: format!("{missing}: it was deleted after it was written"),
            });
        }
        expected_id = rowid.saturating_add(1);
        let problem = match stored {
            None => Some("has no seal: it was added outside the journal"),
            Some(s) if s.as_slice() != computed.as_slice() => {
                Some("does not match its seal: it was changed after it was written")
            }
            Some(_) => None,
        };
        if let Some(problem) = problem {
            records.push(SealProblem {
                table: t.table.into(),
                record: Some(rowid),
                problem: problem.into(),
            });
        }
    })
}

/// A table whose record count or digest is not what the journal last wrote for it.
fn table_problem(
    conn: &Connection,
    t: &Sealed,
    scan: &Scan,
) -> rusqlite::Result<Option<SealProblem>> {
    // Read as they are stored, whatever their type: a count or digest replaced by text is an
    // alteration to name, not an error that stops the check.
    let recorded: Option<(Option<i64>, Option<u128>)> = conn
        .query_row(
            "SELECT rows, digest FROM seals WHERE tbl = ?1",
            [t.table],
            |r| {
                let rows = match r.get_ref(0)? {
                    ValueRef::Integer(n) => Some(n),
                    _ => None,
                };
                let digest = match r.get_ref(1)? {
                    ValueRef::Blob(b) if b.len() == 16 => Some(as_u128(ValueRef::Blob(b))),
                    _ => None,
                };
                Ok((rows, digest))
            },
        )
        .optional()?;
    let problem = match recorded {
        None => "its seal is missing".to_string(),
        Some((None, _)) | Some((_, None)) => {
            "its record count or digest is not one the journal writes: the table of seals was \
             edited outside the journal"
                .to_string()
        }
        Some((Some(rows), _)) if u64::try_from(rows).ok() != Some(scan.rows) => format!(
            "holds {} records where the journal wrote {rows}: records were deleted or added \
             outside the journal",
            scan.rows
        ),
        Some((_, Some(digest))) if digest != scan.digest => {
            "its records do not add up to the digest the journal wrote: records were replaced \
             outside the journal"
                .to_string()
        }
        Some(_) => return Ok(None),
    };
    Ok(Some(SealProblem {
        table: t.table.into(),
        record: None,
        problem,
    }))
}
