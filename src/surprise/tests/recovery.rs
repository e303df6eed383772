//! Making it right in the engine: off unless configured, its daily count and its own budget,
//! kept across a restart.

use super::*;

fn recovery(lines: &str) -> SurpriseConfig {
    config(&format!("[recovery]\n{lines}\n"))
}

#[test]
fn an_offer_is_made_only_when_configured_and_unhappy_answers_only_when_asked_for() {
    let mut off = SurpriseEngine::new(SurpriseConfig::disabled(), 1);
    assert_eq!(
        off.offer_recovery(noon(), noon().secs(), RecoveryTrigger::FailedVend),
        Err(RecoveryHeld::Off)
    );
    let mut e = SurpriseEngine::new(recovery("offer = \"free_item\"\nmin_budget_cents = 300"), 1);
    assert_eq!(
        e.offer_recovery(noon(), noon().secs(), RecoveryTrigger::Unhappy),
        Err(RecoveryHeld::Off)
    );
    let offer = e
        .offer_recovery(noon(), noon().secs(), RecoveryTrigger::FailedVend)
        .expect("offer");
    assert_eq!(offer.kind, OfferKind::FreeItem);
    assert_eq!(offer.allowance, Cents::new(300));
}

#[test]
fn the_recovery_budget_is_its_own_and_free_items_use_it_up() {
    let mut e = SurpriseEngine::new(
        recovery("offer = \"free_item\"\nbudget_percent = 10.0\nmin_budget_cents = 100"),
        1,
    );
    // 2,000 of sales: 10% is 200, above the floor.
    for i in 0..10 {
        e.decide(&facts(noon().plus_secs(i), 1, 200, &FULL_STOCK));
    }
    assert_eq!(e.recovery_budget_now(), (Cents::ZERO, Cents::new(200)));
    let steady = noon().secs() + 100;
    let offer = e
        .offer_recovery(noon(), steady, RecoveryTrigger::FailedVend)
        .expect("offer");
    assert_eq!(offer.allowance, Cents::new(200));
    e.record_recovery(noon(), steady, Cents::new(150));
    let offer = e
        .offer_recovery(noon(), steady, RecoveryTrigger::FailedVend)
        .expect("offer");
    assert_eq!(offer.allowance, Cents::new(50), "what is left");
    e.record_recovery(noon(), steady, Cents::new(50));
    let offer = e
        .offer_recovery(noon(), steady, RecoveryTrigger::FailedVend)
        .expect("offer");
    assert_eq!(offer.kind, OfferKind::Message, "nothing left: an apology");
    // Surprises' budget is untouched by free items.
    assert_eq!(e.budget_now().0, Cents::ZERO);
}

#[test]
fn the_daily_count_holds_across_a_restart_and_starts_again_the_next_day() {
    let cfg = recovery("offer = \"message\"\nmax_per_day = 2");
    let mut e = SurpriseEngine::new(cfg.clone(), 1);
    e.restore_recovery(&[noon(), noon().plus_secs(60)], &[], 0);
    assert_eq!(
        e.offer_recovery(
            noon().plus_secs(120),
            noon().secs() + 120,
            RecoveryTrigger::FailedVend
        ),
        Err(RecoveryHeld::PerDay)
    );
    let tomorrow = noon().plus_secs(86_400);
    assert!(e
        .offer_recovery(tomorrow, tomorrow.secs(), RecoveryTrigger::FailedVend)
        .is_ok());
}

#[test]
fn bad_recovery_settings_name_their_field() {
    for (lines, field) in [
        ("offer = \"refund_twice\"", "recovery.offer"),
        ("offer = \"free_item\"\noffer_s = 2", "recovery.offer_s"),
        (
            "offer = \"free_item\"\nbudget_percent = 150.0",
            "recovery.budget_percent",
        ),
        (
            "offer = \"free_item\"\nmin_budget_cents = -5",
            "recovery.min_budget_cents",
        ),
        ("offer = \"free_item\"\nmessage = \"\"", "recovery.message"),
        (
            "offer = \"free_item\"\nmessages = { xx = \"hi\" }",
            "recovery.messages.xx",
        ),
        ("offer = \"free_item\"\nbogus = 1", "bogus"),
    ] {
        let e = parse(&format!("[recovery]\n{lines}\n"))
            .expect_err(field)
            .to_string();
        assert!(e.contains(field), "{field}: {e}");
    }
}
