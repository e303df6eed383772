//! `surprises.toml`: the surprise catalogue and policy operators edit, parsed strictly and
//! validated against the machine (columns and products must exist) with field-path errors.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

mod raw;
mod validate;

use crate::config::{parse_toml, ConfigError};
use crate::i18n::Language;
use crate::localtime::TimeWindow;
use crate::model::{ColumnId, ColumnSpec, ShowPattern};
use crate::money::Cents;
use crate::surprise::{Campaign, RecoveryPolicy, Secret};

/// Most surprises a catalogue may hold (the engine keeps their eligibility in a fixed array, so a
/// decision allocates nothing).
pub const MAX_SURPRISES: usize = 64;

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
        /// Pattern for the lamps and the kiosk page.
        pattern: ShowPattern,
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

impl KindName {
    /// The name as `surprises.toml` writes it (`extra_item`).
    pub fn as_str(self) -> &'static str {
        match self {
            KindName::ExtraItem => "extra_item",
            KindName::SharePack => "share_pack",
            KindName::Gift => "gift",
            KindName::Show => "show",
            KindName::Message => "message",
        }
    }
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
    /// The message in other languages (the same placeholders).
    pub translations: Vec<(Language, String)>,
    /// When it may be chosen.
    pub when: Conditions,
    /// The campaign it belongs to (index into [`SurpriseConfig::campaigns`]), if any.
    pub campaign: Option<usize>,
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
    /// Show customers the chance of a surprise and what can be won.
    pub disclose_odds: bool,
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
            disclose_odds: false,
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
    /// Making it right when something goes wrong (`[recovery]`).
    pub recovery: RecoveryPolicy,
    /// Promotions with a window, a budget and a most number of awards (`[[campaigns]]`).
    pub campaigns: Vec<Campaign>,
    /// Secret button sequences (`[[secrets]]`).
    pub secrets: Vec<Secret>,
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
            recovery: RecoveryPolicy::default(),
            campaigns: Vec::new(),
            secrets: Vec::new(),
        }
    }

    /// Parse and validate `text` for a machine with `columns` (the column numbers and products
    /// it names must exist); `file` is used in messages only.
    pub fn from_toml(
        file: &Path,
        text: &str,
        columns: &[ColumnSpec],
    ) -> Result<SurpriseConfig, ConfigError> {
        let invalid = |issues| ConfigError::Invalid {
            file: file.to_path_buf(),
            issues,
        };
        let raw: raw::RawFile = parse_toml(text).map_err(|i| invalid(vec![i]))?;
        validate::validate(raw, columns)
            .map_err(|issues| invalid(crate::config::locate_issues(text, issues)))
    }

    /// Load `surprises.toml` from a config directory; an absent file means no surprises.
    pub fn load_dir(dir: &Path, columns: &[ColumnSpec]) -> Result<SurpriseConfig, ConfigError> {
        let file: PathBuf = dir.join(SURPRISES_FILE);
        match std::fs::read_to_string(&file) {
            Ok(text) => SurpriseConfig::from_toml(&file, &text, columns),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SurpriseConfig::disabled()),
            Err(source) => Err(ConfigError::Read { file, source }),
        }
    }
}
