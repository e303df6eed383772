use std::path::Path;

use super::*;
use crate::config::MachineConfig;

const MACHINE: &str = include_str!("../../config/machine.toml");
const SURPRISES: &str = include_str!("../../config/surprises.toml");

fn machine() -> MachineConfig {
    MachineConfig::from_toml(Path::new("machine.toml"), MACHINE).expect("machine config")
}

fn parse(text: &str) -> Result<SurpriseConfig, crate::config::ConfigError> {
    SurpriseConfig::from_toml(Path::new("surprises.toml"), text, &machine().columns)
}

fn config(text: &str) -> SurpriseConfig {
    parse(text).unwrap_or_else(|e| panic!("invalid test config: {e}\n{text}"))
}

fn col(n: usize) -> ColumnId {
    ColumnId::from_number(n).expect("column")
}

/// Wednesday 2026-11-25, 12:00 local.
fn noon() -> LocalTime {
    LocalTime::from_ymd_hm(2026, 11, 25, 12, 0).expect("date")
}

const FULL_STOCK: [u32; 5] = [8, 8, 10, 12, 10];

fn facts(now: LocalTime, column: usize, price: u64, stock: &[u32]) -> VendFacts<'_> {
    VendFacts {
        now,
        steady: now.secs(),
        column: col(column),
        price: Cents::new(price),
        stock,
    }
}

/// A policy whose caps never bind, for checking the odds themselves.
const LOOSE: &str = r#"
[policy]
probability = 0.1
max_per_hour = 10000
max_per_day = 100000
cooldown_s = 0
max_value_multiple = 1000.0
budget_percent = 100.0

[[surprises]]
name = "note"
kind = "message"
weight = 6
cost_cents = 0
message = "thanks"

[[surprises]]
name = "show"
kind = "show"
weight = 3
cost_cents = 0
pattern = "rainbow"

[[surprises]]
name = "wave"
kind = "message"
weight = 1
cost_cents = 0
message = "hello"
"#;

#[test]
fn the_shipped_surprises_are_valid() {
    let cfg = config(SURPRISES);
    assert!(cfg.policy.enabled);
    assert_eq!(cfg.catalogue.len(), 5);
    assert!(cfg.policy.pacing.is_some());
}

#[test]
fn odds_and_weights_hold_over_a_million_vends() {
    let mut engine = SurpriseEngine::new(config(LOOSE), 42);
    let n = 1_000_000u64;
    let mut counts = [0u64; 3];
    let mut t = noon();
    for i in 0..n {
        // One vend every 10 s, across days, hours and weekdays.
        t = t.plus_secs(10);
        let d = engine.decide(&facts(t, 1 + (i % 4) as usize, 150, &FULL_STOCK));
        if let Some(a) = d.award {
            counts[a.index] += 1;
        }
        assert!(d.bound.is_empty(), "a cap bound: {:?}", d.bound);
    }
    let total: u64 = counts.iter().sum();
    let p = 0.1;
    let nf = n as f64;
    let sd = (nf * p * (1.0 - p)).sqrt();
    assert!(
        ((total as f64) - nf * p).abs() < 4.0 * sd,
        "{total} surprises in {n} vends"
    );
    for (i, weight) in [6.0, 3.0, 1.0].iter().enumerate() {
        let q = weight / 10.0;
        let expected = total as f64 * q;
        let sd = (total as f64 * q * (1.0 - q)).sqrt();
        assert!(
            (counts[i] as f64 - expected).abs() < 4.0 * sd,
            "surprise {i}: {} vs {expected}",
            counts[i]
        );
    }
}

#[test]
fn same_seed_same_decisions_and_another_seed_differs() {
    let run = |seed| {
        let mut engine = SurpriseEngine::new(config(SURPRISES), seed);
        let mut t = noon();
        (0..5000)
            .map(|i| {
                t = t.plus_secs(97);
                engine
                    .decide(&facts(t, 1 + (i % 4), 150, &FULL_STOCK))
                    .award
                    .map(|a| (i, a.index, a.items))
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
}

#[test]
fn master_switch_and_pause_stop_every_surprise() {
    let text = LOOSE.replace("probability = 0.1", "probability = 1.0\nenabled = false");
    let mut engine = SurpriseEngine::new(config(&text), 1);
    assert!((0..100).all(|i| engine
        .decide(&facts(noon().plus_secs(i * 60), 1, 150, &FULL_STOCK))
        .award
        .is_none()));

    let text = LOOSE.replace("probability = 0.1", "probability = 1.0");
    let mut engine = SurpriseEngine::new(config(&text), 1);
    engine.set_paused(true);
    assert!(engine
        .decide(&facts(noon(), 1, 150, &FULL_STOCK))
        .award
        .is_none());
    engine.set_paused(false);
    assert!(engine
        .decide(&facts(noon(), 1, 150, &FULL_STOCK))
        .award
        .is_some());
}

#[test]
fn caps_per_hour_per_day_and_cooldown_bind() {
    let text = LOOSE
        .replace("probability = 0.1", "probability = 1.0")
        .replace("max_per_hour = 10000", "max_per_hour = 3")
        .replace("max_per_day = 100000", "max_per_day = 5")
        .replace("cooldown_s = 0", "cooldown_s = 120");
    let mut engine = SurpriseEngine::new(config(&text), 3);
    let mut awards = Vec::new();
    let mut bound = Vec::new();
    // One vend a minute for two days.
    for i in 0..(2 * 24 * 60) {
        let t = noon().plus_secs(i * 60);
        let d = engine.decide(&facts(t, 1, 150, &FULL_STOCK));
        if d.award.is_some() {
            awards.push(t);
        }
        bound.extend(d.bound.iter());
    }
    for w in awards.windows(2) {
        assert!(w[1].secs() - w[0].secs() >= 120, "cooldown broken");
    }
    for (i, t) in awards.iter().enumerate() {
        let in_hour = awards[..=i]
            .iter()
            .filter(|a| t.secs() - a.secs() < 3600)
            .count();
        assert!(in_hour <= 3, "hourly cap broken at {t}");
        let same_day = awards.iter().filter(|a| a.day() == t.day()).count();
        assert!(same_day <= 5, "daily cap broken on {t}");
    }
    for cap in [Cap::PerHour, Cap::PerDay, Cap::Cooldown] {
        assert!(bound.contains(&cap), "{cap:?} never bound");
    }
}

#[test]
fn value_cap_budget_and_stock_rule_out_item_surprises() {
    let text = r#"
[policy]
probability = 1.0
cooldown_s = 0
max_per_hour = 1000
max_per_day = 1000
max_value_multiple = 2.0
budget_percent = 10.0

[[surprises]]
name = "pack"
kind = "share_pack"
weight = 1
cost_cents = 400
count = 3
same = true
"#;
    let mut engine = SurpriseEngine::new(config(text), 5);
    // 400 > 2 x 150: value cap.
    let d = engine.decide(&facts(noon(), 1, 150, &FULL_STOCK));
    assert!(d.award.is_none() && d.bound.contains(Cap::ValueCap));
    // 400 <= 2 x 250, but 10% of 400 cents of sales is 40: budget.
    let d = engine.decide(&facts(noon(), 1, 250, &FULL_STOCK));
    assert!(d.award.is_none() && d.bound.contains(Cap::Budget), "{d:?}");
    // Build up sales until the budget allows one.
    let mut t = noon();
    let mut award = None;
    for _ in 0..200 {
        t = t.plus_secs(60);
        if let Some(a) = engine.decide(&facts(t, 1, 250, &FULL_STOCK)).award {
            award = Some(a);
            break;
        }
    }
    let award = award.expect("budget eventually allows the pack");
    assert_eq!(award.items, vec![(col(1), 3)]);
    let (cost, sales) = engine.window();
    assert!(cost.get() * 10 <= sales.get(), "{cost} of {sales}");
    // Two left in the column: a pack of three is not offered.
    let stock = [2, 8, 10, 12, 10];
    for _ in 0..500 {
        t = t.plus_secs(60);
        let d = engine.decide(&facts(t, 1, 250, &stock));
        assert!(d.award.is_none());
    }
}

#[test]
fn product_items_spread_over_columns_and_gifts_need_their_column() {
    let text = r#"
[policy]
probability = 1.0
cooldown_s = 0
budget_percent = 100.0
max_value_multiple = 100.0

[[surprises]]
name = "water pack"
kind = "share_pack"
weight = 1
cost_cents = 0
count = 3
product = "water"
"#;
    let mut engine = SurpriseEngine::new(config(text), 9);
    let award = engine
        .decide(&facts(noon(), 1, 150, &[8, 8, 2, 12, 10]))
        .award;
    // Only column 3 holds water and it has 2: not enough for a pack of 3.
    assert!(award.is_none());
    let award = engine
        .decide(&facts(noon().plus_secs(10), 1, 150, &[8, 8, 5, 12, 10]))
        .award
        .expect("award");
    assert_eq!(award.items, vec![(col(3), 3)]);

    let gift = r#"
[policy]
probability = 1.0
cooldown_s = 0
budget_percent = 100.0

[[surprises]]
name = "flower"
kind = "gift"
weight = 1
cost_cents = 0
column = 5
"#;
    let mut engine = SurpriseEngine::new(config(gift), 9);
    assert!(engine
        .decide(&facts(noon(), 1, 150, &[8, 8, 5, 12, 0]))
        .award
        .is_none());
    let award = engine
        .decide(&facts(noon(), 1, 150, &[8, 8, 5, 12, 1]))
        .award
        .expect("gift");
    assert_eq!(award.items, vec![(col(5), 1)]);
    assert_eq!(
        engine.message_for(&award, |_| "Flower".into()),
        "Surprise! A Flower for you."
    );
}

#[test]
fn conditions_on_products_hours_days_and_price() {
    let text = r#"
[policy]
probability = 1.0
cooldown_s = 0
budget_percent = 100.0

[[surprises]]
name = "afternoon cola fans"
kind = "message"
weight = 1
cost_cents = 0
message = "hi"

[surprises.when]
products = ["Cola"]
hours = ["15:00-17:00"]
days = ["wed"]
min_price_cents = 100
"#;
    let mut engine = SurpriseEngine::new(config(text), 2);
    let wed_4pm = LocalTime::from_ymd_hm(2026, 11, 25, 16, 0).expect("date");
    let thu_4pm = LocalTime::from_ymd_hm(2026, 11, 26, 16, 0).expect("date");
    let wed_noon = noon();
    let mut yes = |t, column, price| {
        engine
            .decide(&facts(t, column, price, &FULL_STOCK))
            .award
            .is_some()
    };
    assert!(yes(wed_4pm, 1, 150));
    assert!(!yes(wed_4pm, 2, 150), "not Cola");
    assert!(!yes(thu_4pm, 1, 150), "not Wednesday");
    assert!(!yes(wed_noon, 1, 150), "not in the afternoon");
    assert!(!yes(wed_4pm, 1, 50), "too cheap");
}

#[test]
fn pity_forces_a_surprise_after_a_streak() {
    let text = LOOSE
        .replace("probability = 0.1", "probability = 0.0")
        .replace(
            "budget_percent = 100.0",
            "budget_percent = 100.0\npity_after = 4",
        );
    let mut engine = SurpriseEngine::new(config(&text), 4);
    let got: Vec<bool> = (0..15)
        .map(|i| {
            engine
                .decide(&facts(noon().plus_secs(i * 60), 1, 150, &FULL_STOCK))
                .award
                .is_some()
        })
        .collect();
    let expected: Vec<bool> = (0..15).map(|i| i % 5 == 4).collect();
    assert_eq!(got, expected);
}

#[test]
fn pacing_spreads_the_daily_budget_over_opening_hours() {
    let text = r#"
[policy]
probability = 1.0
cooldown_s = 0
max_per_hour = 1000
max_per_day = 1000
budget_percent = 100.0
max_value_multiple = 100.0

[policy.pacing]
daily_budget_cents = 1000
hours = "08:00-18:00"

[[surprises]]
name = "treat"
kind = "extra_item"
weight = 1
cost_cents = 100
same = true
"#;
    let mut engine = SurpriseEngine::new(config(text), 6);
    let day = |h, m| LocalTime::from_ymd_hm(2026, 11, 25, h, m).expect("date");
    // Sales first, so the rolling budget never binds.
    for i in 0..100 {
        engine.set_paused(true);
        engine.decide(&facts(day(0, 0).plus_secs(i), 1, 10_000, &FULL_STOCK));
    }
    engine.set_paused(false);
    let mut spent_by = Vec::new();
    for minute in (8 * 60..20 * 60).step_by(5) {
        let t = day(minute / 60, minute % 60);
        engine.decide(&facts(t, 1, 150, &FULL_STOCK));
        spent_by.push((minute, engine.today().1.get()));
    }
    for (minute, spent) in &spent_by {
        let elapsed = (minute - 8 * 60).clamp(0, 600) as u64;
        assert!(
            *spent <= 1000 * elapsed / 600,
            "{spent} spent by minute {minute}"
        );
    }
    assert_eq!(engine.today().1.get(), 1000, "whole budget used by the end");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// The knobs a generated policy turns.
    struct Limits {
        p: f64,
        per_hour: u32,
        per_day: u32,
        cooldown: u32,
        multiple: f64,
        percent: f64,
        window: u32,
        pacing: Option<(u32, u8, u8)>,
    }

    fn policy_text(limits: &Limits) -> String {
        let Limits {
            p,
            per_hour,
            per_day,
            cooldown,
            multiple,
            percent,
            window,
            pacing,
        } = *limits;
        let pacing = pacing
            .map(|(budget, open, close)| {
                format!(
                    "[policy.pacing]\ndaily_budget_cents = {budget}\nhours = \"{open:02}:00-{close:02}:00\"\n"
                )
            })
            .unwrap_or_default();
        format!(
            r#"
[policy]
probability = {p}
max_per_hour = {per_hour}
max_per_day = {per_day}
cooldown_s = {cooldown}
max_value_multiple = {multiple}
budget_percent = {percent}
budget_window_hours = {window}
{pacing}
[[surprises]]
name = "extra"
kind = "extra_item"
weight = 3
cost_cents = 90
same = true

[[surprises]]
name = "pack"
kind = "share_pack"
weight = 2
cost_cents = 250
count = 3
product = "Water"

[[surprises]]
name = "flower"
kind = "gift"
weight = 1
cost_cents = 120
column = 5

[[surprises]]
name = "note"
kind = "message"
weight = 2
cost_cents = 0
message = "thanks"
"#
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// For random policies and traffic: no cap or budget is ever exceeded, and no item
        /// surprise is awarded without the stock for all of its items.
        #[test]
        fn caps_budgets_and_stock_always_hold(
            p in 0.0f64..=1.0,
            per_hour in 1u32..8,
            per_day in 1u32..40,
            cooldown in 0u32..900,
            multiple in 0.0f64..5.0,
            percent in 0.0f64..30.0,
            window in 1u32..72,
            pacing in proptest::option::of((0u32..3000, 0u8..12, 12u8..24)),
            seed in any::<u64>(),
            gaps in proptest::collection::vec(1i64..1800, 50..400),
            columns in proptest::collection::vec(1usize..=4, 50..400),
            stocks in proptest::collection::vec(0u32..5, 5),
        ) {
            let percent = (percent * 100.0).round() / 100.0;
            let text = policy_text(&Limits {
                p, per_hour, per_day, cooldown, multiple, percent, window, pacing,
            });
            let cfg = config(&text);
            let mut engine = SurpriseEngine::new(cfg.clone(), seed);
            let mut stock = stocks.clone();
            let mut t = noon();
            // Independent books: (time, price) of sales and (time, cost) of awards.
            let mut sales: Vec<(LocalTime, u64)> = Vec::new();
            let mut awards: Vec<(LocalTime, u64)> = Vec::new();
            for (gap, &column) in gaps.iter().zip(columns.iter().cycle()) {
                t = t.plus_secs(*gap);
                let price = [150u64, 150, 100, 120][column - 1];
                sales.push((t, price));
                let d = engine.decide(&facts(t, column, price, &stock));
                let Some(a) = d.award else { continue };
                let cost = a.cost.get();
                // Stock for every item.
                for &(c, n) in &a.items {
                    prop_assert!(stock[c.index()] >= n, "no stock for {:?}", a);
                    stock[c.index()] -= n;
                }
                // Value cap.
                prop_assert!(cost as f64 <= multiple * price as f64 + 1e-9);
                awards.push((t, cost));
                // Hourly cap over a sliding hour, daily cap per calendar day, cooldown.
                let in_hour = awards.iter().filter(|(a, _)| t.secs() - a.secs() < 3600).count();
                prop_assert!(in_hour as u32 <= per_hour);
                let today = awards.iter().filter(|(a, _)| a.day() == t.day()).count();
                prop_assert!(today as u32 <= per_day);
                if awards.len() >= 2 {
                    let prev = awards[awards.len() - 2].0;
                    prop_assert!(t.secs() - prev.secs() >= i64::from(cooldown));
                }
                // Rolling budget: the window is the current hour and the `window - 1` before.
                let first_hour = t.hour_index() - i64::from(window) + 1;
                let in_window = |x: &LocalTime| x.hour_index() >= first_hour;
                let cost_sum: u64 = awards.iter().filter(|(x, _)| in_window(x)).map(|(_, c)| c).sum();
                let sales_sum: u64 = sales.iter().filter(|(x, _)| in_window(x)).map(|(_, s)| s).sum();
                let bps = (percent * 100.0).round() as u128;
                prop_assert!(u128::from(cost_sum) * 10_000 <= bps * u128::from(sales_sum),
                    "budget: {} of {} at {}%", cost_sum, sales_sum, percent);
                // Pacing.
                if let Some((budget, open, close)) = pacing {
                    let spent_today: u64 = awards.iter().filter(|(x, _)| x.day() == t.day()).map(|(_, c)| c).sum();
                    prop_assert!(spent_today <= u64::from(budget));
                    let minute = u64::from(t.minute_of_day());
                    let (open, close) = (u64::from(open) * 60, u64::from(close) * 60);
                    let released = if minute < open { 0 } else if minute >= close { u64::from(budget) }
                        else { u64::from(budget) * (minute - open) / (close - open) };
                    prop_assert!(spent_today <= released, "pacing: {} > {}", spent_today, released);
                }
            }
        }
    }
}

/// Every invalid file is rejected, and the error names the field.
#[test]
fn corpus_of_invalid_surprise_files_names_the_field() {
    let base = SURPRISES;
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "weight = 40",
            "weight = 1e308",
            "surprises[0].weight",
            "weights are relative",
        ),
        (
            "message = \"You made our day. Thank you!\"",
            "message = \"Enjoy your {produkt}!\"",
            "surprises[0].message",
            "{produkt} is not a placeholder",
        ),
        (
            "message = \"You made our day. Thank you!\"",
            "message = \"You made\\nour day\"",
            "surprises[0].message",
            "one line",
        ),
        (
            "de = \"Noch einmal {product}, zum Teilen!\"",
            "de = \"Noch einmal {Produkt}, zum Teilen!\"",
            "surprises[2].messages.de",
            "{Produkt} is not a placeholder",
        ),
        (
            "probability = 0.2",
            "probability = 1.5",
            "policy.probability",
            "between 0 and 1",
        ),
        (
            "probability = 0.2",
            "probability = -0.1",
            "policy.probability",
            "between 0 and 1",
        ),
        (
            "budget_percent = 2.0",
            "budget_percent = 120.0",
            "policy.budget_percent",
            "between 0 and 100",
        ),
        (
            "budget_percent = 2.0",
            "budget_percent = -1.0",
            "policy.budget_percent",
            "percentage",
        ),
        (
            "max_per_hour = 10",
            "max_per_hour = 0",
            "policy.max_per_hour",
            "between 1",
        ),
        (
            "max_per_day = 60",
            "max_per_day = -3",
            "policy.max_per_day",
            "between 1",
        ),
        (
            "cooldown_s = 30",
            "cooldown_s = -30",
            "policy.cooldown_s",
            "between 0",
        ),
        (
            "max_value_multiple = 20.0",
            "max_value_multiple = -2.0",
            "policy.max_value_multiple",
            "0 or more",
        ),
        (
            "budget_window_hours = 168",
            "budget_window_hours = 0",
            "policy.budget_window_hours",
            "between 1",
        ),
        (
            "hours = \"07:00-22:00\"",
            "hours = \"7am-10pm\"",
            "policy.pacing.hours",
            "time window",
        ),
        (
            "hours = \"07:00-22:00\"",
            "hours = \"22:00-02:00\"",
            "policy.pacing.hours",
            "midnight",
        ),
        (
            "daily_budget_cents = 1000",
            "daily_budget_cents = -5",
            "policy.pacing.daily_budget_cents",
            "negative",
        ),
        (
            "weight = 40",
            "weight = 0",
            "surprises[0].weight",
            "greater than 0",
        ),
        (
            "weight = 40",
            "weight = -1",
            "surprises[0].weight",
            "greater than 0",
        ),
        (
            "cost_cents = 90",
            "cost_cents = -90",
            "surprises[2].cost_cents",
            "negative",
        ),
        (
            "column = 5\n",
            "column = 9\n",
            "surprises[3].column",
            "no column 9",
        ),
        (
            "product = \"Chocolate bar\"",
            "product = \"Caviar\"",
            "surprises[4].product",
            "no column holds \"Caviar\"",
        ),
        (
            "count = 2",
            "count = 100",
            "surprises[4].count",
            "between 2 and 24",
        ),
        (
            "kind = \"message\"",
            "kind = \"confetti\"",
            "surprises[0].kind",
            "unknown variant",
        ),
        (
            "message = \"You made our day. Thank you!\"",
            "message = \"\"",
            "surprises[0].message",
            "empty",
        ),
        (
            "pattern = \"rainbow\"",
            "pattern = \"rainbow\"\ncount = 3",
            "surprises[1].count",
            "does not take `count`",
        ),
        (
            "same = true\nmessage",
            "same = true\ncolumn = 2\nmessage",
            "surprises[2].column",
            "exactly one of",
        ),
        (
            "days = [\"mon\",",
            "days = [\"someday\",",
            "surprises[4].when.days[0]",
            "not a weekday",
        ),
        (
            "hours = [\"15:00-17:00\"]",
            "hours = [\"15:00\"]",
            "surprises[4].when.hours[0]",
            "time window",
        ),
        (
            "min_price_cents = 100",
            "min_price_cents = -100",
            "surprises[4].when.min_price_cents",
            "negative",
        ),
        (
            "name = \"A flower\"",
            "name = \"Light show\"",
            "surprises[3].name",
            "used by another surprise",
        ),
        (
            "name = \"A flower\"",
            "name = \"A flower\"\ncolour = \"red\"",
            "surprises[3].colour",
            "unknown field",
        ),
        (
            "pattern = \"rainbow\"",
            "pattern = \"disco\"",
            "surprises[1].pattern",
            "no pattern `disco`: the kiosk knows rainbow, sparkle, pulse, chase",
        ),
        (
            "messages = { de = \"Eine Blume",
            "messages = { xx = \"?\", de = \"Eine Blume",
            "surprises[3].messages.xx",
            "no language `xx`: it speaks en, de, fr, ja",
        ),
        (
            "fr = \"Une fleur pour vous. Belle journée !\"",
            "fr = \"  \"",
            "surprises[3].messages.fr",
            "must not be empty",
        ),
        (
            "probability = 0.2",
            "probability = \"often\"",
            "policy.probability",
            "invalid type",
        ),
    ];
    assert!(cases.len() >= 15);
    for (from, to, path, fragment) in cases {
        assert!(base.contains(from), "fixture lacks {from:?}");
        let text = base.replacen(from, to, 1);
        let err = match parse(&text) {
            Ok(_) => panic!("accepted: {to}"),
            Err(e) => e,
        };
        assert!(
            err.issues()
                .iter()
                .any(|i| i.path == *path && i.message.contains(fragment)),
            "{to}: expected `{path}: ...{fragment}...`, got:\n{err}"
        );
        assert!(err.to_string().contains("surprises.toml"));
    }
}

#[test]
fn surprises_for_another_machine_are_rejected_and_absent_file_means_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = SurpriseConfig::load_dir(dir.path(), &machine().columns).expect("absent is fine");
    assert!(!cfg.policy.enabled && cfg.catalogue.is_empty());
    let mut small = machine();
    small.columns.truncate(2);
    let err = SurpriseConfig::from_toml(Path::new("s.toml"), SURPRISES, &small.columns)
        .expect_err("columns 5 and the chocolate bars do not exist");
    assert!(err.issues().len() >= 2);
}

#[test]
fn a_catalogue_beyond_its_limit_is_refused_rather_than_cut() {
    let mut text = String::from("[policy]\nprobability = 1.0\n");
    for i in 0..=MAX_SURPRISES {
        text.push_str(&format!(
            "[[surprises]]\nname = \"note {i}\"\nkind = \"message\"\nweight = 1.0\ncost_cents = 0\nmessage = \"Thanks {i}\"\n"
        ));
    }
    let err = parse(&text).expect_err("65 surprises");
    let issue = err
        .issues()
        .iter()
        .find(|i| i.path == "surprises")
        .unwrap_or_else(|| panic!("{err}"));
    assert!(issue.message.contains("more than the 64"), "{issue}");
    // The limit itself is fine.
    let cut = text.rsplit_once("[[surprises]]").map_or("", |x| x.0);
    assert_eq!(config(cut).catalogue.len(), MAX_SURPRISES);
}

#[test]
fn weekdays_are_exact_and_ranges_cover_every_day_in_them() {
    let with_days = |days: &str| {
        format!(
            "[policy]\nprobability = 1.0\n[[surprises]]\nname = \"weekday\"\nkind = \"message\"\nweight = 1.0\ncost_cents = 0\nmessage = \"Hi\"\nwhen = {{ days = [{days}] }}\n"
        )
    };
    let mask = |days: &str| config(&with_days(days)).catalogue[0].when.days;
    assert_eq!(mask("\"mon-fri\""), 0b001_1111);
    assert_eq!(mask("\"sat\", \"Sunday\""), 0b110_0000);
    for bad in ["\"Monkey\"", "\"mo\"", "\"mon-funday\"", "\"weekdays\""] {
        let err = parse(&with_days(bad)).expect_err(bad);
        assert!(
            err.issues()
                .iter()
                .any(|i| i.path == "surprises[0].when.days[0]" && i.message.contains("weekday")),
            "{bad}: {err}"
        );
    }
}

#[test]
fn conditions_that_can_never_hold_are_refused() {
    let with_when = |when: &str| {
        format!(
            "[policy]\nprobability = 1.0\n[[surprises]]\nname = \"never\"\nkind = \"message\"\nweight = 1.0\ncost_cents = 0\nmessage = \"Hi\"\nwhen = {{ {when} }}\n"
        )
    };
    let refused = |when: &str, path: &str, words: &str| {
        let err = parse(&with_when(when)).expect_err(when);
        assert!(
            err.issues()
                .iter()
                .any(|i| i.path == path && i.message.contains(words)),
            "{when}: {err}"
        );
    };
    // The flower is a gift, not for sale: no paid vend is ever a flower.
    refused(
        "products = [\"Flower\"]",
        "surprises[0].when.products",
        "not for sale",
    );
    refused(
        "min_price_cents = 99999",
        "surprises[0].when.min_price_cents",
        "could never fire",
    );
    refused(
        "products = [\"Water\"], min_price_cents = 150",
        "surprises[0].when.min_price_cents",
        "could never fire",
    );
    // At the dearest price it can fire.
    let ok = config(&with_when("products = [\"Cola\"], min_price_cents = 150"));
    assert_eq!(ok.catalogue.len(), 1);
}

/// Daylight saving moves the local clock an hour in a moment; the hourly cap and the cooldown
/// are durations and must not notice.
#[test]
fn a_daylight_saving_jump_does_not_reset_the_hourly_cap_or_the_cooldown() {
    let text = "[policy]\nprobability = 1.0\nmax_per_hour = 2\ncooldown_s = 0\nbudget_percent = 100.0\nmax_value_multiple = 20.0\n[[surprises]]\nname = \"note\"\nkind = \"message\"\nweight = 1.0\ncost_cents = 0\nmessage = \"Thanks\"\n";
    let mut engine = SurpriseEngine::new(config(text), 7);
    // 01:59 on the night the clocks go forward; the wall clock reads 03:00 a minute later.
    let before = LocalTime::from_ymd_hm(2026, 3, 29, 1, 59).expect("date");
    let steady = 1_774_745_940;
    let at = |local: LocalTime, steady: i64| VendFacts {
        now: local,
        steady,
        column: col(1),
        price: Cents::new(150),
        stock: &FULL_STOCK,
    };
    assert!(engine.decide(&at(before, steady)).award.is_some());
    assert!(engine
        .decide(&at(before.plus_secs(20), steady + 20))
        .award
        .is_some());
    let after = before.plus_secs(3_600 + 60);
    for i in 0..5 {
        let d = engine.decide(&at(after.plus_secs(i), steady + 60 + i));
        assert!(d.award.is_none(), "the cap held: {d:?}");
        assert!(d.bound.contains(Cap::PerHour), "{d:?}");
    }
    // An hour later on the steady timeline, it opens again.
    let d = engine.decide(&at(after.plus_secs(3_600), steady + 3_700));
    assert!(d.award.is_some(), "{d:?}");

    let text = text
        .replace("cooldown_s = 0", "cooldown_s = 600")
        .replace("max_per_hour = 2", "max_per_hour = 100");
    let mut engine = SurpriseEngine::new(config(&text), 7);
    assert!(engine.decide(&at(before, steady)).award.is_some());
    let d = engine.decide(&at(after, steady + 60));
    assert!(
        d.bound.contains(Cap::Cooldown),
        "ten minutes have not passed: {d:?}"
    );
}

#[test]
fn a_surprise_without_a_message_speaks_every_language_from_the_catalogue() {
    let config = parse(
        "[policy]\nprobability = 1.0\n\n[[surprises]]\nname = \"more\"\nkind = \"extra_item\"\n\
         weight = 1\ncost_cents = 0\nsame = true\n",
    )
    .expect("valid");
    let s = &config.catalogue[0];
    assert_eq!(s.message, "Surprise! One more {product}, on the house.");
    let german = s
        .translations
        .iter()
        .find(|(l, _)| *l == crate::i18n::Language::German);
    assert_eq!(
        german.map(|(_, t)| t.as_str()),
        Some("Überraschung! Noch einmal {product}, aufs Haus.")
    );
    assert_eq!(s.translations.len(), crate::i18n::Language::ALL.len());
    // One with its own message keeps to the languages its operator wrote.
    let config = parse(
        "[[surprises]]\nname = \"note\"\nkind = \"message\"\nweight = 1\ncost_cents = 0\n\
         message = \"Thanks!\"\nmessages = { fr = \"Merci !\" }\n",
    )
    .expect("valid");
    assert_eq!(
        config.catalogue[0].translations,
        vec![(crate::i18n::Language::French, "Merci !".to_string())]
    );
}

#[test]
fn validation_problems_name_the_line_of_their_field() {
    let text = SURPRISES.replacen("column = 5\n", "column = 9\n", 1);
    let line_of = |needle: &str| {
        text.lines()
            .position(|l| l.starts_with(needle))
            .map(|i| i + 1)
    };
    let err = parse(&text).expect_err("column 9");
    let issue = &err.issues()[0];
    assert_eq!(issue.path, "surprises[3].column");
    assert_eq!(issue.line, line_of("column = 9"), "{err}");
    assert!(err
        .to_string()
        .contains(&format!("line {}", issue.line.unwrap_or(0))));
    // A field deep in a table, and one in an array.
    let text = SURPRISES.replacen("days = [\"mon\",", "days = [\"someday\",", 1);
    let err = parse(&text).expect_err("bad day");
    assert_eq!(err.issues()[0].path, "surprises[4].when.days[0]");
    assert_eq!(
        err.issues()[0].line,
        text.lines()
            .position(|l| l.starts_with("days = [\"someday\""))
            .map(|i| i + 1)
    );
    // A missing field is shown on its table's line.
    let text = SURPRISES.replacen("column = 5\n", "", 1);
    let err = parse(&text).expect_err("no column");
    assert_eq!(err.issues()[0].path, "surprises[3].column");
    let header = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("[[surprises]]"))
        .nth(3)
        .map(|(i, _)| i + 1);
    assert_eq!(err.issues()[0].line, header, "{err}");
}

#[test]
fn limits_now_say_what_holds_surprises_back_at_this_moment() {
    let text = r#"
[policy]
probability = 1.0
max_per_hour = 1
max_per_day = 5
cooldown_s = 30
budget_percent = 50.0

[[surprises]]
name = "note"
kind = "message"
weight = 1
cost_cents = 0
message = "thanks"

[[surprises]]
name = "share"
kind = "extra_item"
weight = 1000
cost_cents = 200
same = true
"#;
    let mut engine = SurpriseEngine::new(config(text), 7);
    let t = noon();
    // Before any sale the budget holds everything that costs something.
    let start = engine.limits_now(t, t.secs());
    assert!(start.every.is_empty());
    assert_eq!(start.costly, Some(Cap::Budget));
    let stock = FULL_STOCK;
    let d = engine.decide(&facts(t, 1, 150, &stock));
    // 50% of €1.50 is 75 cents: the €2 share does not fit; the free note does.
    assert_eq!(d.award.map(|a| a.name), Some("note".to_string()));
    assert_eq!(engine.budget_now(), (Cents::ZERO, Cents::new(75)));
    let soon = t.plus_secs(10);
    let limits = engine.limits_now(soon, soon.secs());
    assert_eq!(limits.every, vec![Cap::PerHour, Cap::Cooldown]);
    assert_eq!(limits.costly, Some(Cap::Budget));
    let later = t.plus_secs(3_601);
    assert_eq!(
        engine.limits_now(later, later.secs()).every,
        Vec::<Cap>::new(),
        "an hour on, nothing caps"
    );
}

mod campaigns;
mod recovery;
