use super::*;
use std::time::Duration;

fn ms(n: u64) -> Timestamp {
    Timestamp::from_millis(n)
}

fn col(n: usize) -> ColumnId {
    ColumnId::from_number(n).expect("column")
}

fn settings(payment: PaymentMode) -> VendSettings {
    VendSettings {
        payment,
        columns: vec![
            ColumnSpec {
                product: "Cola".into(),
                price: Cents::new(150),
                capacity: 8,
                stock: 2,
                sensor: 0,
                has_home: true,
                for_sale: true,
                low_stock: 0,
            },
            ColumnSpec {
                product: "Water".into(),
                price: Cents::new(100),
                capacity: 8,
                stock: 0,
                sensor: 0,
                has_home: false,
                for_sale: true,
                low_stock: 0,
            },
            ColumnSpec {
                product: "Juice".into(),
                price: Cents::new(120),
                capacity: 8,
                stock: 5,
                sensor: 0,
                has_home: false,
                for_sale: true,
                low_stock: 0,
            },
        ],
        timings: VendTimings::default(),
        sensors: 1,
        max_credit: Cents::new(2000),
        payout: None,
        surprises: SurpriseConfig::disabled(),
        seed: 0,
        inject_bug: None,
    }
}

fn notices(cmds: &[Command]) -> Vec<Notice> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Notice(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

fn motors(cmds: &[Command]) -> Vec<(usize, bool)> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Motor { column, on } => Some((column.number(), *on)),
            _ => None,
        })
        .collect()
}

fn screens(cmds: &[Command]) -> Vec<Screen> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Display(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

/// Credit conservation: inserted = spent + returned + held (credit and escrow).
fn assert_conserved(core: &VendCore) {
    let l = core.ledger();
    assert_eq!(
        l.inserted,
        l.spent
            .saturating_add(l.returned)
            .saturating_add(core.credit())
            .saturating_add(core.escrow()),
        "credit not conserved: {l:?}, credit {}, escrow {}",
        core.credit(),
        core.escrow()
    );
}

#[test]
fn paid_vend_with_home_switch_delivers_once_and_takes_the_price() {
    let mut core = VendCore::new(&settings(PaymentMode::Coin));
    core.start(ms(0));
    core.handle(
        ms(10),
        Event::Coin {
            value: Cents::new(200),
        },
    );
    let cmds = core.handle(ms(20), Event::Select { column: col(1) });
    assert_eq!(motors(&cmds), vec![(1, true)]);
    assert_eq!(core.credit(), Cents::new(50));
    assert_eq!(core.escrow(), Cents::new(150));
    assert_conserved(&core);

    let cmds = core.handle(ms(1000), Event::Drop { sensor: 0 });
    assert!(notices(&cmds).contains(&Notice::VendDelivered {
        tender: Tender::Cash,
        column: col(1),
        product: "Cola".into(),
        price: Cents::new(150)
    }));
    // The spiral keeps turning to park at home.
    assert_eq!(core.motor_on(), Some(col(1)));
    let cmds = core.handle(ms(1220), Event::Home { column: col(1) });
    assert_eq!(motors(&cmds), vec![(1, false)]);
    assert!(!core.is_vending());
    assert_eq!(core.stock(col(1)), Some(1));
    assert_eq!(core.ledger().spent, Cents::new(150));
    assert_conserved(&core);
}

#[test]
fn timed_column_stops_after_its_turn_and_waits_for_the_drop() {
    let mut core = VendCore::new(&settings(PaymentMode::Free));
    let cmds = core.handle(ms(0), Event::Select { column: col(3) });
    assert_eq!(motors(&cmds), vec![(3, true)]);
    assert_eq!(core.next_deadline(), Some(ms(1300)));
    let cmds = core.poll(ms(1300));
    assert_eq!(motors(&cmds), vec![(3, false)]);
    assert!(core.is_vending());
    let cmds = core.handle(ms(1400), Event::Drop { sensor: 0 });
    assert!(matches!(
        notices(&cmds)[0],
        Notice::VendDelivered { price, .. } if price == Cents::ZERO
    ));
    assert!(!core.is_vending());
    assert_eq!(core.stock(col(3)), Some(4));
}

#[test]
fn insufficient_credit_is_refused_with_the_price_shown() {
    let mut core = VendCore::new(&settings(PaymentMode::Coin));
    core.handle(
        ms(0),
        Event::Coin {
            value: Cents::new(100),
        },
    );
    let cmds = core.handle(ms(10), Event::Select { column: col(1) });
    assert!(motors(&cmds).is_empty());
    assert_eq!(
        screens(&cmds),
        vec![Screen::InsertMore {
            product: "Cola".into(),
            price: Cents::new(150),
            credit: Cents::new(100)
        }]
    );
    assert_eq!(
        crate::display::text(&screens(&cmds)[0], "€"),
        "Cola costs €1.50: insert €0.50 more"
    );
    assert_eq!(core.credit(), Cents::new(100));
}

#[test]
fn sold_out_is_refused_and_credit_kept() {
    let mut core = VendCore::new(&settings(PaymentMode::Coin));
    core.handle(
        ms(0),
        Event::Coin {
            value: Cents::new(500),
        },
    );
    let cmds = core.handle(ms(10), Event::Select { column: col(2) });
    assert!(motors(&cmds).is_empty());
    assert_eq!(
        notices(&cmds),
        vec![Notice::Refused {
            column: col(2),
            reason: Refusal::SoldOut
        }]
    );
    assert_eq!(core.credit(), Cents::new(500));
}

#[test]
fn message_reverts_to_the_idle_screen() {
    let mut core = VendCore::new(&settings(PaymentMode::Coin));
    core.handle(ms(0), Event::Select { column: col(2) });
    assert_eq!(core.next_deadline(), Some(ms(4000)));
    let cmds = core.poll(ms(4000));
    assert_eq!(
        screens(&cmds),
        vec![Screen::Welcome {
            credit: Cents::ZERO,
            free: false
        }]
    );
    assert_eq!(core.next_deadline(), None);
}

#[test]
fn jam_is_nudged_then_refunded_and_the_column_faulted() {
    let mut core = VendCore::new(&settings(PaymentMode::Coin));
    core.handle(
        ms(0),
        Event::Coin {
            value: Cents::new(150),
        },
    );
    let mut all = core.handle(ms(0), Event::Select { column: col(1) });
    // No home switch edge ever comes: run time to well past every retry.
    let mut t = 0;
    while let Some(d) = core.next_deadline() {
        assert!(d.as_millis() < 60_000, "runaway deadlines");
        t = d.as_millis();
        all.extend(core.poll(d));
        // Never more than one motor, never on beyond the hard limit.
        assert!(core.motor_on().is_none() || core.motor_on() == Some(col(1)));
    }
    assert!(t > 0);
    assert_eq!(
        motors(&all),
        vec![
            (1, true),
            (1, false),
            (1, true),
            (1, false),
            (1, true),
            (1, false)
        ]
    );
    let runs: Vec<_> = notices(&all)
        .into_iter()
        .filter(|n| matches!(n, Notice::MotorRun { .. }))
        .collect();
    assert_eq!(runs.len(), 3, "first run plus two nudges");
    assert!(notices(&all).contains(&Notice::VendFailed {
        tender: Tender::Cash,
        column: col(1),
        product: "Cola".into(),
        refunded: Cents::new(150),
        reason: FailReason::Jammed
    }));
    assert_eq!(core.credit(), Cents::new(150));
    assert_eq!(
        core.status(col(1)),
        Some(ColumnStatus::Faulted(FailReason::Jammed))
    );
    assert_eq!(core.stock(col(1)), Some(2));
    assert_conserved(&core);

    // The faulted column now refuses, keeping the credit.
    let cmds = core.handle(ms(t + 10), Event::Select { column: col(1) });
    assert!(motors(&cmds).is_empty());
    assert_eq!(
        notices(&cmds),
        vec![Notice::Refused {
            column: col(1),
            reason: Refusal::OutOfOrder
        }]
    );
}

#[test]
fn motor_is_switched_off_at_the_hard_limit() {
    let mut core = VendCore::new(&settings(PaymentMode::Free));
    core.handle(ms(0), Event::Select { column: col(1) });
    assert_eq!(core.next_deadline(), Some(ms(3000)));
    let cmds = core.poll(ms(3000));
    assert_eq!(motors(&cmds), vec![(1, false)]);
    assert_eq!(core.motor_on(), None);
}

#[test]
fn missed_drop_beam_is_nudged_then_refunded() {
    let mut core = VendCore::new(&settings(PaymentMode::Coin));
    core.handle(
        ms(0),
        Event::Coin {
            value: Cents::new(200),
        },
    );
    core.handle(ms(0), Event::Select { column: col(1) });
    let mut all = Vec::new();
    // The spiral comes home every time, but nothing is ever seen falling.
    for _ in 0..3 {
        let Some(Phase::Turning { since }) = core.vend.map(|v| v.phase) else {
            panic!("expected the motor to be turning");
        };
        all.extend(core.handle(
            since + Duration::from_millis(1200),
            Event::Home { column: col(1) },
        ));
        while let Some(d) = core.next_deadline() {
            if core.motor_on().is_some() || !core.is_vending() {
                break;
            }
            all.extend(core.poll(d));
        }
    }
    assert!(!core.is_vending());
    assert!(notices(&all).iter().any(|n| matches!(
        n,
        Notice::VendFailed {
            reason: FailReason::NoDrop,
            ..
        }
    )));
    assert_eq!(core.credit(), Cents::new(200));
    assert_eq!(
        core.status(col(1)),
        Some(ColumnStatus::Faulted(FailReason::NoDrop))
    );
    assert_conserved(&core);
}

#[test]
fn a_drop_seen_after_a_miss_but_before_the_nudge_counts_as_delivered() {
    let mut core = VendCore::new(&settings(PaymentMode::Free));
    core.handle(ms(0), Event::Select { column: col(3) });
    core.poll(ms(1300)); // motor off, settling
    core.poll(ms(2800)); // drop window over: pausing before the nudge
    assert!(core.is_vending() && core.motor_on().is_none());
    let cmds = core.handle(ms(2900), Event::Drop { sensor: 0 });
    assert!(matches!(notices(&cmds)[0], Notice::VendDelivered { .. }));
    assert!(!core.is_vending());
}

#[test]
fn button_mashing_during_a_vend_starts_no_second_motor() {
    let mut core = VendCore::new(&settings(PaymentMode::Free));
    let mut all = core.handle(ms(0), Event::Select { column: col(1) });
    for i in 1..50u64 {
        let column = col(1 + usize::try_from(i % 3).expect("small"));
        all.extend(core.handle(ms(i * 7), Event::Select { column }));
    }
    assert_eq!(motors(&all), vec![(1, true)]);
    assert_eq!(core.motor_on(), Some(col(1)));
}

#[test]
fn door_open_blocks_vending_and_aborts_a_vend_with_a_refund() {
    let mut core = VendCore::new(&settings(PaymentMode::Coin));
    core.handle(
        ms(0),
        Event::Coin {
            value: Cents::new(300),
        },
    );
    let cmds = core.handle(ms(1), Event::Door { open: true });
    assert_eq!(screens(&cmds), vec![Screen::Service]);
    let cmds = core.handle(ms(2), Event::Select { column: col(1) });
    assert!(motors(&cmds).is_empty());
    assert_eq!(
        notices(&cmds),
        vec![Notice::Refused {
            column: col(1),
            reason: Refusal::DoorOpen
        }]
    );
    core.handle(ms(3), Event::Door { open: false });
    core.handle(ms(4), Event::Select { column: col(1) });
    assert_eq!(core.motor_on(), Some(col(1)));
    let cmds = core.handle(ms(500), Event::Door { open: true });
    assert_eq!(motors(&cmds), vec![(1, false)]);
    assert_eq!(core.credit(), Cents::new(300));
    assert_eq!(core.status(col(1)), Some(ColumnStatus::InService));
    assert_conserved(&core);
}

#[test]
fn stuck_sensor_makes_its_columns_out_of_order_without_blaming_them() {
    let mut core = VendCore::new(&settings(PaymentMode::Free));
    core.handle(ms(0), Event::Select { column: col(3) });
    core.handle(ms(100), Event::SensorStuck { sensor: 0 });
    let mut t = ms(100);
    while let Some(d) = core.next_deadline() {
        t = d;
        core.poll(d);
    }
    assert!(!core.is_vending());
    assert_eq!(core.status(col(3)), Some(ColumnStatus::InService));
    let cmds = core.handle(t, Event::Select { column: col(3) });
    assert_eq!(
        notices(&cmds),
        vec![Notice::Refused {
            column: col(3),
            reason: Refusal::OutOfOrder
        }]
    );
    core.handle(t, Event::SensorCleared { sensor: 0 });
    let cmds = core.handle(t, Event::Select { column: col(3) });
    assert_eq!(motors(&cmds), vec![(3, true)]);
}

#[test]
fn unexpected_drop_changes_no_money() {
    let mut core = VendCore::new(&settings(PaymentMode::Coin));
    core.handle(
        ms(0),
        Event::Coin {
            value: Cents::new(100),
        },
    );
    let cmds = core.handle(ms(5), Event::Drop { sensor: 0 });
    assert_eq!(notices(&cmds), vec![Notice::UnexpectedDrop { sensor: 0 }]);
    assert_eq!(core.credit(), Cents::new(100));
    assert_conserved(&core);
}

#[test]
fn lamps_follow_the_machine_state() {
    let mut core = VendCore::new(&settings(PaymentMode::Free));
    let cmds = core.start(ms(0));
    assert!(cmds.contains(&Command::Lamp {
        role: LampRole::Ready,
        on: true
    }));
    let cmds = core.handle(ms(1), Event::Select { column: col(1) });
    assert!(cmds.contains(&Command::Lamp {
        role: LampRole::Ready,
        on: false
    }));
    assert!(cmds.contains(&Command::Lamp {
        role: LampRole::Vending,
        on: true
    }));
}

#[test]
fn unknown_coin_is_reported_and_coin_return_keeps_credit_without_a_payout() {
    let mut core = VendCore::new(&settings(PaymentMode::Coin));
    let cmds = core.handle(ms(0), Event::UnknownCoin { pulses: 9 });
    assert_eq!(notices(&cmds), vec![Notice::UnknownCoin { pulses: 9 }]);
    core.handle(
        ms(1),
        Event::Coin {
            value: Cents::new(50),
        },
    );
    let cmds = core.handle(ms(2), Event::CoinReturn);
    assert_eq!(
        crate::display::text(&screens(&cmds)[0], "$"),
        "Credit $0.50 is kept for your next choice"
    );
    assert_eq!(core.credit(), Cents::new(50));
}

#[test]
fn coin_return_pays_whole_coins_and_keeps_the_rest() {
    let mut s = settings(PaymentMode::Coin);
    s.payout = Some(PayoutSpec {
        coin: Cents::new(100),
        pulse: Duration::from_millis(60),
        gap: Duration::from_millis(140),
    });
    let mut core = VendCore::new(&s);
    core.handle(
        ms(0),
        Event::Coin {
            value: Cents::new(200),
        },
    );
    core.handle(
        ms(0),
        Event::Coin {
            value: Cents::new(50),
        },
    );
    let mut all = core.handle(ms(10), Event::CoinReturn);
    // Selections wait while coins are paid.
    all.extend(core.handle(ms(20), Event::Select { column: col(1) }));
    while let Some(d) = core.next_deadline() {
        if d > ms(5000) {
            break;
        }
        all.extend(core.poll(d));
    }
    let pulses: Vec<bool> = all
        .iter()
        .filter_map(|c| match c {
            Command::Payout { on } => Some(*on),
            _ => None,
        })
        .collect();
    assert_eq!(pulses, vec![true, false, true, false]);
    assert!(motors(&all).is_empty());
    assert!(notices(&all).contains(&Notice::PayoutFinished {
        coins: 2,
        credit: Cents::new(50)
    }));
    assert_eq!(core.credit(), Cents::new(50));
    assert_eq!(core.ledger().returned, Cents::new(200));
    assert_conserved(&core);
}

#[test]
fn opening_the_door_stops_a_payout_without_losing_credit() {
    let mut s = settings(PaymentMode::Coin);
    s.payout = Some(PayoutSpec {
        coin: Cents::new(100),
        pulse: Duration::from_millis(60),
        gap: Duration::from_millis(140),
    });
    let mut core = VendCore::new(&s);
    core.handle(
        ms(0),
        Event::Coin {
            value: Cents::new(500),
        },
    );
    core.handle(ms(0), Event::CoinReturn);
    core.poll(ms(60));
    core.poll(ms(200));
    // Mid-pulse of the second coin.
    let cmds = core.handle(ms(230), Event::Door { open: true });
    assert!(cmds.contains(&Command::Payout { on: false }));
    assert!(!core.is_paying_out());
    assert_eq!(core.credit(), Cents::new(300));
    assert_eq!(core.ledger().returned, Cents::new(200));
    assert_conserved(&core);
}

#[test]
fn acceptor_is_inhibited_at_maximum_credit_and_coins_still_count() {
    let mut s = settings(PaymentMode::Coin);
    s.max_credit = Cents::new(300);
    let mut core = VendCore::new(&s);
    let cmds = core.start(ms(0));
    assert!(cmds.contains(&Command::CoinInhibit { on: false }));
    let cmds = core.handle(
        ms(1),
        Event::Coin {
            value: Cents::new(200),
        },
    );
    assert!(!cmds
        .iter()
        .any(|c| matches!(c, Command::CoinInhibit { .. })));
    let cmds = core.handle(
        ms(2),
        Event::Coin {
            value: Cents::new(200),
        },
    );
    assert!(cmds.contains(&Command::CoinInhibit { on: true }));
    // A coin already on its way when the line went up is still credited.
    core.handle(
        ms(3),
        Event::Coin {
            value: Cents::new(100),
        },
    );
    assert_eq!(core.credit(), Cents::new(500));
    let cmds = core.handle(ms(4), Event::Select { column: col(1) });
    assert!(!cmds.contains(&Command::CoinInhibit { on: false }));
    core.handle(ms(1000), Event::Drop { sensor: 0 });
    let cmds = core.handle(ms(1200), Event::Home { column: col(1) });
    assert_eq!(core.credit(), Cents::new(350));
    assert!(!cmds
        .iter()
        .any(|c| matches!(c, Command::CoinInhibit { on: false })));
    // Credit (not escrow) decides: the next purchase brings it under the maximum.
    let cmds = core.handle(ms(1300), Event::Select { column: col(1) });
    assert!(cmds.contains(&Command::CoinInhibit { on: false }));
}

#[test]
fn restock_fills_columns_and_reset_puts_a_faulted_column_back() {
    let mut core = VendCore::new(&settings(PaymentMode::Free));
    let cmds = core.handle(
        ms(0),
        Event::Restock {
            column: Some(col(2)),
        },
    );
    assert_eq!(
        notices(&cmds),
        vec![Notice::Restocked {
            column: col(2),
            stock: 8
        }]
    );
    assert_eq!(core.stock(col(2)), Some(8));
    core.handle(ms(1), Event::Select { column: col(1) });
    while let Some(d) = core.next_deadline() {
        core.poll(d);
    }
    assert_eq!(
        core.status(col(1)),
        Some(ColumnStatus::Faulted(FailReason::Jammed))
    );
    let cmds = core.handle(ms(60_000), Event::ResetColumn { column: col(1) });
    assert_eq!(notices(&cmds), vec![Notice::ColumnReset { column: col(1) }]);
    assert_eq!(core.status(col(1)), Some(ColumnStatus::InService));
    core.handle(ms(60_001), Event::Restock { column: None });
    assert_eq!(core.stock(col(3)), Some(8));
}

#[test]
fn restored_state_is_taken_over() {
    let mut core = VendCore::new(&settings(PaymentMode::Coin));
    core.restore(&Restored {
        credit: Cents::new(120),
        ledger: Ledger {
            inserted: Cents::new(420),
            spent: Cents::new(300),
            returned: Cents::ZERO,
            card: Cents::ZERO,
        },
        columns: vec![
            (1, ColumnStatus::InService),
            (99, ColumnStatus::Faulted(FailReason::NoDrop)),
        ],
    });
    let cmds = core.start(ms(0));
    assert_eq!(
        screens(&cmds),
        vec![Screen::Welcome {
            credit: Cents::new(120),
            free: false
        }]
    );
    assert_eq!(core.stock(col(1)), Some(1));
    assert_eq!(core.stock(col(2)), Some(8), "clamped to capacity");
    assert_eq!(
        core.status(col(2)),
        Some(ColumnStatus::Faulted(FailReason::NoDrop))
    );
    assert_eq!(
        core.stock(col(3)),
        Some(5),
        "not in the journal: as configured"
    );
    assert_conserved(&core);
}

fn always_extra(column: usize) -> VendSettings {
    let mut s = settings(PaymentMode::Coin);
    let machine = crate::config::MachineConfig::from_toml(
        std::path::Path::new("machine.toml"),
        include_str!("../../config/machine.toml"),
    )
    .expect("machine");
    let text = format!(
        "[policy]\nprobability = 1.0\ncooldown_s = 0\nbudget_percent = 100.0\n\n\
         [[surprises]]\nname = \"extra\"\nkind = \"extra_item\"\nweight = 1\ncost_cents = 0\ncolumn = {column}\n"
    );
    s.surprises =
        SurpriseConfig::from_toml(std::path::Path::new("s.toml"), &text, &machine.columns)
            .expect("surprises");
    s
}

/// Runs a paid vend on column 1 (home switch) up to the moment its surprise item waits in the
/// pause before its first run.
fn surprise_pending() -> (VendCore, Vec<Command>) {
    let mut core = VendCore::new(&always_extra(3));
    core.handle(
        ms(0),
        Event::Coin {
            value: Cents::new(200),
        },
    );
    core.handle(ms(10), Event::Select { column: col(1) });
    let mut all = core.handle(ms(700), Event::Drop { sensor: 0 });
    all.extend(core.handle(ms(1210), Event::Home { column: col(1) }));
    assert!(
        core.is_vending() && core.motor_on().is_none(),
        "surprise item pausing"
    );
    (core, all)
}

#[test]
fn a_drop_during_a_surprise_items_pause_is_not_its_delivery() {
    let (mut core, _) = surprise_pending();
    // A second item from the paid turn (a double drop) falls now.
    let cmds = core.handle(ms(1250), Event::Drop { sensor: 0 });
    assert_eq!(notices(&cmds), vec![Notice::UnexpectedDrop { sensor: 0 }]);
    // The surprise item still gets its own run, with its intent first.
    let cmds = core.poll(ms(1460));
    assert!(matches!(
        notices(&cmds).first(),
        Some(Notice::SurpriseItemStarted { .. })
    ));
    assert_eq!(motors(&cmds), vec![(3, true)]);
}

#[test]
fn opening_the_door_during_a_surprise_items_pause_fails_nothing() {
    let (mut core, _) = surprise_pending();
    let cmds = core.handle(ms(1250), Event::Door { open: true });
    let n = notices(&cmds);
    assert!(!n
        .iter()
        .any(|n| matches!(n, Notice::SurpriseItemFailed { .. })));
    assert!(n.contains(&Notice::SurpriseCompleted {
        name: "extra".into(),
        planned: 1,
        delivered: 0,
        partial: true
    }));
    assert!(!core.is_vending());
    assert_conserved(&core);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn event() -> impl Strategy<Value = Event> {
        prop_oneof![
            (1usize..=4).prop_map(|n| Event::Select {
                column: col(n.min(3))
            }),
            prop_oneof![Just(10u64), Just(50), Just(100), Just(200)].prop_map(|c| Event::Coin {
                value: Cents::new(c)
            }),
            Just(Event::Drop { sensor: 0 }),
            (1usize..=3).prop_map(|n| Event::Home { column: col(n) }),
            any::<bool>().prop_map(|open| Event::Door { open }),
            any::<bool>().prop_map(|s| if s {
                Event::SensorStuck { sensor: 0 }
            } else {
                Event::SensorCleared { sensor: 0 }
            }),
            Just(Event::CoinReturn),
            any::<bool>().prop_map(|ready| Event::CardReader { ready }),
            proptest::option::of(prop_oneof![Just(100u64), Just(150), Just(1000)]).prop_map(|f| {
                Event::CardSession {
                    funds: f.map(Cents::new),
                }
            }),
            prop_oneof![Just(120u64), Just(150)].prop_map(|a| Event::CardApproved {
                amount: Cents::new(a)
            }),
            Just(Event::CardDenied),
            Just(Event::CardSessionEnded),
            any::<bool>().prop_map(|ready| Event::Changer { ready }),
            (0u64..=300, 0u64..=100).prop_map(|(p, o)| Event::ChangePaid {
                paid: Cents::new(p),
                owed: Cents::new(o),
            }),
        ]
    }

    /// What the commands so far add up to.
    #[derive(Default)]
    struct Tally {
        on: Option<(usize, u64)>,
        started: u32,
        delivered: u32,
        failed: u32,
        /// Card vends the reader was told succeeded (the card charged), and their money.
        charged: u32,
        charged_money: u64,
        /// Card vends delivered.
        card_delivered: u32,
        /// A card vend was started and not yet told to the reader.
        card_open: bool,
    }

    impl Tally {
        fn check(&mut self, cmds: &[Command], now: u64) -> Result<(), TestCaseError> {
            for c in cmds {
                match c {
                    Command::Motor { column, on: true } => {
                        prop_assert!(self.on.is_none(), "second motor started");
                        self.on = Some((column.number(), now));
                    }
                    Command::Motor { column, on: false } => {
                        if let Some((c, since)) = self.on {
                            prop_assert_eq!(c, column.number());
                            prop_assert!(now - since <= 3000, "motor on {} ms", now - since);
                        }
                        self.on = None;
                    }
                    Command::Notice(Notice::VendStarted { tender, .. }) => {
                        self.started += 1;
                        if *tender == Tender::Card {
                            prop_assert!(!self.card_open, "a second card vend began");
                            self.card_open = true;
                        }
                    }
                    Command::Notice(Notice::VendDelivered { tender, price, .. }) => {
                        self.delivered += 1;
                        if *tender == Tender::Card {
                            self.card_delivered += 1;
                            self.charged_money += price.get();
                        }
                    }
                    Command::Notice(Notice::VendFailed { .. }) => self.failed += 1,
                    Command::CardVendResult { dropped } => {
                        if *dropped {
                            prop_assert!(self.card_open, "a card charged with no card vend");
                            self.charged += 1;
                        }
                        self.card_open = false;
                    }
                    _ => {}
                }
            }
            // Charged exactly when delivered, in the same step.
            prop_assert_eq!(self.charged, self.card_delivered);
            Ok(())
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Over any event sequence: credit is conserved, one motor at most and never past the hard
        /// limit, every delivery matches one vend start, and stock never goes below zero.
        #[test]
        fn invariants_hold_over_random_event_sequences(
            steps in proptest::collection::vec((0u64..2500, event()), 1..200),
            free in any::<bool>(),
        ) {
            let payment = if free { PaymentMode::Free } else { PaymentMode::Coin };
            let s = settings(payment);
            let mut core = VendCore::new(&s);
            let mut t = 0u64;
            let mut tally = Tally::default();
            for (dt, ev) in steps {
                // Deadlines in between, at their own times.
                while let Some(d) = core.next_deadline() {
                    if d.as_millis() > t + dt { break; }
                    let cmds = core.poll(d);
                    tally.check(&cmds, d.as_millis())?;
                }
                t += dt;
                let cmds = core.handle(ms(t), ev);
                tally.check(&cmds, t)?;
                assert_conserved(&core);
                prop_assert_eq!(core.motor_on().map(|c| c.number()), tally.on.map(|(c, _)| c));
                prop_assert!(tally.delivered + tally.failed <= tally.started);
                prop_assert!(tally.started - tally.delivered - tally.failed <= 1);
                prop_assert_eq!(core.ledger().card.get(), tally.charged_money);
            }
            let total_stock: u32 = (1..=3).filter_map(|n| core.stock(col(n))).sum();
            prop_assert_eq!(total_stock + tally.delivered, 7);
        }
    }
}

#[test]
fn a_jammed_vend_tells_the_customer_each_retry() {
    let mut core = VendCore::new(&settings(PaymentMode::Coin));
    core.handle(
        ms(0),
        Event::Coin {
            value: Cents::new(150),
        },
    );
    let mut all = core.handle(ms(0), Event::Select { column: col(1) });
    while let Some(d) = core.next_deadline() {
        all.extend(core.poll(d));
    }
    let shown: Vec<Screen> = screens(&all)
        .into_iter()
        .filter(|s| !matches!(s, Screen::Welcome { .. } | Screen::Credit { .. }))
        .collect();
    let retry = |attempt| Screen::Retrying {
        product: "Cola".into(),
        attempt,
        of: 3,
    };
    assert_eq!(
        shown,
        vec![
            Screen::Vending {
                product: "Cola".into()
            },
            retry(2),
            retry(3),
            Screen::Refunded {
                tender: Tender::Cash,
                product: "Cola".into(),
                amount: Cents::new(150),
                credit: Cents::new(150)
            },
        ]
    );
}

fn always_show(pattern: &str) -> VendSettings {
    let mut s = settings(PaymentMode::Coin);
    let text = format!(
        "[policy]\nprobability = 1.0\ncooldown_s = 0\n\n\
         [[surprises]]\nname = \"show\"\nkind = \"show\"\nweight = 1\ncost_cents = 0\n\
         pattern = \"{pattern}\"\nduration_ms = 2000\n"
    );
    s.surprises = SurpriseConfig::from_toml(std::path::Path::new("s.toml"), &text, &s.columns)
        .expect("surprises");
    s
}

/// The surprise lamp's changes (time, lit) in `cmds`, stamped with `at`.
fn surprise_lamp(at: Timestamp, cmds: &[Command]) -> Vec<(u64, bool)> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Lamp {
                role: LampRole::Surprise,
                on,
            } => Some((at.as_millis(), *on)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_surprise_lamp_blinks_the_shows_pattern_for_as_long_as_it_runs() {
    let mut core = VendCore::new(&always_show("chase"));
    core.handle(
        ms(0),
        Event::Coin {
            value: Cents::new(150),
        },
    );
    core.handle(ms(0), Event::Select { column: col(1) });
    let mut cmds = core.handle(ms(500), Event::Drop { sensor: 0 });
    cmds.extend(core.handle(ms(510), Event::Home { column: col(1) }));
    let reveal = screens(&cmds).into_iter().find_map(|s| match s {
        Screen::Surprise { reveal, .. } => Some(reveal),
        _ => None,
    });
    assert_eq!(
        reveal,
        Some(Reveal {
            kind: crate::surprise::KindName::Show,
            items: Vec::new(),
            show: Some(ShowPattern::Chase),
            duration_ms: 2000,
        })
    );
    let mut lamp = surprise_lamp(ms(500), &cmds);
    while let Some(d) = core.next_deadline().filter(|d| d.as_millis() < 10_000) {
        let cmds = core.poll(d);
        lamp.extend(surprise_lamp(d, &cmds));
    }
    // Chase: 150 ms on, 150 ms off, from the show's start (the drop) to its end two seconds
    // later.
    let expected: Vec<(u64, bool)> = (0..14).map(|i| (500 + 150 * i, i % 2 == 0)).collect();
    assert_eq!(lamp, expected);
    assert_eq!(core.next_deadline(), None, "nothing left to blink");
}

#[test]
fn what_holds_every_surprise_back_is_named() {
    let mut core = VendCore::new(&always_extra(3));
    assert_eq!(core.surprises_held(), None);
    core.handle(ms(0), Event::Door { open: true });
    assert_eq!(core.surprises_held(), Some(SurpriseHold::DoorOpen));
    core.handle(ms(10), Event::Door { open: false });
    core.handle(ms(20), Event::SensorStuck { sensor: 0 });
    assert_eq!(
        core.surprises_held(),
        Some(SurpriseHold::SensorStuck { sensor: 0 })
    );
    core.handle(ms(30), Event::SensorCleared { sensor: 0 });
    assert_eq!(core.surprises_held(), None);
    // A jam takes column 1 out of service: every surprise waits for the operator.
    core.handle(
        ms(40),
        Event::Coin {
            value: Cents::new(150),
        },
    );
    core.handle(ms(40), Event::Select { column: col(1) });
    while let Some(d) = core.next_deadline() {
        core.poll(d);
    }
    let held = core.surprises_held();
    assert_eq!(held, Some(SurpriseHold::ColumnFault { column: col(1) }));
    assert_eq!(
        held.map(|h| h.to_string()).as_deref(),
        Some("column 1 is out of order: every surprise waits until it is reset")
    );
    core.surprises_mut().set_paused(true);
    assert_eq!(core.surprises_held(), Some(SurpriseHold::Paused));
}

mod card;
mod change;
mod recovery;
mod secrets;
mod test_vends;
