//! Opening a connection for the books: the seal functions, WAL with full syncs, the schema
//! brought up to date (after an integrity check when existing books are migrated), and books
//! in memory for the simulator and tests.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::*;

impl Journal {
    /// A journal in memory, with exactly the same code path (for the simulator and tests).
    pub fn open_in_memory() -> Result<Journal, JournalError> {
        let conn = Connection::open_in_memory()?;
        Journal::setup(
            conn,
            PathBuf::from(":memory:"),
            Disk::memory(),
            StorageLimits::default(),
            Keying::new_key(key::memory_key()),
        )
    }

    /// A named in-memory journal that outlives this connection for as long as a
    /// [`MemoryKeeper`] for the same name is alive: a simulated power cut drops the controller's
    /// connection, and the restart opens the same books again.
    pub fn open_shared_memory(name: &str) -> Result<Journal, JournalError> {
        let conn = shared_memory_connection(name)?;
        let mut journal = Journal::setup(
            conn,
            PathBuf::from(format!(":memory:{name}")),
            Disk::memory(),
            StorageLimits::default(),
            Keying::new_key(key::memory_key()),
        )?;
        // Their mark is kept in this process (its checks run as for books on disk); it is
        // opened only now, as on disk: a count below it is for the checks to find.
        journal.mark = Some(super::mark::Mark::memory(name));
        journal.advance_mark();
        Ok(journal)
    }

    /// Set a connection up for writing the books: the seal functions, WAL with full syncs, a
    /// small cache, and the schema brought up to date (after an integrity check, when existing
    /// books are migrated: a migration must not seal damage in).
    pub(super) fn setup(
        conn: Connection,
        path: PathBuf,
        disk: Disk,
        limits: StorageLimits,
        keying: Keying,
    ) -> Result<Journal, JournalError> {
        let fail = |e: rusqlite::Error| open::classify(&path, e);
        // Keyed books are written with their key from the first statement (their triggers
        // cannot run without it); books without a key take one only once they are up to date.
        let sealed_with = seal::books_key_id(&conn).map_err(fail)?;
        let keying = keying.resolve(&path, sealed_with.as_deref())?;
        let writing_key = keying.key.as_ref().filter(|_| sealed_with.is_some());
        seal::register(&conn, writing_key).map_err(fail)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(fail)?;
        let on_disk = matches!(disk, Disk::Dir { .. });
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(fail)?;
        let known = Journal::schema_version();
        if found > known {
            return Err(JournalError::TooNew { path, found, known });
        }
        if on_disk {
            // Nothing is written to a file before it is known to hold these books.
            open::identify(&conn, &path)?;
            if found == 0 {
                // New books are built whole before they get this name (see `open`): books
                // without a schema version had their header changed.
                return Err(JournalError::Damaged {
                    path,
                    detail: "its schema version reads 0 although it holds books: the file's \
                             header was changed outside the journal"
                        .into(),
                });
            }
        }
        conn.set_prepared_statement_cache_capacity(64);
        let _mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(fail)?;
        // A small page cache: the books are read rarely, and a Pi has little memory to spare.
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -256;",
        )
        .map_err(fail)?;
        let mut journal = Journal::with_connection(conn, path, disk, limits);
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
        journal.stats.commits +=
            migrate(&mut journal.conn, &path).map_err(|e| super::open::reclassify(&path, e))?;
        journal.take_key(keying, sealed_with)?;
        Ok(journal)
    }

    /// Make sure the books and the machine's key go together: books sealed with it are written
    /// with it; new books, or books from before the key when the key was made at this start,
    /// are sealed with it now (after their plain seals have checked out: a key must never vouch
    /// for damage). Anything else needs an operator.
    fn take_key(
        &mut self,
        keying: Keying,
        sealed_with: Option<String>,
    ) -> Result<(), JournalError> {
        let refused = |why: String| JournalError::KeyRefused {
            path: self.path.clone(),
            why,
        };
        let Some(key) = keying.key else {
            if let Some(id) = sealed_with {
                return Err(refused(format!(
                    "they are sealed with key {id}, and no key was given (put the machine's \
                     seal.key back, or pass --key FILE)"
                )));
            }
            return Ok(());
        };
        match sealed_with {
            Some(id) if id == key.id() => {}
            Some(id) => {
                return Err(refused(format!(
                    "they are sealed with key {id}, and the key given is {} (another machine's, \
                     or a new one made after the key was lost): put the machine's own seal.key \
                     back",
                    key.id()
                )))
            }
            None => {
                let records = seal::holds_records(&self.conn)?;
                if records && !keying.key_is_new {
                    return Err(refused(format!(
                        "they hold records sealed without a key, while this machine's key ({}) \
                         was made before: books sealed again without the key were edited \
                         outside the journal. Restore them from a backup",
                        key.id()
                    )));
                }
                if records {
                    let check = seal::check(&self.conn, None)?;
                    if let Some(first) = check.problems.first() {
                        return Err(JournalError::Altered {
                            path: self.path.clone(),
                            first: first.to_string(),
                            count: check.problems.len(),
                        });
                    }
                }
                seal::register(&self.conn, Some(&key))?;
                seal::key_books(&mut self.conn, &key)?;
                self.committed();
                tracing::info!(journal = %self.path.display(), key = %key.id(), "the books are sealed with the machine's key");
            }
        }
        seal::register(&self.conn, Some(&key))?;
        self.key = Some(key);
        Ok(())
    }

    pub(super) fn with_connection(
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
            card_reader: None,
            stats: JournalStats::default(),
            disk,
            limits,
            lock: None,
            outbox: false,
            acting: None,
            mark: None,
            key: None,
        }
    }
}

/// Bring the schema of the books behind `conn` up to this program's version, one transaction per
/// migration. Returns the commits made.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<u64, JournalError> {
    migrate_upto(conn, path, Journal::schema_version())
}

/// Bring the schema up to version `upto` (at most this program's): [`migrate`], or the schema
/// books of an earlier version were written with, for checking them as they are.
pub(super) fn migrate_upto(
    conn: &mut Connection,
    path: &Path,
    upto: i64,
) -> Result<u64, JournalError> {
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
        .take(usize::try_from(upto).unwrap_or(0))
        .skip(usize::try_from(found).unwrap_or(0))
    {
        let tx = conn.transaction()?;
        match step {
            Step::Sql(sql) => tx.execute_batch(sql)?,
            Step::Seals => seal::install(&tx)?,
            Step::SealTable(table) => seal::install_table(&tx, table)?,
            Step::AllowTestVends => allow_test_vends(&tx)?,
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

/// Widen the CHECK on `vends.kind` to admit test vends, editing the table's definition in
/// place (SQLite's documented way for a change no stored row can violate: every row that was
/// valid stays valid). The schema version is bumped so every connection reads the new one.
fn allow_test_vends(tx: &Connection) -> rusqlite::Result<()> {
    use super::schema::{VEND_KINDS_AFTER, VEND_KINDS_BEFORE};
    let version: i64 = tx.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
    tx.pragma_update(None, "writable_schema", true)?;
    let changed = tx.execute(
        "UPDATE sqlite_schema SET sql = replace(sql, ?1, ?2) \
         WHERE type = 'table' AND name = 'vends' AND instr(sql, ?1) > 0",
        [VEND_KINDS_BEFORE, VEND_KINDS_AFTER],
    );
    tx.pragma_update(None, "writable_schema", false)?;
    if changed? != 1 {
        return Err(rusqlite::Error::InvalidQuery);
    }
    tx.pragma_update(None, "schema_version", version + 1)
}

/// A connection to the named in-memory database shared by every connection that names it.
pub(super) fn shared_memory_connection(name: &str) -> rusqlite::Result<Connection> {
    Connection::open_with_flags(
        format!("file:{name}?mode=memory&cache=shared"),
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}

/// The seal key books are opened with, and whether it was made at this start (so that books from
/// before the key may take it).
#[derive(Debug, Clone, Default)]
pub(super) struct Keying {
    pub(super) key: Option<SealKey>,
    pub(super) key_is_new: bool,
    /// Where the machine's key is kept, when it is yet to be read or made: made there for books
    /// that have no key, never for books sealed with one (a new key would not match them).
    pub(super) file: Option<PathBuf>,
}

impl Keying {
    /// Read the key from its file, or make it there for books that have none.
    fn resolve(self, books: &Path, sealed_with: Option<&str>) -> Result<Keying, JournalError> {
        let Some(file) = self.file.as_ref().filter(|_| self.key.is_none()) else {
            return Ok(self);
        };
        if file.exists() {
            return Ok(Keying {
                key: Some(SealKey::load(file)?),
                key_is_new: false,
                file: None,
            });
        }
        if let Some(id) = sealed_with {
            return Err(JournalError::KeyRefused {
                path: books.to_path_buf(),
                why: format!(
                    "they are sealed with key {id}, and the key file {} is missing: put the \
                     machine's seal.key back (from a backup), or pass --key FILE. A new key \
                     would not match these books",
                    file.display()
                ),
            });
        }
        let key = match SealKey::create(file) {
            Ok(key) => key,
            // Made by another kiosk sharing the config directory a moment ago: that is the key.
            Err(_) if file.exists() => {
                return Ok(Keying {
                    key: Some(SealKey::load(file)?),
                    key_is_new: false,
                    file: None,
                })
            }
            Err(e) => return Err(e),
        };
        Ok(Keying {
            key: Some(key),
            key_is_new: true,
            file: None,
        })
    }

    fn new_key(key: SealKey) -> Keying {
        Keying {
            key: Some(key),
            key_is_new: true,
            file: None,
        }
    }
}

/// Keeps a named in-memory journal alive between connections.
pub struct MemoryKeeper {
    _conn: Connection,
    name: String,
}

impl Drop for MemoryKeeper {
    fn drop(&mut self) {
        // The books are gone with the last connection: so is their mark.
        super::mark::forget_memory(&self.name);
    }
}

impl MemoryKeeper {
    /// Keep the in-memory journal `name` alive until this is dropped.
    pub fn new(name: &str) -> Result<MemoryKeeper, JournalError> {
        let conn = shared_memory_connection(name)?;
        Ok(MemoryKeeper {
            _conn: conn,
            name: name.to_string(),
        })
    }
}
