//! `[recovery]`: the gesture when a vend fails, its caps, budget and words.

use std::time::Duration;

use super::super::raw::RawRecovery;
use super::{messages, Checker, MAX_BUDGET_CENTS};
use crate::i18n::{catalogue, Language};
use crate::surprise::{OfferKind, RecoveryPolicy};

/// The catalogue's words for an offer that surprises.toml words none.
fn default_message(offer: OfferKind, lang: Language) -> String {
    let id = match offer {
        OfferKind::FreeItem => "recovery-free-item",
        OfferKind::Message | OfferKind::None => "recovery-message",
    };
    catalogue().text(lang, id, &[])
}

pub(super) fn recovery(c: &mut Checker<'_>, r: &RawRecovery) -> RecoveryPolicy {
    let defaults = RecoveryPolicy::default();
    let offer = match r.offer.as_str() {
        "free_item" => OfferKind::FreeItem,
        "message" => OfferKind::Message,
        "none" => OfferKind::None,
        other => {
            c.issue(
                "recovery.offer",
                format!(
                    "\"{}\" is not an offer: use \"free_item\", \"message\" or \"none\"",
                    other.chars().take(40).collect::<String>()
                ),
            );
            OfferKind::None
        }
    };
    let offer_s = c.count("recovery.offer_s", r.offer_s.unwrap_or(60), 5, 600);
    let max_per_day = c.count(
        "recovery.max_per_day",
        r.max_per_day.unwrap_or(10),
        0,
        10_000,
    );
    let budget_percent = r.budget_percent.unwrap_or(defaults.budget_percent);
    if !(0.0..=100.0).contains(&budget_percent) {
        c.issue(
            "recovery.budget_percent",
            format!("{budget_percent} is not a percentage between 0 and 100"),
        );
    }
    let min_budget = c.cents(
        "recovery.min_budget_cents",
        r.min_budget_cents.unwrap_or(0),
        MAX_BUDGET_CENTS,
    );
    let message = match &r.message {
        Some(m) if m.trim().is_empty() => {
            c.issue("recovery.message", "must not be empty");
            String::new()
        }
        Some(m) if m.trim().chars().count() > 120 || m.contains('\n') => {
            c.issue(
                "recovery.message",
                "must be one line of at most 120 characters",
            );
            String::new()
        }
        Some(m) => m.trim().to_string(),
        None => default_message(offer, Language::English),
    };
    let translations = if r.message.is_none() && r.messages.is_empty() {
        Language::ALL
            .into_iter()
            .filter(|l| *l != Language::English)
            .map(|l| (l, default_message(offer, l)))
            .collect()
    } else {
        messages(c, "recovery", &r.messages)
    };
    RecoveryPolicy {
        offer,
        offer_time: Duration::from_secs(offer_s.into()),
        max_per_day,
        budget_percent: if budget_percent.is_finite() {
            budget_percent.clamp(0.0, 100.0)
        } else {
            0.0
        },
        min_budget,
        on_unhappy: r.on_unhappy,
        message,
        translations,
    }
}
