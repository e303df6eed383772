//! Answers as the spec lays them out, byte by byte.

use super::*;

/// A level 1 euro validator: scale 100, two decimals, stacker of 500, escrow, bills of 5, 10,
/// 20 and 50 euros (5, 10, 20, 50 units).
fn euro_setup() -> Vec<u8> {
    let mut data = vec![
        0x01, 0x19, 0x78, 0x00, 0x64, 0x02, 0x01, 0xF4, 0x00, 0x00, 0xFF, 5, 10, 20, 50,
    ];
    data.extend_from_slice(&[0; 12]);
    data
}

#[test]
fn the_setup_gives_the_bills_and_their_values() {
    let setup = BillSetup::parse(&euro_setup()).expect("setup");
    assert_eq!(
        (setup.level, setup.currency, setup.scale, setup.decimals),
        (1, 0x1978, 100, 2)
    );
    assert_eq!(setup.stacker_capacity, 500);
    assert!(setup.escrow);
    assert_eq!(setup.value_cents(0), Some(500));
    assert_eq!(setup.value_cents(3), Some(5000));
    assert_eq!(setup.value_cents(4), None);
    assert!(BillSetup::parse(&[0x01; 5]).is_err());
}

#[test]
fn a_bill_goes_to_escrow_then_the_stacker_or_back() {
    assert_eq!(
        Activity::parse_all(&[0x90]).expect("escrow"),
        vec![Activity::Bill {
            kind: 0,
            to: Routing::Escrow
        }]
    );
    assert_eq!(
        Activity::parse_all(&[0x80, 0xA1]).expect("stacked, returned"),
        vec![
            Activity::Bill {
                kind: 0,
                to: Routing::Stacked
            },
            Activity::Bill {
                kind: 1,
                to: Routing::Returned
            },
        ]
    );
    assert_eq!(
        Activity::parse_all(&[0xC2, 0x0B, 0x43]).expect("refused"),
        vec![
            Activity::Bill {
                kind: 2,
                to: Routing::DisabledRejected
            },
            Activity::Status(Status::BillRejected),
            Activity::AttemptsWhileDisabled(3),
        ]
    );
    assert_eq!(
        Status::CashBoxOut.fault(),
        Some("the bill cash box is out of position")
    );
    assert_eq!(Activity::parse_all(&[0x0F]), Err(BillError::Unknown(0x0F)));
    assert_eq!(Activity::parse_all(&[0x20]), Err(BillError::Unknown(0x20)));
}

#[test]
fn the_stacker_says_when_it_is_full() {
    assert_eq!(
        Stacker::parse(&[0x81, 0xF4]).expect("stacker"),
        Stacker {
            full: true,
            bills: 500
        }
    );
    assert!(Stacker::parse(&[0x81]).is_err());
}

#[test]
fn commands_are_laid_out_as_the_spec_says() {
    assert_eq!(command::poll().code(), 0x33);
    assert_eq!(command::escrow(true).data(), &[0x01]);
    assert_eq!(command::escrow(false).data(), &[0x00]);
    assert_eq!(
        command::bill_type(0x000F, 0x000F).data(),
        &[0x00, 0x0F, 0x00, 0x0F]
    );
}

proptest::proptest! {
    /// Any bytes: activity or a refusal, never a panic.
    #[test]
    fn any_answer_is_parsed_or_refused(data in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
        let _ = Activity::parse_all(&data);
        if let Ok(s) = BillSetup::parse(&data) {
            for k in 0..20 {
                let _ = s.value_cents(k);
            }
        }
        let _ = Stacker::parse(&data);
    }
}
