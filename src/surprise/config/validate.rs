//! From `surprises.toml` as written to [`SurpriseConfig`], checked against the machine's columns
//! (the column numbers and products it names must exist); every problem with its field path.

use std::collections::HashSet;
use std::time::Duration;

use super::raw::{RawFile, RawKind, RawPolicy, RawSurprise, RawWhen};
use super::{
    Conditions, ItemSource, Pacing, Policy, Surprise, SurpriseConfig, SurpriseKind, MAX_SURPRISES,
};
use crate::config::Issue;
use crate::i18n::{catalogue, Arg, Language};
use crate::localtime::{parse_days, TimeWindow};
use crate::model::{ColumnId, ColumnSpec, ShowPattern};
use crate::money::Cents;

/// The most a surprise may cost, or a price condition name, in cents (as for coins and prices).
const MAX_AMOUNT_CENTS: u64 = 100_000;

/// The most a pacing budget may hold, in cents.
const MAX_BUDGET_CENTS: u64 = 10_000_000;

mod campaigns;
mod recovery;
mod secrets;

struct Checker<'m> {
    columns: &'m [ColumnSpec],
    issues: Vec<Issue>,
}

impl Checker<'_> {
    fn issue(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.issues.push(Issue {
            path: path.into(),
            line: None,
            message: message.into(),
        });
    }

    fn count(&mut self, path: &str, v: i64, min: i64, max: i64) -> u32 {
        if v < min || v > max {
            self.issue(path, format!("{v} is not between {min} and {max}"));
            return u32::try_from(min.max(0)).unwrap_or(0);
        }
        u32::try_from(v).unwrap_or(0)
    }

    /// An amount from 0 to `max` cents.
    fn cents(&mut self, path: &str, v: i64, max: u64) -> Cents {
        match u64::try_from(v) {
            Ok(c) if c <= max => Cents::new(c),
            Ok(_) => {
                self.issue(path, format!("{v} is too high (at most {max} cents)"));
                Cents::ZERO
            }
            Err(_) => {
                self.issue(path, format!("{v} must not be negative"));
                Cents::ZERO
            }
        }
    }

    fn column(&mut self, path: &str, n: i64) -> Option<ColumnId> {
        let count = self.columns.len();
        let found = usize::try_from(n)
            .ok()
            .filter(|n| (1..=count).contains(n))
            .and_then(ColumnId::from_number);
        if found.is_none() {
            self.issue(
                path,
                format!("there is no column {n} (machine.toml lists {count})"),
            );
        }
        found
    }

    /// Columns holding `product` (case-insensitive), as a bit mask.
    fn product(&mut self, path: &str, product: &str) -> Option<u64> {
        let mask = self
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.product.eq_ignore_ascii_case(product.trim()))
            .fold(0u64, |m, (i, _)| m | (1u64 << i));
        if mask == 0 {
            let known: Vec<&str> = self.columns.iter().map(|c| c.product.as_str()).collect();
            self.issue(
                path,
                format!(
                    "no column holds \"{product}\" (machine.toml has: {})",
                    known.join(", ")
                ),
            );
            return None;
        }
        Some(mask)
    }

    fn unit_interval(&mut self, path: &str, v: f64) -> f64 {
        if !(0.0..=1.0).contains(&v) {
            self.issue(path, format!("{v} is not a probability between 0 and 1"));
            return 0.0;
        }
        v
    }
}

/// Turn the parsed file into a surprise config for a machine with `columns`, or every problem.
pub(super) fn validate(raw: RawFile, columns: &[ColumnSpec]) -> Result<SurpriseConfig, Vec<Issue>> {
    let mut c = Checker {
        columns,
        issues: Vec::new(),
    };
    let policy = policy(&mut c, &raw.policy);

    if raw.surprises.len() > MAX_SURPRISES {
        c.issue(
            "surprises",
            format!(
                "{} surprises is more than the {MAX_SURPRISES} a catalogue may hold",
                raw.surprises.len()
            ),
        );
    }
    let mut names = HashSet::new();
    let mut catalogue = Vec::new();
    for (i, s) in raw.surprises.iter().enumerate() {
        let path = format!("surprises[{i}]");
        if let Some(surprise) = surprise(&mut c, &path, s) {
            if !names.insert(surprise.name.to_lowercase()) {
                c.issue(
                    format!("{path}.name"),
                    format!("\"{}\" is used by another surprise", surprise.name),
                );
            }
            catalogue.push(surprise);
        }
    }
    let recovery = raw
        .recovery
        .as_ref()
        .map(|r| recovery::recovery(&mut c, r))
        .unwrap_or_default();
    let campaigns = campaigns::campaigns(&mut c, &raw.campaigns, &mut catalogue);
    let secrets = secrets::secrets(&mut c, &raw.secrets, &catalogue);
    if c.issues.is_empty() {
        Ok(SurpriseConfig {
            policy,
            catalogue,
            recovery,
            campaigns,
            secrets,
        })
    } else {
        Err(c.issues)
    }
}

/// `[policy]`: odds, caps, budgets and pacing.
fn policy(c: &mut Checker<'_>, p: &RawPolicy) -> Policy {
    let probability = c.unit_interval("policy.probability", p.probability);
    if !(0.0..=100.0).contains(&p.budget_percent) {
        c.issue(
            "policy.budget_percent",
            format!("{} is not a percentage between 0 and 100", p.budget_percent),
        );
    }
    if !(p.max_value_multiple.is_finite() && p.max_value_multiple >= 0.0) {
        c.issue(
            "policy.max_value_multiple",
            format!("{} must be a number of 0 or more", p.max_value_multiple),
        );
    }
    let max_per_hour = c.count("policy.max_per_hour", p.max_per_hour, 1, 10_000);
    let max_per_day = c.count("policy.max_per_day", p.max_per_day, 1, 100_000);
    let cooldown = c.count("policy.cooldown_s", p.cooldown_s, 0, 86_400);
    let budget_window_hours = c.count("policy.budget_window_hours", p.budget_window_hours, 1, 8784);
    let pity = c.count("policy.pity_after", p.pity_after, 0, 1_000_000);
    let pacing = p.pacing.as_ref().and_then(|pc| {
        let daily_budget = c.cents(
            "policy.pacing.daily_budget_cents",
            pc.daily_budget_cents,
            MAX_BUDGET_CENTS,
        );
        let burst = c.cents(
            "policy.pacing.burst_cents",
            pc.burst_cents,
            MAX_BUDGET_CENTS,
        );
        match pc.hours.parse::<TimeWindow>() {
            Ok(hours) if hours.start > hours.end => {
                c.issue(
                    "policy.pacing.hours",
                    "must not run past midnight: the daily budget starts afresh at midnight",
                );
                None
            }
            Ok(hours) => Some(Pacing {
                daily_budget,
                hours,
                burst,
            }),
            Err(e) => {
                c.issue("policy.pacing.hours", e);
                None
            }
        }
    });
    Policy {
        enabled: p.enabled,
        probability,
        max_per_hour,
        max_per_day,
        cooldown: Duration::from_secs(cooldown.into()),
        max_value_multiple: p.max_value_multiple,
        budget_percent: p.budget_percent,
        budget_window_hours,
        pity_after: (pity > 0).then_some(pity),
        pacing,
        disclose_odds: p.disclose_odds,
    }
}

/// One `[[surprises]]` entry, if it has no problems.
fn surprise(c: &mut Checker<'_>, path: &str, s: &RawSurprise) -> Option<Surprise> {
    let before = c.issues.len();
    let name = s.name.trim().to_string();
    if name.is_empty() {
        c.issue(format!("{path}.name"), "must not be empty");
    } else if let Some(problem) = crate::config::one_line_problem(&name, 60) {
        c.issue(format!("{path}.name"), problem);
    }
    if !(s.weight.is_finite() && s.weight > 0.0) {
        c.issue(
            format!("{path}.weight"),
            format!("{} must be a number greater than 0", s.weight),
        );
    } else if s.weight > MAX_WEIGHT {
        // Weights are shares of their sum: past this, two of them overflow it and every share
        // reads as 0%.
        c.issue(
            format!("{path}.weight"),
            format!(
                "{} is more than {MAX_WEIGHT}: weights are relative, use smaller ones",
                s.weight
            ),
        );
    }
    let cost = c.cents(
        &format!("{path}.cost_cents"),
        s.cost_cents,
        MAX_AMOUNT_CENTS,
    );
    misplaced_fields(c, path, s);
    let kind = kind(c, path, s);
    let message = message(c, path, s);
    let translations = translations(c, path, s);
    let when = conditions(c, path, &s.when);
    let kind = kind?;
    (c.issues.len() == before).then_some(Surprise {
        name,
        kind,
        weight: s.weight,
        cost,
        message,
        translations,
        when,
        campaign: None,
    })
}

/// Fields that belong to other kinds are mistakes worth pointing out.
fn misplaced_fields(c: &mut Checker<'_>, path: &str, s: &RawSurprise) {
    let takes = |field: &str| -> bool {
        match s.kind {
            RawKind::ExtraItem => matches!(field, "column" | "product" | "same"),
            RawKind::SharePack => matches!(field, "column" | "product" | "same" | "count"),
            RawKind::Gift => field == "column",
            RawKind::Show => matches!(field, "pattern" | "duration_ms"),
            RawKind::Message => false,
        }
    };
    let kind_name = match s.kind {
        RawKind::ExtraItem => "extra_item",
        RawKind::SharePack => "share_pack",
        RawKind::Gift => "gift",
        RawKind::Show => "show",
        RawKind::Message => "message",
    };
    for (field, present) in [
        ("column", s.column.is_some()),
        ("product", s.product.is_some()),
        ("same", s.same.is_some()),
        ("count", s.count.is_some()),
        ("pattern", s.pattern.is_some()),
        ("duration_ms", s.duration_ms.is_some()),
    ] {
        if present && !takes(field) {
            c.issue(
                format!("{path}.{field}"),
                format!("a {kind_name} surprise does not take `{field}`"),
            );
        }
    }
}

/// Where an extra item or a pack comes from: exactly one of a column, a product, or the same
/// column as the paid item.
fn item_source(c: &mut Checker<'_>, path: &str, s: &RawSurprise) -> Option<ItemSource> {
    let given = [
        s.column.is_some(),
        s.product.is_some(),
        s.same == Some(true),
    ]
    .iter()
    .filter(|&&b| b)
    .count();
    if given != 1 {
        c.issue(
            format!("{path}.column"),
            "give exactly one of `column = N`, `product = \"name\"` or `same = true`",
        );
        return None;
    }
    if let Some(n) = s.column {
        let column = c.column(&format!("{path}.column"), n)?;
        Some(ItemSource::Column { column })
    } else if let Some(p) = &s.product {
        let columns = c.product(&format!("{path}.product"), p)?;
        Some(ItemSource::Product { columns })
    } else {
        Some(ItemSource::Same)
    }
}

/// What the surprise is, with the fields its kind takes.
fn kind(c: &mut Checker<'_>, path: &str, s: &RawSurprise) -> Option<SurpriseKind> {
    match s.kind {
        RawKind::ExtraItem => {
            item_source(c, path, s).map(|source| SurpriseKind::ExtraItem { source })
        }
        RawKind::SharePack => {
            let count = match s.count {
                Some(n) => c.count(&format!("{path}.count"), n, 2, 24),
                None => {
                    c.issue(
                        format!("{path}.count"),
                        "a share_pack needs a count (2 to 24)",
                    );
                    2
                }
            };
            item_source(c, path, s).map(|source| SurpriseKind::SharePack { source, count })
        }
        RawKind::Gift => match s.column {
            Some(n) => c
                .column(&format!("{path}.column"), n)
                .map(|column| SurpriseKind::Gift { column }),
            None => {
                c.issue(
                    format!("{path}.column"),
                    "a gift needs the column it comes from",
                );
                None
            }
        },
        RawKind::Show => {
            let names = ShowPattern::ALL.map(ShowPattern::name).join(", ");
            let name = s.pattern.as_deref().unwrap_or_default().trim();
            let pattern = if name.is_empty() {
                c.issue(
                    format!("{path}.pattern"),
                    format!("a show needs a pattern: one of {names}"),
                );
                ShowPattern::Rainbow
            } else if let Some(p) = ShowPattern::from_name(name) {
                p
            } else {
                c.issue(
                    format!("{path}.pattern"),
                    format!(
                        "there is no pattern `{}`: the kiosk knows {names}",
                        name.chars().take(40).collect::<String>()
                    ),
                );
                ShowPattern::Rainbow
            };
            let duration_ms = match s.duration_ms {
                Some(ms) => c.count(&format!("{path}.duration_ms"), ms, 100, 60_000),
                None => 3000,
            };
            Some(SurpriseKind::Show {
                pattern,
                duration: Duration::from_millis(duration_ms.into()),
            })
        }
        RawKind::Message => Some(SurpriseKind::Message),
    }
}

/// The message shown with the surprise (each kind has a default but a message surprise).
fn message(c: &mut Checker<'_>, path: &str, s: &RawSurprise) -> String {
    let message: String = match (&s.message, s.kind) {
        (Some(m), _) if !m.trim().is_empty() => m.trim().to_string(),
        (Some(_), _) | (None, RawKind::Message) => {
            if s.kind == RawKind::Message || s.message.is_some() {
                c.issue(format!("{path}.message"), "must not be empty");
            }
            String::new()
        }
        (None, kind) => default_message(kind, Language::English).unwrap_or_default(),
    };
    if let Some(problem) = crate::config::one_line_problem(&message, 120) {
        c.issue(format!("{path}.message"), problem);
    }
    placeholders(c, &format!("{path}.message"), &message);
    message
}

/// The placeholders a message may hold.
const PLACEHOLDERS: &[&str] = &["product", "count"];

/// Heaviest weight a surprise may have (weights are relative to each other).
const MAX_WEIGHT: f64 = 1_000_000.0;

/// A `{name}` in a message that is no placeholder would be shown to customers as it is.
fn placeholders(c: &mut Checker<'_>, field: &str, text: &str) {
    if let Some(unknown) = crate::config::unknown_placeholders(text, PLACEHOLDERS).first() {
        c.issue(
            field.to_string(),
            format!("{{{unknown}}} is not a placeholder: use {{product}} or {{count}}"),
        );
    }
}

/// The catalogue's message for a surprise of `kind` that surprises.toml gives none, with the
/// `{product}` and `{count}` placeholders left for the award to fill in.
fn default_message(kind: RawKind, lang: Language) -> Option<String> {
    let id = match kind {
        RawKind::ExtraItem => "surprise-extra-item",
        RawKind::SharePack => "surprise-share-pack",
        RawKind::Gift => "surprise-gift",
        RawKind::Show => "surprise-show",
        RawKind::Message => return None,
    };
    let placeholders = [
        ("product", Arg::Text("{product}")),
        ("count", Arg::Text("{count}")),
    ];
    Some(catalogue().text(lang, id, &placeholders))
}

/// `messages`: the message in the kiosk's other languages. A surprise without a message of its
/// own speaks every language from the catalogue.
fn translations(c: &mut Checker<'_>, path: &str, s: &RawSurprise) -> Vec<(Language, String)> {
    if s.message.is_none() && s.messages.is_empty() {
        return Language::ALL
            .into_iter()
            .filter_map(|lang| Some((lang, default_message(s.kind, lang)?)))
            .collect();
    }
    messages(c, path, &s.messages)
}

/// `messages`: a text in other languages, by language code, each one line of 1 to 120
/// characters.
fn messages(
    c: &mut Checker<'_>,
    path: &str,
    messages: &std::collections::BTreeMap<String, String>,
) -> Vec<(Language, String)> {
    let mut out = Vec::new();
    for (code, text) in messages {
        let field = format!(
            "{path}.messages.{}",
            code.chars().take(20).collect::<String>()
        );
        let lang = match Language::from_config(code) {
            Ok(lang) => lang,
            Err(problem) => {
                c.issue(field, problem);
                continue;
            }
        };
        let text = text.trim();
        if text.is_empty() {
            c.issue(field, "must not be empty");
        } else if let Some(problem) = crate::config::one_line_problem(text, 120) {
            c.issue(field, problem);
        } else if !crate::config::unknown_placeholders(text, PLACEHOLDERS).is_empty() {
            placeholders(c, &field, text);
        } else {
            out.push((lang, text.to_string()));
        }
    }
    out
}

/// `when`: the products, hours, days and minimum price the surprise is limited to.
fn conditions(c: &mut Checker<'_>, path: &str, w: &RawWhen) -> Conditions {
    let mut when = Conditions::default();
    if !w.products.is_empty() {
        when.columns = 0;
        for (j, p) in w.products.iter().enumerate() {
            if let Some(mask) = c.product(&format!("{path}.when.products[{j}]"), p) {
                when.columns |= mask;
            }
        }
    }
    for (j, h) in w.hours.iter().enumerate() {
        match h.parse::<TimeWindow>() {
            Ok(w) => when.hours.push(w),
            Err(e) => c.issue(format!("{path}.when.hours[{j}]"), e),
        }
    }
    if !w.days.is_empty() {
        when.days = 0;
        for (j, d) in w.days.iter().enumerate() {
            match parse_days(d) {
                Ok(days) => when.days |= days,
                Err(e) => c.issue(format!("{path}.when.days[{j}]"), e),
            }
        }
    }
    when.min_price = c.cents(
        &format!("{path}.when.min_price_cents"),
        w.min_price_cents,
        MAX_AMOUNT_CENTS,
    );
    never_holds(c, path, w, &when);
    when
}

/// Conditions no paid vend can meet would make a surprise that never fires, silently: the
/// products named are all not for sale, or the minimum price is above every price they have.
fn never_holds(c: &mut Checker<'_>, path: &str, w: &RawWhen, when: &Conditions) {
    let matching: Vec<&ColumnSpec> = c
        .columns
        .iter()
        .enumerate()
        .filter(|(i, col)| col.for_sale && when.columns & (1u64 << i) != 0)
        .map(|(_, col)| col)
        .collect();
    if matching.is_empty() && !w.products.is_empty() && when.columns != 0 {
        c.issue(
            format!("{path}.when.products"),
            "names only products that are not for sale: no paid vend can match",
        );
        return;
    }
    let dearest = matching.iter().map(|col| col.price).max();
    if let Some(dearest) = dearest.filter(|d| when.min_price > *d) {
        c.issue(
            format!("{path}.when.min_price_cents"),
            format!(
                "{} is above every price it could apply to (at most {}): the surprise could never fire",
                when.min_price.get(),
                dearest.get()
            ),
        );
    }
}
