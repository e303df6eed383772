//! The validator's driver against a scripted validator: the spec's sequences, byte by byte.

use super::*;
use crate::mdb::testing::{ack, at, data, silent};
use proptest::prelude::*;

fn exchange(b: &mut Bills, answer: Outcome, now: Timestamp) -> (Command, Vec<BillEvent>) {
    let sent = b.next_command();
    let events = b.answered(&sent, &answer, now);
    (sent, events)
}

/// A level 2 euro validator: scale 100, two decimals, stacker of 500, escrow, bills of 5, 10,
/// 20 and 50 euros.
fn setup() -> Vec<u8> {
    let mut d = vec![
        0x02, 0x19, 0x78, 0x00, 0x64, 0x02, 0x01, 0xF4, 0x00, 0x00, 0xFF, 5, 10, 20, 50,
    ];
    d.extend_from_slice(&[0; 12]);
    d
}

fn ready() -> (Bills, Vec<Command>) {
    let mut b = Bills::new();
    let mut identity = vec![b'J', b'C', b'M'];
    identity.extend_from_slice(&[b'0'; 24]);
    identity.extend_from_slice(&[0x01, 0x00]);
    let script = vec![
        ack(),               // RESET
        data(&[0x06]),       // POLL: VALIDATOR WAS RESET
        data(&setup()),      // SETUP
        data(&identity),     // EXPANSION IDENTIFICATION
        data(&[0x00, 0x0A]), // STACKER: 10 bills
        ack(),               // BILL TYPE
    ];
    let mut sent = Vec::new();
    let mut events = Vec::new();
    for (i, answer) in script.into_iter().enumerate() {
        let (s, e) = exchange(&mut b, answer, at(10 * i as u64));
        sent.push(s);
        events.extend(e);
    }
    assert_eq!(events, vec![BillEvent::Ready]);
    (b, sent)
}

#[test]
fn the_validator_is_brought_up_in_the_specs_order() {
    let (_, sent) = ready();
    let codes: Vec<(u8, Vec<u8>)> = sent.iter().map(|c| (c.code(), c.data().to_vec())).collect();
    assert_eq!(
        codes,
        vec![
            (0x30, vec![]),     // RESET
            (0x33, vec![]),     // POLL
            (0x31, vec![]),     // SETUP
            (0x37, vec![0x00]), // EXPANSION IDENTIFICATION
            (0x36, vec![]),     // STACKER
            // Bills 0-3 accepted, every one held in escrow.
            (0x34, vec![0x00, 0x0F, 0x00, 0x0F]),
        ]
    );
}

#[test]
fn a_level_1_validator_answers_nak_to_the_expansion_and_comes_up() {
    let mut b = Bills::new();
    let mut level1 = setup();
    level1[0] = 0x01;
    exchange(&mut b, ack(), at(0));
    exchange(&mut b, data(&[0x06]), at(10));
    let (sent, _) = exchange(&mut b, data(&level1), at(20));
    assert_eq!(sent.code(), 0x31);
    // A level 1 validator goes from SETUP straight to STACKER.
    let (sent, _) = exchange(&mut b, data(&[0x00, 0x00]), at(30));
    assert_eq!(sent.code(), 0x36);
    let (sent, e) = exchange(&mut b, ack(), at(40));
    assert_eq!(sent.code(), 0x34);
    assert_eq!(e, vec![BillEvent::Ready]);
}

#[test]
fn a_bill_is_held_in_escrow_and_credited_only_once_stacked() {
    let (mut b, _) = ready();
    // POLL: a 10 euro bill (type 1) in escrow.
    let (_, e) = exchange(&mut b, data(&[0x91]), at(100));
    assert_eq!(
        e,
        vec![BillEvent::Escrowed {
            value: Cents::new(1000)
        }]
    );
    assert_eq!(b.waiting(), Some(Cents::new(1000)));
    // The same answer again (a repeated poll): nothing new.
    let (_, e) = exchange(&mut b, data(&[0x91]), at(110));
    assert!(e.is_empty());
    b.stack(at(0)).expect("stack");
    let (sent, e) = exchange(&mut b, ack(), at(120));
    assert_eq!(
        (sent.code(), sent.data()),
        (0x35, &[0x01][..]),
        "ESCROW stack"
    );
    assert!(e.is_empty(), "no credit before the validator says stacked");
    let (_, e) = exchange(&mut b, data(&[0x81]), at(130));
    assert_eq!(
        e,
        vec![BillEvent::Stacked {
            value: Cents::new(1000)
        }]
    );
    assert!(!b.is_holding());
    assert_eq!(
        b.next_command().code(),
        0x36,
        "the stacker is counted again"
    );
}

#[test]
fn a_bill_given_back_is_returned_and_never_credited() {
    let (mut b, _) = ready();
    exchange(&mut b, data(&[0x93]), at(100));
    b.give_back(at(0)).expect("return");
    b.give_back(at(0)).expect_err("decided already");
    let (sent, _) = exchange(&mut b, ack(), at(110));
    assert_eq!(sent.data(), &[0x00], "ESCROW return");
    let (_, e) = exchange(&mut b, data(&[0xA3]), at(120));
    assert_eq!(
        e,
        vec![BillEvent::Returned {
            value: Cents::new(5000)
        }]
    );
}

#[test]
fn rejected_bills_faults_and_a_full_stacker_are_reported() {
    let (mut b, _) = ready();
    let (_, e) = exchange(&mut b, data(&[0x0B, 0x05, 0x08, 0x43]), at(100));
    assert_eq!(
        e,
        vec![
            BillEvent::Rejected,
            BillEvent::Fault {
                what: "a bill is jammed in the validator".into()
            },
            BillEvent::Fault {
                what: "the bill cash box is out of position".into()
            },
        ]
    );
    // A stacked bill, then STACKER says full: bills are refused until it is emptied.
    exchange(&mut b, data(&[0x90]), at(110));
    b.stack(at(0)).expect("stack");
    exchange(&mut b, ack(), at(120));
    exchange(&mut b, data(&[0x80]), at(130));
    let (sent, e) = exchange(&mut b, data(&[0x81, 0xF4]), at(140));
    assert_eq!(sent.code(), 0x36);
    assert_eq!(e, vec![BillEvent::StackerFull]);
    let sent = b.next_command();
    assert_eq!(sent.data(), &[0x00, 0x00, 0x00, 0x0F], "no bill accepted");
}

#[test]
fn a_bill_told_to_stack_is_never_dropped_silently() {
    // Silent after ESCROW stack: the bill may be in the stacker.
    let (mut b, _) = ready();
    exchange(&mut b, data(&[0x92]), at(100));
    b.stack(at(0)).expect("stack");
    exchange(&mut b, ack(), at(110));
    let (_, e) = exchange(&mut b, silent(), at(6_000));
    assert_eq!(
        e,
        vec![
            BillEvent::Lost {
                why: "the bill validator has stopped answering".into()
            },
            BillEvent::Unsure {
                value: Cents::new(2000)
            },
        ]
    );
    assert_eq!(b.next_command().code(), 0x30, "reset and brought up again");

    // Reset while a bill waits for the controller: the validator hands it back.
    let (mut b, _) = ready();
    exchange(&mut b, data(&[0x90]), at(100));
    let (_, e) = exchange(&mut b, data(&[0x06]), at(110));
    assert_eq!(
        e,
        vec![
            BillEvent::Lost {
                why: "the bill validator was reset".into()
            },
            BillEvent::Returned {
                value: Cents::new(500)
            },
        ]
    );
}

#[test]
fn a_short_silence_is_not_a_lost_validator() {
    let (mut b, _) = ready();
    let (_, e) = exchange(&mut b, silent(), at(1_000));
    assert!(e.is_empty());
    assert_eq!(b.next_command().code(), 0x33, "still polled");
}

#[test]
fn a_bill_is_kept_only_within_the_limit_and_with_change_for_it() {
    let tubes_hold = |n: u64| move |c: Cents| c.get() <= n;
    let e = Cents::new;
    // 10 euros with 1.50 the cheapest: 8.50 change must be there.
    assert!(should_stack(
        e(1000),
        e(0),
        e(2000),
        Some(e(150)),
        tubes_hold(1000)
    ));
    assert!(!should_stack(
        e(1000),
        e(0),
        e(2000),
        Some(e(150)),
        tubes_hold(500)
    ));
    // Over the credit limit.
    assert!(!should_stack(
        e(2000),
        e(500),
        e(2000),
        Some(e(150)),
        tubes_hold(u64::MAX)
    ));
    // Nothing can be sold.
    assert!(!should_stack(
        e(500),
        e(0),
        e(2000),
        None,
        tubes_hold(u64::MAX)
    ));
    // A bill below the price needs no change.
    assert!(should_stack(
        e(500),
        e(0),
        e(2000),
        Some(e(600)),
        tubes_hold(0)
    ));
}

proptest! {
    /// Whatever the validator answers, in any order, the driver never panics and every bill
    /// told to stack ends as stacked, returned or unsure: never gone without a word.
    #[test]
    fn every_bill_told_to_stack_is_accounted_for(
        answers in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..6).prop_map(|d| data(&d)),
                Just(ack()),
                Just(silent()),
                Just(Outcome::Answered(Reply::Nak)),
            ],
            0..80,
        ),
        decide in prop::collection::vec(any::<bool>(), 80),
    ) {
        let (mut b, _) = ready();
        let mut told = 0usize;
        let mut settled = 0usize;
        for (i, answer) in answers.into_iter().enumerate() {
            let (_, events) = exchange(&mut b, answer, at(100 + 3_000 * i as u64));
            for e in events {
                if matches!(e, BillEvent::Stacked { .. } | BillEvent::Unsure { .. } | BillEvent::Returned { .. })
                    && told > settled
                {
                    settled += 1;
                }
            }
            if b.waiting().is_some() && decide[i] && b.stack(at(100 + 3_000 * i as u64)).is_ok() {
                told += 1;
            }
        }
        // A bill still held is the only one not settled yet, and none is held past the limit.
        prop_assert!(told - settled <= usize::from(b.is_holding()));
    }
}

#[test]
fn a_bill_never_reported_where_it_went_is_settled_after_the_limit() {
    let (mut b, _) = ready();
    exchange(&mut b, data(&[0x91]), at(100));
    b.stack(at(100)).expect("stack");
    exchange(&mut b, ack(), at(110));
    // The validator keeps answering polls with nothing for 30 s.
    let (_, e) = exchange(&mut b, ack(), at(29_000));
    assert!(e.is_empty());
    let (_, e) = exchange(&mut b, ack(), at(30_200));
    assert_eq!(
        e,
        vec![
            BillEvent::Fault {
                what: "the bill validator did not say where the bill in escrow went".into()
            },
            BillEvent::Unsure {
                value: Cents::new(1000)
            },
        ]
    );
    assert!(!b.is_holding());
}

#[test]
fn a_bill_pulled_back_out_of_escrow_is_settled_as_returned() {
    let (mut b, _) = ready();
    exchange(&mut b, data(&[0x90]), at(100));
    b.stack(at(100)).expect("stack");
    exchange(&mut b, ack(), at(110));
    // BILL REMOVED (status 07h): the customer pulled it back before it was stacked.
    let (_, e) = exchange(&mut b, data(&[0x07]), at(300));
    assert_eq!(
        e,
        vec![BillEvent::Returned {
            value: Cents::new(500)
        }]
    );
    assert!(!b.is_holding());
}
