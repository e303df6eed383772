//! The status: a snapshot of the running machine for the pages, the API and the metrics,
//! republished after every step.

use serde::Serialize;

use super::*;

/// One column as the outside world sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnView {
    /// 1-based number.
    pub column: ColumnId,
    /// Product.
    pub product: String,
    /// Price.
    pub price: Cents,
    /// Items the controller believes are left.
    pub stock: u32,
    /// Items it holds when full.
    pub capacity: u32,
    /// Stock at or below which the operator is told to restock (0: only when sold out).
    pub low_stock: u32,
    /// Service state.
    pub status: ColumnStatus,
}

/// A snapshot of the running machine, republished after every step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    /// Machine name.
    pub machine: String,
    /// Currency symbol.
    pub currency: String,
    /// "sim" or "rpi".
    pub hardware: String,
    /// Credit held.
    pub credit: Cents,
    /// Price held in escrow by a vend in progress.
    pub escrow: Cents,
    /// A card is presented (a session with the reader is open).
    pub card_session: bool,
    /// What the presented card can spend, when the reader says.
    pub card_funds: Option<Cents>,
    /// The payment devices on the MDB bus that are up (`bills`, `changer`, `reader`).
    pub payment_devices_up: Vec<String>,
    /// Whether a vend is in progress.
    pub vending: bool,
    /// The column whose motor is on.
    pub motor_on: Option<ColumnId>,
    /// Whether the service door is open.
    pub door_open: bool,
    /// What the display shows.
    pub screen: Option<Screen>,
    /// The display's text.
    pub display: String,
    /// Lamp roles that are lit.
    pub lamps_on: Vec<LampRole>,
    /// Columns.
    pub columns: Vec<ColumnView>,
    /// Money totals.
    pub ledger: Ledger,
    /// Journal transactions committed since start (one fsync each).
    pub journal_commits: u64,
    /// Why the last config change was refused, if it was.
    pub last_config_error: Option<String>,
    /// Whether the operator paused surprises.
    pub surprises_paused: bool,
    /// What holds every surprise back right now, in words, if anything does.
    pub surprises_held: Option<String>,
    /// Why only free surprises can come right now (the budget or pacing), if so.
    pub surprises_limited: Option<String>,
    /// The journal version of the surprise config in force.
    pub surprise_version: Option<i64>,
    /// `machine.toml` changed on disk in a way that takes effect at the next start.
    pub restart_needed: bool,
    /// Why the machine is not selling, when it is not (stopped, storage full, starting up).
    pub out_of_service: Option<String>,
    /// The books' disk: free space, reserve, floor reached.
    pub storage: StorageStatus,
    /// The books are still being checked: nothing is sold yet.
    pub starting: bool,
    /// A finished paid vend waits for its one answer to "how was it?".
    pub feedback_open: bool,
    /// Paid vends finished since start: a page asks "how was it?" once per value.
    pub vends_finished: u64,
    /// What needs the operator now, the most urgent first.
    pub alerts: Vec<crate::alerts::Alert>,
    /// The time zone the books' times are in: `UTC+01:00`, or `machine time` on a clock of
    /// its own (tests, replays).
    pub time_zone: String,
    /// A failure is being made right: the columns the customer may now choose from, free
    /// (empty when no free choice is open).
    pub offer_columns: Vec<ColumnId>,
    /// The odds the kiosk discloses (`disclose_odds`), while surprises can come and nothing
    /// has gone wrong: never a promotion during a problem.
    pub odds: Option<crate::surprise::Odds>,
    /// An operator's gift waiting for the next paying customer.
    pub gift_waiting: Option<super::GiftWaiting>,
    /// The names of the surprises in the catalogue, in order (for the console's gift).
    pub catalogue: Vec<String>,
    /// Each campaign: what it gave against its budget, awards and planned sales.
    pub campaigns: Vec<crate::surprise::CampaignReport>,
    /// Failures made right since start: offers, free items and their value.
    pub recovery: crate::surprise::RecoveryTotals,
    /// Today's paid sales, surprises and their cost, and the last sale.
    pub today: super::Today,
}

impl Status {
    /// The status before the books are checked: nothing sold, nothing known yet.
    pub(super) fn initial(config: &MachineConfig, hardware: &str) -> Status {
        Status {
            machine: config.name.clone(),
            currency: config.currency.clone(),
            hardware: hardware.to_string(),
            credit: Cents::ZERO,
            escrow: Cents::ZERO,
            card_session: false,
            card_funds: None,
            payment_devices_up: Vec::new(),
            vending: false,
            motor_on: None,
            door_open: false,
            screen: None,
            display: String::new(),
            lamps_on: Vec::new(),
            columns: Vec::new(),
            ledger: Ledger::default(),
            journal_commits: 0,
            last_config_error: None,
            surprises_paused: false,
            surprises_held: None,
            surprises_limited: None,
            surprise_version: None,
            restart_needed: false,
            out_of_service: None,
            storage: StorageStatus::default(),
            starting: true,
            feedback_open: false,
            vends_finished: 0,
            alerts: Vec::new(),
            time_zone: String::new(),
            offer_columns: Vec::new(),
            odds: None,
            gift_waiting: None,
            catalogue: Vec::new(),
            campaigns: Vec::new(),
            recovery: crate::surprise::RecoveryTotals::default(),
            today: super::Today::default(),
        }
    }
}

/// `UTC+01:00` for an offset of 3600 s.
fn zone_name(offset: Option<i32>) -> String {
    match offset {
        None => "machine time".into(),
        Some(s) => {
            let sign = if s < 0 { '-' } else { '+' };
            let m = s.unsigned_abs() / 60;
            format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
        }
    }
}

impl Controller {
    /// Why the machine sells nothing right now, if it does not.
    pub(super) fn out_of_service(&self) -> Option<String> {
        if let Some(reason) = &self.halted {
            return Some(reason.clone());
        }
        if self.starting.is_some() {
            return Some("starting up: the books are being checked".to_string());
        }
        self.core.storage_full().then(|| {
            "storage full: the disk holding the books is under its free-space floor".to_string()
        })
    }

    /// Publish the current status to watchers.
    pub fn publish(&mut self) {
        let columns = (0..self.core.column_count())
            .filter_map(ColumnId::from_index)
            .filter_map(|column| {
                let spec = self.config.columns.get(column.index())?;
                Some(ColumnView {
                    column,
                    product: spec.product.clone(),
                    price: spec.price,
                    stock: self.core.stock(column)?,
                    capacity: spec.capacity,
                    low_stock: spec.low_stock,
                    status: self.core.status(column)?,
                })
            })
            .collect();
        let display = self
            .screen
            .as_ref()
            .map(|s| crate::display::text_in(self.config.language, s, &self.config.currency))
            .unwrap_or_default();
        let alerts = self.update_alerts();
        let status = Status {
            alerts,
            time_zone: zone_name(self.utc_offset),
            credit: self.core.credit(),
            escrow: self.core.escrow(),
            card_session: self.core.card_funds().is_some(),
            card_funds: self.core.card_funds().flatten(),
            payment_devices_up: self.payment_devices_up(),
            vending: self.core.is_vending(),
            motor_on: self.core.motor_on(),
            door_open: self.core.door_open(),
            screen: self.screen.clone(),
            display,
            lamps_on: self.lamps_on.clone(),
            columns,
            ledger: self.core.ledger(),
            journal_commits: self.journal.stats().commits,
            last_config_error: self.files.last_error.clone(),
            surprises_paused: self.core.surprises().paused(),
            surprises_held: self.core.surprises_held().map(|h| h.to_string()),
            surprises_limited: self.core.surprises_limited().map(|h| h.to_string()),
            surprise_version: self.files.surprise_version,
            restart_needed: self.files.restart_needed,
            out_of_service: self.out_of_service(),
            storage: self.storage,
            starting: self.starting.is_some(),
            feedback_open: self.feedback_open,
            vends_finished: self.vends_finished,
            offer_columns: self.core.offer().map(|o| o.columns).unwrap_or_default(),
            gift_waiting: self.gift_waiting(),
            catalogue: (self.core.surprises().config().catalogue.iter())
                .map(|s| s.name.clone())
                .collect(),
            campaigns: self.core.surprises().campaign_reports(self.local),
            recovery: self.core.surprises().recovery_totals(),
            today: self.today.clone(),
            odds: (self.core.surprises_held().is_none() && self.core.offer().is_none())
                .then(|| self.core.surprises().odds(self.local))
                .flatten(),
            machine: self.config.name.clone(),
            currency: self.config.currency.clone(),
            hardware: self.hardware.clone(),
        };
        if let Some(m) = &self.metrics {
            m.set_credit(self.core.credit().get());
            m.set_storage(self.storage.free_bytes, self.core.storage_full());
            m.set_out_of_service(status.out_of_service.is_some());
        }
        self.status.send_replace(status);
        self.send_test_vend_answer();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn time_zones_are_named_by_their_offset() {
        assert_eq!(super::zone_name(Some(3600)), "UTC+01:00");
        assert_eq!(super::zone_name(Some(-16_200)), "UTC-04:30");
        assert_eq!(super::zone_name(Some(0)), "UTC+00:00");
        assert_eq!(super::zone_name(None), "machine time");
    }
}
