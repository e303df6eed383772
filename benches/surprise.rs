//! Surprise decisions per second (target: at least 5 million on one core), and the Monte Carlo
//! report's end-to-end speed.
//!
//! Run with `cargo bench --bench surprise`. Criterion prints the time per decision; the
//! throughput line ("elem/s") is decisions per second.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use happiness::config::MachineConfig;
use happiness::localtime::LocalTime;
use happiness::money::Cents;
use happiness::simulate::{simulate, SimulateOptions};
use happiness::surprise::{SurpriseConfig, SurpriseEngine, VendFacts};
use happiness::vend::ColumnId;

fn configs() -> (MachineConfig, SurpriseConfig) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let machine = MachineConfig::load_dir(&dir).expect("machine.toml");
    let surprises = SurpriseConfig::load_dir(&dir, &machine.columns).expect("surprises.toml");
    (machine, surprises)
}

fn decisions(c: &mut Criterion) {
    let (_, surprises) = configs();
    let mut engine = SurpriseEngine::new(surprises, 42);
    let stock = [8u32, 8, 10, 12, 10];
    let columns: Vec<ColumnId> = (0..4).filter_map(ColumnId::from_index).collect();
    let start = LocalTime::from_ymd_hm(2026, 1, 5, 8, 0).expect("date");
    let mut i: i64 = 0;
    let mut group = c.benchmark_group("surprise");
    group.throughput(Throughput::Elements(1));
    group.bench_function("decide", |b| {
        b.iter(|| {
            i += 1;
            let facts = VendFacts {
                now: start.plus_secs(i * 37),
                steady: start.plus_secs(i * 37).secs(),
                column: columns[(i % 4) as usize],
                price: Cents::new(150),
                stock: &stock,
            };
            black_box(engine.decide(black_box(&facts)))
        })
    });
    group.finish();
}

fn monte_carlo(c: &mut Criterion) {
    let (machine, surprises) = configs();
    let options = SimulateOptions {
        vends: 100_000,
        ..SimulateOptions::default()
    };
    let mut group = c.benchmark_group("simulate");
    group.throughput(Throughput::Elements(options.vends));
    group.sample_size(10);
    group.bench_function("100k_vends", |b| {
        b.iter(|| black_box(simulate(&machine, &surprises, &options)))
    });
    group.finish();
}

criterion_group!(benches, decisions, monte_carlo);
criterion_main!(benches);
