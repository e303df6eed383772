//! The books' own seal: the id of the key they are sealed with, and a keyed hash over the count
//! of record writes and every table's count and digest, rewritten by the `seals_count` trigger
//! at every write; keying books sealed without a key; checking the books' seal.

use super::*;

/// The keyed hash over the books' count of record writes and every table's count and digest
/// (`digests` as `group_concat` in the triggers writes it).
pub(super) fn books_mac(key: &SealKey, n: i64, digests: &str) -> [u8; 16] {
    let full = key.mac(&[b"books".as_slice(), &n.to_le_bytes(), digests.as_bytes()]);
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

/// Every table's count and digest, as the triggers feed them to the books' seal.
const DIGESTS: &str =
    "SELECT group_concat(tbl || ':' || rows || ':' || hex(digest), ';' ORDER BY tbl) FROM seals";

/// The id of the key the books are sealed with, if any (`None` too for books from before the
/// books' seal).
pub(in crate::journal) fn books_key_id(conn: &Connection) -> rusqlite::Result<Option<String>> {
    let has = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'books_seal'",
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if !has {
        return Ok(None);
    }
    Ok(conn
        .query_row("SELECT key_id FROM books_seal", [], |r| {
            r.get::<_, Option<String>>(0)
        })
        .optional()?
        .flatten())
}

/// Whether the books hold any record at all (new books may take a key as they are).
pub(in crate::journal) fn holds_records(conn: &Connection) -> rusqlite::Result<bool> {
    let rows: i64 = conn.query_row("SELECT coalesce(sum(rows), 0) FROM seals", [], |r| r.get(0))?;
    Ok(rows > 0)
}

/// Seal books that were sealed without a key with `key`: every row's seal, every table's
/// digest, the key's id and the books' seal, in one transaction. The caller has checked the
/// plain seals first: sealing damage in with a key would vouch for it.
pub(in crate::journal) fn key_books(conn: &mut Connection, key: &SealKey) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for t in SEALED {
        let values = t.columns.join(", ");
        let table = t.table;
        tx.execute(
            &format!("UPDATE {table} SET seal = hm_seal('{table}', rowid, {values})"),
            [],
        )?;
        let scan = scan_table(&tx, Some(key), t, &mut |_| {})?;
        tx.execute(
            "UPDATE seals SET digest = ?1 WHERE tbl = ?2",
            rusqlite::params![scan.digest.to_le_bytes().to_vec(), table],
        )?;
    }
    tx.execute("UPDATE books_seal SET key_id = ?1", [key.id()])?;
    tx.execute(
        &format!("UPDATE books_seal SET mac = hm_mac(key_id, n, ({DIGESTS}))"),
        [],
    )?;
    tx.commit()
}

/// The books' own seal against the key: which key they are sealed with, and whether every
/// table's count and digest are what the key vouched for at the last write.
pub(super) fn books_problem(
    conn: &Connection,
    key: Option<&SealKey>,
) -> rusqlite::Result<Option<SealProblem>> {
    let problem = |text: String| {
        Some(SealProblem {
            table: "books".into(),
            record: None,
            problem: text,
        })
    };
    let Some(id) = books_key_id(conn)? else {
        return Ok(match key {
            Some(k) if holds_records(conn)? => problem(format!(
                "the books are not sealed with this machine's key ({}): they were sealed \
                 again without it, outside the journal",
                k.id()
            )),
            _ => None,
        });
    };
    let Some(key) = key.filter(|k| k.id() == id) else {
        return Ok(problem(match key {
            Some(k) => format!(
                "the books are sealed with key {id}, not with the key given ({}): pass the \
                 machine's own seal.key",
                k.id()
            ),
            None => format!(
                "the books are sealed with key {id}, which is not at hand: their seals cannot \
                 be checked without it (pass --key with the machine's seal.key)"
            ),
        }));
    };
    let (n, mac, digests): (i64, Option<Vec<u8>>, Option<String>) = conn.query_row(
        &format!("SELECT n, mac, ({DIGESTS}) FROM books_seal"),
        [],
        |r| {
            let n = match r.get_ref(0)? {
                ValueRef::Integer(n) => n,
                _ => -1,
            };
            let mac = match r.get_ref(1)? {
                ValueRef::Blob(b) => Some(b.to_vec()),
                _ => None,
            };
            Ok((n, mac, r.get(2)?))
        },
    )?;
    let expected = books_mac(key, n, digests.as_deref().unwrap_or(""));
    Ok(if mac.as_deref() == Some(expected.as_slice()) {
        None
    } else {
        problem(
            "the table of seals does not match the books' seal: a table's count or digest was \
             set outside the journal, by someone without the key"
                .to_string(),
        )
    })
}
