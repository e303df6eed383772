//! Paying by card: dispensed only after approval, charged only on a drop, never turned into
//! credit; select first then tap; declines, time-outs, late answers and a reader lost.

use super::*;
use crate::vend::{CARD_WAIT, CHOICE_WAIT};

/// A coin machine whose reader is up, and a card presented with `funds`.
fn with_card(funds: Option<u64>) -> VendCore {
    let mut core = VendCore::new(&settings(PaymentMode::Coin));
    core.start(ms(0));
    core.handle(ms(0), Event::CardReader { ready: true });
    core.handle(
        ms(0),
        Event::CardSession {
            funds: funds.map(Cents::new),
        },
    );
    core
}

fn card_commands(cmds: &[Command]) -> Vec<Command> {
    cmds.iter()
        .filter(|c| {
            matches!(
                c,
                Command::CardVend { .. }
                    | Command::CardVendResult { .. }
                    | Command::CardEndSession
                    | Command::CardCashSale { .. }
            )
        })
        .cloned()
        .collect()
}

/// Run deadlines until nothing is due.
fn run_out(core: &mut VendCore, mut t: u64) -> Vec<Command> {
    let mut all = Vec::new();
    while let Some(d) = core.next_deadline() {
        assert!(d.as_millis() < t + 300_000, "runaway deadlines");
        t = d.as_millis();
        all.extend(core.poll(d));
    }
    all
}

#[test]
fn a_card_sale_dispenses_only_after_approval_and_is_charged_only_on_the_drop() {
    let mut core = with_card(Some(500));
    let cmds = core.handle(ms(10), Event::Select { column: col(1) });
    assert_eq!(
        card_commands(&cmds),
        vec![Command::CardVend {
            column: col(1),
            price: Cents::new(150)
        }]
    );
    assert!(motors(&cmds).is_empty(), "no motor before the approval");
    assert!(screens(&cmds).contains(&Screen::CardWaiting {
        product: "Cola".into(),
        price: Cents::new(150)
    }));
    // Pressing again while the reader decides starts nothing.
    let cmds = core.handle(ms(20), Event::Select { column: col(3) });
    assert!(card_commands(&cmds).is_empty() && motors(&cmds).is_empty());

    let cmds = core.handle(
        ms(500),
        Event::CardApproved {
            amount: Cents::new(150),
        },
    );
    assert_eq!(motors(&cmds), vec![(1, true)]);
    assert!(notices(&cmds).contains(&Notice::VendStarted {
        column: col(1),
        product: "Cola".into(),
        price: Cents::new(150),
        tender: Tender::Card,
    }));
    assert!(card_commands(&cmds).is_empty(), "nothing charged yet");
    // Card money is never credit nor cash escrow.
    assert_eq!(core.credit(), Cents::ZERO);
    assert_eq!(core.escrow(), Cents::ZERO);

    let cmds = core.handle(ms(900), Event::Drop { sensor: 0 });
    assert_eq!(
        card_commands(&cmds),
        vec![
            Command::CardVendResult { dropped: true },
            Command::CardEndSession
        ]
    );
    assert!(notices(&cmds).contains(&Notice::VendDelivered {
        column: col(1),
        product: "Cola".into(),
        price: Cents::new(150),
        tender: Tender::Card,
    }));
    let l = core.ledger();
    assert_eq!(
        (l.card, l.spent, l.inserted),
        (Cents::new(150), Cents::ZERO, Cents::ZERO)
    );
    assert_eq!(core.card_funds(), None, "the session is complete");
    assert_conserved(&core);
}

#[test]
fn a_card_vend_that_does_not_drop_is_a_vend_failure_and_never_credit() {
    let mut core = with_card(None);
    core.handle(ms(0), Event::Select { column: col(3) });
    core.handle(
        ms(100),
        Event::CardApproved {
            amount: Cents::new(120),
        },
    );
    let all = run_out(&mut core, 100);
    assert_eq!(
        card_commands(&all),
        vec![
            Command::CardVendResult { dropped: false },
            Command::CardEndSession
        ]
    );
    assert!(notices(&all).iter().any(|n| matches!(
        n,
        Notice::VendFailed {
            tender: Tender::Card,
            refunded,
            ..
        } if *refunded == Cents::new(120)
    )));
    assert!(screens(&all).iter().any(|s| matches!(
        s,
        Screen::Refunded {
            tender: Tender::Card,
            credit,
            ..
        } if *credit == Cents::ZERO
    )));
    assert_eq!(core.credit(), Cents::ZERO, "the reader refunds the card");
    assert_eq!(core.ledger().card, Cents::ZERO);
    assert_conserved(&core);
}

#[test]
fn a_declined_card_dispenses_nothing_and_ends_the_session_for_another_card() {
    let mut core = with_card(Some(1000));
    core.handle(ms(0), Event::Select { column: col(1) });
    let cmds = core.handle(ms(300), Event::CardDenied);
    assert!(motors(&cmds).is_empty());
    assert_eq!(card_commands(&cmds), vec![Command::CardEndSession]);
    assert!(notices(&cmds).contains(&Notice::Refused {
        column: col(1),
        reason: Refusal::CardDeclined
    }));
    assert!(screens(&cmds).contains(&Screen::CardDeclined {
        product: "Cola".into()
    }));
    // Another card goes on.
    core.handle(ms(400), Event::CardSession { funds: None });
    let cmds = core.handle(ms(500), Event::Select { column: col(1) });
    assert_eq!(card_commands(&cmds).len(), 1);
}

#[test]
fn a_card_with_too_little_is_declined_without_asking_the_reader() {
    let mut core = with_card(Some(100));
    let cmds = core.handle(ms(0), Event::Select { column: col(1) });
    assert!(card_commands(&cmds).is_empty());
    assert!(screens(&cmds).contains(&Screen::CardDeclined {
        product: "Cola".into()
    }));
}

#[test]
fn choose_first_then_tap_goes_on_with_the_card() {
    let mut core = VendCore::new(&settings(PaymentMode::Coin));
    core.start(ms(0));
    let cmds = core.handle(ms(0), Event::CardReader { ready: true });
    assert!(screens(&cmds).contains(&Screen::TapOrInsert {
        credit: Cents::ZERO
    }));
    let cmds = core.handle(ms(10), Event::Select { column: col(1) });
    assert!(screens(&cmds).contains(&Screen::TapCard {
        product: "Cola".into(),
        price: Cents::new(150),
        credit: Cents::ZERO
    }));
    let cmds = core.handle(ms(5000), Event::CardSession { funds: None });
    assert_eq!(
        card_commands(&cmds),
        vec![Command::CardVend {
            column: col(1),
            price: Cents::new(150)
        }]
    );
}

#[test]
fn a_choice_no_card_followed_lapses() {
    let mut core = VendCore::new(&settings(PaymentMode::Coin));
    core.start(ms(0));
    core.handle(ms(0), Event::CardReader { ready: true });
    core.handle(ms(10), Event::Select { column: col(1) });
    let late = 10 + u64::try_from(CHOICE_WAIT.as_millis()).unwrap_or(0) + 1;
    let cmds = core.handle(ms(late), Event::CardSession { funds: None });
    assert!(card_commands(&cmds).is_empty());
    assert!(screens(&cmds).contains(&Screen::CardReady { funds: None }));
}

#[test]
fn an_approval_that_never_comes_ends_the_session_and_a_late_one_is_never_charged() {
    let mut core = with_card(None);
    core.handle(ms(0), Event::Select { column: col(1) });
    let wait = u64::try_from(CARD_WAIT.as_millis()).unwrap_or(0);
    let cmds = core.poll(ms(wait));
    assert_eq!(card_commands(&cmds), vec![Command::CardEndSession]);
    assert!(screens(&cmds).contains(&Screen::CardTimedOut {
        product: "Cola".into()
    }));
    let cmds = core.handle(
        ms(wait + 10),
        Event::CardApproved {
            amount: Cents::new(150),
        },
    );
    assert!(motors(&cmds).is_empty());
    assert_eq!(
        card_commands(&cmds),
        vec![
            Command::CardVendResult { dropped: false },
            Command::CardEndSession
        ]
    );
}

#[test]
fn cash_that_covers_the_price_is_used_first_and_the_reader_hears_of_the_sale() {
    let mut core = with_card(Some(500));
    core.handle(
        ms(0),
        Event::Coin {
            value: Cents::new(200),
        },
    );
    let cmds = core.handle(ms(10), Event::Select { column: col(1) });
    assert!(card_commands(&cmds).is_empty());
    assert!(notices(&cmds).iter().any(|n| matches!(
        n,
        Notice::VendStarted {
            tender: Tender::Cash,
            ..
        }
    )));
    let cmds = core.handle(ms(900), Event::Drop { sensor: 0 });
    assert_eq!(
        card_commands(&cmds),
        vec![Command::CardCashSale {
            column: col(1),
            price: Cents::new(150)
        }]
    );
    assert_eq!(core.credit(), Cents::new(50));
    assert_conserved(&core);
}

#[test]
fn an_approval_after_the_door_opened_dispenses_nothing_and_charges_nothing() {
    let mut core = with_card(None);
    core.handle(ms(0), Event::Select { column: col(1) });
    core.handle(ms(50), Event::Door { open: true });
    let cmds = core.handle(
        ms(100),
        Event::CardApproved {
            amount: Cents::new(150),
        },
    );
    assert!(motors(&cmds).is_empty());
    assert_eq!(
        card_commands(&cmds),
        vec![
            Command::CardVendResult { dropped: false },
            Command::CardEndSession
        ]
    );
}

#[test]
fn a_reader_lost_while_asked_refuses_the_choice_and_stops_offering_cards() {
    let mut core = with_card(None);
    core.handle(ms(0), Event::Select { column: col(1) });
    let cmds = core.handle(ms(10), Event::CardReader { ready: false });
    assert!(notices(&cmds).contains(&Notice::Refused {
        column: col(1),
        reason: Refusal::CardDeclined
    }));
    let cmds = core.handle(ms(20), Event::Select { column: col(1) });
    assert!(card_commands(&cmds).is_empty());
    assert!(screens(&cmds)
        .iter()
        .any(|s| matches!(s, Screen::InsertMore { .. })));
}

#[test]
fn a_session_ended_by_the_reader_while_asked_is_a_decline() {
    let mut core = with_card(None);
    core.handle(ms(0), Event::Select { column: col(1) });
    let cmds = core.handle(ms(10), Event::CardSessionEnded);
    assert!(screens(&cmds).contains(&Screen::CardDeclined {
        product: "Cola".into()
    }));
    // A late approval for it is answered with a failure.
    let cmds = core.handle(
        ms(20),
        Event::CardApproved {
            amount: Cents::new(150),
        },
    );
    assert!(motors(&cmds).is_empty());
    assert!(card_commands(&cmds).contains(&Command::CardVendResult { dropped: false }));
}

#[test]
fn free_vend_mode_never_asks_a_card() {
    let mut core = VendCore::new(&settings(PaymentMode::Free));
    core.start(ms(0));
    core.handle(ms(0), Event::CardReader { ready: true });
    core.handle(ms(0), Event::CardSession { funds: None });
    let cmds = core.handle(ms(10), Event::Select { column: col(1) });
    assert!(card_commands(&cmds).is_empty());
    assert_eq!(motors(&cmds), vec![(1, true)]);
}
