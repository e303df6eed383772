//! Simulated vends per second per core in the fault campaign: the whole machine (controller, vend
//! core, surprise engine, in-memory journal, simulated hardware) in virtual time.
//!
//! Run with `cargo bench --bench torture`; the throughput line ("elem/s") is simulated paid vends
//! per second on one core. `happiness torture` prints the same figure for a whole campaign.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use happiness::config::MachineConfig;
use happiness::surprise::SurpriseConfig;
use happiness::torture::{run_seed, Campaign, FaultPlan};

fn campaign(profile: &str) -> Campaign {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let machine = MachineConfig::load_dir(&dir).expect("machine.toml");
    let text = std::fs::read_to_string(dir.join("surprises.toml")).expect("surprises.toml");
    let surprises = SurpriseConfig::from_toml(&dir.join("surprises.toml"), &text, &machine.columns)
        .expect("valid");
    Campaign {
        machine: Arc::new(machine),
        surprises,
        surprises_text: text,
        vends: 200,
        faults: FaultPlan::named(profile).expect("profile"),
        inject_bug: None,
        keep_trace: false,
    }
}

fn seeds(c: &mut Criterion) {
    let mut group = c.benchmark_group("torture");
    group.sample_size(10);
    for profile in ["none", "heavy"] {
        let campaign = campaign(profile);
        let vends = run_seed(&campaign, 1).vends;
        group.throughput(Throughput::Elements(vends));
        group.bench_function(format!("seed_{profile}_faults"), |b| {
            b.iter(|| black_box(run_seed(&campaign, 1)))
        });
    }
    group.finish();
}

criterion_group!(benches, seeds);
criterion_main!(benches);
