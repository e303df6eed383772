//! Card sales in the books: a row naming the reader beside each, outside the cash balance,
//! apart in the report, and a card vend that failed never a refund to credit.

use super::*;
use crate::vend::Tender;

fn card_started(column: usize, price: u64) -> Notice {
    Notice::VendStarted {
        column: col(column),
        product: "Cola".into(),
        price: Cents::new(price),
        tender: Tender::Card,
    }
}

#[test]
fn a_card_sale_is_booked_with_its_reader_and_stays_outside_the_cash_balance() {
    let mut j = fresh();
    j.set_card_reader(Some("NYX 0000012345".into()));
    j.record(t(1), &[&coin(200, 200)], Cents::new(200))
        .expect("coin");
    // Paid by card although credit is held: the credit is not touched.
    j.record(t(2), &[&card_started(1, 150)], Cents::new(200))
        .expect("intent");
    let mid = j.report().expect("report");
    assert!(
        mid.money.balanced,
        "a card vend holds no cash: {:?}",
        mid.money
    );
    assert_eq!(mid.money.held, Cents::new(200));
    j.record(
        t(3),
        &[&Notice::VendDelivered {
            column: col(1),
            product: "Cola".into(),
            price: Cents::new(150),
            tender: Tender::Card,
        }],
        Cents::new(200),
    )
    .expect("outcome");
    j.record(t(4), &[&started(1, 150)], Cents::new(50))
        .expect("cash intent");
    j.record(t(5), &[&delivered(1, 150)], Cents::new(50))
        .expect("cash outcome");

    let r = j.report().expect("report");
    assert!(r.money.balanced, "{:?}", r.money);
    assert_eq!(r.money.spent, Cents::new(150));
    assert_eq!(r.money.card, Cents::new(150));
    assert_eq!(
        r.by_payment,
        vec![
            ("cash".to_string(), 1, Cents::new(150)),
            ("card".to_string(), 1, Cents::new(150))
        ]
    );
    assert_eq!(r.sales[0].count, 2, "both are sales of Cola");
    let reader: Option<String> = j
        .conn
        .query_row("SELECT reader FROM card_vends", [], |r| r.get(0))
        .expect("card row");
    assert_eq!(reader.as_deref(), Some("NYX 0000012345"));
    assert!(r.seals.ok(), "{:?}", r.seals);
    let text = r.to_text("€");
    assert!(text.contains("charged to cards"), "{text}");
    assert!(text.contains("Sales by payment"), "{text}");
}

#[test]
fn a_card_vend_that_failed_is_not_a_refund_to_credit() {
    let mut j = fresh();
    j.record(t(1), &[&card_started(1, 150)], Cents::ZERO)
        .expect("intent");
    j.record(
        t(2),
        &[&Notice::VendFailed {
            column: col(1),
            product: "Cola".into(),
            refunded: Cents::new(150),
            reason: FailReason::Jammed,
            tender: Tender::Card,
        }],
        Cents::ZERO,
    )
    .expect("failed");
    let r = j.report().expect("report");
    assert!(r.money.balanced, "{:?}", r.money);
    assert!(r.refunds.is_empty(), "{:?}", r.refunds);
    assert_eq!(r.card_not_charged, (1, Cents::new(150)));
    assert_eq!(r.money.card, Cents::ZERO);
}

#[test]
fn the_fleet_hears_how_each_sale_was_paid() {
    let mut j = fresh();
    j.enable_outbox().expect("outbox");
    j.record(t(1), &[&card_started(1, 150)], Cents::ZERO)
        .expect("intent");
    j.record(
        t(2),
        &[&Notice::VendDelivered {
            column: col(1),
            product: "Cola".into(),
            price: Cents::new(150),
            tender: Tender::Card,
        }],
        Cents::ZERO,
    )
    .expect("outcome");
    let copies = j.outbox_after(0, 10).expect("outbox");
    assert!(copies
        .iter()
        .any(|c| c.payload.contains("\"card_payment\"")));
    let ended = copies
        .iter()
        .find(|c| c.payload.contains("\"vend_ended\""))
        .expect("vend_ended");
    assert!(
        ended.payload.contains("\"payment\":\"card\""),
        "{}",
        ended.payload
    );
}

#[test]
fn a_card_vend_a_power_cut_interrupted_puts_nothing_in_credit() {
    let mut j = fresh();
    j.record(t(1), &[&coin(100, 100)], Cents::new(100))
        .expect("coin");
    j.record(t(2), &[&card_started(1, 150)], Cents::new(100))
        .expect("intent");
    let recovery = j.recover(&machine(), t(10), 168).expect("recover");
    assert_eq!(recovery.refunded, Cents::ZERO);
    assert_eq!(recovery.restored.credit, Cents::new(100));
    assert!(recovery.interrupted[0].card);
    let r = j.report().expect("report");
    assert!(r.money.balanced, "{:?}", r.money);
    assert_eq!(r.card_not_charged, (1, Cents::new(150)));
}
