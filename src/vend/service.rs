//! The machine's service state: restocking, putting columns in and out of service, the drop
//! sensors, the service door, and the books' disk filling up.

use super::*;

impl VendCore {
    pub(super) fn restock(&mut self, column: Option<ColumnId>, out: &mut Vec<Command>) {
        for (i, c) in self.columns.iter_mut().enumerate() {
            let Some(id) = ColumnId::from_index(i) else {
                continue;
            };
            if column.is_some_and(|want| want != id) {
                continue;
            }
            c.stock = c.spec.capacity;
            out.push(Command::Notice(Notice::Restocked {
                column: id,
                stock: c.stock,
            }));
        }
        self.refresh_idle(out);
    }

    /// The operator loaded `count` items into `column`: its stock grows by them, up to its
    /// capacity (the books never hold more than fits).
    pub(super) fn load(&mut self, column: ColumnId, count: u32, out: &mut Vec<Command>) {
        let Some(c) = self.columns.get_mut(column.index()) else {
            return;
        };
        c.stock = c.stock.saturating_add(count).min(c.spec.capacity);
        out.push(Command::Notice(Notice::Restocked {
            column,
            stock: c.stock,
        }));
        self.refresh_idle(out);
    }

    /// The operator changed what a column sells and for how much, between vends: a vend under
    /// way keeps the price it took; the next one takes the new price.
    pub fn set_sale(&mut self, column: ColumnId, product: &str, price: Cents) {
        if let Some(c) = self.columns.get_mut(column.index()) {
            c.spec.product = product.to_string();
            c.spec.price = price;
        }
    }

    /// The operator tests a column: one item through sure-vend with nothing paid. A column out
    /// of service may be tested (that is how a repair is checked); what would make the result
    /// meaningless or unsafe is refused: a vend or payout under way, a customer's free choice
    /// open, the door open, the books full, an empty column, a stuck drop sensor.
    pub(super) fn test_vend(&mut self, column: ColumnId, out: &mut Vec<Command>) {
        let Some(col) = self.columns.get(column.index()) else {
            return;
        };
        let refusal = if self.vend.is_some() || self.payout.is_some() || self.offer.is_some() {
            Some(Refusal::Busy)
        } else if self.door_open {
            Some(Refusal::DoorOpen)
        } else if self.storage_full {
            Some(Refusal::StorageFull)
        } else if self.sensor_stuck(col.spec.sensor) {
            Some(Refusal::OutOfOrder)
        } else if col.stock == 0 {
            Some(Refusal::SoldOut)
        } else {
            None
        };
        if let Some(reason) = refusal {
            // The customer's screen stays as it is: the answer goes to the operator.
            out.push(Command::Notice(Notice::Refused { column, reason }));
            return;
        }
        out.push(Command::Notice(Notice::TestVendStarted {
            column,
            product: col.spec.product.clone(),
            value: col.spec.price,
        }));
        out.push(Command::Display(Screen::Service));
        self.screen_until = None;
        self.vend = Some(Vend::starting(
            VendKind::Test,
            column,
            Cents::ZERO,
            self.now,
        ));
        self.run_motor(out);
    }

    pub(super) fn reset_column(&mut self, column: ColumnId, out: &mut Vec<Command>) {
        self.set_column_status(column, ColumnStatus::InService, out);
    }

    pub(super) fn disable_column(&mut self, column: ColumnId, out: &mut Vec<Command>) {
        self.set_column_status(column, ColumnStatus::Disabled, out);
    }

    /// The operator puts a column in (or takes it out of) service. A column in the middle of a
    /// vend is not touched: its state is about to change anyway, and the operator can ask again.
    fn set_column_status(
        &mut self,
        column: ColumnId,
        status: ColumnStatus,
        out: &mut Vec<Command>,
    ) {
        if self.vend.is_some_and(|v| v.column == column) {
            return;
        }
        if let Some(c) = self.columns.get_mut(column.index()) {
            if c.status != status {
                c.status = status;
                let notice = match status {
                    ColumnStatus::Disabled => Notice::ColumnDisabled { column },
                    _ => Notice::ColumnReset { column },
                };
                out.push(Command::Notice(notice));
            }
        }
        self.refresh_idle(out);
    }

    pub(super) fn sensor(&mut self, sensor: u8, stuck: bool, out: &mut Vec<Command>) {
        let Some(s) = self.stuck.get_mut(usize::from(sensor)) else {
            return;
        };
        if *s == stuck {
            return;
        }
        *s = stuck;
        out.push(Command::Notice(Notice::SensorFault { sensor, stuck }));
        self.refresh_idle(out);
    }

    pub(super) fn storage(&mut self, full: bool, out: &mut Vec<Command>) {
        if self.storage_full == full {
            return;
        }
        self.storage_full = full;
        out.push(Command::Notice(Notice::Storage { full }));
        if full {
            // What is under way finishes (the reserve is there for it); nothing new starts: no
            // more surprise items, no more coins paid out after the one leaving the hopper.
            if let Some(active) = self.surprise.as_mut() {
                active.pending.clear();
            }
            // A changer's payout is one command already under way: its answer ends it.
            if let Some(run) = self
                .payout
                .filter(|r| r.pulse_until.is_none() && r.changer.is_none())
            {
                self.finish_payout(run, out);
            }
        }
        if self.vend.is_none() && self.payout.is_none() {
            self.screen_until = None;
            out.push(Command::Display(self.idle_screen()));
        }
    }

    /// Whether the books' disk is full (no money in, no new vend).
    pub fn storage_full(&self) -> bool {
        self.storage_full
    }

    pub(super) fn door(&mut self, open: bool, out: &mut Vec<Command>) {
        if self.door_open == open {
            return;
        }
        self.door_open = open;
        out.push(Command::Notice(Notice::Door { open }));
        if open {
            self.lapse_offer(Lapse::DoorOpened, out);
        }
        if let Some(run) = self.payout.filter(|r| open && r.changer.is_none()) {
            if run.pulse_until.is_some() {
                // The coin of a pulse already under way has left the hopper.
                self.payout = Some(run);
                self.payout_deadline(out);
            }
            if let Some(run) = self.payout {
                self.finish_payout(run, out);
            }
        }
        if open {
            if let Some(v) = self.vend {
                if matches!(v.phase, Phase::Turning { .. }) {
                    out.push(Command::Motor {
                        column: v.column,
                        on: false,
                    });
                }
                // The door stops a surprise: what is left of it is not dispensed.
                if let Some(active) = self.surprise.as_mut() {
                    active.pending.clear();
                }
                // A surprise item still in its pause before the first run never started: there
                // is nothing to fail.
                if v.delivered || v.attempt == 0 {
                    self.end_vend(out);
                } else {
                    self.fail(v, FailReason::DoorOpened, out);
                }
            }
        }
        self.screen_until = None;
        out.push(Command::Display(self.idle_screen()));
    }
}
