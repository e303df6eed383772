//! Whole-machine scenarios: the real controller and vend core on the simulated machine, driven
//! through the same script commands a person types, in virtual time.

mod common;

use common::{config_with, Harness};
use happiness::money::Cents;
use happiness::vend::{ColumnId, ColumnStatus, FailReason, Notice, Refusal, Screen};

fn col(n: usize) -> ColumnId {
    ColumnId::from_number(n).expect("column")
}

fn shipped() -> happiness::config::MachineConfig {
    config_with(&[])
}

fn count(notices: &[Notice], pred: impl Fn(&Notice) -> bool) -> usize {
    notices.iter().filter(|n| pred(n)).count()
}

#[tokio::test(start_paused = true)]
async fn paid_vend_delivers_exactly_one_item_and_takes_the_price() {
    let mut h = Harness::start(shipped(), 1);
    h.run("coin 200\npress 1\nwait 3000").await;
    assert_eq!(h.tray_products(), vec!["Cola".to_string()]);
    let status = h.kiosk.status();
    assert_eq!(status.credit, Cents::new(50));
    assert_eq!(status.ledger.spent, Cents::new(150));
    assert_eq!(status.columns[0].stock, 5);
    let notices = h.notices();
    assert_eq!(
        count(&notices, |n| matches!(n, Notice::VendDelivered { .. })),
        1
    );
    assert_eq!(h.motor_commands(), vec![(1, true), (1, false)]);
    // Physical stock matches what the controller believes.
    assert_eq!(h.kiosk.sim.as_ref().expect("sim").stock(1), Some(5));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn free_vend_delivers_without_credit() {
    let mut h = Harness::start(
        config_with(&[("payment = \"coin\"", "payment = \"free\"")]),
        2,
    );
    h.run("press 3\nwait 3000").await;
    assert_eq!(h.tray_products(), vec!["Water".to_string()]);
    let status = h.kiosk.status();
    assert_eq!(status.credit, Cents::ZERO);
    assert_eq!(status.columns[2].stock, 9);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn timed_column_without_home_switch_vends() {
    let mut h = Harness::start(shipped(), 3);
    h.run("coin 200\npress 4\nwait 3500").await;
    assert_eq!(h.tray_products(), vec!["Chocolate bar".to_string()]);
    assert_eq!(h.kiosk.status().credit, Cents::new(80));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn insufficient_credit_is_refused() {
    let mut h = Harness::start(shipped(), 4);
    h.run("coin 100\npress 1\nwait 500").await;
    assert!(h.motor_commands().is_empty());
    assert!(h.tray_products().is_empty());
    let status = h.kiosk.status();
    assert_eq!(status.credit, Cents::new(100));
    assert!(matches!(status.screen, Some(Screen::InsertMore { .. })));
    assert_eq!(status.display, "Cola costs €1.50: insert €0.50 more");
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn sold_out_column_is_refused_and_credit_kept() {
    let cfg = config_with(&[(
        "stock = 2\nlow_stock = 3\nmotor_pin = 25",
        "stock = 0\nlow_stock = 3\nmotor_pin = 25",
    )]);
    let mut h = Harness::start(cfg, 5);
    h.run("coin 200\npress 4\nwait 500").await;
    assert!(h.motor_commands().is_empty());
    assert_eq!(h.kiosk.status().credit, Cents::new(200));
    assert!(h.notices().contains(&Notice::Refused {
        column: col(4),
        reason: Refusal::SoldOut
    }));
    assert_eq!(h.kiosk.status().display, "Sorry, Chocolate bar is sold out");
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn column_sells_out_after_its_last_item() {
    let mut h = Harness::start(shipped(), 6);
    h.run(
        "coin 200\ncoin 200\ncoin 100\npress 4\nwait 3500\npress 4\nwait 3500\npress 4\nwait 500",
    )
    .await;
    assert_eq!(h.tray_products().len(), 2);
    assert_eq!(h.kiosk.status().columns[3].stock, 0);
    assert_eq!(h.kiosk.status().credit, Cents::new(500 - 240));
    assert!(h.notices().contains(&Notice::Refused {
        column: col(4),
        reason: Refusal::SoldOut
    }));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn jam_is_retried_then_refunded_and_the_column_disabled() {
    let mut h = Harness::start(shipped(), 7);
    h.run("coin 200\njam 1\npress 1\nwait 15000").await;
    assert!(h.tray_products().is_empty());
    let notices = h.notices();
    assert_eq!(
        count(&notices, |n| matches!(n, Notice::MotorRun { .. })),
        3,
        "first run and two nudges"
    );
    assert!(notices.contains(&Notice::VendFailed {
        tender: happiness::vend::Tender::Cash,
        column: col(1),
        product: "Cola".into(),
        refunded: Cents::new(150),
        reason: FailReason::Jammed
    }));
    let status = h.kiosk.status();
    assert_eq!(status.credit, Cents::new(200));
    assert_eq!(
        status.columns[0].status,
        ColumnStatus::Faulted(FailReason::Jammed)
    );
    assert_eq!(status.columns[0].stock, 6);
    h.assert_one_motor_at_a_time();

    // The disabled column refuses; the others still sell.
    h.run("press 1\nwait 200\npress 3\nwait 3000").await;
    assert!(h.notices().contains(&Notice::Refused {
        column: col(1),
        reason: Refusal::OutOfOrder
    }));
    assert_eq!(h.tray_products(), vec!["Water".to_string()]);
    assert_eq!(h.kiosk.status().credit, Cents::new(100));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn missed_drop_beam_is_retried_then_refunded_and_the_column_disabled() {
    let mut h = Harness::start(shipped(), 8);
    h.run("coin 200\nmiss 2\npress 2\nwait 15000").await;
    let notices = h.notices();
    assert_eq!(count(&notices, |n| matches!(n, Notice::MotorRun { .. })), 3);
    assert!(notices.iter().any(|n| matches!(
        n,
        Notice::VendFailed {
            reason: FailReason::NoDrop,
            refunded,
            ..
        } if *refunded == Cents::new(150)
    )));
    let status = h.kiosk.status();
    assert_eq!(status.credit, Cents::new(200));
    assert_eq!(
        status.columns[1].status,
        ColumnStatus::Faulted(FailReason::NoDrop)
    );
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn hung_item_is_freed_by_a_nudge_and_delivered_once() {
    let mut h = Harness::start(shipped(), 9);
    h.run("coin 200\nhang 1\npress 1\nwait 8000").await;
    assert_eq!(h.tray_products(), vec!["Cola".to_string()]);
    let notices = h.notices();
    assert_eq!(
        count(&notices, |n| matches!(
            n,
            Notice::MotorRun { attempt: 2, .. }
        )),
        1
    );
    assert_eq!(
        count(&notices, |n| matches!(n, Notice::VendDelivered { .. })),
        1
    );
    assert_eq!(h.kiosk.status().credit, Cents::new(50));
    assert_eq!(h.kiosk.status().columns[0].status, ColumnStatus::InService);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn switch_bounce_on_a_button_produces_one_press() {
    let mut h = Harness::start(shipped(), 10);
    h.run("bounce on\ncoin 200\npress 1\nwait 3000").await;
    let selects = h
        .events()
        .into_iter()
        .filter(|e| matches!(e, happiness::vend::Event::Select { .. }))
        .count();
    assert_eq!(selects, 1);
    assert_eq!(h.tray_products(), vec!["Cola".to_string()]);
    // Coin pulses bounced too, and still counted as one €2 coin.
    assert_eq!(h.kiosk.status().credit, Cents::new(50));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn button_mashing_during_a_vend_starts_no_second_motor() {
    let mut h = Harness::start(shipped(), 11);
    h.run("coin 200\ncoin 200\npress 1\npress 1\npress 2\npress 3\npress 1\npress 2\nwait 3000")
        .await;
    h.assert_one_motor_at_a_time();
    let notices = h.notices();
    assert_eq!(
        count(&notices, |n| matches!(n, Notice::VendStarted { .. })),
        1
    );
    assert!(
        count(&notices, |n| matches!(
            n,
            Notice::Refused {
                reason: Refusal::Busy,
                ..
            }
        )) >= 3
    );
    assert_eq!(h.tray_products(), vec!["Cola".to_string()]);
    assert_eq!(h.kiosk.status().credit, Cents::new(250));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn door_open_blocks_vending_and_mid_vend_refunds() {
    let mut h = Harness::start(shipped(), 12);
    h.run("coin 200\ndoor open\npress 1\nwait 500").await;
    assert!(h.motor_commands().is_empty());
    assert!(h.notices().contains(&Notice::Refused {
        column: col(1),
        reason: Refusal::DoorOpen
    }));
    assert_eq!(
        h.kiosk.status().display,
        "Service in progress: vending paused"
    );

    h.run("door close\npress 1\nwait 300\ndoor open\nwait 2000")
        .await;
    assert_eq!(h.motor_commands(), vec![(1, true), (1, false)]);
    assert!(h.notices().iter().any(|n| matches!(
        n,
        Notice::VendFailed {
            reason: FailReason::DoorOpened,
            ..
        }
    )));
    let status = h.kiosk.status();
    assert_eq!(status.credit, Cents::new(200));
    // Opening the door is not the column's fault.
    assert_eq!(status.columns[0].status, ColumnStatus::InService);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn stuck_drop_sensor_stops_sales_until_it_clears() {
    let mut h = Harness::start(shipped(), 13);
    h.run("coin 200\nstuck on\nwait 2500\npress 1\nwait 500")
        .await;
    assert!(h.motor_commands().is_empty());
    assert!(h.notices().contains(&Notice::Refused {
        column: col(1),
        reason: Refusal::OutOfOrder
    }));
    h.run("stuck off\nwait 100\npress 1\nwait 3000").await;
    assert_eq!(h.tray_products(), vec!["Cola".to_string()]);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn unknown_coin_value_and_double_drop_are_reported_without_losing_credit() {
    let mut h = Harness::start(shipped(), 14);
    h.run("coin 200\ndouble 3\npress 3\nwait 3000").await;
    assert_eq!(h.tray_products().len(), 2);
    assert_eq!(h.kiosk.status().credit, Cents::new(100));
    assert!(h
        .notices()
        .iter()
        .any(|n| matches!(n, Notice::UnexpectedDrop { .. })));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn stopping_turns_every_motor_off_even_mid_vend() {
    let mut h = Harness::start(shipped(), 15);
    h.run("coin 200\npress 1\nwait 300").await;
    let sim = h.kiosk.sim.clone().expect("sim");
    assert_eq!(sim.motors_on(), vec![0]);
    h.stop().await;
    assert!(sim.motors_on().is_empty());
}

#[tokio::test(start_paused = true)]
async fn coin_return_pays_back_through_the_hopper() {
    let mut h = Harness::start(shipped(), 16);
    h.run("coin 200\ncoin 20\nreturn\nwait 3000").await;
    let sim = h.kiosk.sim.clone().expect("sim");
    // €2.20 in 50 cent coins: four coins, 20 cents stay as credit.
    assert_eq!(sim.coins_paid_out(), 4);
    let status = h.kiosk.status();
    assert_eq!(status.credit, Cents::new(20));
    assert_eq!(status.ledger.returned, Cents::new(200));
    assert!(h.notices().contains(&Notice::PayoutFinished {
        coins: 4,
        credit: Cents::new(20)
    }));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn acceptor_is_inhibited_at_maximum_credit() {
    let cfg = config_with(&[("max_credit_cents = 2000", "max_credit_cents = 300")]);
    let mut h = Harness::start(cfg, 17);
    h.run("coin 200\ncoin 200").await;
    let sim = h.kiosk.sim.clone().expect("sim");
    assert!(sim.inhibited());
    let refused = happiness::script::execute(
        &h.kiosk,
        happiness::script::parse("coin 100")
            .expect("parse")
            .expect("command"),
    )
    .await;
    assert!(
        refused.is_err(),
        "an inhibited acceptor hands the coin back"
    );
    assert_eq!(h.kiosk.status().credit, Cents::new(400));
    h.run("press 1\nwait 3000").await;
    assert!(!sim.inhibited(), "below the maximum again");
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn operator_restocks_and_resets_a_faulted_column() {
    let mut h = Harness::start(shipped(), 18);
    h.run("coin 200\njam 2\npress 2\nwait 15000").await;
    assert_eq!(
        h.kiosk.status().columns[1].status,
        ColumnStatus::Faulted(FailReason::Jammed)
    );
    h.run("fix 2\nreset 2\nrestock 2\npress 2\nwait 3000").await;
    assert_eq!(h.tray_products(), vec!["Orange soda".to_string()]);
    let status = h.kiosk.status();
    assert_eq!(status.columns[1].status, ColumnStatus::InService);
    assert_eq!(status.columns[1].stock, 7, "filled to 8, one sold");
    h.stop().await;
}
