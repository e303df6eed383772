//! Journal cost: commits per second and what a paid vend costs in commits (each commit is one
//! WAL fsync with `synchronous = FULL`), on the disk the benchmark runs on.
//!
//! Run with `cargo bench --bench journal`. For the fsync count measured at the system-call
//! level, see `scripts/fsyncs-per-vend.sh`. The in-memory figures (the journal the simulator and
//! the fault campaign use) come with the cost of a bare SQLite commit, the floor under them.

use std::hint::black_box;
use std::path::Path;

mod common;

use common::record_paid_vend;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use happiness::config::MachineConfig;
use happiness::journal::{BudgetRule, Journal, MemoryKeeper, OpenOptions, PeriodQuery, SealKey};
use happiness::localtime::LocalTime;
use happiness::money::Cents;
use happiness::vend::{ColumnId, Notice};

fn machine() -> MachineConfig {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    MachineConfig::load_dir(&dir).expect("machine.toml")
}

fn paid_vend(journal: &mut Journal, t: LocalTime, column: ColumnId) {
    record_paid_vend(journal, t, column, "Cola", Cents::new(150), Cents::ZERO);
}

fn journal(c: &mut Criterion) {
    let machine = machine();
    let column = ColumnId::from_number(1).expect("column");
    let start = LocalTime::from_ymd_hm(2026, 1, 5, 8, 0).expect("date");

    let dir = tempfile::tempdir().expect("tempdir");
    // As the kiosk keeps them: sealed with the machine's key, the commit mark beside them.
    let options = OpenOptions {
        key: Some(SealKey::generate().expect("key")),
        ..Default::default()
    };
    let mut on_disk = Journal::open_dir_with(dir.path(), &options).expect("journal");
    on_disk.recover(&machine, start, 168).expect("recover");
    let before = on_disk.stats().commits;
    paid_vend(&mut on_disk, start, column);
    let per_vend = on_disk.stats().commits - before;
    println!(
        "a paid vend paid with one coin costs {per_vend} commits: 1 for the coin, 1 for the intent \
         before the motor starts, 1 for the outcome (so 2 per vend, 1 per coin)"
    );

    let mut group = c.benchmark_group("journal");
    group.throughput(Throughput::Elements(1));
    let mut i = 0i64;
    group.bench_function("commit_on_disk", |b| {
        b.iter(|| {
            i += 1;
            let coin = Notice::CreditIn {
                amount: Cents::new(100),
                credit: Cents::new(100),
            };
            on_disk
                .record(start.plus_secs(i), &[black_box(&coin)], Cents::new(100))
                .expect("commit");
        })
    });
    group.bench_function("paid_vend_on_disk", |b| {
        b.iter(|| {
            i += 1;
            paid_vend(&mut on_disk, start.plus_secs(i), column);
        })
    });
    let mut in_memory = Journal::open_in_memory().expect("journal");
    in_memory.recover(&machine, start, 168).expect("recover");
    // One coin: the smallest commit a vend makes (a credit row and the credit after it).
    let mut credit = 0u64;
    group.bench_function("coin_commit_in_memory", |b| {
        b.iter(|| {
            i += 1;
            credit += 100;
            let coin = Notice::CreditIn {
                amount: Cents::new(100),
                credit: Cents::new(credit),
            };
            in_memory
                .record(start.plus_secs(i), &[black_box(&coin)], Cents::new(credit))
                .expect("commit");
        })
    });
    group.bench_function("paid_vend_in_memory", |b| {
        b.iter(|| {
            i += 1;
            paid_vend(&mut in_memory, start.plus_secs(i), column);
        })
    });
    // The fault campaign's journal: named, shared between the connections a power cut replaces.
    let _keeper = MemoryKeeper::new("bench-journal").expect("keeper");
    let mut shared = Journal::open_shared_memory("bench-journal").expect("journal");
    shared.recover(&machine, start, 168).expect("recover");
    group.bench_function("paid_vend_shared_memory", |b| {
        b.iter(|| {
            i += 1;
            paid_vend(&mut shared, start.plus_secs(i), column);
        })
    });
    // The floor under any journal commit: one row inserted in its own transaction in an
    // in-memory SQLite with cached statements and nothing else (no constraints, no indexes).
    let floor = rusqlite::Connection::open_in_memory().expect("sqlite");
    floor
        .execute_batch("CREATE TABLE t (at INTEGER, amount INTEGER, credit INTEGER)")
        .expect("table");
    group.bench_function("bare_sqlite_commit_in_memory", |b| {
        b.iter(|| {
            i += 1;
            floor
                .prepare_cached("BEGIN")
                .expect("begin")
                .execute([])
                .expect("begin");
            floor
                .prepare_cached("INSERT INTO t (at, amount, credit) VALUES (?1, ?2, ?3)")
                .expect("insert")
                .execute([i, 100, 200])
                .expect("insert");
            floor
                .prepare_cached("COMMIT")
                .expect("commit")
                .execute([])
                .expect("commit");
        })
    });
    group.finish();
}

/// The dashboard's questions on books of 100,000 paid vends over 30 days: the controller answers
/// them between vend steps, so their time is time a press could wait.
fn period_books(c: &mut Criterion) {
    let machine = machine();
    let start = LocalTime::from_ymd_hm(2026, 1, 5, 0, 0).expect("date");
    let mut journal = Journal::open_in_memory().expect("journal");
    journal.recover(&machine, start, 168).expect("recover");
    let vends = 100_000i64;
    for i in 0..vends {
        let column = ColumnId::from_number(usize::try_from(i % 4).unwrap_or(0) + 1).expect("col");
        // Spread over 30 days; the stock is topped up so that every vend delivers.
        let t = start.plus_secs(i * 30 * 86_400 / vends);
        if i % 5 == 0 {
            journal
                .record(t, &[&Notice::Restocked { column, stock: 8 }], Cents::ZERO)
                .expect("restock");
        }
        paid_vend(&mut journal, t, column);
    }
    let now = start.plus_secs(30 * 86_400 - 1);
    let rule = BudgetRule {
        percent: 2.0,
        window_hours: 168,
    };
    let ask = |days| {
        PeriodQuery {
            days: Some(days),
            ..PeriodQuery::default()
        }
        .resolve(now)
        .expect("period")
    };
    let (today, month, week) = (ask(1), ask(30), ask(7));
    let mut group = c.benchmark_group("period_books_100k_vends");
    group.bench_function("today_by_hour", |b| {
        b.iter(|| black_box(journal.period_books(&today, rule, now).expect("books")))
    });
    group.bench_function("30_days_by_day", |b| {
        b.iter(|| black_box(journal.period_books(&month, rule, now).expect("books")))
    });
    group.bench_function("sales_csv_7_days", |b| {
        b.iter(|| black_box(journal.sales_lines(&week).expect("lines")))
    });
    group.finish();
}

criterion_group!(benches, journal, period_books);
criterion_main!(benches);
