//! What needs the operator now: low stock, sold out, column faults, a stuck sensor, the door
//! open, no sale for hours while open, surprise spend near its budget, a refused config, the
//! machine out of service. Each alert says what to do and clears itself when resolved.
//!
//! Pure: [`Alerts::update`] takes the machine's facts and the local time and returns what was
//! raised and what cleared; it remembers when each alert began. It reads no clock and touches
//! nothing; the controller feeds it after every step and publishes the result.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::AlertRules;
use crate::localtime::LocalTime;
use crate::model::ColumnId;
use crate::money::Cents;
use crate::vend::{ColumnStatus, FailReason};

/// Every kind of alert, as `Alert::kind` names them.
pub const KINDS: &[&str] = &[
    "out_of_service",
    "column_fault",
    "sold_out",
    "low_stock",
    "sensor_stuck",
    "door_open",
    "no_sales",
    "budget",
    "config_refused",
    "restart_needed",
];

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Needs attention soon.
    Warning,
    /// Customers are affected now.
    Critical,
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// Stable name: the same condition keeps the same key until it clears (`low_stock:4`).
    pub key: String,
    /// Kind: `low_stock`, `sold_out`, `column_fault`, `sensor_stuck`, `door_open`, `no_sales`,
    /// `budget`, `config_refused`, `restart_needed`, `out_of_service`.
    pub kind: &'static str,
    /// How urgent.
    pub severity: Severity,
    /// The column it is about, if any.
    pub column: Option<ColumnId>,
    /// What is wrong.
    pub text: String,
    /// What to do about it.
    pub action: String,
    /// When it began (local), as first seen.
    pub since: String,
}

/// One column, as alerts need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnFacts {
    /// Column.
    pub column: ColumnId,
    /// Product.
    pub product: String,
    /// Items left.
    pub stock: u32,
    /// Items it holds when full.
    pub capacity: u32,
    /// Alert at or below this stock.
    pub low_stock: u32,
    /// Service state.
    pub status: ColumnStatus,
    /// Whether customers buy from it (a gift column does not).
    pub for_sale: bool,
}

/// Everything alerts are computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// Local time now.
    pub now: LocalTime,
    /// The columns.
    pub columns: Vec<ColumnFacts>,
    /// Drop sensors stuck (0-based).
    pub stuck_sensors: Vec<u8>,
    /// Whether the service door is open.
    pub door_open: bool,
    /// The last paid sale, or when the machine started if it has not sold since.
    pub last_sale: LocalTime,
    /// Surprise spend and the budget over the rolling window.
    pub spend: Cents,
    /// The budget over the window (its percentage of the window's sales).
    pub budget: Cents,
    /// Whether surprises are switched on.
    pub surprises_on: bool,
    /// Why the last config change was refused, until one is accepted.
    pub config_refused: Option<String>,
    /// `machine.toml` changed on disk and waits for a restart.
    pub restart_needed: bool,
    /// Why the machine sells nothing, if it does not.
    pub out_of_service: Option<String>,
    /// The currency symbol.
    pub currency: String,
}

/// An alert raised or cleared by an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Newly raised.
    Raised(Alert),
    /// Resolved.
    Cleared(Alert),
}

/// The alerts in force, and when each began.
#[derive(Debug, Clone, Default)]
pub struct Alerts {
    current: BTreeMap<String, Alert>,
}

fn fault_words(reason: FailReason) -> &'static str {
    match reason {
        FailReason::NoDrop => "nothing dropped",
        FailReason::Jammed => "the spiral jammed",
        FailReason::SensorStuck => "the drop sensor is stuck",
        FailReason::DoorOpened => "the door was opened during a vend",
    }
}

/// The alerts that hold for these facts (`since` not yet set).
fn evaluate(f: &Facts, rules: &AlertRules) -> Vec<Alert> {
    let mut out = Vec::new();
    let mut add = |key: String,
                   kind: &'static str,
                   severity: Severity,
                   column: Option<ColumnId>,
                   text: String,
                   action: String| {
        out.push(Alert {
            key,
            kind,
            severity,
            column,
            text,
            action,
            since: String::new(),
        });
    };
    if let Some(why) = &f.out_of_service {
        add(
            "out_of_service".into(),
            "out_of_service",
            Severity::Critical,
            None,
            format!("The machine is not selling: {why}."),
            "Read the log; the status says what stopped it.".into(),
        );
    }
    column_alerts(f, &mut add);
    for s in &f.stuck_sensors {
        add(
            format!("sensor_stuck:{}", u16::from(*s) + 1),
            "sensor_stuck",
            Severity::Critical,
            None,
            format!(
                "Drop sensor {} is blocked: no delivery can be confirmed, so nothing is sold.",
                u16::from(*s) + 1
            ),
            "Open the door and clear what blocks the beam (an item stuck in the chute, dust \
             on the lens)."
                .into(),
        );
    }
    if f.door_open {
        add(
            "door_open".into(),
            "door_open",
            Severity::Warning,
            None,
            "The service door is open: nothing is sold until it closes.".into(),
            "Close the door when the service is done.".into(),
        );
    }
    no_sales(f, rules, &mut add);
    budget(f, rules, &mut add);
    if let Some(why) = &f.config_refused {
        add(
            "config_refused".into(),
            "config_refused",
            Severity::Warning,
            None,
            format!("A config change was refused: {why}"),
            "Fix the file (check-config names the field); the machine runs on the last good \
             config meanwhile."
                .into(),
        );
    }
    if f.restart_needed {
        add(
            "restart_needed".into(),
            "restart_needed",
            Severity::Warning,
            None,
            "machine.toml changed on disk in a way that takes effect only at the next start."
                .into(),
            "Restart the kiosk when no customer is at it.".into(),
        );
    }
    out
}

type Add<'a> = dyn FnMut(String, &'static str, Severity, Option<ColumnId>, String, String) + 'a;

/// Faults and stock, column by column.
fn column_alerts(f: &Facts, add: &mut Add<'_>) {
    for c in &f.columns {
        let name = format!("Column {} ({})", c.column, c.product);
        if let ColumnStatus::Faulted(reason) = c.status {
            add(
                format!("column_fault:{}", c.column),
                "column_fault",
                Severity::Critical,
                Some(c.column),
                format!("{name} is out of order: {}.", fault_words(reason)),
                format!(
                    "Clear the column, then put it back in service (enable column {}).",
                    c.column
                ),
            );
        }
        let room = c.capacity.saturating_sub(c.stock);
        if c.stock == 0 {
            let severity = if c.for_sale {
                Severity::Critical
            } else {
                Severity::Warning
            };
            add(
                format!("sold_out:{}", c.column),
                "sold_out",
                severity,
                Some(c.column),
                format!("{name} is sold out."),
                format!("Restock column {}: {room} fit.", c.column),
            );
        } else if c.stock <= c.low_stock {
            add(
                format!("low_stock:{}", c.column),
                "low_stock",
                Severity::Warning,
                Some(c.column),
                format!(
                    "{name} is low: {} left (the alert is at {}).",
                    c.stock, c.low_stock
                ),
                format!("Restock column {}: {room} more fit.", c.column),
            );
        }
    }
}

/// Nothing sold for `no_sale_hours` while open.
fn no_sales(f: &Facts, rules: &AlertRules, add: &mut Add<'_>) {
    if rules.no_sale_hours == 0 || !rules.hours.contains(f.now.minute_of_day()) {
        return;
    }
    let quiet = f.now.secs() - f.last_sale.secs();
    if quiet < i64::from(rules.no_sale_hours) * 3_600 {
        return;
    }
    add(
        "no_sales".into(),
        "no_sales",
        Severity::Warning,
        None,
        format!(
            "Nothing sold for {} hours (since {}) during opening hours.",
            quiet / 3_600,
            f.last_sale
        ),
        "Check the machine from the front: the display, the coin slot, the buttons, the power \
         of the lamps."
            .into(),
    );
}

/// Surprise spend at or above its warning share of the budget.
fn budget(f: &Facts, rules: &AlertRules, add: &mut Add<'_>) {
    if !f.surprises_on || f.spend.get() == 0 {
        return;
    }
    let warn = u128::from(f.budget.get()) * u128::from(rules.budget_warn_percent);
    if u128::from(f.spend.get()) * 100 < warn {
        return;
    }
    let share = if f.budget.get() == 0 {
        "all of".to_string()
    } else {
        format!("{}% of", f.spend.get() * 100 / f.budget.get())
    };
    add(
        "budget".into(),
        "budget",
        Severity::Warning,
        None,
        format!(
            "Surprise spend is {} ({share} its budget of {}).",
            f.spend.with_symbol(&f.currency),
            f.budget.with_symbol(&f.currency)
        ),
        "Surprises hold back by themselves at the budget; raise budget_percent in \
         surprises.toml if that is not what you want."
            .into(),
    );
}

impl Alerts {
    /// Bring the alerts up to date with `facts`: what was raised and what cleared. An alert
    /// that holds on keeps its `since`; its words follow the facts (the stock left).
    pub fn update(&mut self, facts: &Facts, rules: &AlertRules) -> Vec<Change> {
        let mut changes = Vec::new();
        let mut next = BTreeMap::new();
        for mut alert in evaluate(facts, rules) {
            match self.current.remove(&alert.key) {
                Some(old) => alert.since = old.since,
                None => {
                    alert.since = facts.now.to_string();
                    changes.push(Change::Raised(alert.clone()));
                }
            }
            next.insert(alert.key.clone(), alert);
        }
        for (_, old) in std::mem::take(&mut self.current) {
            changes.push(Change::Cleared(old));
        }
        self.current = next;
        changes
    }

    /// The alerts in force, the most urgent first, then the oldest.
    pub fn current(&self) -> Vec<Alert> {
        let mut list: Vec<Alert> = self.current.values().cloned().collect();
        list.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.since.cmp(&b.since)));
        list
    }
}

#[cfg(test)]
mod tests;
