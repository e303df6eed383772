//! Books that notice any change: single-bit flips anywhere in the journal file, and edits made
//! with a plain SQLite client (amounts, counts, columns, order, deleted and added rows), are
//! either harmless (unused bytes) or caught by the integrity check and the seals, with the first
//! altered record named; `report` exits 5 and `run` refuses to sell.
//!
//! `HAPPINESS_TAMPER_FLIPS` sets the number of bit flips (400 by default).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use happiness::journal::{Journal, SealKey, JOURNAL_FILE, KEY_FILE};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::Connection;

fn happiness() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_happiness"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// Books from a real session (made once, shared by the tests): coins, sales with a surprise, a
/// jam refunded, coins paid back, a restock, feedback-free config versions.
fn books() -> &'static Path {
    static BOOKS: OnceLock<tempfile::TempDir> = OnceLock::new();
    BOOKS.get_or_init(make_books).path()
}

fn make_books() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config");
    std::fs::create_dir(&config).expect("config dir");
    std::fs::write(config.join("machine.toml"), common::fast_machine()).expect("machine");
    std::fs::write(config.join("surprises.toml"), common::ALWAYS_ONE_TO_SHARE).expect("surprises");
    let data = dir.path().join("data");
    let script = "coin 200\npress 1\nwait 1500\ncoin 100\npress 2\nwait 1500\njam 3\n\
                  coin 200\npress 3\nwait 4000\nreturn\nwait 1000\nrestock 1\ncoin 50\n\
                  coin 100\npress 4\nwait 1500\nquit\n";
    let mut child = happiness()
        .args([
            "run",
            "--hardware",
            "sim",
            "--events",
            "none",
            "--listen",
            "off",
        ])
        .args(["--seed", "3"])
        .arg("--config")
        .arg(&config)
        .arg("--data")
        .arg(&data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), script.as_bytes())
        .expect("script");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A clean stop leaves everything in the main file.
    assert!(!data.join("journal.db-wal").exists());
    dir
}

/// The seal key the session's kiosk made for its books, beside its config.
fn key_file() -> PathBuf {
    books().join("config").join(KEY_FILE)
}

fn key() -> SealKey {
    SealKey::load(&key_file()).expect("the kiosk made a seal key")
}

fn data_of(books: &Path) -> PathBuf {
    books.join("data")
}

/// Every table's rows, as text, in order: what the books say, all of it.
fn dump(dir: &Path) -> Result<String, String> {
    let journal = Journal::open_read_only(dir).map_err(|e| e.to_string())?;
    let _ = journal;
    let conn = Connection::open_with_flags(
        dir.join(JOURNAL_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .map_err(|e| e.to_string())?;
    let mut out = String::new();
    for table in [
        "credit_events",
        "vends",
        "surprises",
        "payouts",
        "inventory",
        "meta",
        "events",
        "config_versions",
        "feedback",
        "seals",
    ] {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))
            .map_err(|e| e.to_string())?;
        let n = stmt.column_count();
        let mut rows = stmt.query([]).map_err(|e| e.to_string())?;
        while let Some(row) = rows.next().map_err(|e| e.to_string())? {
            out.push_str(table);
            for i in 0..n {
                let v: rusqlite::types::Value = row.get(i).map_err(|e| e.to_string())?;
                out.push_str(&format!("|{v:?}"));
            }
            out.push('\n');
        }
    }
    Ok(out)
}

/// Whether the checks flag the books in `dir`: it cannot be opened or read, the file's
/// structure is broken, or a record does not match its seal.
fn flagged(dir: &Path) -> Option<String> {
    match Journal::open_read_only_with(dir, Some(key())).and_then(|j| j.report()) {
        Err(e) => Some(e.to_string()),
        Ok(r) if r.exit_code() == 5 => Some(
            r.seals
                .problems
                .first()
                .map_or(r.integrity.clone(), ToString::to_string),
        ),
        Ok(_) => None,
    }
}

fn copy_books(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().expect("tempdir");
    std::fs::copy(from.join(JOURNAL_FILE), to.path().join(JOURNAL_FILE)).expect("copy");
    to
}

#[test]
fn every_single_bit_flip_is_harmless_or_caught() {
    let original = data_of(books());
    let clean = dump(&original).expect("dump");
    assert!(flagged(&original).is_none(), "clean books pass");
    let report = Journal::open_read_only_with(&original, Some(key()))
        .and_then(|j| j.report())
        .expect("report");
    assert!(
        report.surprises.iter().any(|s| s.count > 0),
        "a surprise is in the books"
    );
    assert!(!report.refunds.is_empty(), "a refund is in the books");
    assert!(report.money.paid_out.get() > 0, "a payout is in the books");
    let bytes = std::fs::read(original.join(JOURNAL_FILE)).expect("read");
    let flips: usize = std::env::var("HAPPINESS_TAMPER_FLIPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let (mut caught, mut harmless) = (0, 0);
    for _ in 0..flips {
        let at = rng.random_range(0..bytes.len());
        let bit = rng.random_range(0..8u8);
        let copy = copy_books(&original);
        let mut changed = bytes.clone();
        changed[at] ^= 1 << bit;
        std::fs::write(copy.path().join(JOURNAL_FILE), &changed).expect("write");
        if flagged(copy.path()).is_some() {
            caught += 1;
            continue;
        }
        // Not flagged: then the books must say exactly what they said before.
        match dump(copy.path()) {
            Ok(d) if d == clean => harmless += 1,
            Ok(_) => panic!("a flip of bit {bit} at byte {at} changed the books unnoticed"),
            Err(e) => panic!("a flip at byte {at} broke reading without being flagged: {e}"),
        }
    }
    eprintln!("{flips} bit flips: {caught} caught, {harmless} harmless");
    assert_eq!(caught + harmless, flips);
    assert!(caught > 0, "the corpus reaches the records");
}

/// Open the books with a plain SQLite client (without this program's functions) and run `sql`.
fn plain_client(dir: &Path, sql: &str) -> rusqlite::Result<()> {
    let conn = Connection::open(dir.join(JOURNAL_FILE))?;
    conn.execute_batch(sql)
}

fn drop_seal_triggers(dir: &Path) {
    let conn = Connection::open(dir.join(JOURNAL_FILE)).expect("open");
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("names");
    for name in names {
        conn.execute_batch(&format!("DROP TRIGGER {name}"))
            .expect("drop trigger");
    }
}

#[test]
fn edits_with_a_plain_sqlite_client_are_refused_or_caught_naming_the_record() {
    let original = data_of(books());
    // The seal triggers call functions a plain client does not have: its edits fail outright.
    let copy = copy_books(&original);
    let err = plain_client(copy.path(), "UPDATE vends SET price = 1 WHERE id = 1")
        .expect_err("an edit through the triggers fails");
    assert!(err.to_string().contains("hm_seal"), "{err}");

    let cases: &[(&str, &str, &str)] = &[
        ("a coin's amount", "UPDATE credit_events SET amount = amount + 100 WHERE id = 1", "credit_events record 1"),
        ("a sale's price", "UPDATE vends SET price = 10 WHERE id = 1", "vends record 1"),
        ("a vend's column", "UPDATE vends SET column_no = 2 WHERE id = 1", "vends record 1"),
        ("a vend's outcome", "UPDATE vends SET outcome = 'refunded' WHERE outcome = 'delivered' AND id = 2", "vends record 2"),
        ("the stock", "UPDATE inventory SET stock = stock + 3 WHERE column_no = 1", "inventory record 1"),
        ("the credit held", "UPDATE meta SET value = '900' WHERE key = 'credit'", "meta record"),
        ("the order of two coins", "UPDATE credit_events SET id = 1000 WHERE id = 1; UPDATE credit_events SET id = 1 WHERE id = 2; UPDATE credit_events SET id = 2 WHERE id = 1000", "credit_events record 1"),
        ("a deleted coin", "DELETE FROM credit_events WHERE id = 2", "credit_events record 2"),
        ("the last coin deleted", "DELETE FROM credit_events WHERE id = (SELECT max(id) FROM credit_events)", "credit_events"),
        ("an added coin", "INSERT INTO credit_events (at, kind, amount, credit_after) VALUES (0, 'coin', 200, 200)", "credit_events record"),
        ("a payout", "UPDATE payouts SET paid = paid + 1", "payouts record 1"),
        ("a table's digest", "UPDATE seals SET rows = rows + 1 WHERE tbl = 'vends'", "vends"),
    ];
    for (what, sql, named) in cases {
        let copy = copy_books(&original);
        drop_seal_triggers(copy.path());
        plain_client(copy.path(), sql).unwrap_or_else(|e| panic!("{what}: {e}"));
        let first = flagged(copy.path()).unwrap_or_else(|| panic!("{what}: not caught"));
        assert!(
            first.contains(named),
            "{what}: the first problem names {named}: {first}"
        );
        // The command line says so with its own exit code, in both formats.
        for json in [false, true] {
            let mut cmd = happiness();
            cmd.arg("report").arg("--data").arg(copy.path());
            cmd.arg("--key").arg(key_file());
            if json {
                cmd.arg("--json");
            }
            let out = cmd.output().expect("report");
            assert_eq!(out.status.code(), Some(5), "{what} (json {json})");
        }
        // And the audit gives no figures from them.
        let out = happiness()
            .arg("audit")
            .arg("--data")
            .arg(copy.path())
            .arg("--config")
            .arg(books().join("config"))
            .output()
            .expect("audit");
        assert_eq!(out.status.code(), Some(5), "{what}: {out:?}");
        assert!(out.stdout.is_empty(), "{what}: figures printed");
    }
    // Dropping the triggers alone is noticed too: later writes would go unsealed.
    let copy = copy_books(&original);
    drop_seal_triggers(copy.path());
    let first = flagged(copy.path()).expect("missing triggers are caught");
    assert!(first.contains("trigger"), "{first}");
}

#[test]
fn the_kiosk_refuses_to_sell_on_altered_books() {
    let original = data_of(books());
    let copy: PathBuf = copy_books(&original).keep();
    drop_seal_triggers(&copy);
    plain_client(&copy, "UPDATE credit_events SET amount = 500 WHERE id = 3").expect("edit");
    let out = happiness()
        .args([
            "run",
            "--hardware",
            "sim",
            "--events",
            "json",
            "--listen",
            "off",
        ])
        .arg("--data")
        .arg(&copy)
        .arg("--key")
        .arg(key_file())
        .stdin(Stdio::null())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(5),
        "books that need an operator: {stderr}"
    );
    assert!(stderr.contains("were altered"), "{stderr}");
    assert!(stderr.contains("credit_events record 3"), "{stderr}");
    assert!(
        stdout.contains("\"type\":\"ready\""),
        "the kiosk was up: {stdout}"
    );
    assert!(
        !stdout.contains("\"type\":\"selling\""),
        "but never sold: {stdout}"
    );
    assert!(
        stdout.contains("\"screen\":\"out_of_service\""),
        "and said so: {stdout}"
    );
    let _ = std::fs::remove_dir_all(&copy);
}

/// Run `sql` with a plain client after lifting the seal triggers, then put them back as they
/// were: the schema then matches, and only the edit itself is left to find.
fn edit_behind_the_triggers(dir: &Path, sql: &str) {
    let conn = Connection::open(dir.join(JOURNAL_FILE)).expect("open");
    let triggers: Vec<(String, String)> = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("triggers");
    for (name, _) in &triggers {
        conn.execute_batch(&format!("DROP TRIGGER {name}"))
            .expect("drop trigger");
    }
    conn.execute_batch(sql).expect("edit");
    for (_, sql) in &triggers {
        conn.execute_batch(sql).expect("restore trigger");
    }
}

/// A simulated kiosk started on the books in `dir` with the seal key at `key`, stdin closed.
fn run_kiosk(dir: &Path, key: &Path) -> std::process::Output {
    happiness()
        .args([
            "run",
            "--hardware",
            "sim",
            "--events",
            "none",
            "--listen",
            "off",
        ])
        .arg("--data")
        .arg(dir)
        .arg("--key")
        .arg(key)
        .stdin(Stdio::null())
        .output()
        .expect("run")
}

/// What `report`, `audit` and `run` say of the books in `dir`: their exit codes and all they
/// wrote to stderr.
fn verdicts(dir: &Path) -> ([Option<i32>; 3], String) {
    let report = happiness()
        .args(["report", "--data"])
        .arg(dir)
        .arg("--key")
        .arg(key_file())
        .output()
        .expect("report");
    let audit = happiness()
        .args(["audit", "--data"])
        .arg(dir)
        .arg("--key")
        .arg(key_file())
        .output()
        .expect("audit");
    let run = run_kiosk(dir, &key_file());
    let text = [&report, &audit, &run]
        .iter()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr)
        })
        .collect::<Vec<_>>()
        .join("\n---\n");
    (
        [report.status.code(), audit.status.code(), run.status.code()],
        text,
    )
}

#[test]
fn a_digest_turned_to_text_is_damage_everywhere() {
    let copy = copy_books(&data_of(books()));
    edit_behind_the_triggers(
        copy.path(),
        "UPDATE seals SET digest = 'not a digest' WHERE tbl = 'vends'",
    );
    let (codes, text) = verdicts(copy.path());
    assert_eq!(codes, [Some(5); 3], "{text}");
    assert!(text.contains("vends: its record count or digest"), "{text}");
}

#[test]
fn a_schema_version_reset_to_zero_is_damage_everywhere() {
    let copy = copy_books(&data_of(books()));
    plain_client(copy.path(), "PRAGMA user_version = 0").expect("edit");
    let (codes, text) = verdicts(copy.path());
    assert_eq!(codes, [Some(5); 3], "{text}");
    assert!(text.contains("schema version reads 0"), "{text}");
    assert!(!text.contains("is empty"), "{text}");
    assert!(!text.contains("balanced"), "{text}");
}

#[test]
fn a_foreign_sqlite_file_is_not_these_books() {
    let dir = tempfile::tempdir().expect("dir");
    let conn = Connection::open(dir.path().join(JOURNAL_FILE)).expect("open");
    conn.execute_batch("CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('soup');")
        .expect("foreign");
    drop(conn);
    let before = std::fs::read(dir.path().join(JOURNAL_FILE)).expect("read");
    let (codes, text) = verdicts(dir.path());
    assert_eq!(codes, [Some(5); 3], "{text}");
    assert!(text.contains("is not this program's books"), "{text}");
    assert!(text.contains("recipes"), "{text}");
    assert_eq!(
        std::fs::read(dir.path().join(JOURNAL_FILE)).expect("read"),
        before,
        "nothing was written into it"
    );
}

/// Open the books with a plain client that registers stand-ins for the functions the triggers
/// call (anyone who reads the schema can write them), then run `sql`: the triggers run, but
/// without the machine's key nothing they write can match it.
fn edit_with_stand_ins(dir: &Path, sql: &str) {
    use rusqlite::functions::FunctionFlags;
    use sha2::{Digest, Sha256};
    let conn = Connection::open(dir.join(JOURNAL_FILE)).expect("open");
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    let text = |ctx: &rusqlite::functions::Context<'_>| {
        (0..ctx.len())
            .map(|i| format!("{:?}", ctx.get_raw(i)))
            .collect::<String>()
    };
    conn.create_scalar_function("hm_seal", -1, flags, move |ctx| {
        Ok(Sha256::digest(text(ctx).as_bytes())[..16].to_vec())
    })
    .expect("stand-in");
    conn.create_scalar_function("hm_mac", 3, flags, move |ctx| {
        Ok(Sha256::digest(text(ctx).as_bytes())[..16].to_vec())
    })
    .expect("stand-in");
    let u128_of = |v: rusqlite::types::ValueRef<'_>| match v {
        rusqlite::types::ValueRef::Blob(b) if b.len() == 16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            u128::from_le_bytes(a)
        }
        _ => 0,
    };
    conn.create_scalar_function("hm_add", 2, flags, move |ctx| {
        let sum = u128_of(ctx.get_raw(0)).wrapping_add(u128_of(ctx.get_raw(1)));
        Ok(sum.to_le_bytes().to_vec())
    })
    .expect("stand-in");
    conn.create_scalar_function("hm_sub", 2, flags, move |ctx| {
        let sum = u128_of(ctx.get_raw(0)).wrapping_sub(u128_of(ctx.get_raw(1)));
        Ok(sum.to_le_bytes().to_vec())
    })
    .expect("stand-in");
    conn.execute_batch(sql)
        .expect("the edit goes through the triggers");
}

#[test]
fn edits_without_the_key_are_named_even_through_stand_in_functions() {
    let original = data_of(books());
    let cases: &[(&str, &str, &str)] = &[
        ("every payout deleted (its table's count 0, digest 0)", "DELETE FROM payouts", "books: the table of seals"),
        ("a config version deleted", "DELETE FROM config_versions WHERE id = (SELECT max(id) FROM config_versions)", "books: the table of seals"),
        ("a coin's amount", "UPDATE credit_events SET amount = amount + 100 WHERE id = 1", "credit_events record 1"),
        ("the stock", "UPDATE inventory SET stock = stock + 3 WHERE column_no = 1", "inventory record 1"),
        ("a coin added", "INSERT INTO credit_events (at, kind, amount, credit_after) VALUES (0, 'coin', 200, 200)", "credit_events record"),
        ("the key's id removed", "UPDATE books_seal SET key_id = NULL", "not sealed with this machine's key"),
    ];
    for (what, sql, named) in cases {
        let copy = copy_books(&original);
        edit_with_stand_ins(copy.path(), sql);
        let first = flagged(copy.path()).unwrap_or_else(|| panic!("{what}: not caught"));
        assert!(first.contains(named), "{what}: {first}");
        let (codes, text) = verdicts(copy.path());
        assert_eq!(codes, [Some(5); 3], "{what}: {text}");
    }
    // A copy of the books elsewhere is checked with `--key`, and cannot be without it.
    let copy = copy_books(&original);
    let with_key = happiness()
        .args(["report", "--data"])
        .arg(copy.path())
        .arg("--key")
        .arg(key_file())
        .output()
        .expect("report");
    assert_eq!(with_key.status.code(), Some(0), "{with_key:?}");
    let elsewhere = tempfile::tempdir().expect("dir");
    let without = happiness()
        .args(["report", "--data"])
        .arg(copy.path())
        .arg("--config")
        .arg(elsewhere.path())
        .output()
        .expect("report");
    assert_eq!(without.status.code(), Some(5));
    assert!(
        String::from_utf8_lossy(&without.stdout).contains("not at hand")
            || String::from_utf8_lossy(&without.stderr).contains("not at hand")
    );
    // And the kiosk will not sell on books without their key, nor make a new one for them.
    let run = run_kiosk(copy.path(), &elsewhere.path().join(KEY_FILE));
    assert_eq!(run.status.code(), Some(5), "{run:?}");
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("is missing"),
        "{run:?}"
    );
    assert!(
        !elsewhere.path().join(KEY_FILE).exists(),
        "no new key for keyed books"
    );
}
