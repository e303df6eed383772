//! Books in shared memory, as the fault campaign damages them on purpose: a copy put back over
//! newer books (what a flipped bit in the write-ahead log does to books on disk: SQLite drops
//! every commit after it), and an edit made without the key by someone who registered stand-ins
//! for the seal functions. The checks must name both at the next start.
//!
//! Owns: those two faults on books in memory. Must not touch: books on disk, the key.

use rusqlite::backup::Backup;
use rusqlite::Connection;

use super::setup::shared_memory_connection;
use super::JournalError;

/// A copy of books in shared memory, taken at one moment.
pub struct MemoryCopy {
    conn: Connection,
    records: u64,
}

impl std::fmt::Debug for MemoryCopy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCopy")
            .field("records", &self.records)
            .finish()
    }
}

fn record_writes(conn: &Connection) -> Result<u64, JournalError> {
    Ok(super::mark::books_count(conn)?.unwrap_or(0))
}

impl MemoryCopy {
    /// Copy the books in shared memory named `name` as they are now.
    pub fn take(name: &str) -> Result<MemoryCopy, JournalError> {
        let source = shared_memory_connection(name)?;
        let mut conn = Connection::open_in_memory()?;
        Backup::new(&source, &mut conn)?.run_to_completion(256, std::time::Duration::ZERO, None)?;
        let records = record_writes(&conn)?;
        Ok(MemoryCopy { conn, records })
    }

    /// Put this copy back over the books named `name` (no journal may be open on them). The
    /// record writes the books lose by it: none when nothing was committed since the copy.
    pub fn put_back(&self, name: &str) -> Result<u64, JournalError> {
        let mut target = shared_memory_connection(name)?;
        let now = record_writes(&target)?;
        if now <= self.records {
            return Ok(0);
        }
        Backup::new(&self.conn, &mut target)?.run_to_completion(
            256,
            std::time::Duration::ZERO,
            None,
        )?;
        Ok(now - self.records)
    }
}

/// Delete the newest credit event (a coin, a payout) from the books named `name` the way a
/// determined editor without the key would: with stand-ins for the seal functions, so that the
/// triggers run and the plain seals agree. Whether there was one to delete.
pub fn edit_memory_books_without_key(name: &str) -> Result<bool, JournalError> {
    let conn = shared_memory_connection(name)?;
    super::seal::register_stand_ins(&conn)?;
    let deleted = conn.execute(
        "DELETE FROM credit_events WHERE id = (SELECT max(id) FROM credit_events)",
        [],
    )?;
    Ok(deleted > 0)
}

#[cfg(test)]
mod tests;
