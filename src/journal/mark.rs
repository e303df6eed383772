//! The commit mark: how many record writes the books had committed, kept in a small file beside
//! them, so that committed records that vanish are noticed.
//!
//! SQLite drops every frame of the write-ahead log after one whose checksum is bad, silently: a
//! flipped bit in `journal.db-wal` takes every commit after it away, and the books that remain
//! still pass the integrity check and every seal. So the books count their record writes (a
//! trigger on `seals` bumps `books_seal.n` for each record sealed), and after every commit the
//! journal writes that count here. The mark is written only after the commit has returned (with
//! `synchronous = FULL`, once it is on disk), so it can lag after a power cut but never be ahead
//! of the books; it is never lowered by the journal. Books whose count is below the mark have
//! lost committed records, which the checks report as damage.
//!
//! The file holds two slots of 32 bytes (the count goes to slot `count % 2`), each with its own
//! checksum: a write torn by a power cut leaves the other slot whole. No fsync: a lagging mark
//! is harmless, and a write to the page cache costs a few microseconds per commit.
//!
//! Books in shared memory (the fault campaign's) keep their mark in this process, by name, so
//! that it outlives each connection as a file outlives the process, and the same checks run.
//!
//! This module owns the mark and nothing else; it decides nothing about selling.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read as _;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::SealProblem;

/// File name of the commit mark inside the data directory.
pub const MARK_FILE: &str = "journal.mark";

const MAGIC: &[u8; 8] = b"hm-mark1";

/// The marks of books in shared memory, by name.
static MEMORY: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

fn memory_marks() -> std::sync::MutexGuard<'static, BTreeMap<String, u64>> {
    MEMORY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The name of books in shared memory at `journal` (`:memory:NAME`), if they are.
fn memory_name(journal: &Path) -> Option<String> {
    journal
        .to_str()
        .and_then(|p| p.strip_prefix(":memory:"))
        .map(str::to_string)
}

/// Forget the mark of books in shared memory that are gone.
pub(super) fn forget_memory(name: &str) {
    memory_marks().remove(name);
}
const SLOT: usize = 32;

/// The count of record writes the books hold now, or `None` for books from before the count.
pub(super) fn books_count(conn: &Connection) -> rusqlite::Result<Option<u64>> {
    // Asked after every commit: one cached statement; books from before the count have no
    // such table, which reads as no count.
    let mut stmt = match conn.prepare_cached("SELECT max(n) FROM books_seal") {
        Ok(stmt) => stmt,
        Err(e) if e.to_string().contains("no such table") => return Ok(None),
        Err(e) => return Err(e),
    };
    let n: Option<i64> = stmt.query_row([], |r| r.get(0))?;
    Ok(n.map(|n| u64::try_from(n).unwrap_or(0)))
}

fn checksum(count: u64) -> [u8; 8] {
    let mut h = Sha256::new();
    h.update(MAGIC);
    h.update(count.to_le_bytes());
    let full = h.finalize();
    let mut out = [0u8; 8];
    out.copy_from_slice(&full[..8]);
    out
}

fn slot(count: u64) -> [u8; SLOT] {
    let mut out = [0u8; SLOT];
    out[..8].copy_from_slice(MAGIC);
    out[8..16].copy_from_slice(&count.to_le_bytes());
    out[16..24].copy_from_slice(&checksum(count));
    out
}

fn parse_slot(bytes: &[u8]) -> Option<u64> {
    if bytes.len() < 24 || &bytes[..8] != MAGIC {
        return None;
    }
    let mut n = [0u8; 8];
    n.copy_from_slice(&bytes[8..16]);
    let count = u64::from_le_bytes(n);
    (bytes[16..24] == checksum(count)).then_some(count)
}

/// What a mark file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Read {
    /// There is no mark (books from before it, or a copy of the books elsewhere).
    Absent,
    /// The file is there but neither slot is whole.
    Unreadable,
    /// The highest count written.
    Count(u64),
}

/// Read the mark file at `path`.
pub(super) fn read(path: &Path) -> Read {
    let mut bytes = Vec::with_capacity(2 * SLOT);
    match File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Read::Absent,
        Err(_) => return Read::Unreadable,
    }
    if bytes.is_empty() {
        return Read::Absent;
    }
    let counts = bytes.chunks(SLOT).take(2).filter_map(parse_slot);
    counts.max().map_or(Read::Unreadable, Read::Count)
}

/// Where the mark of the books at `journal` is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    /// A file beside the books on disk.
    File(PathBuf),
    /// In this process, for books in shared memory with this name.
    Memory(String),
}

fn place_for(journal: &Path) -> Place {
    match memory_name(journal) {
        Some(name) => Place::Memory(name),
        None => Place::File(journal.with_file_name(MARK_FILE)),
    }
}

fn read_place(place: &Place) -> Read {
    match place {
        Place::File(path) => read(path),
        Place::Memory(name) => memory_marks()
            .get(name)
            .copied()
            .map_or(Read::Absent, Read::Count),
    }
}

/// Where a mark is written.
#[derive(Debug)]
enum Sink {
    File(File),
    Memory(String),
}

/// The books' mark, open for writing for the life of the journal.
#[derive(Debug)]
pub(super) struct Mark {
    sink: Sink,
    /// The highest count written.
    written: u64,
}

impl Mark {
    /// Open (or create, 0600) the mark at `path`, remembering the highest count it holds so that
    /// it is never lowered.
    pub(super) fn open(path: &Path) -> std::io::Result<Mark> {
        use std::os::unix::fs::OpenOptionsExt as _;
        let written = match read(path) {
            Read::Count(n) => n,
            Read::Absent | Read::Unreadable => 0,
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)?;
        Ok(Mark {
            sink: Sink::File(file),
            written,
        })
    }

    /// The mark of the books in shared memory named `name`.
    pub(super) fn memory(name: &str) -> Mark {
        let written = memory_marks().get(name).copied().unwrap_or(0);
        Mark {
            sink: Sink::Memory(name.to_string()),
            written,
        }
    }

    /// Record that the books have committed `count` record writes (after the commit returned).
    /// A count at or below the mark changes nothing.
    pub(super) fn advance(&mut self, count: u64) -> std::io::Result<()> {
        if count <= self.written {
            return Ok(());
        }
        match &self.sink {
            Sink::File(file) => {
                let at = (count % 2) * SLOT as u64;
                file.write_all_at(&slot(count), at)?;
            }
            Sink::Memory(name) => {
                let mut marks = memory_marks();
                let mark = marks.entry(name.clone()).or_default();
                *mark = (*mark).max(count);
            }
        }
        self.written = count;
        Ok(())
    }
}

/// Remove the mark of books that are being replaced by new ones.
pub(super) fn remove(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(dir.join(MARK_FILE)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Committed records missing from the books at `journal`: the mark is read first, then the
/// books' count (a commit made in between only raises the count), and a count below the mark is
/// named as a problem.
pub(super) fn missing(conn: &Connection, journal: &Path) -> rusqlite::Result<Option<SealProblem>> {
    let place = place_for(journal);
    let mark = read_place(&place);
    let Some(count) = books_count(conn)? else {
        return Ok(None);
    };
    match mark {
        Read::Count(m) if m > count => Ok(Some(SealProblem {
            table: "books".into(),
            record: None,
            problem: format!(
                "{} committed record write(s) are missing: the books hold {count} where {} \
                 were committed (the write-ahead log journal.db-wal was damaged, or the books \
                 were replaced by an older copy; if an older copy was restored on purpose, \
                 remove {MARK_FILE} to accept it)",
                m - count,
                m
            ),
        })),
        Read::Unreadable => {
            tracing::warn!(mark = ?place, "the commit mark cannot be read: committed records that went missing would not be noticed until the next commit rewrites it");
            Ok(None)
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_whole_slot_counts_and_a_torn_one_is_ignored() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join(MARK_FILE);
        assert_eq!(read(&path), Read::Absent);
        let mut mark = Mark::open(&path).expect("open");
        mark.advance(7).expect("7");
        mark.advance(8).expect("8");
        assert_eq!(read(&path), Read::Count(8));
        // Lower counts never lower the mark.
        mark.advance(3).expect("3");
        assert_eq!(read(&path), Read::Count(8));
        // A torn write of slot 1 (count 9) leaves slot 0's 8.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("reopen");
        file.write_all_at(&[0xAB; 5], SLOT as u64 + 10)
            .expect("tear");
        assert_eq!(read(&path), Read::Count(8));
        // Both torn: unreadable, not a count.
        file.write_all_at(&[0xAB; 5], 10).expect("tear");
        assert_eq!(read(&path), Read::Unreadable);
        // Reopened, the mark starts from what it can read and writes on.
        let mut again = Mark::open(&path).expect("open");
        again.advance(12).expect("12");
        assert_eq!(read(&path), Read::Count(12));
    }

    #[test]
    fn a_mark_is_made_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join(MARK_FILE);
        let _mark = Mark::open(&path).expect("open");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
