//! The MDB bus master's cost: CPU per idle poll cycle (one exchange with each of the three
//! devices, against the simulated devices' answers, in virtual time), and the gap from a
//! device's last word to the master's next words (its ACK and the next command) through the
//! bus thread on the real clock, p50 and p99 over a few thousand answers.
//!
//! Run with `cargo bench --bench mdb` (`MDB_ANSWERS` sets how many answers the gap is measured
//! over, 5,000 by default). BENCHMARKS.md records a run.

use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use happiness::mdb::bills::Bills;
use happiness::mdb::coins::Coins;
use happiness::mdb::master::Master;
use happiness::mdb::reader::Reader;
use happiness::mdb::sim::SimBus;
use happiness::mdb::wire::Word;
use happiness::money::Cents;
use happiness::payments::{sim_port::SimPort, spawn};
use happiness_hardware::mdb::{BusWord, MdbPort, PortError};
use happiness_hardware::{Clock, Timestamp};

mod common;

fn master() -> Master {
    Master::new(
        Some(Coins::new()),
        Some(Bills::new()),
        Some(Reader::new(Cents::new(50), Cents::new(500))),
    )
}

/// Run the master against `bus` in virtual time from `now` until `end`.
fn run(m: &mut Master, bus: &mut SimBus, now: &mut Timestamp, end: Timestamp) {
    while m.deadline() <= end {
        *now = (*now).max(m.deadline());
        let mut send = m.on_time(*now).send;
        while !send.is_empty() {
            let reply: Vec<Word> = bus.receive(&send);
            send.clear();
            *now = *now + Duration::from_micros(500);
            for w in reply {
                send.extend(m.on_word(w, *now).send);
            }
        }
    }
    *now = end;
}

fn poll_cycle(c: &mut Criterion) {
    let mut m = master();
    let mut bus = SimBus::full();
    let mut now = Timestamp::ZERO;
    run(&mut m, &mut bus, &mut now, Timestamp::from_millis(2_000));
    c.bench_function("mdb/idle_poll_cycle", |b| {
        b.iter(|| {
            let end = now + m.gap();
            run(&mut m, black_box(&mut bus), &mut now, end);
        });
    });
}

/// A simulated port that notes when each answer's last word was handed to the master and when
/// the master next sent, for the answers it sends something to at once (its ACK, the next
/// device's command).
struct Timed {
    inner: SimPort,
    last_word: Option<Instant>,
    gaps: Arc<Mutex<Vec<f64>>>,
}

impl MdbPort for Timed {
    fn send(&mut self, words: &[BusWord]) -> Result<(), PortError> {
        if let Some(t) = self.last_word.take() {
            let gap = t.elapsed().as_secs_f64() * 1e6;
            self.gaps.lock().map(|mut g| g.push(gap)).ok();
        }
        self.inner.send(words)
    }

    fn receive(&mut self, timeout: Duration) -> Result<Option<BusWord>, PortError> {
        // An answer the master had nothing to say to at once (an ACK ending a cycle) is not a
        // gap: the next words are the next cycle's, after the pause.
        self.last_word = None;
        let w = self.inner.receive(timeout)?;
        if w.is_some_and(|w| w.mode) {
            self.last_word = Some(Instant::now());
        }
        Ok(w)
    }

    fn slack(&self) -> Duration {
        self.inner.slack()
    }
}

fn reaction_gap() {
    let answers: usize = std::env::var("MDB_ANSWERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    let gaps = Arc::new(Mutex::new(Vec::new()));
    let port = Timed {
        inner: SimPort::new(Arc::new(Mutex::new(SimBus::full()))),
        last_word: None,
        gaps: Arc::clone(&gaps),
    };
    let bus = spawn(master(), Box::new(port), Clock::start(), |_| {}).expect("spawn");
    while gaps.lock().map(|g| g.len()).unwrap_or(0) < answers {
        std::thread::sleep(Duration::from_millis(100));
    }
    bus.stop().expect("stop");
    let mut g = gaps.lock().map(|g| g.clone()).unwrap_or_default();
    g.sort_by(f64::total_cmp);
    println!(
        "mdb/answer_to_next_words over {} answers: p50 {:.1} us, p99 {:.1} us, max {:.1} us",
        g.len(),
        common::percentile(&g, 0.5),
        common::percentile(&g, 0.99),
        g.last().copied().unwrap_or(0.0)
    );
}

fn all(c: &mut Criterion) {
    poll_cycle(c);
    reaction_gap();
}

criterion_group!(benches, all);
criterion_main!(benches);
