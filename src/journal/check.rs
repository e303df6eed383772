//! The checks before selling: SQLite's integrity check and every seal, on the kiosk's own
//! connection or, at start, on a read-only one of their own.

use std::path::Path;

use rusqlite::Connection;
use serde::Serialize;

use super::*;

impl Journal {
    /// Run the checks the kiosk passes before it sells: SQLite's integrity check and every seal.
    pub fn check_books(&self) -> Result<BooksCheck, JournalError> {
        check_connection(&self.conn, &self.path, self.key.as_ref())
    }

    /// Run `PRAGMA integrity_check` now.
    pub fn integrity(&self) -> Result<String, JournalError> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
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

fn check_connection(
    conn: &Connection,
    path: &Path,
    key: Option<&SealKey>,
) -> Result<BooksCheck, JournalError> {
    let began = std::time::Instant::now();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| open::classify(path, e))?;
    // The mark is read before the books' count (inside `mark::missing`), so a commit made
    // meanwhile by a running kiosk cannot look like a loss.
    let missing = mark::missing(conn, path).map_err(|e| open::classify(path, e))?;
    // Seals over a file whose structure is broken would only add noise.
    let mut seals = if integrity == "ok" {
        seal::check(conn, key).map_err(|e| open::classify(path, e))?
    } else {
        SealReport::default()
    };
    seals.problems.splice(0..0, missing);
    Ok(BooksCheck {
        integrity,
        seals,
        millis: u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// Run the checks on the journal in `dir` through a connection of their own, read-only: how the
/// kiosk checks its books on another thread while its display and pages are already up. `key`
/// is the machine's seal key.
pub fn check_books_in(dir: &Path, key: Option<SealKey>) -> Result<BooksCheck, JournalError> {
    let journal = Journal::open_read_only_with(dir, key)?;
    journal.check_books()
}
