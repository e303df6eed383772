//! Property tests of the books on the whole simulated machine: over random sessions (coins,
//! presses, door, faults, coin returns, restocks, restarts on the same journal), credit is
//! conserved, the journal balances to the cent, and no payment ever runs a motor after its item
//! was delivered (never two items for one payment).
//!
//! `HAPPINESS_PROPTEST_CASES` raises the number of sessions (default 24).

mod common;

use std::path::Path;

use common::config_with;
use happiness::controller::TraceSink;
use happiness::journal::Journal;
use happiness::kiosk::{Backend, JournalLocation, Kiosk, KioskConfig};
use happiness::script::{self, ScriptCommand};
use happiness::trace::{TraceEntry, TraceRecord};
use happiness::vend::{Command, Notice};
use proptest::prelude::*;
use tokio::sync::mpsc::UnboundedReceiver;

const SURPRISES: &str = r#"
[policy]
probability = 0.5
cooldown_s = 0
budget_percent = 100.0

[[surprises]]
name = "One to share"
kind = "extra_item"
weight = 1
cost_cents = 90
same = true

[[surprises]]
name = "Thanks"
kind = "message"
weight = 1
cost_cents = 0
message = "Thanks!"
"#;

#[derive(Debug, Clone)]
enum Action {
    Line(String),
    Restart,
}

fn action() -> impl Strategy<Value = Action> {
    let line = prop_oneof![
        4 => prop_oneof![Just(10u32), Just(20), Just(50), Just(100), Just(200)]
            .prop_map(|c| format!("coin {c}")),
        5 => (1usize..=4).prop_map(|n| format!("press {n}")),
        4 => (0u32..4000).prop_map(|ms| format!("wait {ms}")),
        1 => prop_oneof![Just("door open"), Just("door close")].prop_map(String::from),
        1 => (1usize..=5).prop_map(|n| format!("jam {n}")),
        1 => (1usize..=5).prop_map(|n| format!("fix {n}")),
        1 => (1usize..=5).prop_map(|n| format!("miss {n}")),
        1 => (1usize..=5).prop_map(|n| format!("hang {n}")),
        1 => (1usize..=5).prop_map(|n| format!("double {n}")),
        1 => prop_oneof![Just("stuck on"), Just("stuck off")].prop_map(String::from),
        1 => prop_oneof![Just("bounce on"), Just("bounce off")].prop_map(String::from),
        2 => Just("return".to_string()),
        1 => (1usize..=5).prop_map(|n| format!("restock {n}")),
        1 => (1usize..=5).prop_map(|n| format!("reset {n}")),
    ];
    prop_oneof![12 => line.prop_map(Action::Line), 1 => Just(Action::Restart)]
}

/// Follows the trace of one controller run and checks that motors only run for an open,
/// undelivered vend.
#[derive(Default)]
struct MotorChecker {
    /// (column, delivered) of the vend whose intent was recorded last.
    open: Option<(usize, bool)>,
    delivered: u32,
}

impl MotorChecker {
    fn check(&mut self, record: &TraceRecord) -> Result<(), String> {
        let TraceEntry::Command { command, .. } = &record.entry else {
            return Ok(());
        };
        match command {
            Command::Notice(Notice::VendStarted { column, .. })
            | Command::Notice(Notice::SurpriseItemStarted { column, .. }) => {
                if let Some((c, false)) = self.open {
                    return Err(format!(
                        "vend on column {column} began while column {c} was open"
                    ));
                }
                self.open = Some((column.number(), false));
            }
            Command::Notice(Notice::MotorRun { column, .. })
            | Command::Motor { column, on: true } => match self.open {
                Some((c, false)) if c == column.number() => {}
                other => {
                    return Err(format!(
                        "motor of column {column} ran with open vend {other:?} at {} ms",
                        record.t_ms
                    ))
                }
            },
            Command::Notice(Notice::VendDelivered { .. })
            | Command::Notice(Notice::SurpriseItemDelivered { .. }) => match self.open {
                Some((c, false)) => {
                    self.open = Some((c, true));
                    self.delivered += 1;
                }
                other => return Err(format!("a delivery with open vend {other:?}")),
            },
            Command::Notice(Notice::VendFailed { .. })
            | Command::Notice(Notice::SurpriseItemFailed { .. }) => self.open = None,
            _ => {}
        }
        Ok(())
    }
}

fn setup(dir: &Path, seed: u64) -> KioskConfig {
    // The shipped machine has a payout hopper (50 cent coins) and an inhibit line.
    let machine = config_with(&[]);
    let mut setup = common::with_surprises(machine, SURPRISES, seed);
    setup.journal = JournalLocation::Dir(dir.to_path_buf());
    setup
}

fn start(dir: &Path, seed: u64) -> (Kiosk, UnboundedReceiver<TraceRecord>) {
    let mut sink = TraceSink::new();
    let rx = sink.subscribe();
    let kiosk = Kiosk::start(setup(dir, seed), Backend::Sim, sink).expect("kiosk");
    (kiosk, rx)
}

fn drain(
    rx: &mut UnboundedReceiver<TraceRecord>,
    checker: &mut MotorChecker,
) -> Result<(), String> {
    while let Ok(r) = rx.try_recv() {
        checker.check(&r)?;
    }
    Ok(())
}

fn conserved(kiosk: &Kiosk) -> Result<(), String> {
    let s = kiosk.status();
    let l = s.ledger;
    let held = l
        .spent
        .saturating_add(l.returned)
        .saturating_add(s.credit)
        .saturating_add(s.escrow);
    if l.inserted != held {
        return Err(format!(
            "credit not conserved: inserted {} != spent {} + returned {} + credit {} + escrow {}",
            l.inserted, l.spent, l.returned, s.credit, s.escrow
        ));
    }
    Ok(())
}

async fn session(actions: Vec<Action>, seed: u64) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (mut kiosk, mut rx) = start(dir.path(), seed);
    let mut checker = MotorChecker::default();
    for action in actions {
        match action {
            Action::Line(line) => {
                let cmd = script::parse(&line).map_err(|e| e.to_string())?;
                let Some(cmd) = cmd else { continue };
                // Refusals (a coin while inhibited, no such button) are part of the game.
                let _ = script::execute(&kiosk, cmd).await;
                if matches!(cmd, ScriptCommand::Quit) {
                    break;
                }
            }
            Action::Restart => {
                kiosk.stop().await.map_err(|e| e.to_string())?;
                drain(&mut rx, &mut checker)?;
                // A fresh controller knows no open vend: recovery must never re-run a motor.
                checker = MotorChecker::default();
                (kiosk, rx) = start(dir.path(), seed);
            }
        }
        drain(&mut rx, &mut checker)?;
        conserved(&kiosk)?;
    }
    // Let everything under way finish, then check the books themselves.
    let _ = script::execute(
        &kiosk,
        ScriptCommand::Wait(std::time::Duration::from_secs(30)),
    )
    .await;
    drain(&mut rx, &mut checker)?;
    conserved(&kiosk)?;
    kiosk.stop().await.map_err(|e| e.to_string())?;
    let journal = Journal::open_read_only(dir.path()).map_err(|e| e.to_string())?;
    let report = journal.report().map_err(|e| e.to_string())?;
    if !report.money.balanced {
        return Err(format!("books do not balance: {:?}", report.money));
    }
    if report.integrity != "ok" {
        return Err(format!("integrity: {}", report.integrity));
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("HAPPINESS_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn credit_is_conserved_and_no_payment_dispenses_twice(
        actions in proptest::collection::vec(action(), 1..60),
        seed in any::<u64>(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("runtime");
        let result = runtime.block_on(session(actions, seed));
        prop_assert!(result.is_ok(), "{}", result.err().unwrap_or_default());
    }
}
