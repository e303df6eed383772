//! Surprises on the whole simulated machine: decided only after the paid item is delivered,
//! dispensed through the same sure-vend path, never on a failed vend or a faulted machine, and a
//! pack cut short is recorded as partial.

mod common;

use common::{config_with, with_surprises, Harness};
use happiness::money::Cents;
use happiness::vend::{ColumnId, Notice};

fn col(n: usize) -> ColumnId {
    ColumnId::from_number(n).expect("column")
}

use common::ALWAYS_ONE_TO_SHARE as ALWAYS_EXTRA;

const ALWAYS_WATER_PACK: &str = r#"
[policy]
probability = 1.0
cooldown_s = 0
budget_percent = 100.0

[[surprises]]
name = "Water for the team"
kind = "share_pack"
weight = 1
cost_cents = 100
count = 3
product = "Water"
"#;

fn position(notices: &[Notice], pred: impl Fn(&Notice) -> bool) -> Option<usize> {
    notices.iter().position(pred)
}

#[tokio::test(start_paused = true)]
async fn extra_item_is_dispensed_after_the_paid_item_through_sure_vend() {
    let mut h = Harness::start_with(with_surprises(config_with(&[]), ALWAYS_EXTRA, 1));
    h.run("coin 200\npress 1\nwait 6000").await;
    assert_eq!(
        h.tray_products(),
        vec!["Cola".to_string(), "Cola".to_string()]
    );
    let notices = h.notices();
    let delivered = position(&notices, |n| matches!(n, Notice::VendDelivered { .. }));
    let awarded = position(&notices, |n| matches!(n, Notice::SurpriseAwarded { .. }));
    let item = position(
        &notices,
        |n| matches!(n, Notice::SurpriseItemDelivered { column, .. } if *column == col(1)),
    );
    assert!(delivered < awarded && awarded < item, "{notices:#?}");
    assert!(notices.contains(&Notice::SurpriseCompleted {
        name: "One to share".into(),
        planned: 1,
        delivered: 1,
        partial: false
    }));
    // The surprise went through the motor like any vend, one motor at a time.
    assert_eq!(
        h.motor_commands(),
        vec![(1, true), (1, false), (1, true), (1, false)]
    );
    h.assert_one_motor_at_a_time();
    let status = h.kiosk.status();
    assert_eq!(status.credit, Cents::new(50), "charged once");
    assert_eq!(status.ledger.spent, Cents::new(150));
    assert_eq!(status.columns[0].stock, 4);
    assert!(status.display.contains("A second Cola to share!") || !status.vending);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn no_surprise_on_a_failed_and_refunded_vend() {
    let mut h = Harness::start_with(with_surprises(config_with(&[]), ALWAYS_EXTRA, 2));
    h.run("coin 200\njam 1\npress 1\nwait 15000").await;
    let notices = h.notices();
    assert!(notices
        .iter()
        .any(|n| matches!(n, Notice::VendFailed { .. })));
    assert!(!notices
        .iter()
        .any(|n| matches!(n, Notice::SurpriseAwarded { .. })));
    assert_eq!(h.kiosk.status().credit, Cents::new(200));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn no_surprise_while_the_machine_has_a_fault() {
    let mut h = Harness::start_with(with_surprises(config_with(&[]), ALWAYS_EXTRA, 3));
    // Column 2 jams and is taken out of service; then column 1 sells without a surprise.
    h.run("coin 200\ncoin 200\njam 2\npress 2\nwait 15000\npress 1\nwait 4000")
        .await;
    assert_eq!(h.tray_products(), vec!["Cola".to_string()]);
    assert!(!h
        .notices()
        .iter()
        .any(|n| matches!(n, Notice::SurpriseAwarded { .. })));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_pack_cut_short_by_a_jam_is_recorded_as_partial() {
    let mut h = Harness::start_with(with_surprises(config_with(&[]), ALWAYS_WATER_PACK, 4));
    // The controller believes column 3 is fine; it jams while dispensing the pack.
    h.run("coin 200\njam 3\npress 1\nwait 20000").await;
    let notices = h.notices();
    assert!(notices.iter().any(|n| matches!(
        n,
        Notice::SurpriseAwarded { items, .. } if items == &vec![(col(3), 3)]
    )));
    assert!(notices
        .iter()
        .any(|n| matches!(n, Notice::SurpriseItemFailed { column, .. } if *column == col(3))));
    assert!(notices.contains(&Notice::SurpriseCompleted {
        name: "Water for the team".into(),
        planned: 3,
        delivered: 0,
        partial: true
    }));
    // The customer still has exactly what they paid for, and was charged once.
    assert_eq!(h.tray_products(), vec!["Cola".to_string()]);
    assert_eq!(h.kiosk.status().credit, Cents::new(50));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn opening_the_door_stops_a_surprise_pack() {
    let mut h = Harness::start_with(with_surprises(config_with(&[]), ALWAYS_WATER_PACK, 5));
    h.run("coin 200\npress 1\nwait 3200\ndoor open\nwait 5000")
        .await;
    let notices = h.notices();
    let completed = notices.iter().find_map(|n| match n {
        Notice::SurpriseCompleted {
            planned,
            delivered,
            partial,
            ..
        } => Some((*planned, *delivered, *partial)),
        _ => None,
    });
    let (planned, delivered, partial) = completed.expect("surprise closed");
    assert_eq!(planned, 3);
    assert!(delivered < 3 && partial);
    h.assert_one_motor_at_a_time();
    assert!(h.kiosk.sim.as_ref().expect("sim").motors_on().is_empty());
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn shipped_policy_surprises_visibly_in_a_simulated_session() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/surprises.toml"),
    )
    .expect("surprises.toml");
    let machine = config_with(&[("payment = \"coin\"", "payment = \"free\"")]);
    let mut h = Harness::start_with(with_surprises(machine, &text, 42));
    // 18 free vends (all the stock of columns 1 to 3), 40 s apart (the cooldown is 30 s).
    let mut script = String::new();
    for i in 0..18 {
        script.push_str(&format!("press {}\nwait 40000\ntake\n", 1 + i % 3));
    }
    h.run(&script).await;
    let notices = h.notices();
    let delivered = notices
        .iter()
        .filter(|n| matches!(n, Notice::VendDelivered { .. }))
        .count();
    let surprises = notices
        .iter()
        .filter(|n| matches!(n, Notice::SurpriseAwarded { .. }))
        .count();
    assert_eq!(delivered, 18);
    // Probability 0.2: about 3.6 in 18; free vends only allow the free surprises.
    assert!((1..=10).contains(&surprises), "{surprises} surprises");
    assert!(notices.iter().all(|n| match n {
        Notice::SurpriseAwarded { cost, .. } => *cost == Cents::ZERO,
        _ => true,
    }));
    h.stop().await;
}
