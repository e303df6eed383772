//! Failures made right in the books: apart from surprises in every report, restored for the
//! engine after a restart; and a campaign's awards read back by name and time.

use super::*;
use crate::surprise::{OfferKind, RecoveryTrigger};
use crate::vend::{Lapse, RECOVERY_NAME};

/// A Cola that jammed and was refunded, then a free Water (column 3, 100) taken to make it
/// right; and, later, a Cola with "One to share".
pub(super) fn books_with_a_failure_made_right() -> Journal {
    let mut j = fresh();
    j.record(t(1), &[&coin(200, 200)], Cents::new(200))
        .expect("coin");
    j.record(t(2), &[&started(1, 150)], Cents::new(50))
        .expect("intent");
    let failed = Notice::VendFailed {
        tender: crate::vend::Tender::Cash,
        column: col(1),
        product: "Cola".into(),
        refunded: Cents::new(150),
        reason: FailReason::Jammed,
    };
    let offered = Notice::RecoveryOffered {
        column: col(1),
        trigger: RecoveryTrigger::FailedVend,
        offer: OfferKind::FreeItem,
        columns: vec![col(2), col(3)],
        allowance: Cents::new(600),
        expires_s: 60,
    };
    j.record(t(20), &[&failed, &offered], Cents::new(200))
        .expect("refund");
    let taken = Notice::RecoveryTaken {
        column: col(3),
        product: "Water".into(),
        value: Cents::new(100),
    };
    let item = Notice::SurpriseItemStarted {
        column: col(3),
        product: "Water".into(),
    };
    j.record(t(25), &[&taken, &item], Cents::new(200))
        .expect("taken");
    let dropped = Notice::SurpriseItemDelivered {
        column: col(3),
        product: "Water".into(),
    };
    let done = Notice::SurpriseCompleted {
        name: RECOVERY_NAME.into(),
        planned: 1,
        delivered: 1,
        partial: false,
    };
    j.record(t(26), &[&dropped, &done], Cents::new(200))
        .expect("delivered");
    let lapsed = Notice::RecoveryLapsed {
        why: Lapse::Expired,
    };
    j.record(t(27), &[&lapsed], Cents::new(200)).expect("lapse");
    j.record(t(30), &[&started(1, 150)], Cents::new(50))
        .expect("intent");
    j.record(
        t(31),
        &[&delivered(1, 150), &one_to_share()],
        Cents::new(50),
    )
    .expect("sale and surprise");
    j
}

#[test]
fn a_free_item_that_made_a_failure_right_is_counted_apart_from_surprises() {
    let j = books_with_a_failure_made_right();
    let r = j.report().expect("report");
    assert!(r.money.balanced, "{:?}", r.money);
    assert_eq!(r.surprises.len(), 1, "{:?}", r.surprises);
    assert_eq!(r.surprises[0].name, "One to share");
    assert_eq!(r.surprise_cost, Cents::new(90));
    assert_eq!(r.recovery.offers, 1);
    assert_eq!(r.recovery.after_failure, 1);
    assert_eq!(r.recovery.items, 1);
    assert_eq!(r.recovery.delivered, 1);
    assert_eq!(r.recovery.value, Cents::new(100));
    assert_eq!(r.recovery.lapsed, 1);
    let text = r.to_text("€");
    assert!(text.contains("Made right (apart from surprises)"), "{text}");
    assert!(r.seals.ok(), "{:?}", r.seals);

    let day = Period::new(t(0), t(86_400), None).expect("period");
    let rule = BudgetRule {
        percent: 2.0,
        window_hours: 168,
    };
    let b = j.period_books(&day, rule, t(100)).expect("books");
    assert_eq!(b.surprises.count, 1);
    assert_eq!(b.surprises.value, Cents::new(90));
    assert_eq!(
        b.window_spend,
        Cents::new(90),
        "free items are not surprise spend"
    );
    assert_eq!(b.recovery.items, 1);
    // The sales export: the refunded Cola names what made it right; the sale, its surprise.
    let lines = j.sales_lines(&day).expect("lines");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].outcome, "refunded");
    assert_eq!(lines[0].made_right, "a free Water from column 3");
    assert_eq!(lines[0].made_right_value, Cents::new(100));
    assert_eq!(lines[0].surprise, "");
    assert_eq!(lines[1].surprise, "One to share");
    assert_eq!(lines[1].made_right, "");
}

#[test]
fn recovery_and_campaign_awards_are_read_back_after_a_restart() {
    let mut j = books_with_a_failure_made_right();
    let history = j
        .recover(&machine(), t(100), 168)
        .expect("recover")
        .surprise_history;
    assert_eq!(history.recovery_offers, vec![t(20)]);
    assert_eq!(history.recovery_taken, vec![(t(25), Cents::new(100))]);
    assert_eq!(
        history.awards,
        vec![(t(31), Cents::new(90))],
        "surprises only"
    );
    assert_eq!(history.streak, 0, "the last paid vend had a surprise");
    let names = vec!["One to share".to_string(), RECOVERY_NAME.to_string()];
    assert_eq!(
        j.awards_of(&names, t(0), t(100)).expect("awards"),
        (1, Cents::new(90)),
        "a campaign counts surprises, never free items made right"
    );
    assert_eq!(
        j.awards_of(&names, t(32), t(100)).expect("awards"),
        (0, Cents::ZERO),
        "outside its window"
    );
}
