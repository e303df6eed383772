//! The file as written: loose types straight from TOML (`deny_unknown_fields`), with defaults.
//! Validation turns them into [`super::MachineConfig`].

use std::time::Duration;

use happiness_hardware::sim::SimParams;
use happiness_hardware::Pull;
use serde::Deserialize;

use crate::model::{LampRole, PaymentMode};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    #[serde(default)]
    pub(super) machine: RawMachine,
    #[serde(default)]
    pub(super) timings: RawTimings,
    #[serde(default)]
    pub(super) outputs: RawOutputs,
    pub(super) coin_acceptor: Option<RawCoinAcceptor>,
    pub(super) coin_return: Option<RawInput>,
    pub(super) door: Option<RawInput>,
    #[serde(default)]
    pub(super) drop_sensors: Vec<RawInput>,
    #[serde(default)]
    pub(super) lamps: Vec<RawLamp>,
    #[serde(default)]
    pub(super) buttons: Vec<RawButton>,
    #[serde(default)]
    pub(super) columns: Vec<RawColumn>,
    #[serde(default)]
    pub(super) simulator: RawSimulator,
    pub(super) payout: Option<RawPayout>,
    #[serde(default)]
    pub(super) alerts: RawAlerts,
    #[serde(default)]
    pub(super) fleet: super::fleet::RawFleet,
    #[serde(default)]
    pub(super) audit: super::audit::RawAudit,
    #[serde(default)]
    pub(super) payment: super::payment::RawPayment,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlerts {
    #[serde(default)]
    pub(super) no_sale_hours: i64,
    #[serde(default = "default_opening_hours")]
    pub(super) hours: String,
    #[serde(default = "default_budget_warn")]
    pub(super) budget_warn_percent: i64,
}

impl Default for RawAlerts {
    fn default() -> Self {
        RawAlerts {
            no_sale_hours: 0,
            hours: default_opening_hours(),
            budget_warn_percent: default_budget_warn(),
        }
    }
}

fn default_opening_hours() -> String {
    "00:00-24:00".into()
}

fn default_budget_warn() -> i64 {
    80
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPayout {
    pub(super) pin: i64,
    pub(super) active_low: Option<bool>,
    pub(super) coin_cents: i64,
    #[serde(default = "default_payout_pulse")]
    pub(super) pulse_ms: u64,
    #[serde(default = "default_payout_gap")]
    pub(super) gap_ms: u64,
}

pub(super) fn default_payout_pulse() -> u64 {
    60
}

pub(super) fn default_payout_gap() -> u64 {
    140
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawMachine {
    pub(super) name: String,
    pub(super) currency: String,
    pub(super) payment: PaymentMode,
    pub(super) max_credit_cents: i64,
    pub(super) language: String,
}

impl Default for RawMachine {
    fn default() -> Self {
        RawMachine {
            name: "Happiness Machine".into(),
            currency: "€".into(),
            payment: PaymentMode::Coin,
            max_credit_cents: 2000,
            language: "en".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawTimings {
    pub(super) drop_window_ms: u64,
    pub(super) max_motor_on_ms: u64,
    pub(super) timed_turn_ms: u64,
    pub(super) nudge_retries: u32,
    pub(super) nudge_pause_ms: u64,
    pub(super) message_ms: u64,
    pub(super) button_debounce_ms: u64,
    pub(super) door_debounce_ms: u64,
    pub(super) home_debounce_ms: u64,
    pub(super) drop_min_ms: u64,
    pub(super) drop_stuck_ms: u64,
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
pub(super) struct RawOutputs {
    pub(super) active_low: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInput {
    pub(super) pin: i64,
    pub(super) active_low: Option<bool>,
    pub(super) pull: Option<Pull>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCoin {
    pub(super) pulses: i64,
    pub(super) cents: i64,
}

pub(super) fn default_pulse_min() -> u64 {
    10
}
pub(super) fn default_pulse_max() -> u64 {
    150
}
pub(super) fn default_glitch() -> u64 {
    3
}
pub(super) fn default_coin_gap() -> u64 {
    200
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCoinAcceptor {
    pub(super) pin: i64,
    pub(super) active_low: Option<bool>,
    pub(super) pull: Option<Pull>,
    #[serde(default = "default_pulse_min")]
    pub(super) pulse_min_ms: u64,
    #[serde(default = "default_pulse_max")]
    pub(super) pulse_max_ms: u64,
    #[serde(default = "default_glitch")]
    pub(super) glitch_ms: u64,
    #[serde(default = "default_coin_gap")]
    pub(super) coin_gap_ms: u64,
    #[serde(default)]
    pub(super) coins: Vec<RawCoin>,
    pub(super) inhibit_pin: Option<i64>,
    pub(super) inhibit_active_low: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLamp {
    pub(super) pin: i64,
    pub(super) role: LampRole,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawButton {
    pub(super) pin: i64,
    pub(super) column: i64,
    pub(super) active_low: Option<bool>,
    pub(super) pull: Option<Pull>,
}

pub(super) fn default_sensor() -> i64 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawColumn {
    pub(super) product: String,
    pub(super) price_cents: i64,
    pub(super) capacity: i64,
    pub(super) stock: i64,
    pub(super) motor_pin: i64,
    pub(super) home_pin: Option<i64>,
    #[serde(default = "default_sensor")]
    pub(super) drop_sensor: i64,
    #[serde(default = "default_for_sale")]
    pub(super) for_sale: bool,
    #[serde(default)]
    pub(super) low_stock: i64,
}

pub(super) fn default_for_sale() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawSimulator {
    pub(super) turn_ms: u64,
    pub(super) home_width_ms: u64,
    pub(super) release_at_ms: u64,
    pub(super) fall_ms: u64,
    pub(super) beam_block_ms: u64,
    pub(super) press_hold_ms: u64,
    pub(super) coin_pulse_ms: u64,
    pub(super) coin_pulse_gap_ms: u64,
    pub(super) coin_gap_ms: u64,
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
