//! The machine description operators edit (`machine.toml`): parsing, validation, defaults.
//!
//! Parsing is strict (`deny_unknown_fields`), and validation turns the loose file types into the
//! domain types the rest of the program uses ([`MachineConfig`]). Every problem is reported with
//! the file, the field path (`columns[2].motor_pin`) and what is wrong, and all validation problems
//! are reported at once. This module reads files and nothing else: it never touches hardware.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use happiness_hardware::input::PulseTiming;
use happiness_hardware::sim::{SimColumnSpec, SimParams};
use happiness_hardware::{Gpio, InputSpec, InputTiming, OutputSpec, Polarity, Pull, Wiring};
use serde::Deserialize;

use crate::model::{ColumnId, ColumnSpec, LampRole, PaymentMode, PayoutSpec, VendTimings};
use crate::money::Cents;

/// File name of the machine description inside a config directory.
pub const MACHINE_FILE: &str = "machine.toml";

/// Most columns a machine may have (indexes must fit the hardware's `u8` lines).
pub const MAX_COLUMNS: usize = 64;

/// One problem found in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Field path, e.g. `columns[2].motor_pin` (empty for syntax errors).
    pub path: String,
    /// Line in the file, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// A config file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file was read but is not a valid machine description.
    #[error("{}", render_issues(file, issues))]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Every problem found.
        issues: Vec<Issue>,
    },
}

impl ConfigError {
    /// The problems found (empty for a read error).
    pub fn issues(&self) -> &[Issue] {
        match self {
            ConfigError::Read { .. } => &[],
            ConfigError::Invalid { issues, .. } => issues,
        }
    }
}

fn render_issues(file: &Path, issues: &[Issue]) -> String {
    issues
        .iter()
        .map(|i| format!("{}: {i}", file.display()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    machine: RawMachine,
    #[serde(default)]
    timings: RawTimings,
    #[serde(default)]
    outputs: RawOutputs,
    coin_acceptor: Option<RawCoinAcceptor>,
    coin_return: Option<RawInput>,
    door: Option<RawInput>,
    #[serde(default)]
    drop_sensors: Vec<RawInput>,
    #[serde(default)]
    lamps: Vec<RawLamp>,
    #[serde(default)]
    buttons: Vec<RawButton>,
    #[serde(default)]
    columns: Vec<RawColumn>,
    #[serde(default)]
    simulator: RawSimulator,
    payout: Option<RawPayout>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPayout {
    pin: i64,
    active_low: Option<bool>,
    coin_cents: i64,
    #[serde(default = "default_payout_pulse")]
    pulse_ms: u64,
    #[serde(default = "default_payout_gap")]
    gap_ms: u64,
}

fn default_payout_pulse() -> u64 {
    60
}

fn default_payout_gap() -> u64 {
    140
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawMachine {
    name: String,
    currency: String,
    payment: PaymentMode,
    max_credit_cents: i64,
}

impl Default for RawMachine {
    fn default() -> Self {
        RawMachine {
            name: "Happiness Machine".into(),
            currency: "€".into(),
            payment: PaymentMode::Coin,
            max_credit_cents: 2000,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawTimings {
    drop_window_ms: u64,
    max_motor_on_ms: u64,
    timed_turn_ms: u64,
    nudge_retries: u32,
    nudge_pause_ms: u64,
    message_ms: u64,
    button_debounce_ms: u64,
    door_debounce_ms: u64,
    home_debounce_ms: u64,
    drop_min_ms: u64,
    drop_stuck_ms: u64,
}

impl Default for RawTimings {
    fn default() -> Self {
        RawTimings {
            drop_window_ms: 1500,
            max_motor_on_ms: 3000,
            timed_turn_ms: 1300,
            nudge_retries: 2,
            nudge_pause_ms: 250,
            message_ms: 4000,
            button_debounce_ms: 20,
            door_debounce_ms: 50,
            home_debounce_ms: 5,
            drop_min_ms: 2,
            drop_stuck_ms: 2000,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawOutputs {
    active_low: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    pin: i64,
    active_low: Option<bool>,
    pull: Option<Pull>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCoin {
    pulses: i64,
    cents: i64,
}

fn default_pulse_min() -> u64 {
    10
}
fn default_pulse_max() -> u64 {
    150
}
fn default_glitch() -> u64 {
    3
}
fn default_coin_gap() -> u64 {
    200
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCoinAcceptor {
    pin: i64,
    active_low: Option<bool>,
    pull: Option<Pull>,
    #[serde(default = "default_pulse_min")]
    pulse_min_ms: u64,
    #[serde(default = "default_pulse_max")]
    pulse_max_ms: u64,
    #[serde(default = "default_glitch")]
    glitch_ms: u64,
    #[serde(default = "default_coin_gap")]
    coin_gap_ms: u64,
    #[serde(default)]
    coins: Vec<RawCoin>,
    inhibit_pin: Option<i64>,
    inhibit_active_low: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLamp {
    pin: i64,
    role: LampRole,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawButton {
    pin: i64,
    column: i64,
    active_low: Option<bool>,
    pull: Option<Pull>,
}

fn default_sensor() -> i64 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    product: String,
    price_cents: i64,
    capacity: i64,
    stock: i64,
    motor_pin: i64,
    home_pin: Option<i64>,
    #[serde(default = "default_sensor")]
    drop_sensor: i64,
    #[serde(default = "default_for_sale")]
    for_sale: bool,
}

fn default_for_sale() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawSimulator {
    turn_ms: u64,
    home_width_ms: u64,
    release_at_ms: u64,
    fall_ms: u64,
    beam_block_ms: u64,
    press_hold_ms: u64,
    coin_pulse_ms: u64,
    coin_pulse_gap_ms: u64,
    coin_gap_ms: u64,
}

impl Default for RawSimulator {
    fn default() -> Self {
        let p = SimParams::default();
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        RawSimulator {
            turn_ms: ms(p.turn),
            home_width_ms: ms(p.home_width),
            release_at_ms: ms(p.release_at),
            fall_ms: ms(p.fall),
            beam_block_ms: ms(p.beam_block),
            press_hold_ms: ms(p.press_hold),
            coin_pulse_ms: ms(p.coin_pulse),
            coin_pulse_gap_ms: ms(p.coin_pulse_gap),
            coin_gap_ms: ms(p.coin_gap),
        }
    }
}

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
        let raw = parse(text).map_err(|i| invalid(vec![i]))?;
        validate(raw).map_err(invalid)
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

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn parse(text: &str) -> Result<RawFile, Issue> {
    parse_toml(text)
}

/// Parse TOML text into `T`, reporting the first problem with its field path and line.
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Issue> {
    let de = toml::de::Deserializer::parse(text).map_err(|e| Issue {
        path: String::new(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner();
        let message = inner.message().trim().to_string();
        let line = inner.span().map(|s| line_of(text, s.start));
        // serde reports a missing field at its parent; name the field itself.
        let (path, message) = match message
            .strip_prefix("missing field `")
            .and_then(|m| m.strip_suffix('`'))
        {
            Some(field) if path == "." || path.is_empty() => {
                (field.to_string(), "is required but missing".to_string())
            }
            Some(field) => (
                format!("{path}.{field}"),
                "is required but missing".to_string(),
            ),
            None if path == "." => (String::new(), message),
            None => (path, message),
        };
        Issue {
            path,
            line,
            message,
        }
    })
}

/// Collects validation problems and who uses which pin.
struct Validator {
    issues: Vec<Issue>,
    pins: BTreeMap<u8, String>,
}

impl Validator {
    fn issue(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.issues.push(Issue {
            path: path.into(),
            line: None,
            message: message.into(),
        });
    }

    /// Checks a pin number and that no other field uses it.
    fn pin(&mut self, path: &str, n: i64) -> Option<Gpio> {
        let gpio = u8::try_from(n).ok().and_then(Gpio::new);
        let Some(gpio) = gpio else {
            self.issue(
                path,
                format!("pin {n} does not exist: use a BCM GPIO number from 2 to 27"),
            );
            return None;
        };
        if gpio.is_hat_eeprom() {
            self.issue(
                path,
                format!(
                    "pin {n} is reserved for the HAT ID EEPROM: use a BCM GPIO number from 2 to 27"
                ),
            );
            return None;
        }
        if let Some(owner) = self.pins.get(&gpio.number()) {
            let owner = owner.clone();
            self.issue(path, format!("pin {n} is already used by {owner}"));
            return None;
        }
        self.pins.insert(gpio.number(), path.to_string());
        Some(gpio)
    }

    fn input(&mut self, path: &str, raw: &RawInput, default_active_low: bool) -> Option<InputSpec> {
        let pin = self.pin(&format!("{path}.pin"), raw.pin)?;
        Some(InputSpec {
            pin,
            polarity: polarity(raw.active_low.unwrap_or(default_active_low)),
            pull: raw.pull.unwrap_or(Pull::Up),
        })
    }

    fn positive(&mut self, path: &str, ms: u64) -> Duration {
        if ms == 0 {
            self.issue(path, "must be greater than 0");
        }
        Duration::from_millis(ms)
    }
}

fn polarity(active_low: bool) -> Polarity {
    if active_low {
        Polarity::ActiveLow
    } else {
        Polarity::ActiveHigh
    }
}

fn validate(raw: RawFile) -> Result<MachineConfig, Vec<Issue>> {
    let mut v = Validator {
        issues: Vec::new(),
        pins: BTreeMap::new(),
    };

    let name = raw.machine.name.trim().to_string();
    if name.is_empty() {
        v.issue("machine.name", "must not be empty");
    }
    let currency = raw.machine.currency.trim().to_string();
    if currency.chars().count() > 4 {
        v.issue("machine.currency", "use a short symbol such as € or $");
    }

    let t = &raw.timings;
    let timings = VendTimings {
        drop_window: v.positive("timings.drop_window_ms", t.drop_window_ms),
        max_motor_on: v.positive("timings.max_motor_on_ms", t.max_motor_on_ms),
        timed_turn: v.positive("timings.timed_turn_ms", t.timed_turn_ms),
        nudge_retries: t.nudge_retries,
        nudge_pause: Duration::from_millis(t.nudge_pause_ms),
        message: v.positive("timings.message_ms", t.message_ms),
    };
    if t.nudge_retries > 5 {
        v.issue(
            "timings.nudge_retries",
            format!(
                "{} retries would run the motor too long; use 0 to 5",
                t.nudge_retries
            ),
        );
    }
    if t.max_motor_on_ms > 30_000 {
        v.issue(
            "timings.max_motor_on_ms",
            "must be at most 30000: a motor left on longer risks burning out",
        );
    }
    if t.timed_turn_ms > t.max_motor_on_ms {
        v.issue(
            "timings.timed_turn_ms",
            format!(
                "{} ms is longer than timings.max_motor_on_ms ({} ms)",
                t.timed_turn_ms, t.max_motor_on_ms
            ),
        );
    }
    let drop_pulse = PulseTiming {
        min_width: Duration::from_millis(t.drop_min_ms),
        max_width: Duration::from_millis(t.drop_stuck_ms),
        glitch: Duration::from_millis(1),
    };
    let drop_stuck_after = v.positive("timings.drop_stuck_ms", t.drop_stuck_ms);
    if t.drop_min_ms >= t.drop_stuck_ms {
        v.issue(
            "timings.drop_min_ms",
            "must be shorter than timings.drop_stuck_ms",
        );
    }

    let mut wiring = Wiring::default();
    let out_polarity = polarity(raw.outputs.active_low);

    // Inputs first so that the pin-conflict message names the earlier, usually fixed, wiring.
    for (i, s) in raw.drop_sensors.iter().enumerate() {
        if let Some(spec) = v.input(&format!("drop_sensors[{i}]"), s, true) {
            wiring.drop_sensors.push(spec);
        }
    }
    if raw.drop_sensors.is_empty() {
        v.issue(
            "drop_sensors",
            "at least one drop sensor is required: it is how the machine knows an item was delivered",
        );
    }
    wiring.door = raw.door.as_ref().and_then(|d| v.input("door", d, false));
    wiring.coin_return = raw
        .coin_return
        .as_ref()
        .and_then(|d| v.input("coin_return", d, true));

    let mut coins = Vec::new();
    let mut coin_timing = (
        PulseTiming {
            min_width: Duration::from_millis(default_pulse_min()),
            max_width: Duration::from_millis(default_pulse_max()),
            glitch: Duration::from_millis(default_glitch()),
        },
        Duration::from_millis(default_coin_gap()),
    );
    if let Some(ca) = &raw.coin_acceptor {
        let input = RawInput {
            pin: ca.pin,
            active_low: ca.active_low,
            pull: ca.pull,
        };
        wiring.coin = v.input("coin_acceptor", &input, true);
        if let Some(n) = ca.inhibit_pin {
            wiring.coin_inhibit = v.pin("coin_acceptor.inhibit_pin", n).map(|pin| OutputSpec {
                pin,
                polarity: polarity(ca.inhibit_active_low.unwrap_or(false)),
            });
        }
        if ca.pulse_min_ms == 0 || ca.pulse_min_ms >= ca.pulse_max_ms {
            v.issue(
                "coin_acceptor.pulse_min_ms",
                format!(
                    "must be greater than 0 and less than coin_acceptor.pulse_max_ms ({})",
                    ca.pulse_max_ms
                ),
            );
        }
        if ca.glitch_ms >= ca.pulse_min_ms {
            v.issue(
                "coin_acceptor.glitch_ms",
                "must be shorter than coin_acceptor.pulse_min_ms",
            );
        }
        if ca.coin_gap_ms <= ca.glitch_ms {
            v.issue(
                "coin_acceptor.coin_gap_ms",
                "must be longer than coin_acceptor.glitch_ms",
            );
        }
        coin_timing = (
            PulseTiming {
                min_width: Duration::from_millis(ca.pulse_min_ms),
                max_width: Duration::from_millis(ca.pulse_max_ms),
                glitch: Duration::from_millis(ca.glitch_ms),
            },
            Duration::from_millis(ca.coin_gap_ms),
        );
        let mut seen_pulses = HashMap::new();
        for (i, c) in ca.coins.iter().enumerate() {
            let path = format!("coin_acceptor.coins[{i}]");
            let pulses = match u32::try_from(c.pulses) {
                Ok(p @ 1..=100) => p,
                _ => {
                    v.issue(
                        format!("{path}.pulses"),
                        format!("{} is not a pulse count from 1 to 100", c.pulses),
                    );
                    continue;
                }
            };
            if let Some(other) = seen_pulses.insert(pulses, i) {
                v.issue(
                    format!("{path}.pulses"),
                    format!(
                        "{pulses} pulses already means coin_acceptor.coins[{other}]: each coin needs its own count"
                    ),
                );
            }
            match u64::try_from(c.cents) {
                Ok(cents @ 1..) => coins.push(CoinValue {
                    pulses,
                    value: Cents::new(cents),
                }),
                _ => v.issue(
                    format!("{path}.cents"),
                    format!("{} is not a coin value: it must be more than 0", c.cents),
                ),
            }
        }
        if ca.coins.is_empty() {
            v.issue(
                "coin_acceptor.coins",
                "list at least one coin, e.g. { pulses = 1, cents = 10 }",
            );
        }
    } else if raw.machine.payment == PaymentMode::Coin {
        v.issue(
            "coin_acceptor",
            "is required when machine.payment = \"coin\" (or set machine.payment = \"free\")",
        );
    }

    let mut buttons = Vec::new();
    for (i, b) in raw.buttons.iter().enumerate() {
        let path = format!("buttons[{i}]");
        let input = RawInput {
            pin: b.pin,
            active_low: b.active_low,
            pull: b.pull,
        };
        let spec = v.input(&path, &input, true);
        let column = usize::try_from(b.column)
            .ok()
            .filter(|n| (1..=raw.columns.len()).contains(n))
            .and_then(ColumnId::from_number);
        match (spec, column) {
            (Some(spec), Some(column)) => {
                if raw.columns.get(column.index()).is_some_and(|c| !c.for_sale) {
                    v.issue(
                        format!("{path}.column"),
                        format!("column {column} is not for sale (for_sale = false): a button cannot sell from it"),
                    );
                }
                wiring.buttons.push(spec);
                buttons.push(column);
            }
            (_, None) => v.issue(
                format!("{path}.column"),
                format!(
                    "there is no column {} (columns lists {})",
                    b.column,
                    raw.columns.len()
                ),
            ),
            (None, Some(_)) => {}
        }
    }
    if raw.buttons.is_empty() {
        v.issue(
            "buttons",
            "at least one selection button is required, e.g. { pin = 5, column = 1 }",
        );
    }

    let mut columns = Vec::new();
    if raw.columns.is_empty() {
        v.issue("columns", "at least one column is required");
    }
    if raw.columns.len() > MAX_COLUMNS {
        v.issue(
            "columns",
            format!(
                "{} columns is more than the {MAX_COLUMNS} supported",
                raw.columns.len()
            ),
        );
    }
    for (i, c) in raw.columns.iter().enumerate().take(MAX_COLUMNS) {
        let path = format!("columns[{i}]");
        let product = c.product.trim().to_string();
        if product.is_empty() {
            v.issue(format!("{path}.product"), "must not be empty");
        } else if product.chars().count() > 40 {
            v.issue(format!("{path}.product"), "must be at most 40 characters");
        }
        let price = match u64::try_from(c.price_cents) {
            Ok(p) if p <= 1_000_000 => Cents::new(p),
            Ok(_) => {
                v.issue(
                    format!("{path}.price_cents"),
                    format!("{} is too high (at most 1000000)", c.price_cents),
                );
                Cents::ZERO
            }
            Err(_) => {
                v.issue(
                    format!("{path}.price_cents"),
                    format!("{} must not be negative", c.price_cents),
                );
                Cents::ZERO
            }
        };
        let capacity = match u32::try_from(c.capacity) {
            Ok(n @ 1..=1000) => n,
            _ => {
                v.issue(
                    format!("{path}.capacity"),
                    format!("{} is not a capacity from 1 to 1000", c.capacity),
                );
                1
            }
        };
        let stock = match u32::try_from(c.stock) {
            Ok(n) if n <= capacity => n,
            Ok(n) => {
                v.issue(
                    format!("{path}.stock"),
                    format!("{n} is more than the column's capacity ({capacity})"),
                );
                0
            }
            Err(_) => {
                v.issue(
                    format!("{path}.stock"),
                    format!("{} must not be negative", c.stock),
                );
                0
            }
        };
        let motor = v.pin(&format!("{path}.motor_pin"), c.motor_pin);
        let home = c
            .home_pin
            .map(|p| v.pin(&format!("{path}.home_pin"), p))
            .map(|pin| {
                pin.map(|pin| InputSpec {
                    pin,
                    polarity: Polarity::ActiveLow,
                    pull: Pull::Up,
                })
            });
        let sensor = match usize::try_from(c.drop_sensor) {
            Ok(n @ 1..) if n <= raw.drop_sensors.len() => u8::try_from(n - 1).unwrap_or(0),
            _ => {
                if !raw.drop_sensors.is_empty() {
                    v.issue(
                        format!("{path}.drop_sensor"),
                        format!(
                            "there is no drop sensor {} (drop_sensors lists {})",
                            c.drop_sensor,
                            raw.drop_sensors.len()
                        ),
                    );
                }
                0
            }
        };
        if let Some(motor) = motor {
            wiring.motors.push(OutputSpec {
                pin: motor,
                polarity: out_polarity,
            });
        }
        wiring.home_switches.push(home.flatten());
        columns.push(ColumnSpec {
            product,
            price,
            capacity,
            stock,
            sensor,
            has_home: c.home_pin.is_some(),
            for_sale: c.for_sale,
        });
    }

    let mut lamps = Vec::new();
    for (i, l) in raw.lamps.iter().enumerate() {
        if let Some(pin) = v.pin(&format!("lamps[{i}].pin"), l.pin) {
            wiring.lamps.push(OutputSpec {
                pin,
                polarity: out_polarity,
            });
            lamps.push(l.role);
        }
    }

    let max_credit = match u64::try_from(raw.machine.max_credit_cents) {
        Ok(c @ 1..=1_000_000) => Cents::new(c),
        _ => {
            v.issue(
                "machine.max_credit_cents",
                format!(
                    "{} is not between 1 and 1000000",
                    raw.machine.max_credit_cents
                ),
            );
            Cents::ZERO
        }
    };
    let payout = raw.payout.as_ref().and_then(|p| {
        let pin = v.pin("payout.pin", p.pin);
        let coin = match u64::try_from(p.coin_cents) {
            Ok(c @ 1..) => Cents::new(c),
            _ => {
                v.issue(
                    "payout.coin_cents",
                    format!(
                        "{} is not a coin value: it must be more than 0",
                        p.coin_cents
                    ),
                );
                Cents::ZERO
            }
        };
        let pulse = v.positive("payout.pulse_ms", p.pulse_ms);
        let gap = v.positive("payout.gap_ms", p.gap_ms);
        let pin = pin?;
        wiring.payout = Some(OutputSpec {
            pin,
            polarity: polarity(p.active_low.unwrap_or(raw.outputs.active_low)),
        });
        Some(PayoutSpec { coin, pulse, gap })
    });

    let input_timing = InputTiming {
        button_debounce: Duration::from_millis(t.button_debounce_ms),
        door_debounce: Duration::from_millis(t.door_debounce_ms),
        home_debounce: Duration::from_millis(t.home_debounce_ms),
        coin: coin_timing.0,
        coin_gap: coin_timing.1,
        drop: drop_pulse,
        drop_stuck_after,
    };

    let s = &raw.simulator;
    let sim = SimParams {
        turn: v.positive("simulator.turn_ms", s.turn_ms),
        home_width: Duration::from_millis(s.home_width_ms),
        release_at: Duration::from_millis(s.release_at_ms),
        fall: Duration::from_millis(s.fall_ms),
        beam_block: Duration::from_millis(s.beam_block_ms),
        press_hold: Duration::from_millis(s.press_hold_ms),
        coin_pulse: Duration::from_millis(s.coin_pulse_ms),
        coin_pulse_gap: Duration::from_millis(s.coin_pulse_gap_ms),
        coin_gap: Duration::from_millis(s.coin_gap_ms),
        seed: 0,
    };
    check_simulator(&mut v, s, t, &input_timing);

    if v.issues.is_empty() {
        Ok(MachineConfig {
            name,
            currency,
            payment: raw.machine.payment,
            columns,
            buttons,
            coins,
            max_credit,
            payout,
            lamps,
            timings,
            wiring,
            input_timing,
            sim,
        })
    } else {
        Err(v.issues)
    }
}

/// The simulator's physics must be something the controller's rules can see correctly, or the
/// simulated machine would fault for reasons that are the config's, not the controller's.
fn check_simulator(v: &mut Validator, s: &RawSimulator, t: &RawTimings, input: &InputTiming) {
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    if s.turn_ms >= t.max_motor_on_ms {
        v.issue(
            "simulator.turn_ms",
            format!(
                "a {} ms revolution cannot finish within timings.max_motor_on_ms ({} ms)",
                s.turn_ms, t.max_motor_on_ms
            ),
        );
    }
    if s.home_width_ms == 0 || s.home_width_ms >= s.release_at_ms {
        v.issue(
            "simulator.home_width_ms",
            "must be greater than 0 and less than simulator.release_at_ms",
        );
    }
    if s.release_at_ms >= s.turn_ms {
        v.issue(
            "simulator.release_at_ms",
            "must be less than simulator.turn_ms",
        );
    }
    if s.beam_block_ms < t.drop_min_ms || s.beam_block_ms >= t.drop_stuck_ms {
        v.issue(
            "simulator.beam_block_ms",
            format!(
                "must be between timings.drop_min_ms ({}) and timings.drop_stuck_ms ({})",
                t.drop_min_ms, t.drop_stuck_ms
            ),
        );
    }
    let (min, max) = (ms(input.coin.min_width), ms(input.coin.max_width));
    if s.coin_pulse_ms < min || s.coin_pulse_ms > max {
        v.issue(
            "simulator.coin_pulse_ms",
            format!("must be within the acceptor's pulse widths ({min} to {max} ms)"),
        );
    }
    let gap = ms(input.coin_gap);
    if s.coin_pulse_gap_ms >= gap || s.coin_pulse_gap_ms <= ms(input.coin.glitch) {
        v.issue(
            "simulator.coin_pulse_gap_ms",
            format!(
                "must be longer than coin_acceptor.glitch_ms and shorter than coin_acceptor.coin_gap_ms ({gap} ms)"
            ),
        );
    }
    if s.coin_gap_ms <= gap {
        v.issue(
            "simulator.coin_gap_ms",
            format!("must be longer than coin_acceptor.coin_gap_ms ({gap} ms)"),
        );
    }
    if s.press_hold_ms <= t.button_debounce_ms {
        v.issue(
            "simulator.press_hold_ms",
            "must be longer than timings.button_debounce_ms",
        );
    }
}

#[cfg(test)]
mod tests;
