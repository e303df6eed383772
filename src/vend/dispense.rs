//! Selling and dispensing: coins in, selections, the motor runs of sure-vend with their nudges,
//! deliveries seen by the drop beam, and the refund when every attempt misses.

use super::*;

impl VendCore {
    pub(super) fn coin(&mut self, value: Cents, out: &mut Vec<Command>) {
        self.forget_presses();
        self.credit = self.credit.saturating_add(value);
        self.ledger.inserted = self.ledger.inserted.saturating_add(value);
        out.push(Command::Notice(Notice::CreditIn {
            amount: value,
            credit: self.credit,
        }));
        if self.vend.is_none() {
            let credit = self.credit;
            let screen = if self.storage_full {
                Screen::StorageFull { credit }
            } else {
                Screen::Credit { credit }
            };
            self.show(screen, out);
        }
    }

    pub(super) fn refuse(
        &mut self,
        column: ColumnId,
        reason: Refusal,
        screen: Screen,
        out: &mut Vec<Command>,
    ) {
        out.push(Command::Notice(Notice::Refused { column, reason }));
        self.show(screen, out);
    }

    /// A press that is not a purchase: a free choice while a failure is made right, or part
    /// of a secret while no credit is held. Returns whether it was handled.
    fn press_outside_a_sale(&mut self, column: ColumnId, out: &mut Vec<Command>) -> bool {
        let idle = self.vend.is_none() && self.payout.is_none();
        if self.offer.is_some() && idle && !self.door_open && !self.storage_full {
            self.select_in_offer(column, out);
            return true;
        }
        // With no credit nothing can be vended: a press may be part of a secret (unless a
        // card is presented: its holder is buying).
        self.credit == Cents::ZERO
            && self.payment == PaymentMode::Coin
            && self.card_funds().is_none()
            && idle
            && self.secret_press(column, out)
    }

    pub(super) fn select(&mut self, column: ColumnId, out: &mut Vec<Command>) {
        if self.press_outside_a_sale(column, out) {
            return;
        }
        let Some(col) = self.columns.get(column.index()) else {
            return;
        };
        let product = col.spec.product.clone();
        let price = match self.payment {
            PaymentMode::Free => Cents::ZERO,
            PaymentMode::Coin => col.spec.price,
        };
        let sensor_stuck = self.sensor_stuck(col.spec.sensor);
        if self.vend.is_some() || self.payout.is_some() || self.card.is_asking() {
            // Button mashing during a vend: acknowledge, never start a second motor.
            out.push(Command::Notice(Notice::Refused {
                column,
                reason: Refusal::Busy,
            }));
            out.push(Command::Display(Screen::PleaseWait));
            return;
        }
        if self.door_open {
            return self.refuse(column, Refusal::DoorOpen, Screen::Service, out);
        }

        if self.storage_full {
            let credit = self.credit;
            return self.refuse(
                column,
                Refusal::StorageFull,
                Screen::StorageFull { credit },
                out,
            );
        }
        if !col.spec.for_sale {
            return self.refuse(
                column,
                Refusal::NotForSale,
                Screen::OutOfOrder { product },
                out,
            );
        }
        if col.status != ColumnStatus::InService || sensor_stuck {
            return self.refuse(
                column,
                Refusal::OutOfOrder,
                Screen::OutOfOrder { product },
                out,
            );
        }
        if col.stock == 0 {
            return self.refuse(column, Refusal::SoldOut, Screen::SoldOut { product }, out);
        }
        let Some(rest) = self.credit.checked_sub(price) else {
            if self.card.is_ready() && self.payment == PaymentMode::Coin {
                return self.card_select(column, product, price, out);
            }
            let credit = self.credit;
            return self.refuse(
                column,
                Refusal::InsufficientCredit,
                Screen::InsertMore {
                    product,
                    price,
                    credit,
                },
                out,
            );
        };
        self.credit = rest;
        out.push(Command::Notice(Notice::VendStarted {
            column,
            product: product.clone(),
            price,
            tender: Tender::Cash,
        }));
        out.push(Command::Display(Screen::Vending { product }));
        self.screen_until = None;
        self.vend = Some(Vend::starting(VendKind::Paid, column, price, self.now));
        self.run_motor(out);
    }

    pub(super) fn run_motor(&mut self, out: &mut Vec<Command>) {
        if let Some(v) = self
            .vend
            .filter(|v| v.kind == VendKind::Surprise && v.attempt == 0)
        {
            out.push(Command::Notice(Notice::SurpriseItemStarted {
                column: v.column,
                product: self.product(v.column),
            }));
        }
        let Some(v) = self.vend.as_mut() else { return };
        v.attempt += 1;
        v.phase = Phase::Turning { since: self.now };
        out.push(Command::Notice(Notice::MotorRun {
            column: v.column,
            attempt: v.attempt,
        }));
        out.push(Command::Motor {
            column: v.column,
            on: true,
        });
    }

    pub(super) fn product(&self, column: ColumnId) -> String {
        self.columns
            .get(column.index())
            .map(|c| c.spec.product.clone())
            .unwrap_or_default()
    }

    pub(super) fn drop_seen(&mut self, sensor: u8, out: &mut Vec<Command>) {
        // Only a vend whose motor has run can have dropped an item: a drop during the pause
        // before a surprise item's first run is a late or extra item from before.
        let expected = self.vend.filter(|v| {
            !v.delivered
                && v.attempt >= 1
                && self
                    .columns
                    .get(v.column.index())
                    .is_some_and(|c| c.spec.sensor == sensor)
        });
        let Some(mut v) = expected else {
            out.push(Command::Notice(Notice::UnexpectedDrop { sensor }));
            return;
        };
        v.delivered = true;
        let product = self.product(v.column);
        let take_stock = !self.bug(InjectedBug::SkipStock);
        if let Some(c) = self
            .columns
            .get_mut(v.column.index())
            .filter(|_| take_stock)
        {
            c.stock = c.stock.saturating_sub(1);
        }
        match v.kind {
            VendKind::Paid => {
                match v.tender {
                    Tender::Cash => {
                        self.ledger.spent = self.ledger.spent.saturating_add(v.price);
                        self.card_cash_sale(v.column, v.price, out);
                    }
                    // The reader charges the card now that the item is seen, never before.
                    Tender::Card => {
                        self.ledger.card = self.ledger.card.saturating_add(v.price);
                        self.card_vend_over(true, out);
                    }
                }
                self.paid_vend_finished(v.column);
                out.push(Command::Notice(Notice::VendDelivered {
                    column: v.column,
                    product: product.clone(),
                    price: v.price,
                    tender: v.tender,
                }));
                self.show(Screen::Enjoy { product }, out);
                self.maybe_surprise(v.column, v.price, out);
            }
            VendKind::Surprise => {
                if let Some(active) = self.surprise.as_mut() {
                    active.delivered += 1;
                }
                out.push(Command::Notice(Notice::SurpriseItemDelivered {
                    column: v.column,
                    product,
                }));
            }
            VendKind::Test => out.push(Command::Notice(Notice::TestVendDelivered {
                column: v.column,
                product,
            })),
        }
        if let Phase::Turning { .. } = v.phase {
            // Let the spiral finish its turn so it parks at home for the next vend.
            self.vend = Some(v);
        } else {
            self.end_vend(out);
            if v.kind == VendKind::Test {
                self.refresh_idle(out);
            }
        }
    }

    pub(super) fn home(&mut self, column: ColumnId, out: &mut Vec<Command>) {
        let Some(v) = self.vend else { return };
        if v.column != column || !matches!(v.phase, Phase::Turning { .. }) {
            return;
        }
        out.push(Command::Motor { column, on: false });
        self.after_turn(v, out);
    }

    /// The motor has just stopped after a normal turn.
    pub(super) fn after_turn(&mut self, mut v: Vend, out: &mut Vec<Command>) {
        if v.delivered {
            self.finish(v, out);
            return;
        }
        v.phase = Phase::Settling {
            until: self.now + self.timings.drop_window,
        };
        self.vend = Some(v);
    }

    /// The vend is over: record a fault the last run revealed, then go on.
    pub(super) fn finish(&mut self, v: Vend, out: &mut Vec<Command>) {
        if v.jammed {
            self.fault_column(v.column, FailReason::Jammed, out);
        }
        self.end_vend(out);
        self.refresh_idle(out);
    }

    pub(super) fn fault_column(
        &mut self,
        column: ColumnId,
        reason: FailReason,
        out: &mut Vec<Command>,
    ) {
        if let Some(c) = self.columns.get_mut(column.index()) {
            c.status = ColumnStatus::Faulted(reason);
            out.push(Command::Notice(Notice::ColumnFaulted { column, reason }));
        }
    }

    /// The vend's phase deadline has come (at `self.now`).
    pub(super) fn vend_deadline(&mut self, out: &mut Vec<Command>) {
        let Some(mut v) = self.vend else { return };
        match v.phase {
            Phase::Turning { .. } => {
                out.push(Command::Motor {
                    column: v.column,
                    on: false,
                });
                let has_home = self
                    .columns
                    .get(v.column.index())
                    .is_some_and(|c| c.spec.has_home);
                if has_home {
                    // The hard limit ran out before the spiral came home.
                    v.jammed = true;
                    if v.delivered {
                        self.finish(v, out);
                    } else {
                        self.missed(v, FailReason::Jammed, out);
                    }
                } else {
                    self.after_turn(v, out);
                }
            }
            Phase::Settling { .. } => self.missed(v, FailReason::NoDrop, out),
            Phase::Pausing { .. } => {
                self.vend = Some(v);
                self.run_motor(out);
            }
        }
    }

    /// An attempt ended without a drop: nudge again, or give the money back.
    pub(super) fn missed(&mut self, mut v: Vend, reason: FailReason, out: &mut Vec<Command>) {
        let sensor_stuck = self
            .columns
            .get(v.column.index())
            .is_some_and(|c| self.sensor_stuck(c.spec.sensor));
        if v.attempt <= self.timings.nudge_retries && !sensor_stuck {
            v.phase = Phase::Pausing {
                until: self.now + self.timings.nudge_pause,
            };
            // The customer waits through the nudges: tell them the machine is still at it.
            if v.kind == VendKind::Paid {
                out.push(Command::Display(Screen::Retrying {
                    product: self.product(v.column),
                    attempt: v.attempt + 1,
                    of: self.timings.nudge_retries + 1,
                }));
            }
            self.vend = Some(v);
            return;
        }
        let reason = if sensor_stuck {
            FailReason::SensorStuck
        } else {
            reason
        };
        self.fail(v, reason, out);
    }

    pub(super) fn fail(&mut self, v: Vend, reason: FailReason, out: &mut Vec<Command>) {
        let blame_column = matches!(reason, FailReason::NoDrop | FailReason::Jammed);
        if v.kind != VendKind::Paid {
            // Nothing was paid for a surprise's item or a test: nothing goes back to credit.
            let column = v.column;
            out.push(Command::Notice(if v.kind == VendKind::Test {
                Notice::TestVendFailed { column, reason }
            } else {
                Notice::SurpriseItemFailed { column, reason }
            }));
            if blame_column {
                self.fault_column(column, reason, out);
            }
            self.end_vend(out);
            if v.kind == VendKind::Test {
                self.refresh_idle(out);
            }
            return;
        }
        self.vend = None;
        match v.tender {
            Tender::Cash => {
                if !self.bug(InjectedBug::SkipRefund) {
                    self.credit = self.credit.saturating_add(v.price);
                }
            }
            // The card is not charged: the reader refunds it; nothing becomes credit.
            Tender::Card => self.card_vend_over(false, out),
        }
        let product = self.product(v.column);
        out.push(Command::Notice(Notice::VendFailed {
            column: v.column,
            product: product.clone(),
            refunded: v.price,
            tender: v.tender,
            reason,
        }));
        // A stuck sensor or an opened door is not the column's fault.
        if blame_column {
            self.fault_column(v.column, reason, out);
        }
        self.paid_vend_finished(v.column);
        if self.make_it_right_after_failure(v, reason, out) {
            return;
        }
        let credit = self.credit;
        self.show(
            Screen::Refunded {
                product,
                amount: v.price,
                credit,
                tender: v.tender,
            },
            out,
        );
    }
}
