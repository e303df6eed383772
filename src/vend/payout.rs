//! Paying credit back through the hopper, one pulse per coin, stopping at a coin boundary when
//! the door opens or the books' disk fills.

use super::*;

impl VendCore {
    pub(super) fn coin_return(&mut self, out: &mut Vec<Command>) {
        if self.vend.is_some() || self.payout.is_some() {
            out.push(Command::Display(Screen::PleaseWait));
            return;
        }
        self.lapse_offer(Lapse::CreditReturned, out);
        if self.storage_full {
            // Paying out is money moving: it waits until the books can record it.
            let credit = self.credit;
            self.show(Screen::StorageFull { credit }, out);
            return;
        }
        if self.changer_ready && self.credit > Cents::ZERO {
            return self.pay_change(out);
        }
        let coins = match self.payout_spec {
            Some(spec) if spec.coin > Cents::ZERO => self.credit.get() / spec.coin.get(),
            _ => 0,
        };
        let Some(spec) = self.payout_spec.filter(|_| coins > 0) else {
            out.push(Command::Notice(Notice::CreditKept {
                credit: self.credit,
            }));
            self.show(
                Screen::CreditKept {
                    credit: self.credit,
                },
                out,
            );
            return;
        };
        let coins = u32::try_from(coins).unwrap_or(u32::MAX);
        let amount = Cents::new(spec.coin.get() * u64::from(coins));
        out.push(Command::Notice(Notice::PayoutStarted { coins, amount }));
        out.push(Command::Display(Screen::PayingOut { amount }));
        self.screen_until = None;
        self.payout = Some(PayoutRun {
            left: coins,
            paid: 0,
            pulse_until: Some(self.now + spec.pulse),
            next_at: self.now,
            changer: None,
        });
        out.push(Command::Payout { on: true });
    }

    /// The hopper's deadline has come (at `self.now`): a pulse ends (a coin left), or the next
    /// one starts.
    pub(super) fn payout_deadline(&mut self, out: &mut Vec<Command>) {
        if self.payout.is_some_and(|r| r.changer.is_some()) {
            return self.change_overdue(out);
        }
        let at = self.now;
        let (Some(mut run), Some(spec)) = (self.payout, self.payout_spec) else {
            self.payout = None;
            return;
        };
        if run.pulse_until.take().is_some() {
            // The coin left the hopper with this pulse: take it off the credit.
            out.push(Command::Payout { on: false });
            self.credit = self.credit.saturating_sub(spec.coin);
            self.ledger.returned = self.ledger.returned.saturating_add(spec.coin);
            run.left -= 1;
            run.paid += 1;
            out.push(Command::Notice(Notice::CoinPaidOut {
                amount: spec.coin,
                credit: self.credit,
            }));
            if run.left == 0 || self.credit < spec.coin || self.storage_full {
                self.finish_payout(run, out);
                return;
            }
            run.next_at = at + spec.gap;
        } else if self.storage_full {
            self.finish_payout(run, out);
            return;
        } else {
            run.pulse_until = Some(at + spec.pulse);
            out.push(Command::Payout { on: true });
        }
        self.payout = Some(run);
    }

    pub(super) fn finish_payout(&mut self, run: PayoutRun, out: &mut Vec<Command>) {
        self.payout = None;
        out.push(Command::Notice(Notice::PayoutFinished {
            coins: run.paid,
            credit: self.credit,
        }));
        if self.credit > Cents::ZERO {
            self.show(
                Screen::CreditKept {
                    credit: self.credit,
                },
                out,
            );
        } else {
            out.push(Command::Display(self.idle_screen()));
        }
    }
}
