//! The reader's driver against a scripted reader: the spec's sequences, byte by byte.

use super::*;
use crate::mdb::testing::{ack, at, data};

/// Send the next command, answer it with `answer`, return what was sent and the events.
fn exchange(r: &mut Reader, answer: Outcome, now: Timestamp) -> (Command, Vec<ReaderEvent>) {
    let sent = r.next_command();
    let events = r.answered(&sent, &answer, now);
    (sent, events)
}

/// Config: level 2, euro, scale 5, 2 decimals, 10 s, refunds and cash sale.
const CONFIG: [u8; 8] = [0x01, 0x02, 0x19, 0x78, 0x05, 0x02, 0x0A, 0x09];

/// A reader brought up through the spec's order; the commands it was sent.
fn ready() -> (Reader, Vec<Command>) {
    let mut r = Reader::new(Cents::new(50), Cents::new(500));
    let mut sent = Vec::new();
    let script: Vec<Outcome> = vec![
        ack(),                  // RESET
        data(&[0x00]),          // POLL: JUST RESET
        data(&CONFIG),          // SETUP CONFIG DATA: READER CONFIG DATA
        ack(),                  // SETUP MAX/MIN PRICES
        data(&peripheral_id()), // EXPANSION REQUEST ID
        ack(),                  // READER ENABLE
    ];
    let mut events = Vec::new();
    for (i, answer) in script.into_iter().enumerate() {
        let (c, e) = exchange(&mut r, answer, at(10 * i as u64));
        sent.push(c);
        events.extend(e);
    }
    assert_eq!(
        events,
        vec![
            ReaderEvent::Identified {
                id: "ABC 000012345678".into()
            },
            ReaderEvent::Ready
        ]
    );
    assert!(r.is_ready());
    (r, sent)
}

fn peripheral_id() -> Vec<u8> {
    let mut d = vec![0x09];
    d.extend_from_slice(b"ABC000012345678READER-9     ");
    d.extend_from_slice(&[0x01, 0x00]);
    d
}

#[test]
fn the_reader_is_brought_up_in_the_specs_order() {
    let (r, sent) = ready();
    let codes: Vec<(u8, Vec<u8>)> = sent.iter().map(|c| (c.code(), c.data().to_vec())).collect();
    assert_eq!(codes[0], (0x10, vec![]), "RESET");
    assert_eq!(codes[1], (0x12, vec![]), "POLL");
    assert_eq!(
        codes[2],
        (0x11, vec![0x00, 0x02, 0, 0, 0x01]),
        "SETUP CONFIG DATA"
    );
    // Prices in units of 5 cents: 500 -> 100, 50 -> 10.
    assert_eq!(
        codes[3],
        (0x11, vec![0x01, 0x00, 100, 0x00, 10]),
        "SETUP MAX/MIN PRICES"
    );
    assert_eq!(codes[4].0, 0x17, "EXPANSION REQUEST ID");
    assert_eq!(codes[5], (0x14, vec![0x01]), "READER ENABLE");
    assert_eq!(r.config().map(|c| c.scale), Some(5));
}

#[test]
fn a_card_sale_from_tap_to_end_of_session() {
    let (mut r, _) = ready();
    // A card with 5.00 (100 units).
    let (_, e) = exchange(&mut r, data(&[0x03, 0x00, 0x64]), at(100));
    assert_eq!(
        e,
        vec![ReaderEvent::SessionBegun {
            funds: Some(Cents::new(500))
        }]
    );
    r.vend(Cents::new(150), 1).expect("vend");
    let (sent, e) = exchange(&mut r, ack(), at(110));
    assert_eq!(
        (sent.code(), sent.data()),
        (0x13, &[0x00, 0x00, 30, 0x00, 0x01][..])
    );
    assert!(e.is_empty(), "nothing to dispense before VEND APPROVED");
    let (_, e) = exchange(&mut r, data(&[0x05, 0x00, 30]), at(120));
    assert_eq!(
        e,
        vec![ReaderEvent::Approved {
            amount: Cents::new(150)
        }]
    );
    // The item dropped.
    r.vend_done(true).expect("done");
    let (sent, _) = exchange(&mut r, ack(), at(130));
    assert_eq!(
        (sent.code(), sent.data()),
        (0x13, &[0x02, 0x00, 0x01][..]),
        "VEND SUCCESS"
    );
    let (sent, _) = exchange(&mut r, ack(), at(140));
    assert_eq!(
        (sent.code(), sent.data()),
        (0x13, &[0x04][..]),
        "SESSION COMPLETE"
    );
    let (_, e) = exchange(&mut r, data(&[0x07]), at(150));
    assert_eq!(e, vec![ReaderEvent::SessionEnded]);
    assert!(!r.in_session());
}

#[test]
fn a_vend_that_did_not_drop_sends_vend_failure_so_the_card_is_refunded() {
    let (mut r, _) = ready();
    exchange(&mut r, data(&[0x03, 0x00, 0x64]), at(100));
    r.vend(Cents::new(150), 2).expect("vend");
    exchange(&mut r, ack(), at(110));
    exchange(&mut r, data(&[0x05, 0x00, 30]), at(120));
    r.vend_done(false).expect("failed");
    let (sent, _) = exchange(&mut r, ack(), at(130));
    assert_eq!(
        (sent.code(), sent.data()),
        (0x13, &[0x03][..]),
        "VEND FAILURE"
    );
    let (sent, _) = exchange(&mut r, ack(), at(140));
    assert_eq!(sent.data(), &[0x04], "SESSION COMPLETE");
}

#[test]
fn nothing_is_reported_sold_without_an_approval() {
    let (mut r, _) = ready();
    assert_eq!(r.vend(Cents::new(150), 1), Err(ReaderRefusal::NoSession));
    assert_eq!(r.vend_done(true), Err(ReaderRefusal::NotApproved));
    exchange(&mut r, data(&[0x03, 0x00, 0x14]), at(100));
    assert_eq!(
        r.vend(Cents::new(150), 1),
        Ok(()),
        "the reader decides on funds it reports as 1.00"
    );
    exchange(&mut r, ack(), at(110));
    assert_eq!(
        r.vend_done(true),
        Err(ReaderRefusal::NotApproved),
        "not approved yet"
    );
    let (_, e) = exchange(&mut r, data(&[0x06]), at(120));
    assert_eq!(e, vec![ReaderEvent::Denied]);
    assert_eq!(r.vend_done(true), Err(ReaderRefusal::NotApproved));
    let (sent, _) = exchange(&mut r, ack(), at(130));
    assert_eq!(sent.data(), &[0x04], "a denied card's session is completed");
    // A price the reader's units cannot say is refused before anything is sent.
    let (mut r, _) = ready();
    exchange(&mut r, data(&[0x03, 0xFF, 0xFF]), at(100));
    assert_eq!(
        r.vend(Cents::new(152), 1),
        Err(ReaderRefusal::Unpriceable(Cents::new(152)))
    );
}

#[test]
fn a_repeated_poll_answer_does_not_approve_twice() {
    let (mut r, _) = ready();
    exchange(&mut r, data(&[0x03, 0x00, 0x64]), at(100));
    r.vend(Cents::new(150), 1).expect("vend");
    exchange(&mut r, ack(), at(110));
    let (_, first) = exchange(&mut r, data(&[0x05, 0x00, 30]), at(120));
    let (_, again) = exchange(&mut r, data(&[0x05, 0x00, 30]), at(130));
    assert_eq!(first.len(), 1);
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn a_reader_reset_or_silent_mid_vend_is_lost_and_never_charged() {
    let (mut r, _) = ready();
    exchange(&mut r, data(&[0x03, 0x00, 0x64]), at(100));
    r.vend(Cents::new(150), 1).expect("vend");
    exchange(&mut r, ack(), at(110));
    exchange(&mut r, data(&[0x05, 0x00, 30]), at(120));
    let (_, e) = exchange(&mut r, data(&[0x00]), at(130));
    assert!(
        e.iter()
            .any(|e| matches!(e, ReaderEvent::Lost { why } if why.contains("not charged"))),
        "{e:?}"
    );
    assert!(!r.is_ready());
    assert_eq!(r.vend_done(true), Err(ReaderRefusal::NotApproved));

    // Silent: within its 10 s nothing happens; past it, it is lost and reset.
    let (mut r, _) = ready();
    let failed = Outcome::Failed {
        attempts: 3,
        why: super::super::bus::Silence::NoAnswer,
    };
    let (_, e) = exchange(&mut r, failed.clone(), at(5_000));
    assert!(e.is_empty());
    let (_, e) = exchange(&mut r, failed, at(11_000));
    assert!(matches!(e.as_slice(), [ReaderEvent::Lost { .. }]), "{e:?}");
    assert_eq!(r.next_command().code(), 0x10, "RESET again");
}

proptest::proptest! {
    /// Whatever the reader answers, VEND SUCCESS is only ever sent for a vend the reader
    /// approved and the controller said dropped; nothing panics.
    #[test]
    fn vend_success_only_after_approval_and_a_drop(
        answers in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..12), 0..60),
        acts in proptest::collection::vec(0u8..4, 0..60),
    ) {
        let (mut r, _) = ready();
        let mut approved = false;
        let mut dropped_reported = 0;
        for (i, answer) in answers.into_iter().enumerate() {
            match acts.get(i).copied().unwrap_or(0) {
                1 => { let _ = r.vend(Cents::new(150), 1); }
                2 if r.vend_done(true).is_ok() => {
                    proptest::prop_assert!(approved, "vend_done accepted without an approval");
                    approved = false;
                    dropped_reported += 1;
                }
                3 => r.end_session(),
                _ => {}
            }
            let sent = r.next_command();
            if sent.code() == 0x13 && sent.data().first() == Some(&0x02) {
                proptest::prop_assert!(dropped_reported > 0, "VEND SUCCESS without a reported drop");
                dropped_reported -= 1;
            }
            let outcome = if answer.is_empty() { ack() } else { data(&answer) };
            for e in r.answered(&sent, &outcome, at(1_000 + i as u64)) {
                match e {
                    ReaderEvent::Approved { .. } => approved = true,
                    ReaderEvent::Lost { .. } | ReaderEvent::SessionEnded => approved = false,
                    _ => {}
                }
            }
        }
    }
}
