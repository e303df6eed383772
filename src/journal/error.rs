//! Why the books could not be opened or written, and which of those need an operator.

use std::path::PathBuf;

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
    /// The journal file is an SQLite database, but not this program's books.
    #[error(
        "the journal {} is not this program's books (an SQLite database holding {}): the kiosk \
         will not sell on it or write into it. Move it aside and put the books back (from a \
         backup), or start new books with --new-books in an empty directory",
        path.display(),
        tables.join(", ")
    )]
    NotOurBooks {
        /// The file.
        path: PathBuf,
        /// The tables it holds.
        tables: Vec<String>,
    },
    /// The seal key cannot be read or made.
    #[error("cannot use the seal key {}: {cause}", path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// Why.
        cause: String,
    },
    /// The books and the machine's seal key do not go together.
    #[error(
        "the books {} cannot be opened with this machine's seal key: {why}",
        path.display()
    )]
    KeyRefused {
        /// The books.
        path: PathBuf,
        /// Why, and what to do.
        why: String,
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
    /// The books do not check out, so no figures are given from them (the audit file).
    #[error("no audit from these books: {why}; see `happiness report`, which shows what is wrong")]
    Unvouched {
        /// `happiness report`'s exit code: 4 unbalanced, 5 damaged or altered.
        code: u8,
        /// What is wrong.
        why: String,
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
                | JournalError::NotOurBooks { .. }
                | JournalError::Key { .. }
                | JournalError::KeyRefused { .. }
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
