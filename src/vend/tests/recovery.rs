//! Making it right: offers after a failed paid vend or an unhappy answer, the free choice, its
//! lapse, and the caps and budget that bound it.

use super::*;
use crate::surprise::{OfferKind, RecoveryTrigger};

fn with_recovery(recovery: &str, surprises: &str) -> VendSettings {
    let mut s = settings(PaymentMode::Coin);
    let text = format!("{surprises}\n[recovery]\n{recovery}\n");
    s.surprises = SurpriseConfig::from_toml(std::path::Path::new("s.toml"), &text, &s.columns)
        .expect("surprises");
    s
}

fn free_item() -> VendSettings {
    with_recovery(
        "offer = \"free_item\"\noffer_s = 30\nmin_budget_cents = 500\non_unhappy = true",
        "",
    )
}

/// Run time on until nothing is due (no edges come: a jam on column 1 runs its course).
fn run_out(core: &mut VendCore, from: u64) -> (Vec<Command>, u64) {
    let mut all = Vec::new();
    let mut t = from;
    while let Some(d) = core.next_deadline() {
        assert!(d.as_millis() < t + 120_000, "runaway deadlines");
        t = d.as_millis();
        all.extend(core.poll(d));
        if core.offer().is_some() && !core.is_vending() {
            break;
        }
    }
    (all, t)
}

/// A customer pays 150 for a Cola (column 1) that jams; returns the core with the offer open.
fn jammed(settings: &VendSettings) -> (VendCore, Vec<Command>, u64) {
    let mut core = VendCore::new(settings);
    core.handle(
        ms(0),
        Event::Coin {
            value: Cents::new(150),
        },
    );
    let mut all = core.handle(ms(0), Event::Select { column: col(1) });
    let (more, t) = run_out(&mut core, 0);
    all.extend(more);
    (core, all, t)
}

#[test]
fn a_jam_is_refunded_first_then_any_available_drink_is_offered_free() {
    let (mut core, all, t) = jammed(&free_item());
    let n = notices(&all);
    let failed = n
        .iter()
        .position(|x| matches!(x, Notice::VendFailed { .. }))
        .expect("failed");
    let offered = n
        .iter()
        .position(|x| matches!(x, Notice::RecoveryOffered { .. }))
        .expect("offered");
    assert!(failed < offered, "the refund comes first");
    assert_eq!(
        n[offered],
        Notice::RecoveryOffered {
            column: col(1),
            trigger: RecoveryTrigger::FailedVend,
            offer: OfferKind::FreeItem,
            // Cola is faulted now and Water is sold out: Juice is what can be had.
            columns: vec![col(3)],
            allowance: Cents::new(500),
            expires_s: 30,
        }
    );
    let shown = screens(&all);
    assert!(matches!(
        shown.last(),
        Some(Screen::MakeItRight { refunded, credit, free: true, .. })
            if *refunded == Cents::new(150) && *credit == Cents::new(150)
    ));
    assert!(
        !n.iter()
            .any(|x| matches!(x, Notice::SurpriseAwarded { .. })),
        "never a surprise with a failure"
    );
    assert_eq!(core.offer().map(|o| o.columns), Some(vec![col(3)]));

    // The customer picks Juice: it comes free, through sure-vend, and the credit stays theirs.
    let cmds = core.handle(ms(t + 100), Event::Select { column: col(3) });
    assert_eq!(motors(&cmds), vec![(3, true)]);
    let n = notices(&cmds);
    assert_eq!(
        n[0],
        Notice::RecoveryTaken {
            column: col(3),
            product: "Juice".into(),
            value: Cents::new(120)
        }
    );
    assert!(matches!(n[1], Notice::SurpriseItemStarted { .. }));
    assert!(core.offer().is_none());
    let mut cmds = core.handle(ms(t + 900), Event::Drop { sensor: 0 });
    cmds.extend(core.poll(ms(t + 3_000)));
    let n = notices(&cmds);
    assert!(n.contains(&Notice::SurpriseItemDelivered {
        column: col(3),
        product: "Juice".into()
    }));
    assert!(n.contains(&Notice::SurpriseCompleted {
        name: RECOVERY_NAME.into(),
        planned: 1,
        delivered: 1,
        partial: false
    }));
    assert_eq!(core.credit(), Cents::new(150));
    assert_eq!(core.stock(col(3)), Some(4));
    assert_conserved(&core);
    assert_eq!(core.surprises().recovery_totals().cost, Cents::new(120));
}

#[test]
fn the_free_choice_lapses_after_its_time_and_then_the_credit_buys_as_usual() {
    let (mut core, _, t) = jammed(&free_item());
    let until = core.offer().expect("offer").until;
    assert_eq!(until.as_millis(), t + 30_000);
    let cmds = core.poll(until);
    assert!(notices(&cmds).contains(&Notice::RecoveryLapsed {
        why: Lapse::Expired
    }));
    assert!(matches!(
        screens(&cmds).last(),
        Some(Screen::Welcome { .. })
    ));
    let cmds = core.handle(
        until + Duration::from_millis(10),
        Event::Select { column: col(3) },
    );
    assert!(matches!(
        notices(&cmds)[0],
        Notice::VendStarted { price, .. } if price == Cents::new(120)
    ));
}

#[test]
fn coin_return_or_the_door_ends_the_offer_and_other_columns_are_refused_meanwhile() {
    let (mut core, _, t) = jammed(&free_item());
    // Water is not covered (sold out): refused, and the offer stays open.
    let cmds = core.handle(ms(t + 10), Event::Select { column: col(2) });
    assert!(motors(&cmds).is_empty());
    assert_eq!(
        notices(&cmds),
        vec![Notice::Refused {
            column: col(2),
            reason: Refusal::NotInOffer
        }]
    );
    assert!(core.offer().is_some());
    let cmds = core.handle(ms(t + 20), Event::CoinReturn);
    assert_eq!(
        notices(&cmds)[0],
        Notice::RecoveryLapsed {
            why: Lapse::CreditReturned
        }
    );
    assert!(core.offer().is_none());

    let (mut core, _, t) = jammed(&free_item());
    let cmds = core.handle(ms(t + 20), Event::Door { open: true });
    assert!(notices(&cmds).contains(&Notice::RecoveryLapsed {
        why: Lapse::DoorOpened
    }));
    assert!(core.offer().is_none());
}

#[test]
fn a_coin_during_the_offer_keeps_it_on_the_display() {
    let (mut core, _, t) = jammed(&free_item());
    core.handle(
        ms(t + 10),
        Event::Coin {
            value: Cents::new(50),
        },
    );
    // After the credit message, the offer comes back rather than the welcome screen.
    let cmds = core.poll(ms(t + 10_000));
    assert!(matches!(
        screens(&cmds).last(),
        Some(Screen::MakeItRight { credit, .. }) if *credit == Cents::new(200)
    ));
}

#[test]
fn offers_stop_at_max_per_day() {
    let s = with_recovery(
        "offer = \"free_item\"\nmax_per_day = 1\nmin_budget_cents = 500",
        "",
    );
    let (mut core, all, t) = jammed(&s);
    assert!(notices(&all)
        .iter()
        .any(|n| matches!(n, Notice::RecoveryOffered { .. })));
    core.handle(ms(t + 10), Event::CoinReturn);
    // Juice jams too (no drop, no home switch): refunded, no second offer today.
    let mut all = core.handle(ms(t + 20), Event::Select { column: col(3) });
    let (more, _) = run_out(&mut core, t + 20);
    all.extend(more);
    let n = notices(&all);
    assert!(n.iter().any(|x| matches!(x, Notice::VendFailed { .. })));
    assert!(!n
        .iter()
        .any(|x| matches!(x, Notice::RecoveryOffered { .. })));
    assert!(screens(&all)
        .iter()
        .any(|s| matches!(s, Screen::Refunded { .. })));
}

#[test]
fn without_room_in_the_budget_for_any_item_the_offer_is_an_apology() {
    let s = with_recovery(
        "offer = \"free_item\"\nbudget_percent = 0.0\nmin_budget_cents = 100",
        "",
    );
    let (core, all, _) = jammed(&s);
    assert!(notices(&all).iter().any(|n| matches!(
        n,
        Notice::RecoveryOffered {
            offer: OfferKind::Message,
            columns,
            ..
        } if columns.is_empty()
    )));
    assert!(core.offer().is_none());
    assert!(screens(&all).iter().any(|s| matches!(
        s,
        Screen::MakeItRight {
            free: false,
            message: None,
            ..
        }
    )));
}

#[test]
fn no_offer_when_recovery_is_off_or_the_failure_was_the_door() {
    let (core, all, _) = jammed(&settings(PaymentMode::Coin));
    assert!(!notices(&all)
        .iter()
        .any(|n| matches!(n, Notice::RecoveryOffered { .. })));
    assert!(core.offer().is_none());

    let mut core = VendCore::new(&free_item());
    core.handle(
        ms(0),
        Event::Coin {
            value: Cents::new(150),
        },
    );
    core.handle(ms(0), Event::Select { column: col(1) });
    let cmds = core.handle(ms(100), Event::Door { open: true });
    assert!(notices(&cmds)
        .iter()
        .any(|n| matches!(n, Notice::VendFailed { .. })));
    assert!(!notices(&cmds)
        .iter()
        .any(|n| matches!(n, Notice::RecoveryOffered { .. })));
}

/// A delivered Juice (column 3, no home switch), 120 paid from 200.
fn delivered(settings: &VendSettings) -> VendCore {
    let mut core = VendCore::new(settings);
    core.handle(
        ms(0),
        Event::Coin {
            value: Cents::new(200),
        },
    );
    core.handle(ms(10), Event::Select { column: col(3) });
    let cmds = core.handle(ms(900), Event::Drop { sensor: 0 });
    assert!(notices(&cmds)
        .iter()
        .any(|n| matches!(n, Notice::VendDelivered { .. })));
    core.poll(ms(2_000));
    assert!(!core.is_vending());
    core
}

#[test]
fn an_unhappy_answer_is_made_right_once_per_vend_and_only_soon_after_it() {
    let mut core = delivered(&free_item());
    let cmds = core.handle(ms(5_000), Event::Unhappy);
    assert!(notices(&cmds).iter().any(|n| matches!(
        n,
        Notice::RecoveryOffered {
            trigger: RecoveryTrigger::Unhappy,
            offer: OfferKind::FreeItem,
            ..
        }
    )));
    assert!(matches!(
        screens(&cmds).last(),
        Some(Screen::MakeItRight { refunded, .. }) if *refunded == Cents::ZERO
    ));
    core.handle(ms(6_000), Event::CoinReturn);
    let cmds = core.handle(ms(7_000), Event::Unhappy);
    assert!(notices(&cmds).is_empty(), "once per vend");

    let mut core = delivered(&free_item());
    let late = 900 + UNHAPPY_WINDOW.as_millis() as u64 + 1;
    assert!(notices(&core.handle(ms(late), Event::Unhappy)).is_empty());

    let off = with_recovery("offer = \"free_item\"\nmin_budget_cents = 500", "");
    let mut core = delivered(&off);
    assert!(notices(&core.handle(ms(5_000), Event::Unhappy)).is_empty());
}

#[test]
fn an_unhappy_answer_with_nothing_bought_is_ignored() {
    let mut core = VendCore::new(&free_item());
    assert!(notices(&core.handle(ms(10), Event::Unhappy)).is_empty());
}
