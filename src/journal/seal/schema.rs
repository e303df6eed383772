//! The schema as this program writes it (for the books' own version), compared with the one in
//! the file.

use super::*;

/// The schema as this program writes it, next to the one in the file: a flipped bit in a table's
/// definition can change what a column reads (an id that is no longer the row id reads as
/// nothing) without touching a single record.
pub(super) fn schema_problems(conn: &Connection) -> rusqlite::Result<Vec<SealProblem>> {
    let known = crate::journal::Journal::schema_version();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let mut problems = Vec::new();
    if !(1..=known).contains(&version) {
        problems.push(SealProblem {
            table: "schema".into(),
            record: None,
            problem: format!(
                "the schema version reads {version}, which this program never writes for books \
                 that hold records: the file's header was changed outside the journal"
            ),
        });
    }
    // Books of an earlier version (not yet opened by this program's kiosk, which brings them up
    // to date) are checked against the schema of their own version.
    let of = if (1..=known).contains(&version) {
        version
    } else {
        known
    };
    let Some(expected) = expected_schema(of) else {
        return Ok(problems);
    };
    let found = schema_of(conn)?;
    for (key, sql) in expected {
        let (kind, name) = key;
        let problem = match found.get(key) {
            None => format!("{kind} {name} was removed"),
            Some(s) if s != sql => format!("the definition of {kind} {name} was changed"),
            Some(_) => continue,
        };
        let why = if kind == "trigger" {
            "records written without it are not sealed"
        } else {
            "the books may no longer read as they were written"
        };
        problems.push(SealProblem {
            table: "schema".into(),
            record: None,
            problem: format!("{problem}: {why}"),
        });
    }
    for (kind, name) in found.keys().filter(|k| !expected.contains_key(k)) {
        problems.push(SealProblem {
            table: "schema".into(),
            record: None,
            problem: format!("{kind} {name} was added outside the journal"),
        });
    }
    Ok(problems)
}

type Schema = std::collections::BTreeMap<(String, String), Option<String>>;

/// The schema this program writes for books of `version`, built once per version per process.
fn expected_schema(version: i64) -> Option<&'static Schema> {
    use std::sync::{Mutex, OnceLock};
    static BUILT: OnceLock<Mutex<Vec<(i64, &'static Schema)>>> = OnceLock::new();
    let built = BUILT.get_or_init(|| Mutex::new(Vec::new()));
    let mut built = built
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, schema)) = built.iter().find(|(v, _)| *v == version) {
        return Some(schema);
    }
    let mut fresh = Connection::open_in_memory().ok()?;
    register(&fresh, None).ok()?;
    crate::journal::setup::migrate_upto(&mut fresh, std::path::Path::new(":memory:"), version)
        .ok()?;
    // At most one per schema version ever made, for the life of the process.
    let schema: &'static Schema = Box::leak(Box::new(schema_of(&fresh).ok()?));
    built.push((version, schema));
    Some(schema)
}

fn schema_of(conn: &Connection) -> rusqlite::Result<Schema> {
    let mut stmt = conn.prepare(
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
    )?;
    let rows = stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?;
    rows.collect()
}
