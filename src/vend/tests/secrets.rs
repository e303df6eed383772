//! Secrets and gifts: a sequence is recognised exactly, never starts a vend by itself, and
//! keeps to its daily count and the caps; a gift goes to the next paying customer.

use proptest::prelude::*;

use super::*;
use crate::surprise::Cap;
use crate::vend::AwardOrigin;

fn with(surprises: &str) -> VendSettings {
    let mut s = settings(PaymentMode::Coin);
    s.surprises = SurpriseConfig::from_toml(std::path::Path::new("s.toml"), surprises, &s.columns)
        .expect("surprises");
    s
}

const SECRETS: &str = r#"
[policy]
probability = 0.0
cooldown_s = 0
budget_percent = 100.0

[[surprises]]
name = "extra"
kind = "extra_item"
weight = 1
cost_cents = 0
column = 3

[[secrets]]
name = "Secret menu"
sequence = [3, 1, 3]
within_ms = 3000
message = "You found the secret menu!"
max_per_day = 2

[[secrets]]
name = "Pi"
sequence = [1, 1, 3, 3]
within_ms = 3000
surprise = "extra"
"#;

fn press(core: &mut VendCore, at: u64, column: usize) -> Vec<Command> {
    core.handle(
        ms(at),
        Event::Select {
            column: col(column),
        },
    )
}

fn secret_awards(cmds: &[Command]) -> Vec<String> {
    notices(cmds)
        .into_iter()
        .filter_map(|n| match n {
            Notice::SurpriseAwarded {
                name,
                origin: AwardOrigin::Secret,
                ..
            } => Some(name),
            _ => None,
        })
        .collect()
}

#[test]
fn a_secret_pressed_in_time_with_no_credit_answers_and_starts_no_vend() {
    let mut core = VendCore::new(&with(SECRETS));
    let mut all = Vec::new();
    for (t, c) in [(0, 3), (500, 1), (900, 3)] {
        all.extend(press(&mut core, t, c));
    }
    assert_eq!(secret_awards(&all), vec!["Secret menu".to_string()]);
    assert!(motors(&all).is_empty());
    assert!(!notices(&all)
        .iter()
        .any(|n| matches!(n, Notice::VendStarted { .. })));
    assert!(screens(&all).iter().any(|s| matches!(
        s,
        Screen::Surprise { message, .. } if message == "You found the secret menu!"
    )));
    // Too slow: the same presses over 4 seconds answer nothing.
    let mut all = Vec::new();
    for (t, c) in [(10_000, 3), (12_000, 1), (14_100, 3)] {
        all.extend(press(&mut core, t, c));
    }
    assert!(secret_awards(&all).is_empty());
}

#[test]
fn a_secret_does_not_count_while_credit_is_held_and_a_coin_forgets_the_presses() {
    let mut core = VendCore::new(&with(SECRETS));
    core.handle(
        ms(0),
        Event::Coin {
            value: Cents::new(50),
        },
    );
    let mut all = Vec::new();
    for (t, c) in [(100, 3), (200, 1), (300, 3)] {
        all.extend(press(&mut core, t, c));
    }
    assert!(secret_awards(&all).is_empty());
    assert!(notices(&all).iter().all(|n| matches!(
        n,
        Notice::Refused {
            reason: Refusal::InsufficientCredit,
            ..
        }
    )));
}

#[test]
fn a_secret_item_comes_through_sure_vend_with_no_money_taken() {
    let mut core = VendCore::new(&with(SECRETS));
    let mut all = Vec::new();
    for (t, c) in [(0, 1), (300, 1), (600, 3), (900, 3)] {
        all.extend(press(&mut core, t, c));
    }
    // Booked under the surprise it answers with.
    assert_eq!(secret_awards(&all), vec!["extra".to_string()]);
    // The item starts after the short pause, from column 3.
    let cmds = core.poll(ms(2_000));
    assert!(matches!(
        notices(&cmds).first(),
        Some(Notice::SurpriseItemStarted { column, .. }) if *column == col(3)
    ));
    assert_eq!(motors(&cmds), vec![(3, true)]);
    core.handle(ms(2_500), Event::Drop { sensor: 0 });
    core.poll(ms(4_000));
    assert_eq!(core.stock(col(3)), Some(4));
    assert_eq!(core.credit(), Cents::ZERO);
    assert_eq!(core.ledger(), Ledger::default());
}

#[test]
fn a_secret_answers_at_most_max_per_day() {
    let mut core = VendCore::new(&with(SECRETS));
    let mut found = 0;
    for round in 0..5u64 {
        let t = round * 10_000;
        let mut all = Vec::new();
        for (dt, c) in [(0, 3), (100, 1), (200, 3)] {
            all.extend(press(&mut core, t + dt, c));
        }
        found += secret_awards(&all).len();
        core.poll(ms(t + 9_000));
    }
    assert_eq!(found, 2, "max_per_day = 2");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Button mashing with no credit: a secret answers only when the last presses are exactly
    /// its sequence within its time, never more often than its daily count, and nothing is
    /// vended but a secret's own item.
    #[test]
    fn button_mashing_finds_a_secret_only_as_configured(
        presses in proptest::collection::vec((1usize..=3, 0u64..1_500), 1..400),
    ) {
        let mut core = VendCore::new(&with(SECRETS));
        let mut t = 0u64;
        let mut history: Vec<(u64, usize)> = Vec::new();
        let mut answers = 0usize;
        for (column, gap) in presses {
            t += gap + 1;
            let pressed_at = t;
            let cmds = press(&mut core, t, column);
            if core.is_vending() {
                // A secret's item: let it drop and finish before the next press.
                let mut more = core.poll(ms(t + 300));
                more.extend(core.handle(ms(t + 600), Event::Drop { sensor: 0 }));
                more.extend(core.poll(ms(t + 5_000)));
                let started = notices(&more).iter().any(|n| matches!(n, Notice::VendStarted { .. }));
                prop_assert!(!started, "a paid vend started");
                t += 5_000;
            }
            let started = notices(&cmds).iter().any(|n| matches!(n, Notice::VendStarted { .. }));
            prop_assert!(!started, "a press of a sequence started a vend");
            history.push((pressed_at, column));
            let found = secret_awards(&cmds);
            if let Some(name) = found.first() {
                answers += 1;
                let seq: &[usize] = if name == "extra" { &[1, 1, 3, 3] } else { &[3, 1, 3] };
                let tail = &history[history.len() - seq.len()..];
                prop_assert!(tail.iter().map(|(_, c)| *c).eq(seq.iter().copied()));
                prop_assert!(tail[seq.len() - 1].0 - tail[0].0 <= 3_000);
                history.clear();
            }
        }
        // Both secrets' daily counts: 2 + 1 (the run is well inside one day).
        prop_assert!(answers <= 3);
    }
}

const GIFTS: &str = r#"
[policy]
probability = 0.0
max_per_hour = 1
cooldown_s = 0
budget_percent = 100.0

[[surprises]]
name = "extra"
kind = "extra_item"
weight = 1
cost_cents = 0
column = 3
"#;

/// A paid Juice (column 3) from 200 at `t`; its commands until it is over.
fn buy_juice(core: &mut VendCore, t: u64) -> Vec<Command> {
    let mut all = core.handle(
        ms(t),
        Event::Coin {
            value: Cents::new(200),
        },
    );
    all.extend(core.handle(ms(t + 10), Event::Select { column: col(3) }));
    all.extend(core.handle(ms(t + 900), Event::Drop { sensor: 0 }));
    all.extend(core.poll(ms(t + 1_500)));
    all.extend(core.handle(ms(t + 2_000), Event::Drop { sensor: 0 }));
    all.extend(core.poll(ms(t + 6_000)));
    all
}

fn gifts(cmds: &[Command]) -> usize {
    notices(cmds)
        .iter()
        .filter(|n| {
            matches!(
                n,
                Notice::SurpriseAwarded {
                    origin: AwardOrigin::Gift,
                    ..
                }
            )
        })
        .count()
}

#[test]
fn a_gift_goes_to_the_next_paying_customer_once_within_the_caps() {
    let mut core = VendCore::new(&with(GIFTS));
    let index = core.surprises().surprise_named("EXTRA").expect("named");
    assert!(core.queue_gift(index, false));
    assert!(!core.queue_gift(index, false), "one at a time");
    let first = buy_juice(&mut core, 0);
    assert_eq!(gifts(&first), 1);
    assert!(notices(&first)
        .iter()
        .any(|n| matches!(n, Notice::SurpriseItemDelivered { .. })));
    assert!(core.gift_waiting().is_none());
    // Within the hour, max_per_hour = 1 holds the next gift back: it waits.
    assert!(core.queue_gift(index, false));
    assert_eq!(gifts(&buy_juice(&mut core, 10_000)), 0);
    assert!(core.gift_waiting().is_some());
    // Overriding the caps, it goes to the next customer.
    core.cancel_gift();
    assert!(core.queue_gift(index, true));
    assert_eq!(gifts(&buy_juice(&mut core, 20_000)), 1);
    let d = core
        .surprises()
        .limits_now(LocalTime::default(), 0)
        .every
        .contains(&Cap::PerHour);
    assert!(d, "the override is counted against the caps too");
}
