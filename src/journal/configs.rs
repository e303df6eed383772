//! Config versions in the books: every accepted `surprises.toml` (and the machine's files) with
//! where it came from and a diff, so that an operator can roll back.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::*;

impl Journal {
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
        self.committed();
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
