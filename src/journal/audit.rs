//! The audit's figures from the books: lifetime counters, the counters stored with the last read
//! with reset, events since then, and every read recorded in `audit_reads` (sealed, append-only).
//! The file's grammar is the audit module's; this one counts and records.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension};

use super::report::all;
use super::{JournalError, JOURNAL_FILE};
use crate::audit::{
    write_file, AuditColumn, AuditEvent, AuditFile, AuditReads, ColumnCounters, Counters,
    SelectionStatus, Tally,
};
use crate::config::AuditIdentity;
use crate::localtime::LocalTime;
use crate::model::ColumnSpec;

/// Most `EA1` lines in one file: the latest events since the last reset.
pub const MAX_EVENT_LINES: usize = 100;

/// What one read of the audit data is.
#[derive(Debug, Clone)]
pub struct AuditRequest<'a> {
    /// The machine's names in the file.
    pub identity: &'a AuditIdentity,
    /// The controller's software version.
    pub version: &'a str,
    /// The columns as configured now (product, price, capacity, low-stock level).
    pub columns: &'a [ColumnSpec],
    /// When.
    pub at: LocalTime,
    /// A read with reset: the interim counters start again from zero after this read.
    pub reset: bool,
    /// Who reads (recorded, and written in `EA3`).
    pub reader: &'a str,
}

/// A counter read from SQLite (a negative one would be damage: read as 0).
fn n(v: Option<i64>) -> u64 {
    u64::try_from(v.unwrap_or(0)).unwrap_or(0)
}

/// (column, count, value) rows of one kind of vend.
fn tallies(conn: &Connection, filter: &str) -> rusqlite::Result<Vec<(u32, Tally)>> {
    all(
        conn,
        &format!(
            "SELECT column_no, count(*), sum(price) FROM vends WHERE outcome = 'delivered' \
             AND ({filter}) GROUP BY column_no ORDER BY column_no"
        ),
        |r| {
            let column = u32::try_from(r.get::<_, i64>(0)?).unwrap_or(0);
            let tally = Tally {
                count: n(r.get(1)?),
                value: n(r.get(2)?),
            };
            Ok((column, tally))
        },
    )
}

/// The event id a column fault gets: `ELA_<n>` a jam, `EJL_<n>` an item not seen to drop.
fn fault_id(column: i64, reason: &str) -> String {
    match reason {
        "jammed" => format!("ELA_{column}"),
        _ => format!("EJL_{column}"),
    }
}

/// Lifetime counters. Free vends are valued at their column's price now (a surprise item's
/// row carries no price: nothing was paid for it).
pub(super) fn lifetime(conn: &Connection, columns: &[ColumnSpec]) -> rusqlite::Result<Counters> {
    let mut c = Counters::default();
    let price_of = |column: u32| {
        usize::try_from(column)
            .ok()
            .and_then(|i| columns.get(i.checked_sub(1)?))
            .map_or(0, |spec| spec.price.get())
    };
    let paid = tallies(conn, "kind = 'paid' AND price > 0")?;
    let test = tallies(conn, "kind = 'test'")?;
    let free = tallies(conn, "kind = 'surprise' OR (kind = 'paid' AND price = 0)")?;
    for (column, t) in paid {
        add(&mut c.paid, t);
        add(&mut c.columns.entry(column).or_default().paid, t);
    }
    for (column, t) in test {
        add(&mut c.test, t);
        add(&mut c.columns.entry(column).or_default().test, t);
    }
    for (column, mut t) in free {
        t.value = t.count.saturating_mul(price_of(column));
        add(&mut c.free, t);
        add(&mut c.columns.entry(column).or_default().free, t);
    }
    for column in 1..=u32::try_from(columns.len()).unwrap_or(0) {
        c.columns
            .entry(column)
            .or_insert_with(ColumnCounters::default);
    }
    let (cash_in, cash_out) = conn.query_row(
        "SELECT sum(amount) FILTER (WHERE kind = 'coin'), sum(amount) FILTER (WHERE kind = 'payout') \
         FROM credit_events",
        [],
        |r| Ok((n(r.get(0)?), n(r.get(1)?))),
    )?;
    c.cash_in = cash_in;
    c.cash_out = cash_out;
    let events = all(
        conn,
        "SELECT kind, column_no, detail, count(*) FROM events \
         WHERE kind IN ('door_open', 'column_fault') GROUP BY kind, column_no, detail",
        |r| {
            let kind: String = r.get(0)?;
            let id = match r.get::<_, Option<i64>>(1)? {
                Some(column) if kind == "column_fault" => fault_id(column, &r.get::<_, String>(2)?),
                _ => "EGS".to_string(),
            };
            Ok((id, n(r.get(3)?)))
        },
    )?;
    for (id, count) in events {
        let e = c.events.entry(id).or_insert(0);
        *e = e.saturating_add(count);
    }
    Ok(c)
}

fn add(to: &mut Tally, t: Tally) {
    to.count = to.count.saturating_add(t.count);
    to.value = to.value.saturating_add(t.value);
}

/// Door openings (with how long they lasted) and column faults since `since`, the latest
/// [`MAX_EVENT_LINES`], oldest first.
fn events_since(conn: &Connection, since: i64) -> rusqlite::Result<Vec<AuditEvent>> {
    let rows = all(
        conn,
        &format!(
            "SELECT at, kind, column_no, detail FROM events WHERE at >= {since} \
             AND kind IN ('door_open', 'door_closed', 'column_fault') ORDER BY id"
        ),
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, String>(3)?,
            ))
        },
    )?;
    let mut out: Vec<AuditEvent> = Vec::new();
    let mut door_open: Option<usize> = None;
    for (at, kind, column, detail) in rows {
        match (kind.as_str(), column) {
            ("door_open", _) => {
                door_open = Some(out.len());
                out.push(AuditEvent {
                    id: "EGS".into(),
                    at: LocalTime::from_secs(at),
                    minutes: None,
                });
            }
            ("door_closed", _) => {
                if let Some(e) = door_open.take().and_then(|i| out.get_mut(i)) {
                    e.minutes = Some(n(Some((at - e.at.secs()) / 60)));
                }
            }
            ("column_fault", Some(column)) => out.push(AuditEvent {
                id: fault_id(column, &detail),
                at: LocalTime::from_secs(at),
                minutes: None,
            }),
            _ => {}
        }
    }
    let skip = out.len().saturating_sub(MAX_EVENT_LINES);
    Ok(out.split_off(skip))
}

/// The last read with reset: its time and the lifetime counters then.
fn last_reset(conn: &Connection) -> Result<Option<(i64, Counters)>, JournalError> {
    let row: Option<(i64, String)> = conn
        .query_row(
            "SELECT at, counters FROM audit_reads WHERE reset = 1 ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(at, text)| {
        serde_json::from_str(&text)
            .map(|c| (at, c))
            .map_err(|e| JournalError::Inconsistent(format!("audit_reads counters: {e}")))
    })
    .transpose()
}

/// The last read: its time and reader.
type LastRead = Option<(LocalTime, String)>;

/// The reads so far: (reads, resets, the last read).
fn reads_so_far(conn: &Connection) -> rusqlite::Result<(u64, u64, LastRead)> {
    let (reads, resets) =
        conn.query_row("SELECT count(*), sum(reset) FROM audit_reads", [], |r| {
            Ok((n(r.get(0)?), n(r.get(1)?)))
        })?;
    let last = conn
        .query_row(
            "SELECT at, reader FROM audit_reads ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((LocalTime::from_secs(r.get(0)?), r.get(1)?)),
        )
        .optional()?;
    Ok((reads, resets, last))
}

/// Each column's state in the file, from the books' inventory.
fn audit_columns(conn: &Connection, columns: &[ColumnSpec]) -> rusqlite::Result<Vec<AuditColumn>> {
    let books: BTreeMap<i64, (i64, String)> = all(
        conn,
        "SELECT column_no, stock, status FROM inventory",
        |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))),
    )?
    .into_iter()
    .collect();
    Ok(columns
        .iter()
        .zip(1u32..)
        .map(|(spec, number)| {
            let (stock, status) = books
                .get(&i64::from(number))
                .cloned()
                .unwrap_or((0, "in_service".into()));
            let stock = n(Some(stock));
            AuditColumn {
                number,
                price: spec.price.get(),
                product: spec.product.clone(),
                capacity: spec.capacity,
                status: if status != "in_service" {
                    SelectionStatus::OutOfService
                } else if stock == 0 {
                    SelectionStatus::SoldOut
                } else {
                    SelectionStatus::Selling
                },
                stock,
                low_stock: spec.low_stock,
            }
        })
        .collect())
}

impl super::Journal {
    /// The audit file, read from these books; `record` says whether the read is recorded (a
    /// read-only look beside a running kiosk is not, and cannot reset). Refused, with nothing
    /// written, when the books do not check out (`happiness report` would exit 4 or 5).
    pub fn audit(&mut self, req: &AuditRequest<'_>, record: bool) -> Result<String, JournalError> {
        let report = self.report()?;
        match report.exit_code() {
            0 => {}
            4 => {
                return Err(JournalError::Unvouched {
                    code: 4,
                    why: "the money does not balance".into(),
                })
            }
            code => {
                return Err(JournalError::Unvouched {
                    code,
                    why: format!(
                        "the journal {} is damaged or was altered",
                        self.path()
                            .file_name()
                            .map_or(JOURNAL_FILE.into(), |f| f.to_string_lossy())
                    ),
                })
            }
        }
        if req.reset && !record {
            return Err(JournalError::Inconsistent(
                "a read with reset must be recorded".into(),
            ));
        }
        let conn = &self.conn;
        let lifetime = lifetime(conn, req.columns)?;
        let (since, at_reset) = last_reset(conn)?.unwrap_or((i64::MIN, Counters::default()));
        let interim = lifetime.since(&at_reset);
        let events = events_since(conn, since)?;
        let columns = audit_columns(conn, req.columns)?;
        let (reads, resets, previous) = reads_so_far(conn)?;
        let this = u64::from(record);
        let reads = AuditReads {
            reads: reads + this,
            resets: resets + u64::from(req.reset),
            at: req.at,
            reader: req.reader.to_string(),
            previous,
        };
        let text = write_file(&AuditFile {
            identity: req.identity,
            version: req.version,
            lifetime: &lifetime,
            interim: &interim,
            columns: &columns,
            events: &events,
            reads: &reads,
        });
        if record {
            self.gate()?;
            let counters = serde_json::to_string(&lifetime)
                .map_err(|e| JournalError::Inconsistent(format!("audit counters: {e}")))?;
            self.conn.execute(
                "INSERT INTO audit_reads (at, reset, reader, counters) VALUES (?1, ?2, ?3, ?4)",
                params![req.at.secs(), req.reset, req.reader, counters],
            )?;
            self.committed();
        }
        Ok(text)
    }
}
