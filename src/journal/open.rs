//! Opening the books: one kiosk per data directory (an exclusive lock for the life of the
//! journal), new books only where there were none, and every failure to open named for what it
//! is (in use, read-only, disk full, no books, damaged), because the advice differs: a damaged
//! journal is restored from a backup, a read-only or full disk is fixed and the same books used.

use std::fs::{File, OpenOptions as FileOptions, TryLockError};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OpenFlags, MAIN_DB};

use super::disk::{free_bytes, Disk, StorageLimits};
use super::setup::Keying;
use super::{mark, seal, Journal, JournalError, SealKey, JOURNAL_FILE};

/// File name of the lock that keeps a second kiosk off the same books.
pub const LOCK_FILE: &str = "journal.lock";

/// Less room than this on the disk is no room: an I/O error then means "the disk is full".
const NEARLY_FULL: u64 = 256 << 10;

/// Where new books are built before they are renamed into place, so that a `journal.db` always
/// holds complete books.
const NEW_FILE: &str = "journal.db.new";

/// How `run` opens its books.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// Start new books where there are none even though the directory holds other files, or
    /// in place of an empty journal file (which is kept aside). Existing books are never
    /// replaced.
    pub new_books: bool,
    /// Free-space rules for the disk.
    pub limits: StorageLimits,
    /// The machine's seal key, in hand (tests; `None` with no `key_file`: books sealed without
    /// a key, as before keys).
    pub key: Option<SealKey>,
    /// Where the machine's seal key is kept (`seal.key` in the config directory): read from
    /// there, or made there at the first start (0600) for books that have no key yet.
    pub key_file: Option<PathBuf>,
}

/// The exclusive lock on a data directory, held for the life of the journal.
#[derive(Debug)]
pub(super) struct DirLock {
    _file: File,
}

impl DirLock {
    fn acquire(dir: &Path) -> Result<DirLock, JournalError> {
        let path = dir.join(LOCK_FILE);
        let mut file = FileOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io_error(dir, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Err(JournalError::InUse {
                    dir: dir.to_path_buf(),
                    pid: text.trim().parse().ok(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io_error(dir, e)),
        }
        // Who holds it, for the message the next one gets. A full disk must not stop the lock
        // itself, so a failed write only loses the pid.
        let _ = file
            .set_len(0)
            .and_then(|()| writeln!(file, "{}", std::process::id()));
        Ok(DirLock { _file: file })
    }
}

/// A file-system error while opening, named for what it means to an operator.
pub(super) fn io_error(dir: &Path, e: std::io::Error) -> JournalError {
    match e.kind() {
        std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied => {
            JournalError::ReadOnly {
                dir: dir.to_path_buf(),
                cause: e.to_string(),
            }
        }
        std::io::ErrorKind::StorageFull => JournalError::StorageFull {
            dir: dir.to_path_buf(),
            free: free_bytes(dir),
        },
        _ => JournalError::Dir {
            path: dir.to_path_buf(),
            source: e,
        },
    }
}

/// An SQLite error while opening, named for what it means to an operator.
pub(super) fn classify(path: &Path, e: rusqlite::Error) -> JournalError {
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    match e.sqlite_error_code() {
        Some(ErrorCode::ReadOnly) => JournalError::ReadOnly {
            dir,
            cause: e.to_string(),
        },
        Some(ErrorCode::DiskFull) => JournalError::StorageFull {
            free: free_bytes(&dir),
            dir,
        },
        // A full disk often shows as an I/O error first (the shared-memory file of the
        // write-ahead log cannot grow): name the disk when it has no room left.
        Some(ErrorCode::SystemIoFailure) if free_bytes(&dir).is_some_and(|f| f < NEARLY_FULL) => {
            JournalError::StorageFull {
                free: free_bytes(&dir),
                dir,
            }
        }
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => JournalError::Damaged {
            path: path.to_path_buf(),
            detail: e.to_string(),
        },
        _ => JournalError::Open {
            path: path.to_path_buf(),
            source: e,
        },
    }
}

/// An error from writing the books' schema, named as [`classify`] names SQLite's errors (a
/// full disk while new books are made is "the disk is full", not an SQL error).
pub(super) fn reclassify(path: &Path, e: JournalError) -> JournalError {
    match e {
        JournalError::Sql(e) => classify(path, e),
        other => other,
    }
}

/// Whether a database file holds this program's books, judged by its tables (not by its schema
/// version, which is one more thing that can be damaged).
pub(super) fn identify(conn: &Connection, path: &Path) -> Result<(), JournalError> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| classify(path, e))?;
    let ours = ["credit_events", "vends", "inventory", "meta"];
    if tables.is_empty() {
        return Err(JournalError::EmptyJournal {
            path: path.to_path_buf(),
        });
    }
    if !ours.iter().all(|t| tables.iter().any(|found| found == t)) {
        return Err(JournalError::NotOurBooks {
            path: path.to_path_buf(),
            tables,
        });
    }
    Ok(())
}

/// Files in `dir` other than what a first start leaves behind: the lock, and new books not yet
/// renamed into place.
fn other_files(dir: &Path) -> Result<Vec<String>, JournalError> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_error(dir, e))?;
    let mut found: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            name != LOCK_FILE && !name.starts_with(NEW_FILE) && name.as_str() != "lost+found"
        })
        .collect();
    found.sort();
    Ok(found)
}

/// Build complete new books under a temporary name and rename them into place: a crash leaves
/// either no `journal.db` or a whole one.
fn create_books(dir: &Path) -> Result<(), JournalError> {
    let tmp = dir.join(NEW_FILE);
    for leftover in [tmp.clone(), dir.join(format!("{NEW_FILE}-journal"))] {
        match std::fs::remove_file(&leftover) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(dir, e)),
        }
    }
    // The mark of books that are no longer here would be taken for these books' own.
    mark::remove(dir).map_err(|e| io_error(dir, e))?;
    {
        let mut conn = Connection::open(&tmp).map_err(|e| classify(&tmp, e))?;
        seal::register(&conn, None).map_err(|e| classify(&tmp, e))?;
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(|e| classify(&tmp, e))?;
        super::setup::migrate(&mut conn, &tmp).map_err(|e| reclassify(&tmp, e))?;
    }
    File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_error(dir, e))?;
    std::fs::rename(&tmp, dir.join(JOURNAL_FILE)).map_err(|e| io_error(dir, e))?;
    // The rename itself must survive a power cut.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(dir, e))?;
    tracing::info!(dir = %dir.display(), "new books started");
    Ok(())
}

/// Keep an empty journal file aside (an operator may want to see it) before new books take its
/// place.
fn set_aside(path: &Path) -> Result<PathBuf, JournalError> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let aside = path.with_extension(format!("db.empty-{secs}"));
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::rename(path, &aside).map_err(|e| io_error(dir, e))?;
    tracing::warn!(
        kept = %aside.display(),
        "the empty journal was set aside for new books (--new-books)"
    );
    Ok(aside)
}

/// The files of the books in `dir`, each with what it is: nothing an operator names as an output
/// may be written over them.
pub fn book_files(dir: &Path) -> Vec<(PathBuf, String)> {
    [
        (JOURNAL_FILE, "the books"),
        ("journal.db-wal", "the books' write-ahead log"),
        ("journal.db-shm", "the books' shared-memory index"),
        (LOCK_FILE, "the books' lock"),
        (mark::MARK_FILE, "the books' commit mark"),
        (super::RESERVE_FILE, "the books' space reserve"),
        (NEW_FILE, "new books being made"),
    ]
    .into_iter()
    .map(|(name, what)| (dir.join(name), what.to_string()))
    .collect()
}

impl Journal {
    /// Open the journal in `dir` for the kiosk with default options: new books are started only
    /// in a new or empty directory.
    pub fn open_dir(dir: &Path) -> Result<Journal, JournalError> {
        Journal::open_dir_with(dir, &OpenOptions::default())
    }

    /// Open the journal in `dir` for the kiosk: take the directory's lock (a second kiosk on the
    /// same books is refused, naming the first one's pid), start new books only where
    /// `options` allow, bring the schema up to date and put the disk's space reserve in place.
    /// The books are not checked here: [`Journal::check_books`] does that, and the kiosk sells
    /// only once it has passed.
    pub fn open_dir_with(dir: &Path, options: &OpenOptions) -> Result<Journal, JournalError> {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        let lock = DirLock::acquire(dir)?;
        let path = dir.join(JOURNAL_FILE);
        match std::fs::metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let found = other_files(dir)?;
                if !found.is_empty() && !options.new_books {
                    return Err(JournalError::NoBooks {
                        dir: dir.to_path_buf(),
                        found,
                    });
                }
                create_books(dir)?;
            }
            Err(e) => return Err(io_error(dir, e)),
            Ok(meta) if meta.len() == 0 => {
                if !options.new_books {
                    return Err(JournalError::EmptyJournal { path });
                }
                set_aside(&path)?;
                create_books(dir)?;
            }
            Ok(_) => {
                if options.new_books {
                    tracing::warn!(
                        dir = %dir.display(),
                        "--new-books does nothing here: the directory holds books, and they are kept"
                    );
                }
            }
        }
        let open = || -> Result<Journal, JournalError> {
            let conn = Connection::open(&path).map_err(|e| classify(&path, e))?;
            if conn.is_readonly(MAIN_DB).unwrap_or(false) {
                return Err(JournalError::ReadOnly {
                    dir: dir.to_path_buf(),
                    cause: "the journal file cannot be written".into(),
                });
            }
            let disk = Disk::dir(dir, options.limits);
            let keying = Keying {
                key: options.key.clone(),
                key_is_new: false,
                file: options.key_file.clone(),
            };
            Journal::setup(conn, path.clone(), disk, options.limits, keying)
        };
        let mut journal = match open() {
            // On a full disk even opening needs room (the write-ahead log's files): the reserve
            // gives it, and the kiosk starts out of service until room is made.
            Err(e) if e.is_storage_full() && Disk::dir(dir, options.limits).release_reserve() => {
                tracing::error!(
                    dir = %dir.display(),
                    "the disk is full: the space reserve was released to open the books"
                );
                open()?
            }
            other => other?,
        };
        journal.lock = Some(lock);
        // The mark is opened only now: a count below it must be found by the checks, and only
        // writes from here on raise it (it is never lowered).
        let mark_path = dir.join(super::MARK_FILE);
        journal.mark = Some(mark::Mark::open(&mark_path).map_err(|e| io_error(dir, e))?);
        journal.advance_mark();
        Ok(journal)
    }

    /// Open existing books read-only, for reports, beside a running kiosk or on a read-only
    /// mount, without the machine's key (books sealed with one then cannot be checked).
    pub fn open_read_only(dir: &Path) -> Result<Journal, JournalError> {
        Journal::open_read_only_with(dir, None)
    }

    /// Open existing books read-only, checked (by the report and the checks) with `key`, the
    /// machine's seal key. Nothing is checked or written here.
    pub fn open_read_only_with(dir: &Path, key: Option<SealKey>) -> Result<Journal, JournalError> {
        let path = dir.join(JOURNAL_FILE);
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(JournalError::Missing {
                    path: dir.to_path_buf(),
                })
            }
            Err(e) => return Err(io_error(dir, e)),
        };
        if meta.len() == 0 {
            return Err(JournalError::EmptyJournal { path });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&path, flags).map_err(|e| classify(&path, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| classify(&path, e))?;
        let conn = match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        }) {
            Ok(_) => conn,
            // A journal in WAL mode needs its shared-memory file, which a read-only mount cannot
            // give it after a clean shutdown. With no write-ahead log left there is nothing the
            // file alone does not hold: read it as immutable.
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly)
                ) && !wal_pending(&path) =>
            {
                drop(conn);
                let uri = format!("file:{}?immutable=1", path.display());
                Connection::open_with_flags(uri, flags).map_err(|e| classify(&path, e))?
            }
            Err(e) => return Err(classify(&path, e)),
        };
        identify(&conn, &path)?;
        let mut journal =
            Journal::with_connection(conn, path, Disk::memory(), StorageLimits::default());
        journal.key = key;
        Ok(journal)
    }
}

/// Whether the journal has a write-ahead log with commits not yet in the main file.
fn wal_pending(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(PathBuf::from(wal)).is_ok_and(|m| m.len() > 0)
}
