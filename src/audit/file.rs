//! The audit file's text: segments in the standard's order, fields separated by `*`, trailing
//! empty fields dropped, CRLF after every segment, the `G85` CRC and the `SE` count.

use crate::config::{fits_a_field, AuditIdentity};
use crate::localtime::LocalTime;

use super::{g85, ColumnCounters, Counters, Tally, WRAP};

/// A column's state as `PA107` states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectionStatus {
    /// Selling.
    Selling,
    /// Empty.
    SoldOut,
    /// Taken out of service (a fault, or the operator).
    OutOfService,
}

/// One column (`PA1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditColumn {
    /// Column number (`PA101`).
    pub number: u32,
    /// Price in minor units (`PA102`).
    pub price: u64,
    /// Product (`PA103`).
    pub product: String,
    /// Capacity (`PA104`).
    pub capacity: u32,
    /// State (`PA107`).
    pub status: SelectionStatus,
    /// Items in it now (`PA108`).
    pub stock: u64,
    /// The low-stock level (`PA109`).
    pub low_stock: u32,
}

/// One event since the last reset (`EA1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Event id: `EGS` a door opening, `ELA_<column>` a jam, `EJL_<column>` no drop seen.
    pub id: String,
    /// When it began.
    pub at: LocalTime,
    /// How long it lasted, in minutes, once over (`EA104`).
    pub minutes: Option<u64>,
}

/// Reads of the audit data (`EA3`), this one included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReads {
    /// Reads since the books began.
    pub reads: u64,
    /// Of them, reads with reset.
    pub resets: u64,
    /// This read's time.
    pub at: LocalTime,
    /// Who reads (the API's or the command line's name for the reader).
    pub reader: String,
    /// The read before this one: its time and reader.
    pub previous: Option<(LocalTime, String)>,
}

/// Everything one audit file says.
#[derive(Debug, Clone)]
pub struct AuditFile<'a> {
    /// The machine's names and currency.
    pub identity: &'a AuditIdentity,
    /// The controller's software version (`CB103`).
    pub version: &'a str,
    /// Counters since the books began.
    pub lifetime: &'a Counters,
    /// Counters since the last reset.
    pub interim: &'a Counters,
    /// The columns, in order.
    pub columns: &'a [AuditColumn],
    /// Events since the last reset, oldest first.
    pub events: &'a [AuditEvent],
    /// Reads and resets.
    pub reads: &'a AuditReads,
}

/// The audit file for `f`, CRLF line endings.
pub fn write_file(f: &AuditFile<'_>) -> String {
    let id = f.identity;
    let mut body: Vec<Vec<String>> = Vec::new();
    let mut seg = |fields: &[&dyn ToString]| {
        body.push(fields.iter().map(|v| v.to_string()).collect());
    };
    seg(&[&"ST", &"001", &"0001"]);
    seg(&[
        &"ID1",
        &text(&id.serial),
        &text(&id.model),
        &0,
        &text(&id.location),
        &"",
        &text(&id.asset),
    ]);
    match id.currency {
        Some(c) => seg(&[&"ID4", &c.decimals, &c.numeric, &c.alpha]),
        // Unknown: the two decimal places of most currencies, no code.
        None => seg(&[&"ID4", &2]),
    }
    seg(&[&"CB1", &text(&id.serial), &"HAPPINESS", &text(f.version)]);
    let (l, i) = (f.lifetime, f.interim);
    for (name, life, now) in [
        ("VA1", l.paid, i.paid),
        ("VA2", l.test, i.test),
        ("VA3", l.free, i.free),
    ] {
        seg(&[
            &name,
            &w(life.value),
            &w(life.count),
            &w(now.value),
            &w(now.count),
        ]);
    }
    seg(&[
        &"CA2",
        &w(l.paid.value),
        &w(l.paid.count),
        &w(i.paid.value),
        &w(i.paid.count),
    ]);
    let (cash_in, cash_in_now) = (w(l.cash_in), w(i.cash_in));
    seg(&[
        &"CA3",
        &cash_in_now,
        &cash_in_now,
        &0,
        &0,
        &cash_in,
        &cash_in,
        &0,
        &0,
    ]);
    seg(&[&"CA4", &w(i.cash_out), &0, &w(l.cash_out), &0]);
    for c in f.columns {
        columns(&mut seg, c, l, i);
    }
    events(&mut seg, f, l, i);
    reads(&mut seg, f.reads);
    envelope(id, body)
}

/// `PA1` to `PA4` of one column.
fn columns(seg: &mut dyn FnMut(&[&dyn ToString]), c: &AuditColumn, l: &Counters, i: &Counters) {
    let none = ColumnCounters::default();
    let life = l.columns.get(&c.number).unwrap_or(&none);
    let now = i.columns.get(&c.number).unwrap_or(&none);
    let status = match c.status {
        SelectionStatus::Selling => 0,
        SelectionStatus::SoldOut => 1,
        SelectionStatus::OutOfService => 2,
    };
    seg(&[
        &"PA1",
        &c.number,
        &w(c.price),
        &text(&c.product).chars().take(20).collect::<String>(),
        &c.capacity,
        &"",
        &"",
        &status,
        &c.stock,
        &c.low_stock,
    ]);
    let tally = |name: &'static str, life: Tally, now: Tally| {
        [
            name.to_string(),
            w(life.count).to_string(),
            w(life.value).to_string(),
            w(now.count).to_string(),
            w(now.value).to_string(),
        ]
    };
    for fields in [
        tally("PA2", life.paid, now.paid),
        tally("PA3", life.test, now.test),
        tally("PA4", life.free, now.free),
    ] {
        let refs: Vec<&dyn ToString> = fields.iter().map(|f| f as &dyn ToString).collect();
        seg(&refs);
    }
}

/// `EA1` per event since the last reset, then `EA2` per event id.
fn events(seg: &mut dyn FnMut(&[&dyn ToString]), f: &AuditFile<'_>, l: &Counters, i: &Counters) {
    for e in f.events {
        let minutes = e.minutes.map(|m| m.to_string()).unwrap_or_default();
        seg(&[&"EA1", &e.id, &date(e.at), &time(e.at), &minutes]);
    }
    for (id, life) in &l.events {
        let now = i.events.get(id).copied().unwrap_or(0);
        seg(&[&"EA2", id, &w(now), &w(*life)]);
    }
}

/// `EA3`: reads and resets, this read and the one before.
fn reads(seg: &mut dyn FnMut(&[&dyn ToString]), r: &AuditReads) {
    let (last_date, last_time, last_reader) = match &r.previous {
        Some((at, reader)) => (date(*at), time(*at), text(reader)),
        None => (String::new(), String::new(), String::new()),
    };
    seg(&[
        &"EA3",
        &w(r.resets),
        &date(r.at),
        &time(r.at),
        &text(&r.reader),
        &last_date,
        &last_time,
        &last_reader,
        &"",
        &w(r.reads),
        &w(r.resets),
    ]);
}

/// `DXS`, the body, `G85`, `SE` and `DXE`, each segment ended by CRLF.
fn envelope(id: &AuditIdentity, body: Vec<Vec<String>>) -> String {
    let line = |fields: &[String]| {
        let keep = fields
            .iter()
            .rposition(|f| !f.is_empty())
            .map_or(0, |n| n + 1);
        format!("{}\r\n", fields[..keep].join("*"))
    };
    let mut checked = String::new();
    for fields in &body {
        checked.push_str(&line(fields));
    }
    // ST .. SE inclusive: the body, G85 and SE itself.
    let count = body.len() + 2;
    let mut out = line(&[
        "DXS".into(),
        id.communication_id(),
        "VA".into(),
        "V1/1".into(),
        "1".into(),
    ]);
    out.push_str(&checked);
    out.push_str(&line(&["G85".into(), g85(checked.as_bytes())]));
    out.push_str(&line(&["SE".into(), count.to_string(), "0001".into()]));
    out.push_str(&line(&["DXE".into(), "1".into(), "1".into()]));
    out
}

/// A counter as its eight-digit field holds it.
fn w(n: u64) -> u64 {
    n % WRAP
}

/// Text as the file can carry it: printable ASCII without `*`, at most 30 characters
/// (anything else becomes `?`, so a product name never breaks a segment).
fn text(s: &str) -> String {
    s.chars()
        .take(30)
        .map(|c| if fits_a_field(c) { c } else { '?' })
        .collect::<String>()
        .trim()
        .to_string()
}

/// `YYMMDD`.
fn date(at: LocalTime) -> String {
    stamp(at, "%y%m%d")
}

/// `HHMM`.
fn time(at: LocalTime) -> String {
    stamp(at, "%H%M")
}

fn stamp(at: LocalTime, format: &str) -> String {
    chrono::DateTime::from_timestamp(at.secs(), 0)
        .map(|t| t.naive_utc().format(format).to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
