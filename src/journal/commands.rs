//! Fleet commands by id, kept for a day: a command is carried out at most once even when the
//! broker hands it out again after a restart (a restock of 4 must not load 8). The id is
//! recorded before the command runs and its reply after, so a restart in between leaves an id
//! with no reply: such a command is not run again, and its sender is told its outcome is not
//! known. Not sealed: these are a queue's bookkeeping, not books of money.

use rusqlite::{params, OptionalExtension};

use super::*;

/// How long a command id is remembered.
pub const COMMAND_MEMORY_SECS: i64 = 24 * 3600;

/// What the books know of a command id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandSeen {
    /// Never seen (within a day): it is now recorded as started, and may be carried out.
    New,
    /// Carried out already: this was its reply (JSON).
    Answered(String),
    /// Received before a restart and never answered: it may or may not have taken effect.
    Unfinished,
}

impl Journal {
    /// Look a command id up, and record it as started if it is new (forgetting ids older than a
    /// day). One transaction: two arrivals of the same id cannot both be new.
    pub fn command_arrived(
        &mut self,
        now: LocalTime,
        id: &str,
    ) -> Result<CommandSeen, JournalError> {
        let known: Option<Option<String>> = self
            .conn
            .prepare_cached("SELECT reply FROM fleet_commands WHERE id = ?1 AND at >= ?2")?
            .query_row(params![id, now.secs() - COMMAND_MEMORY_SECS], |r| r.get(0))
            .optional()?;
        match known {
            Some(Some(reply)) => return Ok(CommandSeen::Answered(reply)),
            Some(None) => return Ok(CommandSeen::Unfinished),
            None => {}
        }
        self.gate()?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM fleet_commands WHERE at < ?1",
            [now.secs() - COMMAND_MEMORY_SECS],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO fleet_commands (id, at, reply) VALUES (?1, ?2, NULL)",
            params![id, now.secs()],
        )?;
        tx.commit()?;
        self.committed();
        Ok(CommandSeen::New)
    }

    /// Record the reply a command got, for a copy of it that comes again.
    pub fn command_answered(&mut self, id: &str, reply: &str) -> Result<(), JournalError> {
        self.gate()?;
        self.conn
            .prepare_cached("UPDATE fleet_commands SET reply = ?2 WHERE id = ?1")?
            .execute(params![id, reply])?;
        self.committed();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_new_once_a_day_and_keeps_its_reply_across_a_reopen() {
        let dir = tempfile::tempdir().expect("dir");
        let t = LocalTime::from_ymd_hm(2026, 12, 3, 10, 0).expect("time");
        {
            let mut j = Journal::open_dir(dir.path()).expect("journal");
            assert_eq!(j.command_arrived(t, "dup-1").expect("a"), CommandSeen::New);
            assert_eq!(
                j.command_arrived(t, "dup-1").expect("b"),
                CommandSeen::Unfinished
            );
            j.command_answered("dup-1", "{\"ok\":true}").expect("reply");
            assert_eq!(j.command_arrived(t, "lost").expect("c"), CommandSeen::New);
        }
        let mut j = Journal::open_dir(dir.path()).expect("reopened");
        assert_eq!(
            j.command_arrived(t.plus_secs(60), "dup-1").expect("d"),
            CommandSeen::Answered("{\"ok\":true}".into())
        );
        assert_eq!(
            j.command_arrived(t.plus_secs(60), "lost").expect("e"),
            CommandSeen::Unfinished
        );
        // A day later the id is forgotten, and the books do not grow for good.
        let later = t.plus_secs(COMMAND_MEMORY_SECS + 61);
        assert_eq!(
            j.command_arrived(later, "dup-1").expect("f"),
            CommandSeen::New
        );
        let rows: i64 = j
            .conn
            .query_row("SELECT count(*) FROM fleet_commands", [], |r| r.get(0))
            .expect("count");
        assert_eq!(rows, 1);
        assert!(j.check_books().expect("check").passed());
    }
}
