//! From the file as written to [`MachineConfig`]: one function per table, every problem collected
//! with its field path so that an operator sees them all at once.
//!
//! The order of the tables is the order of the messages: inputs before outputs, so that a pin
//! conflict names the earlier, usually already fixed, wiring.

mod alerts;
mod coins;
mod columns;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::i18n::Language;
use happiness_hardware::input::PulseTiming;
use happiness_hardware::sim::SimParams;
use happiness_hardware::{Gpio, InputSpec, InputTiming, Polarity, Pull, Wiring};

use super::raw::{RawFile, RawInput, RawMachine, RawSimulator, RawTimings};
use super::{Issue, MachineConfig};
use crate::model::{ColumnSpec, VendTimings};
use crate::money::Cents;

/// The most a coin, a price or a hopper coin may be worth, in cents.
pub(super) const MAX_AMOUNT_CENTS: u64 = 100_000;

/// The most credit a machine may hold, in cents.
const MAX_CREDIT_CENTS: u64 = 1_000_000;

/// Collects validation problems and who uses which pin.
#[derive(Default)]
struct Validator {
    issues: Vec<Issue>,
    pins: BTreeMap<u8, String>,
}

/// Turn the parsed file into a machine description, or every problem found.
pub(super) fn validate(raw: RawFile) -> Result<MachineConfig, Vec<Issue>> {
    let mut v = Validator::default();
    let (name, currency, language) = machine(&mut v, &raw.machine);
    let (timings, drop_pulse, drop_stuck_after) = vend_timings(&mut v, &raw.timings);

    let mut wiring = Wiring::default();
    sensors(&mut v, &raw, &mut wiring);
    let (coins, coin_timing) = coins::acceptor(&mut v, &raw, &mut wiring);
    let buttons = columns::buttons(&mut v, &raw, &mut wiring);
    let columns = columns::columns(&mut v, &raw, &mut wiring);
    let lamps = columns::lamps(&mut v, &raw, &mut wiring);
    let max_credit = max_credit(&mut v, &raw.machine, &columns);
    let payout = coins::payout(&mut v, &raw, &mut wiring);

    let t = &raw.timings;
    let input_timing = InputTiming {
        button_debounce: Duration::from_millis(t.button_debounce_ms),
        door_debounce: Duration::from_millis(t.door_debounce_ms),
        home_debounce: Duration::from_millis(t.home_debounce_ms),
        coin: coin_timing.pulse,
        coin_gap: coin_timing.gap,
        drop: drop_pulse,
        drop_stuck_after,
    };
    let sim = simulator(
        &mut v,
        &raw.simulator,
        t,
        &input_timing,
        raw.coin_acceptor.is_some(),
    );
    let alerts = alerts::alerts(&mut v, &raw.alerts);
    let (fleet, fleet_issues) = super::fleet::fleet(&raw.fleet);
    let (audit, audit_issues) = super::audit::audit(&raw.audit, &currency);
    let (payments, payment_issues) = super::payment::payment(
        &raw.payment,
        raw.machine.payment,
        raw.coin_acceptor.is_some(),
        raw.payout.is_some(),
    );
    for (path, message) in fleet_issues
        .into_iter()
        .chain(audit_issues)
        .chain(payment_issues)
    {
        v.issue(path, message);
    }

    if v.issues.is_empty() {
        Ok(MachineConfig {
            name,
            currency,
            language,
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
            alerts,
            fleet,
            audit,
            payments,
        })
    } else {
        Err(v.issues)
    }
}

/// `[machine]`: the name, currency symbol and the customers' default language.
fn machine(v: &mut Validator, m: &RawMachine) -> (String, String, Language) {
    let name = m.name.trim().to_string();
    if name.is_empty() {
        v.issue("machine.name", "must not be empty");
    } else if let Some(problem) = super::one_line_problem(&name, 60) {
        v.issue("machine.name", problem);
    }
    let currency = m.currency.trim().to_string();
    if currency.chars().count() > 4 {
        v.issue("machine.currency", "use a short symbol such as € or $");
    } else if let Some(problem) = super::one_line_problem(&currency, 4) {
        v.issue("machine.currency", problem);
    }
    let code = m.language.trim();
    let language = Language::from_config(code).unwrap_or_else(|problem| {
        v.issue("machine.language", problem);
        Language::English
    });
    (name, currency, language)
}

/// `machine.max_credit_cents`: enough to buy the dearest item, or that item could never sell.
fn max_credit(v: &mut Validator, m: &RawMachine, columns: &[ColumnSpec]) -> Cents {
    let max = match u64::try_from(m.max_credit_cents) {
        Ok(c @ 1..=MAX_CREDIT_CENTS) => Cents::new(c),
        _ => {
            v.issue(
                "machine.max_credit_cents",
                format!(
                    "{} is not between 1 and {MAX_CREDIT_CENTS}",
                    m.max_credit_cents
                ),
            );
            return Cents::ZERO;
        }
    };
    let dearest = columns
        .iter()
        .filter(|c| c.for_sale)
        .max_by_key(|c| c.price);
    if let Some(c) = dearest.filter(|c| c.price > max) {
        v.issue(
            "machine.max_credit_cents",
            format!(
                "{} is less than the price of {} ({}): it could never be bought",
                max.get(),
                c.product,
                c.price.get()
            ),
        );
    }
    max
}

/// `[timings]`: the vend's rules, and the drop beam's pulse widths.
fn vend_timings(v: &mut Validator, t: &RawTimings) -> (VendTimings, PulseTiming, Duration) {
    let timings = VendTimings {
        drop_window: v.ms("timings.drop_window_ms", t.drop_window_ms, 1..=10_000),
        max_motor_on: v.ms("timings.max_motor_on_ms", t.max_motor_on_ms, 1..=30_000),
        timed_turn: v.ms("timings.timed_turn_ms", t.timed_turn_ms, 1..=30_000),
        nudge_retries: t.nudge_retries,
        nudge_pause: v.ms("timings.nudge_pause_ms", t.nudge_pause_ms, 0..=5_000),
        message: v.ms("timings.message_ms", t.message_ms, 500..=60_000),
    };
    v.ms(
        "timings.button_debounce_ms",
        t.button_debounce_ms,
        0..=1_000,
    );
    v.ms("timings.door_debounce_ms", t.door_debounce_ms, 0..=5_000);
    v.ms("timings.home_debounce_ms", t.home_debounce_ms, 0..=1_000);
    v.ms("timings.drop_min_ms", t.drop_min_ms, 0..=1_000);
    if t.nudge_retries > 5 {
        v.issue(
            "timings.nudge_retries",
            format!(
                "{} retries would run the motor too long; use 0 to 5",
                t.nudge_retries
            ),
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
    let drop_stuck_after = v.ms("timings.drop_stuck_ms", t.drop_stuck_ms, 1..=60_000);
    if t.drop_min_ms >= t.drop_stuck_ms {
        v.issue(
            "timings.drop_min_ms",
            "must be shorter than timings.drop_stuck_ms",
        );
    }
    (timings, drop_pulse, drop_stuck_after)
}

/// `[[drop_sensors]]`, `[door]` and `[coin_return]`.
fn sensors(v: &mut Validator, raw: &RawFile, wiring: &mut Wiring) {
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
}

/// `[simulator]`: the physics, which must be something the controller's rules can see
/// correctly, or the simulated machine would fault for reasons that are the config's, not the
/// controller's.
fn simulator(
    v: &mut Validator,
    s: &RawSimulator,
    t: &RawTimings,
    input: &InputTiming,
    pulse_acceptor: bool,
) -> SimParams {
    let sim = SimParams {
        turn: v.ms("simulator.turn_ms", s.turn_ms, 1..=30_000),
        home_width: v.ms("simulator.home_width_ms", s.home_width_ms, 0..=30_000),
        release_at: v.ms("simulator.release_at_ms", s.release_at_ms, 0..=30_000),
        fall: v.ms("simulator.fall_ms", s.fall_ms, 0..=10_000),
        beam_block: v.ms("simulator.beam_block_ms", s.beam_block_ms, 0..=60_000),
        press_hold: v.ms("simulator.press_hold_ms", s.press_hold_ms, 0..=10_000),
        coin_pulse: v.ms("simulator.coin_pulse_ms", s.coin_pulse_ms, 0..=1_000),
        coin_pulse_gap: v.ms(
            "simulator.coin_pulse_gap_ms",
            s.coin_pulse_gap_ms,
            0..=1_000,
        ),
        coin_gap: v.ms("simulator.coin_gap_ms", s.coin_gap_ms, 0..=10_000),
        seed: 0,
    };
    check_simulator(v, s, t, input, pulse_acceptor);
    sim
}

fn check_simulator(
    v: &mut Validator,
    s: &RawSimulator,
    t: &RawTimings,
    input: &InputTiming,
    pulse_acceptor: bool,
) {
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
    // The simulated coin pulses only matter to a pulse acceptor (an MDB changer's coins are
    // words on the bus).
    let (min, max) = (ms(input.coin.min_width), ms(input.coin.max_width));
    if pulse_acceptor && (s.coin_pulse_ms < min || s.coin_pulse_ms > max) {
        v.issue(
            "simulator.coin_pulse_ms",
            format!("must be within the acceptor's pulse widths ({min} to {max} ms)"),
        );
    }
    let gap = ms(input.coin_gap);
    if pulse_acceptor
        && (s.coin_pulse_gap_ms >= gap || s.coin_pulse_gap_ms <= ms(input.coin.glitch))
    {
        v.issue(
            "simulator.coin_pulse_gap_ms",
            format!(
                "must be longer than coin_acceptor.glitch_ms and shorter than coin_acceptor.coin_gap_ms ({gap} ms)"
            ),
        );
    }
    if pulse_acceptor && s.coin_gap_ms <= gap {
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

    /// A time in milliseconds within `range`: every timing has one, so that no value can wedge
    /// the machine (a drop window of years holds the money in escrow forever).
    fn ms(&mut self, path: &str, ms: u64, range: std::ops::RangeInclusive<u64>) -> Duration {
        if !range.contains(&ms) {
            let (min, max) = (range.start(), range.end());
            if ms == 0 {
                self.issue(
                    path,
                    format!("must be greater than 0 (use {min} to {max} ms)"),
                );
            } else {
                self.issue(path, format!("{ms} ms is outside {min} to {max} ms"));
            }
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
