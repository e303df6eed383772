//! What more than one benchmark needs: writing a paid vend into a journal the way the kiosk does,
//! the quick machine, quantiles, and a process's CPU time and context switches from `/proc`.

#![allow(dead_code)]

use std::path::Path;

use happiness::journal::Journal;
use happiness::localtime::LocalTime;
use happiness::money::Cents;
use happiness::vend::{ColumnId, Notice};

/// Record one paid vend as the kiosk's steps would: a coin of 2.00 (one commit), the intent before
/// the motor (one commit) and the outcome with a restock, so that the column never runs dry (one
/// commit). `credit` is the credit before the coin; returns the credit after the vend.
pub fn record_paid_vend(
    journal: &mut Journal,
    t: LocalTime,
    column: ColumnId,
    product: &str,
    price: Cents,
    credit: Cents,
) -> Cents {
    let amount = Cents::new(200);
    let credit = credit.saturating_add(amount);
    let coin = Notice::CreditIn { amount, credit };
    journal.record(t, &[&coin], credit).expect("coin");
    let credit = credit.saturating_sub(price);
    let started = Notice::VendStarted {
        tender: happiness::vend::Tender::Cash,
        column,
        product: product.into(),
        price,
    };
    journal.record(t, &[&started], credit).expect("intent");
    let delivered = Notice::VendDelivered {
        tender: happiness::vend::Tender::Cash,
        column,
        product: product.into(),
        price,
    };
    let restock = Notice::Restocked { column, stock: 8 };
    journal
        .record(t, &[&delivered, &restock], credit)
        .expect("outcome");
    credit
}

/// The shipped machine in free vend with quick mechanics and deep columns: a vend takes well
/// under a second, so thousands of vends fit in minutes. The controller's path is the same; only
/// the simulated physics is fast.
pub fn fast_machine() -> String {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/machine.toml");
    let mut text = std::fs::read_to_string(shipped).expect("machine.toml");
    for (from, to) in [
        ("payment = \"coin\"", "payment = \"free\""),
        ("drop_window_ms = 1500", "drop_window_ms = 200"),
        ("max_motor_on_ms = 3000", "max_motor_on_ms = 300"),
        ("timed_turn_ms = 1300", "timed_turn_ms = 60"),
        ("nudge_pause_ms = 250", "nudge_pause_ms = 20"),
        ("button_debounce_ms = 20", "button_debounce_ms = 2"),
        ("home_debounce_ms = 5", "home_debounce_ms = 1"),
        ("turn_ms = 1200", "turn_ms = 40"),
        ("home_width_ms = 100", "home_width_ms = 5"),
        ("release_at_ms = 900", "release_at_ms = 30"),
        ("fall_ms = 250", "fall_ms = 5"),
        ("beam_block_ms = 30", "beam_block_ms = 3"),
        ("press_hold_ms = 120", "press_hold_ms = 5"),
    ] {
        assert!(text.contains(from), "fixture lacks {from}");
        text = text.replacen(from, to, 1);
    }
    text.replace("capacity = 8\n", "capacity = 1000\n")
        .replace("capacity = 10\n", "capacity = 1000\n")
        .replace("stock = 6\n", "stock = 1000\n")
        .replace("stock = 10\n", "stock = 1000\n")
}

/// The `p` quantile (0 to 1) of sorted samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len() - 1);
    sorted[i]
}

/// utime + stime in clock ticks (1/100 s) from a `/proc/.../stat` file.
pub fn cpu_ticks(stat_path: &str) -> u64 {
    let stat = std::fs::read_to_string(stat_path).unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(11) + get(12)
}

/// Context switches (voluntary and not) of every thread of process `pid` so far.
pub fn switches(pid: u32) -> u64 {
    let mut total = 0;
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            let status = std::fs::read_to_string(t.path().join("status")).unwrap_or_default();
            for line in status.lines() {
                if line.starts_with("voluntary_ctxt_switches")
                    || line.starts_with("nonvoluntary_ctxt_switches")
                {
                    total += line
                        .split_whitespace()
                        .nth(1)
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(0);
                }
            }
        }
    }
    total
}
