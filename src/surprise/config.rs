//! `surprises.toml`: the surprise catalogue and policy operators edit, parsed strictly and
//! validated against the machine (columns and products must exist) with field-path errors.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{parse_toml, ConfigError, Issue, MachineConfig};
use crate::localtime::{TimeWindow, Weekday};
use crate::model::ColumnId;
use crate::money::Cents;

/// File name of the surprise config inside a config directory.
pub const SURPRISES_FILE: &str = "surprises.toml";

/// Where surprise items come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum ItemSource {
    /// The same column the customer just bought from ("one more to share").
    Same,
    /// A given column.
    Column {
        /// The column.
        column: ColumnId,
    },
    /// Any column holding this product (bit `i` set = column index `i`).
    Product {
        /// Columns holding the product.
        columns: u64,
    },
}

/// What a surprise is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SurpriseKind {
    /// One more item.
    ExtraItem {
        /// Where from.
        source: ItemSource,
    },
    /// Several more items "for your friends".
    SharePack {
        /// Where from.
        source: ItemSource,
        /// How many.
        count: u32,
    },
    /// An item from a dedicated column (flowers, a toy).
    Gift {
        /// The gift column.
        column: ColumnId,
    },
    /// A light (and sound) show.
    Show {
        /// Pattern name for the lamps and the kiosk page.
        pattern: String,
        /// How long it runs.
        duration: Duration,
    },
    /// A thank-you message on the display.
    Message,
}

/// The short name of a kind, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum KindName {
    /// [`SurpriseKind::ExtraItem`].
    ExtraItem,
    /// [`SurpriseKind::SharePack`].
    SharePack,
    /// [`SurpriseKind::Gift`].
    Gift,
    /// [`SurpriseKind::Show`].
    Show,
    /// [`SurpriseKind::Message`].
    Message,
}

impl SurpriseKind {
    /// The kind's short name.
    pub fn name(&self) -> KindName {
        match self {
            SurpriseKind::ExtraItem { .. } => KindName::ExtraItem,
            SurpriseKind::SharePack { .. } => KindName::SharePack,
            SurpriseKind::Gift { .. } => KindName::Gift,
            SurpriseKind::Show { .. } => KindName::Show,
            SurpriseKind::Message => KindName::Message,
        }
    }

    /// Items the surprise hands out, and where from.
    pub fn items(&self) -> Option<(ItemSource, u32)> {
        match self {
            SurpriseKind::ExtraItem { source } => Some((*source, 1)),
            SurpriseKind::SharePack { source, count } => Some((*source, *count)),
            SurpriseKind::Gift { column } => Some((ItemSource::Column { column: *column }, 1)),
            SurpriseKind::Show { .. } | SurpriseKind::Message => None,
        }
    }
}

/// When a surprise may be chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conditions {
    /// Purchased columns it applies to (bit per column index); `u64::MAX` = any.
    pub columns: u64,
    /// Time-of-day windows; empty = any time.
    pub hours: Vec<TimeWindow>,
    /// Weekdays (bit 0 = Monday); `0x7f` = every day.
    pub days: u8,
    /// Smallest purchase price it applies to.
    pub min_price: Cents,
}

impl Default for Conditions {
    fn default() -> Self {
        Conditions {
            columns: u64::MAX,
            hours: Vec::new(),
            days: 0x7f,
            min_price: Cents::ZERO,
        }
    }
}

/// One entry of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Surprise {
    /// Name shown to operators.
    pub name: String,
    /// What it is.
    pub kind: SurpriseKind,
    /// Relative weight among the surprises eligible at the moment.
    pub weight: f64,
    /// What it costs the operator.
    pub cost: Cents,
    /// Text for the display; `{product}` and `{count}` are filled in.
    pub message: String,
    /// When it may be chosen.
    pub when: Conditions,
}

/// Spreading a daily budget over opening hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pacing {
    /// Most surprise value per local day.
    pub daily_budget: Cents,
    /// Opening hours over which it is released evenly.
    pub hours: TimeWindow,
    /// Released at opening, so the first customers can be surprised too.
    pub burst: Cents,
}

/// Odds, caps and budgets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    /// Master switch.
    pub enabled: bool,
    /// Chance of a surprise per paid vend, 0 to 1.
    pub probability: f64,
    /// Most surprises in any 60 minutes.
    pub max_per_hour: u32,
    /// Most surprises per local calendar day.
    pub max_per_day: u32,
    /// Least time between two surprises.
    pub cooldown: Duration,
    /// Most a single surprise may cost, as a multiple of the purchase price.
    pub max_value_multiple: f64,
    /// Most surprise value as a percentage of sales over the rolling window.
    pub budget_percent: f64,
    /// Length of the rolling budget window in hours.
    pub budget_window_hours: u32,
    /// If set, no more than this many paid vends in a row go without a surprise (while caps and
    /// budgets allow).
    pub pity_after: Option<u32>,
    /// Optional daily pacing.
    pub pacing: Option<Pacing>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            enabled: true,
            probability: 0.05,
            max_per_hour: 6,
            max_per_day: 40,
            cooldown: Duration::from_secs(60),
            max_value_multiple: 20.0,
            budget_percent: 2.0,
            budget_window_hours: 168,
            pity_after: None,
            pacing: None,
        }
    }
}

/// A validated surprise configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurpriseConfig {
    /// Odds, caps and budgets.
    pub policy: Policy,
    /// The surprises.
    pub catalogue: Vec<Surprise>,
}

impl SurpriseConfig {
    /// No surprises at all (used when the file is absent).
    pub fn disabled() -> Self {
        SurpriseConfig {
            policy: Policy {
                enabled: false,
                ..Policy::default()
            },
            catalogue: Vec::new(),
        }
    }

    /// Parse and validate `text` for `machine`; `file` is used in messages only.
    pub fn from_toml(
        file: &Path,
        text: &str,
        machine: &MachineConfig,
    ) -> Result<SurpriseConfig, ConfigError> {
        let invalid = |issues| ConfigError::Invalid {
            file: file.to_path_buf(),
            issues,
        };
        let raw: RawFile = parse_toml(text).map_err(|i| invalid(vec![i]))?;
        validate(raw, machine).map_err(invalid)
    }

    /// Load `surprises.toml` from a config directory; an absent file means no surprises.
    pub fn load_dir(dir: &Path, machine: &MachineConfig) -> Result<SurpriseConfig, ConfigError> {
        let file: PathBuf = dir.join(SURPRISES_FILE);
        match std::fs::read_to_string(&file) {
            Ok(text) => SurpriseConfig::from_toml(&file, &text, machine),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SurpriseConfig::disabled()),
            Err(source) => Err(ConfigError::Read { file, source }),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    policy: RawPolicy,
    #[serde(default)]
    surprises: Vec<RawSurprise>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawPolicy {
    enabled: bool,
    probability: f64,
    max_per_hour: i64,
    max_per_day: i64,
    cooldown_s: i64,
    max_value_multiple: f64,
    budget_percent: f64,
    budget_window_hours: i64,
    pity_after: i64,
    pacing: Option<RawPacing>,
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
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPacing {
    daily_budget_cents: i64,
    hours: String,
    #[serde(default)]
    burst_cents: i64,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum RawKind {
    ExtraItem,
    SharePack,
    Gift,
    Show,
    Message,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSurprise {
    name: String,
    kind: RawKind,
    weight: f64,
    cost_cents: i64,
    message: Option<String>,
    column: Option<i64>,
    product: Option<String>,
    same: Option<bool>,
    count: Option<i64>,
    pattern: Option<String>,
    duration_ms: Option<i64>,
    #[serde(default)]
    when: RawWhen,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    #[serde(default)]
    products: Vec<String>,
    #[serde(default)]
    hours: Vec<String>,
    #[serde(default)]
    days: Vec<String>,
    #[serde(default)]
    min_price_cents: i64,
}

struct Checker<'m> {
    machine: &'m MachineConfig,
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

    fn cents(&mut self, path: &str, v: i64) -> Cents {
        match u64::try_from(v) {
            Ok(c) => Cents::new(c),
            Err(_) => {
                self.issue(path, format!("{v} must not be negative"));
                Cents::ZERO
            }
        }
    }

    fn column(&mut self, path: &str, n: i64) -> Option<ColumnId> {
        let count = self.machine.columns.len();
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
            .machine
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.product.eq_ignore_ascii_case(product.trim()))
            .fold(0u64, |m, (i, _)| m | (1u64 << i));
        if mask == 0 {
            let known: Vec<&str> = self
                .machine
                .columns
                .iter()
                .map(|c| c.product.as_str())
                .collect();
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

fn validate(raw: RawFile, machine: &MachineConfig) -> Result<SurpriseConfig, Vec<Issue>> {
    let mut c = Checker {
        machine,
        issues: Vec::new(),
    };
    let p = &raw.policy;
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
        let daily_budget = c.cents("policy.pacing.daily_budget_cents", pc.daily_budget_cents);
        let burst = c.cents("policy.pacing.burst_cents", pc.burst_cents);
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
    let policy = Policy {
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
    };

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
    if c.issues.is_empty() {
        Ok(SurpriseConfig { policy, catalogue })
    } else {
        Err(c.issues)
    }
}

fn surprise(c: &mut Checker<'_>, path: &str, s: &RawSurprise) -> Option<Surprise> {
    let before = c.issues.len();
    let name = s.name.trim().to_string();
    if name.is_empty() {
        c.issue(format!("{path}.name"), "must not be empty");
    }
    if !(s.weight.is_finite() && s.weight > 0.0) {
        c.issue(
            format!("{path}.weight"),
            format!("{} must be a number greater than 0", s.weight),
        );
    }
    let cost = c.cents(&format!("{path}.cost_cents"), s.cost_cents);

    // Fields that belong to other kinds are mistakes worth pointing out.
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

    let source = |c: &mut Checker<'_>| -> Option<ItemSource> {
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
    };
    let kind = match s.kind {
        RawKind::ExtraItem => source(c).map(|source| SurpriseKind::ExtraItem { source }),
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
            source(c).map(|source| SurpriseKind::SharePack { source, count })
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
            let pattern = s.pattern.clone().unwrap_or_default().trim().to_string();
            if pattern.is_empty() {
                c.issue(
                    format!("{path}.pattern"),
                    "a show needs a pattern name, e.g. \"rainbow\"",
                );
            }
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
    };
    let message = match (&s.message, s.kind) {
        (Some(m), _) if !m.trim().is_empty() => m.trim().to_string(),
        (Some(_), _) | (None, RawKind::Message) => {
            if s.kind == RawKind::Message || s.message.is_some() {
                c.issue(format!("{path}.message"), "must not be empty");
            }
            String::new()
        }
        (None, RawKind::ExtraItem) => "Surprise! One more {product}, on the house.".into(),
        (None, RawKind::SharePack) => {
            "Surprise! {count} more {product} to share with friends.".into()
        }
        (None, RawKind::Gift) => "Surprise! A {product} for you.".into(),
        (None, RawKind::Show) => "Surprise! This one is for you.".into(),
    };
    if message.chars().count() > 120 {
        c.issue(format!("{path}.message"), "must be at most 120 characters");
    }

    let mut when = Conditions::default();
    if !s.when.products.is_empty() {
        when.columns = 0;
        for (j, p) in s.when.products.iter().enumerate() {
            if let Some(mask) = c.product(&format!("{path}.when.products[{j}]"), p) {
                when.columns |= mask;
            }
        }
    }
    for (j, h) in s.when.hours.iter().enumerate() {
        match h.parse::<TimeWindow>() {
            Ok(w) => when.hours.push(w),
            Err(e) => c.issue(format!("{path}.when.hours[{j}]"), e),
        }
    }
    if !s.when.days.is_empty() {
        when.days = 0;
        for (j, d) in s.when.days.iter().enumerate() {
            match d.parse::<Weekday>() {
                Ok(day) => when.days |= 1 << day.index(),
                Err(e) => c.issue(format!("{path}.when.days[{j}]"), e),
            }
        }
    }
    when.min_price = c.cents(
        &format!("{path}.when.min_price_cents"),
        s.when.min_price_cents,
    );

    let kind = kind?;
    (c.issues.len() == before).then_some(Surprise {
        name,
        kind,
        weight: s.weight,
        cost,
        message,
        when,
    })
}
