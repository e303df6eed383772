//! Service test vends: sure-vend without payment, refused when the result would mean nothing.

use super::*;

fn run_out(core: &mut VendCore, mut all: Vec<Command>) -> Vec<Command> {
    while let Some(d) = core.next_deadline() {
        assert!(d.as_millis() < 60_000, "runaway deadlines");
        all.extend(core.poll(d));
    }
    all
}

#[test]
fn a_test_vend_delivers_without_payment_and_takes_stock() {
    let mut core = VendCore::new(&settings(PaymentMode::Coin));
    core.start(ms(0));
    core.handle(
        ms(5),
        Event::Coin {
            value: Cents::new(50),
        },
    );
    let cmds = core.handle(ms(10), Event::TestVend { column: col(3) });
    assert_eq!(motors(&cmds), vec![(3, true)]);
    assert!(notices(&cmds).contains(&Notice::TestVendStarted {
        column: col(3),
        product: "Juice".into(),
        value: Cents::new(120),
    }));
    assert_eq!(screens(&cmds), vec![Screen::Service]);
    let cmds = core.handle(ms(900), Event::Drop { sensor: 0 });
    let all = run_out(&mut core, cmds);
    assert!(notices(&all).contains(&Notice::TestVendDelivered {
        column: col(3),
        product: "Juice".into(),
    }));
    // Nothing was sold: no sale, no surprise, the customer's credit untouched.
    assert!(!notices(&all).iter().any(|n| matches!(
        n,
        Notice::VendDelivered { .. } | Notice::SurpriseAwarded { .. }
    )));
    assert_eq!(core.credit(), Cents::new(50));
    assert_eq!(core.stock(col(3)), Some(4));
    assert_eq!(
        screens(&all).last(),
        Some(&Screen::Welcome {
            credit: Cents::new(50),
            free: false
        }),
        "the customer's screen comes back with their credit"
    );
    assert_conserved(&core);
}

#[test]
fn a_failed_test_vend_takes_the_column_out_of_service_and_refunds_nothing() {
    let mut core = VendCore::new(&settings(PaymentMode::Coin));
    core.start(ms(0));
    let cmds = core.handle(ms(10), Event::TestVend { column: col(3) });
    let all = run_out(&mut core, cmds);
    let runs = notices(&all)
        .iter()
        .filter(|n| matches!(n, Notice::MotorRun { .. }))
        .count();
    assert_eq!(runs, 3, "the same nudges as a sale");
    assert!(notices(&all).contains(&Notice::TestVendFailed {
        column: col(3),
        reason: FailReason::NoDrop,
    }));
    assert_eq!(
        core.status(col(3)),
        Some(ColumnStatus::Faulted(FailReason::NoDrop))
    );
    assert_eq!(core.credit(), Cents::ZERO);
    assert_eq!(core.stock(col(3)), Some(5));
}

#[test]
fn a_faulted_column_may_be_tested_but_an_empty_one_or_an_open_door_may_not() {
    let mut core = VendCore::new(&settings(PaymentMode::Coin));
    core.start(ms(0));
    core.handle(ms(1), Event::DisableColumn { column: col(3) });
    let cmds = core.handle(ms(2), Event::TestVend { column: col(3) });
    assert_eq!(
        motors(&cmds),
        vec![(3, true)],
        "testing is how a repair is checked"
    );
    let cmds = core.handle(ms(500), Event::Drop { sensor: 0 });
    let all = run_out(&mut core, cmds);
    assert!(notices(&all)
        .iter()
        .any(|n| matches!(n, Notice::TestVendDelivered { .. })));

    let refused = |cmds: &[Command]| {
        notices(cmds).into_iter().find_map(|n| match n {
            Notice::Refused { reason, .. } => Some(reason),
            _ => None,
        })
    };
    let cmds = core.handle(ms(10_000), Event::TestVend { column: col(2) });
    assert_eq!(refused(&cmds), Some(Refusal::SoldOut));
    assert!(motors(&cmds).is_empty());
    core.handle(ms(10_100), Event::Door { open: true });
    let cmds = core.handle(ms(10_200), Event::TestVend { column: col(1) });
    assert_eq!(refused(&cmds), Some(Refusal::DoorOpen));
    core.handle(ms(10_300), Event::Door { open: false });
    core.handle(ms(10_400), Event::TestVend { column: col(1) });
    let cmds = core.handle(ms(10_500), Event::TestVend { column: col(3) });
    assert_eq!(refused(&cmds), Some(Refusal::Busy), "one motor at a time");
    assert!(motors(&cmds).is_empty());
}
