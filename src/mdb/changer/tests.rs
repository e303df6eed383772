//! Answers as the spec lays them out, byte by byte.

use super::*;

/// A level 3 euro changer: scale 5, two decimals, coins of 0.05, 0.10, 0.20, 0.50, 1.00, 2.00
/// (1, 2, 4, 10, 20, 40 units), the first four routable to tubes.
fn euro_setup() -> Vec<u8> {
    vec![
        0x03, 0x19, 0x78, 0x05, 0x02, 0x00, 0x0F, 0x01, 0x02, 0x04, 0x0A, 0x14, 0x28, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]
}

#[test]
fn the_setup_gives_the_coins_and_their_values() {
    let setup = ChangerSetup::parse(&euro_setup()).expect("setup");
    assert_eq!(
        (setup.level, setup.currency, setup.scale, setup.decimals),
        (3, 0x1978, 5, 2)
    );
    assert_eq!(setup.routable, 0x000F);
    assert_eq!(setup.values.len(), 16);
    assert_eq!(setup.value_cents(0), Some(5));
    assert_eq!(setup.value_cents(3), Some(50));
    assert_eq!(setup.value_cents(5), Some(200));
    assert_eq!(setup.value_cents(6), None, "an unused type");
    assert_eq!(setup.value_cents(99), None);
    assert!(ChangerSetup::parse(&[0x03, 0x19]).is_err());
}

#[test]
fn tube_status_counts_the_coins_for_change() {
    let mut data = vec![0x00, 0x02];
    data.extend_from_slice(&[10, 25, 3, 0]);
    data.extend_from_slice(&[0; 12]);
    let tubes = Tubes::parse(&data).expect("tubes");
    assert_eq!(tubes.full, 0x0002, "the 0.10 tube is full");
    assert_eq!(&tubes.counts[..4], &[10, 25, 3, 0]);
}

#[test]
fn poll_activity_coins_slugs_and_statuses() {
    // A 0.50 coin (type 3) to its tube, 4 there now; a 2.00 coin (type 5) to the cash box;
    // 2 slugs; the escrow lever; 3 coins of type 1 paid out by hand, 22 left.
    let data = [0x53, 0x04, 0x45, 0x00, 0x22, 0x01, 0xB1, 0x16];
    let activity = Activity::parse_all(&data).expect("parsed");
    assert_eq!(
        activity,
        vec![
            Activity::Deposited {
                kind: 3,
                route: Route::Tube,
                left: 4
            },
            Activity::Deposited {
                kind: 5,
                route: Route::CashBox,
                left: 0
            },
            Activity::Slugs(2),
            Activity::Status(Status::EscrowRequest),
            Activity::Dispensed {
                kind: 1,
                count: 3,
                left: 22
            },
        ]
    );
    // A rejected coin; the changer was reset; a tube jam, named for the operator.
    let activity = Activity::parse_all(&[0x72, 0x00, 0x0B, 0x07]).expect("parsed");
    assert_eq!(
        activity[0],
        Activity::Deposited {
            kind: 2,
            route: Route::Rejected,
            left: 0
        }
    );
    assert_eq!(activity[1], Activity::Status(Status::JustReset));
    assert_eq!(Status::TubeJam.fault(), Some("a coin tube is jammed"));
    assert_eq!(Status::PayoutBusy.fault(), None);
}

#[test]
fn short_and_unknown_activity_is_refused() {
    assert!(matches!(
        Activity::parse_all(&[0x53]),
        Err(ChangerError::Short { .. })
    ));
    assert!(matches!(
        Activity::parse_all(&[0x93]),
        Err(ChangerError::Short { .. })
    ));
    assert_eq!(
        Activity::parse_all(&[0x0F]),
        Err(ChangerError::Unknown(0x0F))
    );
}

#[test]
fn commands_are_laid_out_as_the_spec_says() {
    assert_eq!(command::poll().code(), 0x0B);
    assert_eq!(
        command::coin_type(0x003F, 0x000F).data(),
        &[0x00, 0x3F, 0x00, 0x0F]
    );
    assert_eq!(command::dispense(3, 2).data(), &[0x23]);
    assert_eq!(
        command::dispense(3, 99).data(),
        &[0xF3],
        "at most 15 at once"
    );
    assert_eq!(command::payout(30).data(), &[0x02, 30]);
    assert_eq!(
        command::feature_enable(0x0000_0003).data(),
        &[0x01, 0, 0, 0, 3]
    );
}

proptest::proptest! {
    /// Any bytes: activity or a refusal, never a panic.
    #[test]
    fn any_answer_is_parsed_or_refused(data in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
        let _ = Activity::parse_all(&data);
        if let Ok(s) = ChangerSetup::parse(&data) {
            for k in 0..20 {
                let _ = s.value_cents(k);
            }
        }
        let _ = Tubes::parse(&data);
    }
}
