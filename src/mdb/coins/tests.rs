//! The changer's driver against a scripted changer: the spec's sequences, byte by byte.

use super::*;
use crate::mdb::testing::{ack, at, data};

fn exchange(c: &mut Coins, answer: Outcome, now: Timestamp) -> (Command, Vec<CoinEvent>) {
    let sent = c.next_command();
    let events = c.answered(&sent, &answer, now);
    (sent, events)
}

/// A level 3 euro changer, scale 5: coins of 0.05, 0.10, 0.20, 0.50, 1.00, 2.00.
fn setup() -> Vec<u8> {
    let mut d = vec![
        0x03, 0x19, 0x78, 0x05, 0x02, 0x00, 0x0F, 1, 2, 4, 10, 20, 40,
    ];
    d.extend_from_slice(&[0; 10]);
    d
}

/// Tubes: 10 of 0.05, 10 of 0.10, 5 of 0.20, none of 0.50.
fn tubes(counts: [u8; 4]) -> Vec<u8> {
    let mut d = vec![0x00, 0x00];
    d.extend_from_slice(&counts);
    d.extend_from_slice(&[0; 12]);
    d
}

fn ready() -> (Coins, Vec<Command>) {
    let mut c = Coins::new();
    let mut sent = Vec::new();
    let mut identity = vec![b'A', b'B', b'C'];
    identity.extend_from_slice(&[b'0'; 24]);
    identity.extend_from_slice(&[0x01, 0x00, 0, 0, 0, 1]);
    let script = vec![
        ack(),                        // RESET
        data(&[0x0B]),                // POLL: CHANGER WAS RESET
        data(&setup()),               // SETUP
        data(&identity),              // EXPANSION IDENTIFICATION
        ack(),                        // FEATURE ENABLE
        data(&tubes([10, 10, 5, 0])), // TUBE STATUS
        ack(),                        // COIN TYPE
    ];
    let mut events = Vec::new();
    for (i, answer) in script.into_iter().enumerate() {
        let (s, e) = exchange(&mut c, answer, at(10 * i as u64));
        sent.push(s);
        events.extend(e);
    }
    assert_eq!(events, vec![CoinEvent::Ready]);
    (c, sent)
}

#[test]
fn the_changer_is_brought_up_in_the_specs_order() {
    let (_, sent) = ready();
    let codes: Vec<(u8, Vec<u8>)> = sent.iter().map(|c| (c.code(), c.data().to_vec())).collect();
    assert_eq!(codes[0], (0x08, vec![]), "RESET");
    assert_eq!(codes[1], (0x0B, vec![]), "POLL");
    assert_eq!(codes[2], (0x09, vec![]), "SETUP");
    assert_eq!(codes[3], (0x0F, vec![0x00]), "EXPANSION IDENTIFICATION");
    assert_eq!(codes[4].1[0], 0x01, "FEATURE ENABLE");
    assert_eq!(codes[5], (0x0A, vec![]), "TUBE STATUS");
    // The six coins it values accepted and payable by hand.
    assert_eq!(codes[6], (0x0C, vec![0x00, 0x3F, 0x00, 0x3F]), "COIN TYPE");
}

#[test]
fn coins_in_are_valued_and_the_tubes_asked_again() {
    let (mut c, _) = ready();
    // A 0.50 to its tube, a 2.00 to the cash box, the return lever.
    let (_, e) = exchange(&mut c, data(&[0x53, 0x01, 0x45, 0x00, 0x01]), at(100));
    assert_eq!(
        e,
        vec![
            CoinEvent::CoinIn {
                value: Cents::new(50),
                to_tube: true
            },
            CoinEvent::CoinIn {
                value: Cents::new(200),
                to_tube: false
            },
            CoinEvent::ReturnLever,
        ]
    );
    assert_eq!(
        c.next_command().code(),
        0x0A,
        "tube status after coins moved"
    );
    c.accept(false);
    assert_eq!(
        c.next_command().data(),
        &[0x00, 0x00, 0x00, 0x3F],
        "coins refused"
    );
}

#[test]
fn change_is_paid_with_the_level_3_payout_and_checked_coin_by_coin() {
    let (mut c, _) = ready();
    assert!(c.can_pay(Cents::new(30)));
    assert!(!c.can_pay(Cents::new(500)), "the tubes hold 2.00 in all");
    c.pay(Cents::new(30)).expect("pay");
    let (sent, _) = exchange(&mut c, ack(), at(100));
    assert_eq!(
        (sent.code(), sent.data()),
        (0x0F, &[0x02, 6][..]),
        "PAYOUT 6 units"
    );
    let (sent, e) = exchange(&mut c, data(&[0x02]), at(200));
    assert_eq!(sent.data(), &[0x04], "PAYOUT VALUE POLL");
    assert!(e.is_empty(), "still paying");
    let (_, e) = exchange(&mut c, ack(), at(300));
    assert!(e.is_empty());
    // PAYOUT STATUS: one 0.10 and one 0.20.
    let (sent, e) = exchange(&mut c, data(&[0, 1, 1, 0]), at(400));
    assert_eq!(sent.data(), &[0x03], "PAYOUT STATUS");
    assert_eq!(
        e,
        vec![CoinEvent::Paid {
            paid: Cents::new(30),
            owed: Cents::ZERO
        }]
    );
    assert!(!c.is_paying());
}

#[test]
fn change_the_changer_could_not_pay_is_owed_not_lost() {
    let (mut c, _) = ready();
    c.pay(Cents::new(50)).expect("pay");
    exchange(&mut c, ack(), at(100));
    exchange(&mut c, ack(), at(200));
    let (_, e) = exchange(&mut c, data(&[0, 0, 2, 0]), at(300));
    assert_eq!(
        e,
        vec![CoinEvent::Paid {
            paid: Cents::new(40),
            owed: Cents::new(10)
        }]
    );
    // Reset in the middle of a payout: all of it is owed until counted.
    c.pay(Cents::new(20)).expect("pay");
    exchange(&mut c, ack(), at(400));
    c.pay(Cents::new(5)).expect_err("one payout at a time");
    let failed = Outcome::Failed {
        attempts: 3,
        why: super::super::bus::Silence::NoAnswer,
    };
    let (_, e) = exchange(&mut c, failed, at(3_000));
    assert!(
        e.contains(&CoinEvent::Paid {
            paid: Cents::ZERO,
            owed: Cents::new(20)
        }),
        "{e:?}"
    );
    assert_eq!(c.next_command().code(), 0x08, "RESET again");
    assert_eq!(
        c.pay(Cents::new(3)).map_err(|e| e.contains("not ready")),
        Err(true)
    );
}

proptest::proptest! {
    /// Whatever the changer answers, every payout ends with paid + owed = asked, and nothing
    /// panics.
    #[test]
    fn every_payout_is_paid_or_owed(
        answers in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..18), 0..60),
        fail_at in proptest::option::of(0usize..60),
    ) {
        let (mut c, _) = ready();
        c.pay(Cents::new(30)).expect("pay");
        for (i, answer) in answers.into_iter().enumerate() {
            let sent = c.next_command();
            let outcome = if Some(i) == fail_at {
                Outcome::Failed { attempts: 3, why: super::super::bus::Silence::NoAnswer }
            } else if answer.is_empty() {
                ack()
            } else {
                data(&answer)
            };
            for e in c.answered(&sent, &outcome, at(10_000 * (i as u64 + 1))) {
                if let CoinEvent::Paid { paid, owed } = e {
                    // What was not paid of the 0.30 asked is owed (an overpayment owes nothing).
                    proptest::prop_assert_eq!(owed, Cents::new(30).saturating_sub(paid));
                }
            }
        }
    }
}

#[test]
fn a_payout_the_changer_never_counts_is_settled_with_what_it_said_it_paid() {
    let (mut c, _) = ready();
    c.pay(Cents::new(50)).expect("pay");
    let (sent, _) = exchange(&mut c, ack(), at(100));
    assert_eq!(
        (sent.code(), sent.data()),
        (0x0F, &[0x02, 10][..]),
        "PAYOUT"
    );
    // PAYOUT VALUE POLL: 4 units (0.20) out so far, then done.
    let (sent, _) = exchange(&mut c, data(&[4]), at(200));
    assert_eq!(sent.data(), &[0x04], "PAYOUT VALUE POLL");
    exchange(&mut c, ack(), at(300));
    // PAYOUT STATUS answered with nothing but ACK, for as long as it is asked.
    for ms in (400..30_100).step_by(500) {
        let (sent, e) = exchange(&mut c, ack(), at(ms));
        assert_eq!(sent.data(), &[0x03], "PAYOUT STATUS");
        assert!(e.is_empty(), "{e:?} at {ms} ms");
    }
    let (_, e) = exchange(&mut c, ack(), at(30_200));
    assert_eq!(
        e,
        vec![
            CoinEvent::Fault {
                what: "the coin changer did not say what the payout paid".into()
            },
            CoinEvent::Paid {
                paid: Cents::new(20),
                owed: Cents::new(30)
            },
        ]
    );
    assert!(!c.is_paying());
}
