//! The machine description operators edit (`machine.toml`): parsing, validation, defaults.
//!
//! Parsing is strict (`deny_unknown_fields`), and validation turns the loose file types into the
//! domain types the rest of the program uses ([`MachineConfig`]). Every problem is reported with
//! the file, the field path (`columns[2].motor_pin`) and what is wrong, and all validation problems
//! are reported at once. This module reads files and nothing else: it never touches hardware.

mod audit;
mod edit;
mod fleet;
mod issue;
mod payment;
mod raw;
mod text;
mod validate;

use std::path::Path;

use happiness_hardware::sim::{SimColumnSpec, SimParams};
use happiness_hardware::{InputTiming, Wiring};

use crate::i18n::Language;
use crate::model::{ColumnId, ColumnSpec, LampRole, PaymentMode, PayoutSpec, VendTimings};
use crate::money::Cents;

pub use audit::{audit_text, fits_a_field, AuditIdentity, IsoCurrency};
pub use edit::{edit_column, ColumnEdit};
pub use fleet::{BrokerUrl, FleetConfig, FleetParts, MachineId, DEFAULT_KEEP_ALIVE_S};
pub(crate) use issue::{locate as locate_issues, parse_toml};
pub use issue::{ConfigError, Issue};
pub use payment::{CoinDevice, PaymentDevices};
pub use text::{one_line_problem, unknown_placeholders};

/// File name of the machine description inside a config directory.
pub const MACHINE_FILE: &str = "machine.toml";

/// Most columns a machine may have (indexes must fit the hardware's `u8` lines).
pub const MAX_COLUMNS: usize = 64;

/// A coin the acceptor reports as a number of pulses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CoinValue {
    /// Pulses the acceptor sends for this coin.
    pub pulses: u32,
    /// What the coin is worth.
    pub value: Cents,
}

/// A validated machine description.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MachineConfig {
    /// Name shown to customers and operators.
    pub name: String,
    /// Currency symbol for displays.
    pub currency: String,
    /// The language the display speaks until a customer picks another.
    pub language: Language,
    /// Free vend or coin operated.
    pub payment: PaymentMode,
    /// Columns, in order (column 1 first).
    pub columns: Vec<ColumnSpec>,
    /// For each selection button, the column it selects.
    pub buttons: Vec<ColumnId>,
    /// Coins the acceptor knows.
    pub coins: Vec<CoinValue>,
    /// Most credit a customer can hold; at this level the acceptor is inhibited (when it has an
    /// inhibit line).
    pub max_credit: Cents,
    /// The payout hopper, if fitted.
    pub payout: Option<PayoutSpec>,
    /// For each lamp, what it shows.
    pub lamps: Vec<LampRole>,
    /// Vend timing rules.
    pub timings: VendTimings,
    /// Pin assignments.
    pub wiring: Wiring,
    /// Input conditioning rules.
    pub input_timing: InputTiming,
    /// Physical constants for the simulator.
    pub sim: SimParams,
    /// When the operator is alerted.
    pub alerts: AlertRules,
    /// `[fleet]` as far as the file gives it (`run --mqtt` and `--machine-id` complete it).
    pub fleet: Option<FleetParts>,
    /// `[audit]`: how the machine names itself in its audit file.
    pub audit: AuditIdentity,
    /// `[payment]`: the devices that take the money (the pulse acceptor, MDB devices).
    pub payments: PaymentDevices,
}

/// `[alerts]`: when the operator is told something needs them beyond faults and stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct AlertRules {
    /// Alert when nothing has sold for this many hours during opening hours (0: never).
    pub no_sale_hours: u32,
    /// Opening hours, for the no-sale alert.
    pub hours: crate::localtime::TimeWindow,
    /// Alert when surprise spend reaches this percentage of its budget.
    pub budget_warn_percent: u32,
}

impl MachineConfig {
    /// The columns as the simulated machine is loaded with them: the configured stock.
    pub fn sim_columns(&self) -> Vec<SimColumnSpec> {
        self.columns
            .iter()
            .map(|c| SimColumnSpec {
                product: c.product.clone(),
                stock: c.stock,
                sensor: c.sensor,
            })
            .collect()
    }

    /// The coin worth `pulses` pulses, if the acceptor is programmed with one.
    pub fn coin_for_pulses(&self, pulses: u32) -> Option<Cents> {
        self.coins
            .iter()
            .find(|c| c.pulses == pulses)
            .map(|c| c.value)
    }

    /// The pulse count of the coin worth `value`, if there is one.
    pub fn pulses_for_coin(&self, value: Cents) -> Option<u32> {
        self.coins
            .iter()
            .find(|c| c.value == value)
            .map(|c| c.pulses)
    }

    /// Parse and validate a machine description from text; `file` is used in messages only.
    pub fn from_toml(file: &Path, text: &str) -> Result<MachineConfig, ConfigError> {
        let invalid = |issues| ConfigError::Invalid {
            file: file.to_path_buf(),
            issues,
        };
        let raw: raw::RawFile = parse_toml(text).map_err(|i| invalid(vec![i]))?;
        validate::validate(raw).map_err(|issues| invalid(locate_issues(text, issues)))
    }

    /// Load `machine.toml` from a config directory.
    pub fn load_dir(dir: &Path) -> Result<MachineConfig, ConfigError> {
        let file = dir.join(MACHINE_FILE);
        let text = std::fs::read_to_string(&file).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
        MachineConfig::from_toml(&file, &text)
    }
}

#[cfg(test)]
mod tests;
