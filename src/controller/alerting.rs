//! Feeding the alerts: the machine's facts after every step (and once a minute, for alerts that
//! come with time passing), what was raised or cleared told to the trace (and so to the live
//! event stream) and the metrics.

use super::*;
use crate::alerts::{Alert, Change, ColumnFacts, Facts};

/// How often alerts that time alone can raise (no sale for hours) are looked at again.
const ALERT_RECHECK: std::time::Duration = std::time::Duration::from_secs(60);

impl Controller {
    /// The machine's facts as alerts read them.
    fn alert_facts(&self) -> Facts {
        let columns = (0..self.core.column_count())
            .filter_map(ColumnId::from_index)
            .filter_map(|column| {
                let spec = self.config.columns.get(column.index())?;
                Some(ColumnFacts {
                    column,
                    product: spec.product.clone(),
                    stock: self.core.stock(column)?,
                    capacity: spec.capacity,
                    low_stock: spec.low_stock,
                    status: self.core.status(column)?,
                    for_sale: spec.for_sale,
                })
            })
            .collect();
        let engine = self.core.surprises();
        let (spend, budget) = engine.budget_now();
        Facts {
            now: self.local,
            columns,
            stuck_sensors: self.core.stuck_sensors(),
            door_open: self.core.door_open(),
            last_sale: self.last_sale.unwrap_or(self.local),
            spend,
            budget,
            surprises_on: engine.config().policy.enabled && !engine.paused(),
            config_refused: self.files.last_error.clone(),
            restart_needed: self.files.restart_needed,
            out_of_service: self.out_of_service(),
            currency: self.config.currency.clone(),
        }
    }

    /// Bring the alerts up to date, tell the trace what changed, and return those in force.
    /// Nothing is raised while the books are being checked at start: the machine is not yet
    /// itself.
    pub(super) fn update_alerts(&mut self) -> Vec<Alert> {
        if self.starting.is_some() {
            return Vec::new();
        }
        if self.last_sale.is_none() {
            self.last_sale = Some(self.local);
        }
        let facts = self.alert_facts();
        let changes = self.alerts.update(&facts, &self.config.alerts);
        let now = self.clock.now();
        for change in changes {
            let (raised, alert) = match change {
                Change::Raised(a) => (true, a),
                Change::Cleared(a) => (false, a),
            };
            // A stopped controller's last word in the log and the trace is its stop.
            if self.halted.is_some() {
                continue;
            }
            if raised {
                tracing::warn!("alert: {} {}", alert.text, alert.action);
            } else {
                tracing::info!("alert cleared: {}", alert.text);
            }
            self.record(now, TraceEntry::Alert { raised, alert });
        }
        let current = self.alerts.current();
        if let Some(m) = &self.metrics {
            m.set_alerts(current.iter().map(|a| a.kind));
        }
        if self.config.alerts.no_sale_hours > 0 {
            self.alert_recheck = Some(now + ALERT_RECHECK);
        }
        current
    }
}
