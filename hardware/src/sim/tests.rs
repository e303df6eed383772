use super::*;
use std::sync::Arc;

use crate::input::{EdgeSink, InputLine};
use crate::machine::Wiring;
use crate::pins::{Gpio, InputSpec, OutputSpec, Polarity, Pull};
use crate::time::Clock;

fn wiring(columns: usize) -> Wiring {
    let pin = |n: usize| Gpio::new(u8::try_from(n).expect("small")).expect("valid");
    Wiring {
        motors: (0..columns)
            .map(|i| OutputSpec {
                pin: pin(20 + i),
                polarity: Polarity::ActiveHigh,
            })
            .collect(),
        home_switches: (0..columns)
            .map(|i| {
                Some(InputSpec {
                    pin: pin(2 + i),
                    polarity: Polarity::ActiveLow,
                    pull: Pull::Up,
                })
            })
            .collect(),
        lamps: vec![],
        buttons: (0..columns)
            .map(|i| InputSpec {
                pin: pin(10 + i),
                polarity: Polarity::ActiveLow,
                pull: Pull::Up,
            })
            .collect(),
        coin_return: None,
        coin: Some(InputSpec {
            pin: pin(8),
            polarity: Polarity::ActiveLow,
            pull: Pull::Up,
        }),
        drop_sensors: vec![InputSpec {
            pin: pin(9),
            polarity: Polarity::ActiveLow,
            pull: Pull::Up,
        }],
        door: Some(InputSpec {
            pin: pin(7),
            polarity: Polarity::ActiveHigh,
            pull: Pull::Down,
        }),
        coin_inhibit: None,
        payout: None,
    }
}

fn world(stock: u32) -> World {
    World::new(
        &wiring(2),
        vec![
            SimColumnSpec {
                product: "Cola".into(),
                stock,
                sensor: 0,
            },
            SimColumnSpec {
                product: "Water".into(),
                stock,
                sensor: 0,
            },
        ],
        SimParams::default(),
    )
}

fn ms(n: u64) -> Timestamp {
    Timestamp::from_millis(n)
}

#[test]
fn one_turn_drops_one_item_through_the_beam_and_returns_home() {
    let mut w = world(3);
    w.set_motor(ms(0), 0, true);
    w.advance(ms(1200));
    w.set_motor(ms(1200), 0, false);
    w.advance(ms(3000));
    let edges: Vec<_> = w
        .drain_edges()
        .into_iter()
        .map(|e| (e.at.as_millis(), e.line, e.active))
        .collect();
    assert_eq!(
        edges,
        vec![
            (100, InputLine::Home(0), false),
            (1150, InputLine::Drop(0), true),
            (1180, InputLine::Drop(0), false),
            (1200, InputLine::Home(0), true),
        ]
    );
    assert_eq!(w.stock(0), Some(2));
    assert_eq!(w.tray().len(), 1);
    assert_eq!(w.tray()[0].product, "Cola");
}

#[test]
fn jammed_spiral_does_not_turn_and_empty_column_drops_nothing() {
    let mut w = world(1);
    w.inject(ms(0), Fault::Jam { column: 0 }).expect("jam");
    w.set_motor(ms(0), 0, true);
    assert_eq!(w.next_deadline(), None);
    w.advance(ms(5000));
    w.set_motor(ms(5000), 0, false);
    assert!(w.drain_edges().is_empty());
    assert_eq!(w.drain_notices().len(), 1);

    w.inject(ms(5000), Fault::Empty { column: 1 })
        .expect("empty");
    w.set_motor(ms(5000), 1, true);
    w.advance(ms(6200));
    w.set_motor(ms(6200), 1, false);
    w.advance(ms(8000));
    assert!(w.tray().is_empty());
    assert!(!w
        .drain_edges()
        .iter()
        .any(|e| matches!(e.line, InputLine::Drop(_))));
}

#[test]
fn missed_beam_item_lands_unseen_and_double_drop_gives_two() {
    let mut w = world(5);
    w.inject(ms(0), Fault::MissBeam { column: 0 })
        .expect("miss");
    w.set_motor(ms(0), 0, true);
    w.advance(ms(1200));
    w.set_motor(ms(1200), 0, false);
    w.advance(ms(2000));
    assert!(!w
        .drain_edges()
        .iter()
        .any(|e| matches!(e.line, InputLine::Drop(_))));
    assert_eq!(w.take_tray().len(), 1);
    w.inject(ms(2000), Fault::Fix { column: 0 }).expect("fix");

    w.inject(ms(2000), Fault::DoubleDrop { column: 0 })
        .expect("double");
    w.set_motor(ms(2000), 0, true);
    w.advance(ms(3200));
    w.set_motor(ms(3200), 0, false);
    w.advance(ms(5000));
    assert_eq!(w.take_tray().len(), 2);
    assert_eq!(w.stock(0), Some(2));
}

#[test]
fn hung_item_falls_on_the_next_turn() {
    let mut w = world(2);
    w.inject(ms(0), Fault::Hang { column: 0 }).expect("hang");
    w.set_motor(ms(0), 0, true);
    w.advance(ms(1200));
    w.set_motor(ms(1200), 0, false);
    w.advance(ms(2000));
    assert!(w.tray().is_empty());
    w.set_motor(ms(2000), 0, true);
    w.advance(ms(3200));
    w.set_motor(ms(3200), 0, false);
    w.advance(ms(4000));
    assert_eq!(w.tray().len(), 1);
    assert_eq!(w.stock(0), Some(1));
}

#[test]
fn stopping_mid_turn_keeps_the_position() {
    let mut w = world(2);
    w.set_motor(ms(0), 0, true);
    w.set_motor(ms(600), 0, false);
    w.advance(ms(2000));
    w.set_motor(ms(2000), 0, true);
    // 300 ms more reaches the release point at 900 ms of rotation.
    w.advance(ms(2300));
    w.set_motor(ms(2300), 0, false);
    w.advance(ms(4000));
    assert_eq!(w.tray().len(), 1);
}

#[test]
fn coins_queue_behind_each_other_and_bounce_adds_edges() {
    let mut w = world(1);
    let end1 = w.insert_coin(ms(0), 2).expect("coin");
    assert_eq!(end1, ms(130));
    let end2 = w.insert_coin(ms(0), 1).expect("coin");
    assert_eq!(end2, ms(130 + 400 + 30));
    w.advance(ms(2000));
    assert_eq!(w.drain_edges().len(), 6);

    w.inject(ms(2000), Fault::Bounce { on: true })
        .expect("bounce");
    w.press(ms(2000), 0).expect("button");
    w.advance(ms(3000));
    assert!(w.drain_edges().len() > 2);
    assert_eq!(w.press(ms(3000), 7), Err(SimError::NoSuchButton(8, 2)));
    assert_eq!(w.insert_coin(ms(3000), 0), Err(SimError::BadPulseCount(0)));
}

#[test]
fn stuck_beam_hides_items() {
    let mut w = world(2);
    w.inject(
        ms(0),
        Fault::StuckBeam {
            sensor: 0,
            stuck: true,
        },
    )
    .expect("stick");
    w.set_motor(ms(0), 0, true);
    w.advance(ms(1200));
    w.set_motor(ms(1200), 0, false);
    w.advance(ms(3000));
    let drops: Vec<_> = w
        .drain_edges()
        .into_iter()
        .filter(|e| matches!(e.line, InputLine::Drop(_)))
        .collect();
    assert_eq!(drops.len(), 1, "only the stick itself: {drops:?}");
    assert!(w.level(InputLine::Drop(0)));
}

#[tokio::test(start_paused = true)]
async fn pins_and_physics_task_deliver_edges_in_time() {
    let clock = Clock::start();
    let (mut machine, handle) = build(
        &wiring(2),
        vec![
            SimColumnSpec {
                product: "Cola".into(),
                stock: 1,
                sensor: 0,
            },
            SimColumnSpec {
                product: "Water".into(),
                stock: 1,
                sensor: 0,
            },
        ],
        SimParams::default(),
        clock,
    )
    .expect("sim");
    let snapshot = crate::Hardware::read_inputs(&mut machine).expect("read");
    assert_eq!(snapshot.home, vec![Some(true), Some(true)]);
    assert_eq!(snapshot.door_open, Some(false));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (ntx, mut nrx) = tokio::sync::mpsc::unbounded_channel();
    let sink: EdgeSink = Arc::new(move |e| {
        let _ = tx.send(e);
    });
    let physics = tokio::spawn(run_physics(handle.clone(), sink, ntx));
    crate::Hardware::set_motor(&mut machine, 1, true).expect("motor");
    assert_eq!(handle.motors_on(), vec![1]);
    let mut seen = Vec::new();
    while let Some(edge) = rx.recv().await {
        seen.push(edge);
        if edge.line == InputLine::Home(1) && edge.active {
            crate::Hardware::set_motor(&mut machine, 1, false).expect("motor");
            break;
        }
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert_eq!(seen[3].at, ms(1200));
    let notice = nrx.recv().await.expect("notice");
    assert!(matches!(
        notice.event,
        SimNotice::ItemInTray { column: 1, .. }
    ));
    assert_eq!(handle.tray().len(), 1);
    assert_eq!(handle.stock(2), Some(0));
    physics.abort();
}
