//! Journal cost: commits per second and what a paid vend costs in commits (each commit is one
//! WAL fsync with `synchronous = FULL`), on the disk the benchmark runs on.
//!
//! Run with `cargo bench --bench journal`. For the fsync count measured at the system-call
//! level, see `scripts/fsyncs-per-vend.sh`.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use happiness::config::MachineConfig;
use happiness::journal::Journal;
use happiness::localtime::LocalTime;
use happiness::money::Cents;
use happiness::vend::{ColumnId, Notice};

fn machine() -> MachineConfig {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    MachineConfig::load_dir(&dir).expect("machine.toml")
}

fn paid_vend(journal: &mut Journal, t: LocalTime, column: ColumnId) {
    let coin = Notice::CreditIn {
        amount: Cents::new(200),
        credit: Cents::new(200),
    };
    let started = Notice::VendStarted {
        column,
        product: "Cola".into(),
        price: Cents::new(150),
    };
    let delivered = Notice::VendDelivered {
        column,
        product: "Cola".into(),
        price: Cents::new(150),
    };
    let restock = Notice::Restocked { column, stock: 8 };
    journal.record(t, &[&coin], Cents::new(200)).expect("coin");
    journal
        .record(t, &[&started], Cents::new(50))
        .expect("intent");
    journal
        .record(t, &[&delivered, &restock], Cents::new(50))
        .expect("outcome");
}

fn journal(c: &mut Criterion) {
    let machine = machine();
    let column = ColumnId::from_number(1).expect("column");
    let start = LocalTime::from_ymd_hm(2026, 1, 5, 8, 0).expect("date");

    let dir = tempfile::tempdir().expect("tempdir");
    let mut on_disk = Journal::open_dir(dir.path()).expect("journal");
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
    group.bench_function("paid_vend_in_memory", |b| {
        b.iter(|| {
            i += 1;
            paid_vend(&mut in_memory, start.plus_secs(i), column);
        })
    });
    group.finish();
}

criterion_group!(benches, journal);
criterion_main!(benches);
