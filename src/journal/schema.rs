//! The journal's schema: one migration per version, applied in order at open.

/// One migration.
pub(super) enum Step {
    /// Plain SQL.
    Sql(&'static str),
    /// Seal every record and install the triggers that keep them sealed ([`super::seal`]).
    Seals,
    /// Seal a table made by an earlier step of the same migration list.
    SealTable(&'static str),
    /// Let `vends.kind` be `test` (an operator's service test): the CHECK constraint is widened
    /// in place, as SQLite documents for changes that no stored row can violate, so the sealed
    /// rows keep their ids and seals.
    AllowTestVends,
}

/// The CHECK on `vends.kind` before and after [`Step::AllowTestVends`].
pub(super) const VEND_KINDS_BEFORE: &str = "CHECK (kind IN ('paid', 'surprise'))";
/// See [`VEND_KINDS_BEFORE`].
pub(super) const VEND_KINDS_AFTER: &str = "CHECK (kind IN ('paid', 'surprise', 'test'))";

/// The schema, one migration per version (index 0 takes an empty database to version 1).
pub(super) const MIGRATIONS: &[Step] = &[
    Step::Sql(
        r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE credit_events (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('coin', 'payout')),
    amount       INTEGER NOT NULL CHECK (amount > 0),
    credit_after INTEGER NOT NULL CHECK (credit_after >= 0)
);
CREATE TABLE surprises (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    vend_id   INTEGER REFERENCES vends(id),
    name      TEXT NOT NULL,
    kind      TEXT NOT NULL,
    cost      INTEGER NOT NULL CHECK (cost >= 0),
    planned   INTEGER NOT NULL CHECK (planned >= 0),
    delivered INTEGER NOT NULL DEFAULT 0 CHECK (delivered >= 0),
    status    TEXT NOT NULL CHECK (status IN ('open', 'complete', 'partial')),
    message   TEXT NOT NULL
);
CREATE TABLE vends (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('paid', 'surprise')),
    column_no   INTEGER NOT NULL,
    product     TEXT NOT NULL,
    price       INTEGER NOT NULL CHECK (price >= 0),
    started_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 1,
    outcome     TEXT CHECK (outcome IN ('delivered', 'refunded', 'failed', 'interrupted')),
    reason      TEXT,
    ended_at    INTEGER,
    surprise_id INTEGER REFERENCES surprises(id)
);
-- At most one vend is ever open: the vend core runs one at a time.
CREATE UNIQUE INDEX vends_one_open ON vends ((outcome IS NULL)) WHERE outcome IS NULL;
CREATE TABLE inventory (
    column_no  INTEGER PRIMARY KEY,
    product    TEXT NOT NULL,
    stock      INTEGER NOT NULL CHECK (stock >= 0),
    status     TEXT NOT NULL,
    reason     TEXT,
    updated_at INTEGER NOT NULL
);
CREATE TABLE payouts (
    id         INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL,
    planned    INTEGER NOT NULL,
    paid       INTEGER NOT NULL DEFAULT 0,
    finished   INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    column_no INTEGER,
    detail    TEXT NOT NULL DEFAULT ''
);
CREATE TABLE config_versions (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    file    TEXT NOT NULL,
    source  TEXT NOT NULL,
    content TEXT NOT NULL
);
"#,
    ),
    Step::Sql(
        r#"
ALTER TABLE config_versions ADD COLUMN diff TEXT NOT NULL DEFAULT '';
CREATE TABLE feedback (
    id    INTEGER PRIMARY KEY,
    at    INTEGER NOT NULL,
    happy INTEGER NOT NULL CHECK (happy IN (0, 1))
);
"#,
    ),
    Step::Seals,
    // The dashboard asks about periods after every sale: the records by time.
    Step::Sql(
        r#"
CREATE INDEX vends_by_time ON vends (coalesce(ended_at, started_at), kind, outcome, price, column_no);
CREATE INDEX surprises_by_time ON surprises (at, cost, kind);
CREATE INDEX events_by_time ON events (at);
CREATE INDEX feedback_by_time ON feedback (at);
"#,
    ),
    // The fleet link's outbox: one JSON object per record, written by triggers in the same
    // transaction as the record, deleted once the broker has it. AUTOINCREMENT: a sequence
    // number is never given twice, even after the rows before it are gone. Not sealed: it is a
    // queue of copies, not books.
    Step::Sql(
        r#"
CREATE TABLE outbox (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    payload TEXT NOT NULL
);
"#,
    ),
    // The audit (EVA-DTS): service test vends, and every read of the audit data with the
    // lifetime counters at that moment, so that "since the last reset" is now minus the
    // counters of the last read with reset.
    Step::AllowTestVends,
    Step::Sql(
        r#"
CREATE TABLE audit_reads (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    reset    INTEGER NOT NULL CHECK (reset IN (0, 1)),
    reader   TEXT NOT NULL,
    counters TEXT NOT NULL
);
"#,
    ),
    Step::SealTable("audit_reads"),
    // The books' own seal: the count of record writes, for the commit mark beside the books
    // (`super::mark`: every record sealed bumps it, in the record's own transaction), the id of
    // the key the books are sealed with (`super::key`), and a keyed hash over the count and
    // every table's digest, so that no table's count or digest can be set without the key.
    Step::Sql(
        r#"
CREATE TABLE books_seal (n INTEGER NOT NULL, key_id TEXT, mac BLOB);
INSERT INTO books_seal (n) VALUES (0);
CREATE TRIGGER seals_count AFTER UPDATE ON seals BEGIN
    UPDATE books_seal SET n = n + 1, mac = hm_mac(key_id, n + 1, (SELECT group_concat(tbl || ':' || rows || ':' || hex(digest), ';' ORDER BY tbl) FROM seals));
END;
CREATE TRIGGER seals_added AFTER INSERT ON seals BEGIN
    UPDATE books_seal SET n = n + 1, mac = hm_mac(key_id, n + 1, (SELECT group_concat(tbl || ':' || rows || ':' || hex(digest), ';' ORDER BY tbl) FROM seals));
END;
"#,
    ),
    // Fleet commands by id, so that one is carried out at most once across restarts (kept a
    // day, not sealed: a queue's bookkeeping, like the outbox).
    Step::Sql(
        r#"
CREATE TABLE fleet_commands (
    id    TEXT PRIMARY KEY,
    at    INTEGER NOT NULL,
    reply TEXT
);
"#,
    ),
    // Sales paid by card: one row per paid vend the reader approved, with the reader that took
    // it. Every other paid vend was paid from cash credit; card money is never credit, so the
    // cash balance reads paid vends without a row here.
    Step::Sql(
        r#"
CREATE TABLE card_vends (
    vend_id INTEGER PRIMARY KEY REFERENCES vends(id),
    reader  TEXT
);
"#,
    ),
    Step::SealTable("card_vends"),
];
