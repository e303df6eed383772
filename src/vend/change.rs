//! Paying credit back through an MDB coin changer: one PAYOUT of the whole credit, the changer
//! choosing the coins from its tubes, and the credit lowered by what it says left them. What it
//! could not pay stays the customer's credit, on the display; nothing is owed silently.

use std::time::Duration;

use super::*;

/// How long the core waits for the changer's answer to a payout before it stops waiting (the
/// changer's driver settles every payout within its own 30 s limit, so this is only for a bus
/// that stopped altogether). The credit stays as it was; an answer that comes later still
/// lowers it by what was paid.
pub const CHANGE_WAIT: Duration = Duration::from_secs(45);

impl VendCore {
    /// Pay the whole credit from the changer's tubes.
    pub(super) fn pay_change(&mut self, out: &mut Vec<Command>) {
        let amount = self.credit;
        out.push(Command::Notice(Notice::PayoutStarted { coins: 0, amount }));
        out.push(Command::Display(Screen::PayingOut { amount }));
        self.screen_until = None;
        self.payout = Some(PayoutRun {
            left: 0,
            paid: 0,
            pulse_until: None,
            next_at: self.now + CHANGE_WAIT,
            changer: Some(amount),
        });
        out.push(Command::PayChange { amount });
    }

    /// The changer says how its payout went. An answer with no payout waiting (it came after
    /// the core stopped waiting) still takes what left the tubes off the credit.
    pub(super) fn change_paid(&mut self, paid: Cents, owed: Cents, out: &mut Vec<Command>) {
        let run = self.payout.filter(|r| r.changer.is_some());
        // Never more than the credit: coins the changer paid beyond it were not the
        // customer's (a route driver's manual payout is reported apart).
        let paid = paid.min(self.credit);
        if paid > Cents::ZERO {
            self.credit = self.credit.saturating_sub(paid);
            self.ledger.returned = self.ledger.returned.saturating_add(paid);
            out.push(Command::Notice(Notice::CoinPaidOut {
                amount: paid,
                credit: self.credit,
            }));
        }
        // What was owed is still in the credit, shown on the display (`finish_payout`).
        let _ = owed;
        match run {
            Some(mut run) => {
                run.paid = u32::from(paid > Cents::ZERO);
                self.finish_payout(run, out);
            }
            None if paid > Cents::ZERO => self.refresh_idle(out),
            None => {}
        }
    }

    /// No answer from the changer in [`CHANGE_WAIT`]: stop waiting, keep the credit.
    pub(super) fn change_overdue(&mut self, out: &mut Vec<Command>) {
        if let Some(run) = self.payout.filter(|r| r.changer.is_some()) {
            self.finish_payout(run, out);
        }
    }
}
