//! The checks after every step and at the end: credit, motors, stock, the acceptor, the books,
//! and every coin accounted for.

use super::*;

impl Run<'_> {
    /// Feed the controller's trace to the checker (and keep it, when asked to).
    pub(super) fn drain(&mut self) -> Checked {
        let Some(rx) = self.trace.as_mut() else {
            return Ok(());
        };
        let mut records = Vec::new();
        while let Ok(r) = rx.try_recv() {
            records.push(r);
        }
        for r in records {
            if self.campaign.keep_trace {
                self.outcome.trace.push(format!(
                    "{:>6} {}",
                    self.step,
                    r.to_text(&self.campaign.machine.currency)
                ));
            }
            if let TraceEntry::Unrecorded { notices } = &r.entry {
                for n in notices {
                    if let Notice::CreditIn { amount, .. } = n {
                        self.coins.logged_unrecorded += amount.get();
                    }
                }
            }
            if let TraceEntry::Command {
                command: Command::Notice(n),
                ..
            } = &r.entry
            {
                match n {
                    Notice::VendStarted { .. } => self.outcome.vends += 1,
                    Notice::VendDelivered { .. } => self.outcome.delivered += 1,
                    _ => {}
                }
            }
            self.check.command(self.start_local, &r)?;
        }
        Ok(())
    }

    /// The checks after every step.
    pub(super) fn invariants(&mut self) -> Checked {
        self.acceptor_follows_books()?;
        // A stopped controller's core holds what its last step did, recorded or not: the books
        // are checked at the restart instead.
        if self.controller.as_ref().is_none_or(Controller::is_halted) {
            return Ok(());
        }
        self.credit_conserved()?;
        self.motors()?;
        if std::mem::take(&mut self.check.stock_changed) {
            self.stock_matches_books()?;
        }
        Ok(())
    }

    /// No coin goes in that the books cannot record: without a running controller that can
    /// write its books, the acceptor is inhibited.
    fn acceptor_follows_books(&self) -> Checked {
        let why_not = match self.controller.as_ref() {
            None => Some("no controller runs"),
            Some(c) if c.is_halted() => Some("the controller has stopped"),
            Some(c) if c.core().storage_full() => Some("the books' disk is full"),
            Some(_) => None,
        };
        // (A machine wired without an inhibit line cannot keep coins out; the shipped one can.)
        let can_inhibit = self.campaign.machine.wiring.coin_inhibit.is_some();
        match why_not.filter(|_| can_inhibit && !self.sim.inhibited()) {
            Some(why) => Err((
                Invariant::AcceptorFollowsBooks,
                format!("the acceptor takes coins while {why}"),
            )),
            None => Ok(()),
        }
    }

    /// Money inserted is spent, paid back, or held as credit or escrow.
    fn credit_conserved(&self) -> Checked {
        let Some(controller) = self.controller.as_ref() else {
            return Ok(());
        };
        let core = controller.core();
        let l = core.ledger();
        let held = l
            .spent
            .saturating_add(l.returned)
            .saturating_add(core.credit())
            .saturating_add(core.escrow());
        if l.inserted == held {
            return Ok(());
        }
        Err((
            Invariant::CreditConserved,
            format!(
                "inserted {} != spent {} + paid back {} + credit {} + escrow {}",
                l.inserted,
                l.spent,
                l.returned,
                core.credit(),
                core.escrow()
            ),
        ))
    }

    /// At most one motor on, and none for longer than the hard limit.
    fn motors(&self) -> Checked {
        let on = self.sim.motors_on_since();
        if on.len() > 1 {
            return Err((Invariant::OneMotor, format!("motors on: {on:?}")));
        }
        let limit = self.campaign.machine.timings.max_motor_on;
        if let Some((c, since)) = on.first() {
            let for_how_long = self.now().saturating_since(*since);
            if for_how_long > limit {
                return Err((
                    Invariant::MotorTimeLimit,
                    format!(
                        "column {} motor on for {for_how_long:?} (limit {limit:?})",
                        c + 1
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The controller's stock is the books' stock, within each column's capacity.
    fn stock_matches_books(&self) -> Checked {
        let Some(controller) = self.controller.as_ref() else {
            return Ok(());
        };
        let books = controller
            .journal()
            .inventory()
            .map_err(|e| (Invariant::StockMatchesJournal, e.to_string()))?;
        for (no, stock) in books {
            let column = usize::try_from(no).ok().and_then(ColumnId::from_number);
            let Some(column) = column else { continue };
            let mine = controller.core().stock(column).unwrap_or(0);
            let capacity = self.campaign.machine.columns[column.index()].capacity;
            if i64::from(mine) != stock || mine > capacity {
                return Err((
                    Invariant::StockMatchesJournal,
                    format!(
                        "column {column}: controller says {mine}, journal says {stock} (capacity {capacity})"
                    ),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn finish(&mut self) -> Checked {
        // The operator makes room and the kiosk runs again, for the last checks.
        if self.disk.take().is_some() {
            if let Some(c) = self.controller.as_mut() {
                c.journal_mut().set_disk_fault(None);
            }
        }
        if self.running().is_none() {
            self.drain()?;
            self.controller = None;
            self.boot()?;
        }
        // Let the last vend, surprise and payout finish.
        let end = self.now() + Duration::from_secs(60);
        while let Some(t) = self.next_time() {
            if t > end {
                break;
            }
            self.step += 1;
            self.step_once(t)?;
        }
        let controller = self.controller()?;
        controller
            .stop()
            .map_err(|e| (Invariant::ControllerError, e.to_string()))?;
        self.drain()?;
        let controller = self.controller()?;
        let journal = controller.journal();
        let open = journal
            .open_vends()
            .map_err(|e| (Invariant::IntentHasOneOutcome, e.to_string()))?;
        if open > 0 && !controller.core().is_vending() {
            return Err((
                Invariant::IntentHasOneOutcome,
                format!("{open} vend intents without an outcome"),
            ));
        }
        let report = journal
            .report()
            .map_err(|e| (Invariant::BooksBalance, e.to_string()))?;
        if !report.money.balanced {
            return Err((Invariant::BooksBalance, format!("{:?}", report.money)));
        }
        if report.integrity != "ok" {
            return Err((
                Invariant::BooksBalance,
                format!("integrity: {}", report.integrity),
            ));
        }
        if let Some(problem) = report.seals.problems.first() {
            return Err((Invariant::BooksSealed, problem.to_string()));
        }
        // Every coin a customer put in is in the books, back in their hand (an inhibited
        // acceptor returns it), or named in the log of a controller that stopped on a full disk.
        let (_, late) = self.sim.advance(self.now());
        self.count_returned(&late);
        let c = &self.coins;
        let recorded = report.money.inserted.get();
        if c.offered != recorded + c.returned_by_acceptor + c.logged_unrecorded {
            return Err((
                Invariant::CoinsAccounted,
                format!(
                    "customers inserted {} but the books hold {recorded}, the acceptor handed \
                     back {} and {} were logged as not recorded",
                    c.offered, c.returned_by_acceptor, c.logged_unrecorded
                ),
            ));
        }
        Ok(())
    }
}
