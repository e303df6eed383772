//! `surprises.toml` as written: loose types straight from TOML, strict about unknown fields.

use serde::Deserialize;

use super::Policy;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    #[serde(default)]
    pub(super) policy: RawPolicy,
    #[serde(default)]
    pub(super) surprises: Vec<RawSurprise>,
    #[serde(default)]
    pub(super) recovery: Option<RawRecovery>,
    #[serde(default)]
    pub(super) campaigns: Vec<RawCampaign>,
    #[serde(default)]
    pub(super) secrets: Vec<RawSecret>,
}

/// `[[secrets]]`: a button sequence that answers with a surprise or a message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSecret {
    pub(super) name: String,
    pub(super) sequence: Vec<i64>,
    pub(super) within_ms: i64,
    pub(super) surprise: Option<String>,
    pub(super) message: Option<String>,
    #[serde(default)]
    pub(super) messages: std::collections::BTreeMap<String, String>,
    #[serde(default = "one")]
    pub(super) max_per_day: i64,
}

fn one() -> i64 {
    1
}

/// `[[campaigns]]`: a promotion over some of the surprises.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCampaign {
    pub(super) name: String,
    #[serde(deserialize_with = "date_text")]
    pub(super) start: String,
    #[serde(deserialize_with = "date_text")]
    pub(super) end: String,
    pub(super) surprises: Vec<String>,
    pub(super) budget_cents: i64,
    pub(super) max_awards: i64,
    pub(super) planned_sales_cents: Option<i64>,
    pub(super) preset: Option<String>,
}

/// A campaign's bound as text, whether written as a string (`"2026-12-01"`) or as a TOML date
/// or date-time (`2026-12-01`, `2026-12-01T08:00:00`); the validator reads the text.
fn date_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match toml::Value::deserialize(d)? {
        toml::Value::String(s) => Ok(s),
        toml::Value::Datetime(t) => Ok(t.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected a date such as 2026-12-01 or \"2026-12-01T08:00\", found a {}",
            other.type_str()
        ))),
    }
}

/// `[recovery]`: making it right when a vend fails.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRecovery {
    pub(super) offer: String,
    pub(super) offer_s: Option<i64>,
    pub(super) max_per_day: Option<i64>,
    pub(super) budget_percent: Option<f64>,
    pub(super) min_budget_cents: Option<i64>,
    #[serde(default)]
    pub(super) on_unhappy: bool,
    pub(super) message: Option<String>,
    #[serde(default)]
    pub(super) messages: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawPolicy {
    pub(super) enabled: bool,
    pub(super) probability: f64,
    pub(super) max_per_hour: i64,
    pub(super) max_per_day: i64,
    pub(super) cooldown_s: i64,
    pub(super) max_value_multiple: f64,
    pub(super) budget_percent: f64,
    pub(super) budget_window_hours: i64,
    pub(super) pity_after: i64,
    pub(super) pacing: Option<RawPacing>,
    pub(super) disclose_odds: bool,
}

impl Default for RawPolicy {
    fn default() -> Self {
        let p = Policy::default();
        RawPolicy {
            enabled: p.enabled,
            probability: p.probability,
            max_per_hour: p.max_per_hour.into(),
            max_per_day: p.max_per_day.into(),
            cooldown_s: i64::try_from(p.cooldown.as_secs()).unwrap_or(0),
            max_value_multiple: p.max_value_multiple,
            budget_percent: p.budget_percent,
            budget_window_hours: p.budget_window_hours.into(),
            pity_after: 0,
            pacing: None,
            disclose_odds: false,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPacing {
    pub(super) daily_budget_cents: i64,
    pub(super) hours: String,
    #[serde(default)]
    pub(super) burst_cents: i64,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawKind {
    ExtraItem,
    SharePack,
    Gift,
    Show,
    Message,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSurprise {
    pub(super) name: String,
    pub(super) kind: RawKind,
    pub(super) weight: f64,
    pub(super) cost_cents: i64,
    pub(super) message: Option<String>,
    pub(super) column: Option<i64>,
    pub(super) product: Option<String>,
    pub(super) same: Option<bool>,
    pub(super) count: Option<i64>,
    pub(super) pattern: Option<String>,
    pub(super) duration_ms: Option<i64>,
    /// The message in other languages, by language code.
    #[serde(default)]
    pub(super) messages: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub(super) when: RawWhen,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWhen {
    #[serde(default)]
    pub(super) products: Vec<String>,
    #[serde(default)]
    pub(super) hours: Vec<String>,
    #[serde(default)]
    pub(super) days: Vec<String>,
    #[serde(default)]
    pub(super) min_price_cents: i64,
}
