//! Campaigns: their window, budget and awards hold; presets refuse prizes and totals the law
//! does not allow.

use super::*;

/// Every paid vend is lucky; one surprise, in a campaign of the given lines.
fn campaign(lines: &str, cost: u64) -> SurpriseConfig {
    config(&format!(
        r#"
[policy]
probability = 1.0
max_per_hour = 10000
max_per_day = 100000
cooldown_s = 0
max_value_multiple = 1000.0
budget_percent = 100.0

[[surprises]]
name = "Prize"
kind = "extra_item"
weight = 1
cost_cents = {cost}
same = true

[[campaigns]]
name = "Winter"
surprises = ["Prize"]
{lines}
"#
    ))
}

fn awards(engine: &mut SurpriseEngine, from: LocalTime, n: usize, minutes: i64) -> usize {
    (0..n)
        .filter(|i| {
            let now = from.plus_secs(i64::try_from(*i).unwrap_or(0) * minutes * 60);
            engine
                .decide(&facts(now, 1, 150, &FULL_STOCK))
                .award
                .is_some()
        })
        .count()
}

#[test]
fn a_campaigns_surprise_fires_only_inside_its_window_and_ends_by_itself() {
    let cfg = campaign(
        "start = \"2026-11-25T11:00\"\nend = \"2026-11-25T13:00\"\nbudget_cents = 100000\nmax_awards = 1000",
        50,
    );
    let mut engine = SurpriseEngine::new(cfg, 1);
    let before = LocalTime::from_ymd_hm(2026, 11, 25, 10, 0).expect("date");
    assert_eq!(
        awards(&mut engine, before, 6, 10),
        0,
        "not before the start"
    );
    // 11:00 to 12:59, one vend every 10 minutes: 12 awards, then nothing from 13:00.
    let start = LocalTime::from_ymd_hm(2026, 11, 25, 11, 0).expect("date");
    assert_eq!(awards(&mut engine, start, 12, 10), 12);
    assert_eq!(awards(&mut engine, noon().plus_secs(3_600), 12, 10), 0);
    assert_eq!(
        engine.campaign_spend()[0],
        CampaignSpend {
            awards: 12,
            cost: Cents::new(600)
        }
    );
}

#[test]
fn a_campaign_stops_at_its_budget_and_at_its_awards() {
    let cfg = campaign(
        "start = \"2026-11-01\"\nend = \"2026-11-30\"\nbudget_cents = 120\nmax_awards = 1000",
        50,
    );
    let mut engine = SurpriseEngine::new(cfg, 1);
    assert_eq!(
        awards(&mut engine, noon(), 10, 1),
        2,
        "50 + 50 fit in 120, a third does not"
    );
    let d = engine.decide(&facts(noon().plus_secs(3_600), 1, 150, &FULL_STOCK));
    assert!(d.award.is_none() && d.bound.contains(Cap::Campaign));

    let cfg = campaign(
        "start = \"2026-11-01\"\nend = \"2026-11-30\"\nbudget_cents = 100000\nmax_awards = 3",
        50,
    );
    let mut engine = SurpriseEngine::new(cfg, 1);
    assert_eq!(awards(&mut engine, noon(), 10, 1), 3);
}

#[test]
fn what_a_campaign_gave_survives_a_restart_and_a_config_change() {
    let lines =
        "start = \"2026-11-01\"\nend = \"2026-11-30\"\nbudget_cents = 150\nmax_awards = 1000";
    let mut engine = SurpriseEngine::new(campaign(lines, 50), 1);
    engine.set_campaign_spend(&[(
        "Winter".into(),
        CampaignSpend {
            awards: 2,
            cost: Cents::new(100),
        },
    )]);
    assert_eq!(awards(&mut engine, noon(), 5, 1), 1);
    // The same campaign in a new config keeps its count; nothing more fits.
    engine.set_config(campaign(lines, 50));
    assert_eq!(engine.campaign_spend()[0].cost, Cents::new(150));
    assert_eq!(awards(&mut engine, noon().plus_secs(600), 5, 1), 0);
}

#[test]
fn presets_refuse_prizes_and_totals_the_law_does_not_allow() {
    // Water, the cheapest drink, is 100: 20 x 100 = 2,000, and a 2,001 prize is too much.
    let lottery = "start = \"2026-11-01\"\nend = \"2026-11-30\"\nbudget_cents = 4000\nmax_awards = 10\nplanned_sales_cents = 200000\npreset = \"jp-general-lottery\"";
    let text = |cost: u64, lines: &str| {
        format!(
            "[[surprises]]\nname = \"Prize\"\nkind = \"extra_item\"\nweight = 1\ncost_cents = {cost}\nsame = true\n\n[[campaigns]]\nname = \"Winter\"\nsurprises = [\"Prize\"]\n{lines}\n"
        )
    };
    assert!(parse(&text(2_000, lottery)).is_ok());
    let e = parse(&text(2_001, lottery))
        .expect_err("prize too large")
        .to_string();
    assert!(e.contains("campaigns[0].preset"), "{e}");
    assert!(e.contains("at most 2000 with a purchase of 100"), "{e}");
    // All prizes at most 2% of planned sales: 4,001 of 200,000 is too much.
    let over = lottery.replace("budget_cents = 4000", "budget_cents = 4001");
    let e = parse(&text(100, &over))
        .expect_err("total too large")
        .to_string();
    assert!(e.contains("campaigns[0].budget_cents"), "{e}");
    let unplanned = lottery.replace("planned_sales_cents = 200000\n", "");
    let e = parse(&text(100, &unplanned))
        .expect_err("no planned sales")
        .to_string();
    assert!(e.contains("campaigns[0].planned_sales_cents"), "{e}");
    // Every buyer: under 1,000, at most 200.
    let every = "start = \"2026-11-01\"\nend = \"2026-11-30\"\nbudget_cents = 4000\nmax_awards = 10\npreset = \"jp-every-buyer\"";
    assert!(parse(&text(200, every)).is_ok());
    let e = parse(&text(201, every)).expect_err("too much").to_string();
    assert!(e.contains("jp-every-buyer allows at most 200"), "{e}");
}

#[test]
fn bad_campaigns_name_their_field() {
    let base = "[[surprises]]\nname = \"Prize\"\nkind = \"message\"\nweight = 1\ncost_cents = 0\nmessage = \"hi\"\n\n";
    let cases = [
        ("name = \"W\"\nsurprises = [\"Nope\"]\nstart = \"2026-11-01\"\nend = \"2026-11-30\"\nbudget_cents = 1\nmax_awards = 1", "campaigns[0].surprises[0]"),
        ("name = \"W\"\nsurprises = [\"Prize\"]\nstart = \"2026-11-30\"\nend = \"2026-11-01\"\nbudget_cents = 1\nmax_awards = 1", "campaigns[0].end"),
        ("name = \"W\"\nsurprises = [\"Prize\"]\nstart = \"soon\"\nend = \"2026-11-01\"\nbudget_cents = 1\nmax_awards = 1", "campaigns[0].start"),
        ("name = \"W\"\nsurprises = [\"Prize\"]\nstart = \"2026-11-01\"\nend = \"2026-11-30\"\nbudget_cents = -1\nmax_awards = 1", "campaigns[0].budget_cents"),
        ("name = \"W\"\nsurprises = [\"Prize\"]\nstart = \"2026-11-01\"\nend = \"2026-11-30\"\nbudget_cents = 1\nmax_awards = 0", "campaigns[0].max_awards"),
        ("name = \"W\"\nsurprises = [\"Prize\"]\nstart = \"2026-11-01\"\nend = \"2026-11-30\"\nbudget_cents = 1\nmax_awards = 1\npreset = \"us-sweepstakes\"", "campaigns[0].preset"),
    ];
    for (lines, field) in cases {
        let e = parse(&format!("{base}[[campaigns]]\n{lines}\n"))
            .expect_err(field)
            .to_string();
        assert!(e.contains(field), "{field}: {e}");
    }
    let twice = format!(
        "{base}[[campaigns]]\nname = \"A\"\nsurprises = [\"Prize\"]\nstart = \"2026-11-01\"\nend = \"2026-11-30\"\nbudget_cents = 1\nmax_awards = 1\n\n[[campaigns]]\nname = \"B\"\nsurprises = [\"prize\"]\nstart = \"2026-11-01\"\nend = \"2026-11-30\"\nbudget_cents = 1\nmax_awards = 1\n"
    );
    let e = parse(&twice).expect_err("in two campaigns").to_string();
    assert!(e.contains("campaigns[1].surprises[0]"), "{e}");
}

#[test]
fn the_campaign_example_in_the_shipped_config_is_valid_when_uncommented() {
    let example: String = SURPRISES
        .lines()
        .skip_while(|l| *l != "# [[campaigns]]")
        .take_while(|l| l.starts_with('#'))
        .map(|l| format!("{}\n", l.trim_start_matches('#').trim_start()))
        .collect();
    assert!(
        example.contains("preset = \"jp-general-lottery\""),
        "{example}"
    );
    let cfg = config(&format!("{SURPRISES}\n{example}"));
    assert_eq!(cfg.campaigns.len(), 1);
    assert_eq!(
        cfg.campaigns[0].surprises,
        vec!["A flower", "Afternoon treats"]
    );
}

#[test]
fn bad_secrets_name_their_field_once() {
    let base = "[[surprises]]\nname = \"Prize\"\nkind = \"message\"\nweight = 1\ncost_cents = 0\nmessage = \"hi\"\n\n";
    let long: Vec<String> = (0..1000).map(|_| "1".to_string()).collect();
    let cases = [
        (
            format!(
                "sequence = [{}]\nwithin_ms = 1000\nmessage = \"m\"",
                long.join(", ")
            ),
            "secrets[0].sequence",
            1,
        ),
        (
            "sequence = [1, 2]\nwithin_ms = 1000\nmessage = \"m\"".to_string(),
            "secrets[0].sequence",
            1,
        ),
        (
            "sequence = [1, 2, 5]\nwithin_ms = 1000\nmessage = \"m\"".to_string(),
            "secrets[0].sequence[2]",
            1,
        ),
        (
            "sequence = [1, 2, 9]\nwithin_ms = 1000\nmessage = \"m\"".to_string(),
            "secrets[0].sequence[2]",
            1,
        ),
        (
            "sequence = [1, 2, 3]\nwithin_ms = 10\nmessage = \"m\"".to_string(),
            "secrets[0].within_ms",
            1,
        ),
        (
            "sequence = [1, 2, 3]\nwithin_ms = 1000\nsurprise = \"Nope\"".to_string(),
            "secrets[0].surprise",
            1,
        ),
        (
            "sequence = [1, 2, 3]\nwithin_ms = 1000".to_string(),
            "secrets[0].surprise",
            1,
        ),
    ];
    for (lines, field, count) in cases {
        let e = parse(&format!("{base}[[secrets]]\nname = \"S\"\n{lines}\n"))
            .expect_err(field)
            .to_string();
        assert!(e.contains(field), "{field}: {e}");
        assert_eq!(e.matches("secrets[").count(), count, "{e}");
    }
    let overlapping = format!(
        "{base}[[secrets]]\nname = \"A\"\nsequence = [1, 2, 3]\nwithin_ms = 1000\nmessage = \"a\"\n\n\
         [[secrets]]\nname = \"B\"\nsequence = [4, 1, 2, 3]\nwithin_ms = 1000\nmessage = \"b\"\n"
    );
    let e = parse(&overlapping).expect_err("overlap").to_string();
    assert!(
        e.contains("secrets[1].sequence") && e.contains("ends like"),
        "{e}"
    );
}

#[test]
fn campaign_dates_may_be_written_as_toml_dates_or_strings_and_anything_else_is_named() {
    let text = |bounds: &str| {
        format!(
            "[[surprises]]\nname = \"Prize\"\nkind = \"extra_item\"\nweight = 1\ncost_cents = 100\nsame = true\n\n[[campaigns]]\nname = \"Winter\"\nsurprises = [\"Prize\"]\n{bounds}\nbudget_cents = 4000\nmax_awards = 10\n"
        )
    };
    let quoted = parse(&text("start = \"2026-12-01\"\nend = \"2026-12-24\"")).expect("strings");
    let bare = parse(&text("start = 2026-12-01\nend = 2026-12-24")).expect("TOML dates");
    assert_eq!(quoted.campaigns, bare.campaigns);
    let times = parse(&text(
        "start = 2026-12-01T08:00:00\nend = 2026-12-24T18:30:00",
    ))
    .expect("TOML local date-times");
    assert_eq!(times.campaigns.len(), 1);
    let e = parse(&text("start = 20261201\nend = 2026-12-24"))
        .expect_err("a number")
        .to_string();
    assert!(e.contains("start") && e.contains("2026-12-01"), "{e}");
}
