//! `[[buttons]]`, `[[columns]]` and `[[lamps]]`: what is for sale, where, and what selects it.

use happiness_hardware::{InputSpec, OutputSpec, Polarity, Pull, Wiring};

use super::super::raw::{RawColumn, RawFile, RawInput};
use super::super::MAX_COLUMNS;
use super::{polarity, Validator, MAX_AMOUNT_CENTS};
use crate::model::{ColumnId, ColumnSpec, LampRole};
use crate::money::Cents;

/// `[[buttons]]`: each button's pin and the column (for sale) it selects.
pub(super) fn buttons(v: &mut Validator, raw: &RawFile, wiring: &mut Wiring) -> Vec<ColumnId> {
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
    buttons
}

/// `[[columns]]`: products, prices, stock and each column's motor, home switch and drop sensor.
pub(super) fn columns(v: &mut Validator, raw: &RawFile, wiring: &mut Wiring) -> Vec<ColumnSpec> {
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
    let out_polarity = polarity(raw.outputs.active_low);
    let sensors = raw.drop_sensors.len();
    let mut columns = Vec::new();
    for (i, c) in raw.columns.iter().enumerate().take(MAX_COLUMNS) {
        let path = format!("columns[{i}]");
        let spec = column(v, &path, c);
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
        let sensor = drop_sensor(v, &path, c, sensors);
        if let Some(motor) = motor {
            wiring.motors.push(OutputSpec {
                pin: motor,
                polarity: out_polarity,
            });
        }
        wiring.home_switches.push(home.flatten());
        // Sales, reports and the audit name a product: two columns of one name could not be
        // told apart there.
        if let Some(first) = columns
            .iter()
            .position(|c: &ColumnSpec| c.product.eq_ignore_ascii_case(&spec.product))
            .filter(|_| !spec.product.is_empty())
        {
            v.issue(
                format!("{path}.product"),
                format!(
                    "\"{}\" is also column {}'s product: give each column its own name (\"{} \
                     (cold)\")",
                    spec.product,
                    first + 1,
                    spec.product
                ),
            );
        }
        columns.push(ColumnSpec { sensor, ..spec });
    }
    columns
}

/// One column's product, price, capacity and stock (its pins are checked by the caller, in the
/// file's order).
fn column(v: &mut Validator, path: &str, c: &RawColumn) -> ColumnSpec {
    let product = c.product.trim().to_string();
    if product.is_empty() {
        v.issue(format!("{path}.product"), "must not be empty");
    } else if let Some(problem) = crate::config::one_line_problem(&product, 40) {
        v.issue(format!("{path}.product"), problem);
    }
    let price = match u64::try_from(c.price_cents) {
        Ok(p) if p <= MAX_AMOUNT_CENTS => Cents::new(p),
        Ok(_) => {
            v.issue(
                format!("{path}.price_cents"),
                format!("{} is too high (at most {MAX_AMOUNT_CENTS})", c.price_cents),
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
    let low_stock = low_stock(v, path, c.low_stock, capacity);
    ColumnSpec {
        product,
        price,
        capacity,
        stock,
        sensor: 0,
        has_home: c.home_pin.is_some(),
        for_sale: c.for_sale,
        low_stock,
    }
}

/// The stock at or below which the operator is alerted: under the capacity.
fn low_stock(v: &mut Validator, path: &str, low: i64, capacity: u32) -> u32 {
    match u32::try_from(low) {
        Ok(n) if n < capacity => n,
        _ => {
            v.issue(
                format!("{path}.low_stock"),
                format!(
                    "{low} is not a stock level from 0 to {} (below the capacity, {capacity})",
                    capacity.saturating_sub(1)
                ),
            );
            0
        }
    }
}

/// The drop sensor (1-based in the file) that watches a column, as a 0-based index.
fn drop_sensor(v: &mut Validator, path: &str, c: &RawColumn, sensors: usize) -> u8 {
    match usize::try_from(c.drop_sensor) {
        Ok(n @ 1..) if n <= sensors => u8::try_from(n - 1).unwrap_or(0),
        _ => {
            if sensors > 0 {
                v.issue(
                    format!("{path}.drop_sensor"),
                    format!(
                        "there is no drop sensor {} (drop_sensors lists {sensors})",
                        c.drop_sensor
                    ),
                );
            }
            0
        }
    }
}

/// `[[lamps]]`: each lamp's pin and what it shows.
pub(super) fn lamps(v: &mut Validator, raw: &RawFile, wiring: &mut Wiring) -> Vec<LampRole> {
    let out_polarity = polarity(raw.outputs.active_low);
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
    lamps
}
