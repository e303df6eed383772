//! Whole-machine sales paid through the MDB bus: the real controller, vend core and bus thread,
//! the simulated changer, validator and card reader answering byte for byte, and the books.
//!
//! The bus keeps real time (its answers are due within milliseconds), so these run on the real
//! clock with the quick simulated mechanics, and wait for what they need to see, never for a
//! fixed time.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{fast_machine, Harness};
use happiness::config::MachineConfig;
use happiness::controller::{Request, Status};
use happiness::journal::BooksReport;
use happiness::money::Cents;
use happiness::vend::{Screen, Tender};

/// The quick machine with `edits` to its `[payment]` section (and the rest of the file).
fn machine(edits: &[(&str, &str)]) -> MachineConfig {
    let mut text = fast_machine();
    for (from, to) in edits {
        assert!(text.contains(from), "fixture lacks {from:?}");
        text = text.replacen(from, to, 1);
    }
    MachineConfig::from_toml(Path::new("machine.toml"), &text).expect("valid config")
}

/// The quick machine with coins from an MDB changer: no pulse acceptor, no hopper.
fn changer_machine() -> MachineConfig {
    let text = fast_machine();
    let start = text
        .find("# The coin acceptor's pulse output")
        .expect("acceptor");
    let end = text
        .find("# Which devices take the money")
        .expect("payment");
    let text = format!("{}{}", &text[..start], &text[end..]).replacen(
        "coins = \"pulse\"",
        "coins = \"mdb\"",
        1,
    );
    MachineConfig::from_toml(Path::new("machine.toml"), &text).expect("valid config")
}

/// Wait (at most 20 s) until `ready` holds: looked at on each status change, and every 10 ms
/// for what only the simulated devices show.
async fn until(h: &Harness, what: &str, ready: impl Fn(&Status) -> bool) -> Status {
    let mut status = h.kiosk.status.clone();
    let give_up = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let now = status.borrow_and_update().clone();
        if ready(&now) {
            return now;
        }
        assert!(
            tokio::time::Instant::now() < give_up,
            "{what}: not seen; status {now:?}"
        );
        tokio::select! {
            _ = status.changed() => {}
            () = tokio::time::sleep(Duration::from_millis(10)) => {}
        }
    }
}

async fn books(h: &Harness) -> BooksReport {
    let (reply, answer) = tokio::sync::oneshot::channel();
    h.kiosk.send(Request::Books { reply }).expect("send");
    answer.await.expect("answer").expect("books")
}

async fn card_machine(seed: u64) -> Harness {
    let h = Harness::start(
        machine(&[("cashless = \"none\"", "cashless = \"mdb\"")]),
        seed,
    );
    h.kiosk.opened().await;
    until(&h, "the card reader is up", |s| {
        matches!(s.screen, Some(Screen::TapOrInsert { .. }))
    })
    .await;
    h
}

fn card_ledger(h: &Harness) -> (Vec<u64>, Vec<u64>) {
    let bus = h.kiosk.mdb.as_ref().expect("simulated bus");
    let bus = bus.lock().expect("bus");
    let card = bus.card.as_ref().expect("reader");
    (card.charged.clone(), card.refunded.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_pays_for_a_drink_and_is_charged_once_it_dropped() {
    let mut h = card_machine(1).await;
    h.run("card 500").await;
    assert!(h.kiosk.status().card_session);
    assert_eq!(h.kiosk.status().card_funds, Some(Cents::new(500)));
    h.run("press 1").await;
    let s = until(&h, "the card sale", |s| {
        s.ledger.card == Cents::new(150) && !s.vending
    })
    .await;
    // VEND SUCCESS follows the drop on the next exchange with the reader.
    until(&h, "the card charged", |_| card_ledger(&h).0 == vec![150]).await;
    assert_eq!(s.credit, Cents::ZERO, "card money never becomes credit");
    assert!(!s.card_session, "the session is complete");
    assert_eq!(h.tray_products(), vec!["Cola".to_string()]);
    assert_eq!(card_ledger(&h), (vec![150], vec![]));
    let delivered = h.notices().into_iter().find(|n| {
        matches!(
            n,
            happiness::vend::Notice::VendDelivered {
                tender: Tender::Card,
                ..
            }
        )
    });
    assert!(delivered.is_some());
    let b = books(&h).await;
    assert!(b.money.balanced, "{:?}", b.money);
    assert_eq!(b.money.card, Cents::new(150));
    assert_eq!(b.money.spent, Cents::ZERO);
    assert_eq!(b.by_payment, vec![("card".to_string(), 1, Cents::new(150))]);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_vend_that_jams_is_never_charged() {
    let mut h = card_machine(2).await;
    h.run("jam 1\ncard 500\npress 1").await;
    let s = until(&h, "the failed card vend", |s| {
        !s.vending && s.columns[0].status != happiness::vend::ColumnStatus::InService
    })
    .await;
    // The reader heard VEND FAILURE: it released the hold, and nothing is credit.
    let (charged, refunded) = card_ledger(&h);
    assert!(charged.is_empty(), "charged {charged:?}");
    assert_eq!(s.credit, Cents::ZERO);
    assert_eq!(s.ledger.card, Cents::ZERO);
    if refunded.is_empty() {
        until(&h, "the reader released the hold", |_| {
            card_ledger(&h).1 == vec![150]
        })
        .await;
    } else {
        assert_eq!(refunded, vec![150]);
    }
    let b = books(&h).await;
    assert_eq!(b.card_not_charged, (1, Cents::new(150)));
    assert!(b.refunds.is_empty(), "no refund to credit: {:?}", b.refunds);
    assert!(b.money.balanced);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_card_dispenses_nothing_and_says_so() {
    let mut h = card_machine(3).await;
    h.run("card deny\ncard 500\npress 1").await;
    let s = until(&h, "the decline", |s| {
        matches!(s.screen, Some(Screen::CardDeclined { .. }))
    })
    .await;
    assert_eq!(
        s.display,
        "Card declined: try another card or pay with coins"
    );
    assert!(h.motor_commands().is_empty());
    assert_eq!(card_ledger(&h).0, Vec::<u64>::new());
    // Another card goes through, once the first one's session is over.
    until(&h, "the first card's session over", |_| {
        let bus = h.kiosk.mdb.as_ref().expect("bus");
        let bus = bus.lock().expect("bus");
        !bus.card.as_ref().expect("reader").in_session()
    })
    .await;
    h.run("card 500\npress 3").await;
    until(&h, "the second card's sale", |s| {
        s.ledger.card == Cents::new(100) && !s.vending
    })
    .await;
    until(&h, "the second card charged", |_| {
        card_ledger(&h).0 == vec![100]
    })
    .await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coins_through_the_changer_buy_a_drink() {
    let mut h = Harness::start(changer_machine(), 4);
    h.kiosk.opened().await;
    until(&h, "the changer is up", |s| {
        s.payment_devices_up.contains(&"changer".to_string())
    })
    .await;
    h.run("coin 200").await;
    assert_eq!(h.kiosk.status().credit, Cents::new(200));
    h.run("press 1").await;
    let s = until(&h, "the coin sale", |s| {
        s.ledger.spent == Cents::new(150) && !s.vending
    })
    .await;
    assert_eq!(s.credit, Cents::new(50));
    let tubes = happiness::script::execute(
        &h.kiosk,
        happiness::script::parse("tubes")
            .expect("parse")
            .expect("cmd"),
    )
    .await
    .expect("tubes");
    assert!(format!("{tubes:?}").contains("taken €2.00"), "{tubes:?}");
    // The change comes from the tubes.
    h.run("return").await;
    let s = until(&h, "the change", |s| s.credit == Cents::ZERO && !s.vending).await;
    assert_eq!(s.ledger.returned, Cents::new(50));
    let paid_out = {
        let bus = h.kiosk.mdb.as_ref().expect("bus");
        let bus = bus.lock().expect("bus");
        bus.changer.as_ref().expect("changer").paid_out
    };
    assert_eq!(paid_out, 50);
    let b = books(&h).await;
    assert!(b.money.balanced, "{:?}", b.money);
    assert_eq!(b.money.paid_out, Cents::new(50));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bill_is_kept_only_within_the_credit_limit() {
    let mut h = Harness::start(machine(&[("bills = \"none\"", "bills = \"mdb\"")]), 5);
    h.kiosk.opened().await;
    until(&h, "the validator is up", |s| {
        s.payment_devices_up.contains(&"bills".to_string())
    })
    .await;
    h.run("bill 500").await;
    assert_eq!(h.kiosk.status().credit, Cents::new(500));
    // 5.00 + 50.00 is over the 20.00 the machine holds: handed back from escrow.
    let said = happiness::script::execute(
        &h.kiosk,
        happiness::script::parse("bill 5000")
            .expect("parse")
            .expect("cmd"),
    )
    .await
    .expect("bill");
    assert!(format!("{said:?}").contains("handed back"), "{said:?}");
    assert_eq!(h.kiosk.status().credit, Cents::new(500));
    h.run("press 1").await;
    until(&h, "the bill sale", |s| {
        s.ledger.spent == Cents::new(150) && !s.vending
    })
    .await;
    let b = books(&h).await;
    assert!(b.money.balanced, "{:?}", b.money);
    assert_eq!(b.money.inserted, Cents::new(500));
    h.stop().await;
}
