//! The controller's life in the campaign: booting on the books in memory (checked first, as the
//! kiosk does), stopping safely as the kiosk's dispatch would, and restarting.

use super::*;

impl Run<'_> {
    /// Start (or restart after a power cut) the controller on the books kept in memory.
    pub(super) fn boot(&mut self) -> Checked {
        let err = |e: String| (Invariant::ControllerError, e);
        let mut journal =
            Journal::open_shared_memory(&self.journal_name).map_err(|e| err(e.to_string()))?;
        let elapsed = i64::try_from(self.now().as_micros() / 1_000_000).unwrap_or(0);
        let surprises = self.surprises_now.clone();
        // Every start checks the books first, as the kiosk does: the seals must hold over
        // whatever the journal wrote, cut short or not.
        let check = journal
            .check_books()
            .map_err(|e| (Invariant::BooksSealed, e.to_string()))?;
        if let Some(e) = check.failure(journal.path()) {
            return Err((Invariant::BooksSealed, e.to_string()));
        }
        // What the books will come back as if the write-ahead log is damaged before the next.
        self.copy = Some(
            MemoryCopy::take(&self.journal_name)
                .map_err(|e| (Invariant::ControllerError, e.to_string()))?,
        );
        // A disk still full at a restart has no reserve left: it went to the last run.
        journal.set_disk_fault(self.disk.map(|_| DiskFault {
            full_at_commit: 0,
            reserve_helps: false,
        }));
        let recovery = match journal.recover(
            &self.campaign.machine,
            self.start_local.plus_secs(elapsed),
            surprises.policy.budget_window_hours,
        ) {
            Ok(r) => r,
            // A full disk with no reserve left: the kiosk cannot start until room is made (the
            // service manager keeps trying; the outputs stay as the last stop left them).
            Err(e) if e.is_storage_full() && self.disk.is_some() => {
                self.controller = None;
                return Ok(());
            }
            Err(e) => return Err(err(e.to_string())),
        };
        let machine = self.sim.machine().map_err(|e| err(e.to_string()))?;
        let mut sink = TraceSink::new();
        self.trace = Some(sink.subscribe());
        // The controller's local time starts at the simulation's start, so it must count from the
        // same zero as the manual clock: give it the start and let it add elapsed time.
        let mut setup = Setup::basic(
            Arc::clone(&self.campaign.machine),
            surprises,
            self.seed ^ 0x5eed_5a4f_0000_0001,
            LocalClock::StartingAt(self.start_local),
        );
        setup.inject_bug = self.campaign.inject_bug;
        let started = Controller::new(
            setup,
            Box::new(machine),
            self.clock.clone(),
            sink,
            journal,
            &recovery,
        );
        self.controller = match started {
            Ok((controller, _status)) => Some(controller),
            Err(ControllerError::Journal(e)) if e.is_storage_full() && self.disk.is_some() => None,
            Err(e) => return Err(err(e.to_string())),
        };
        // A restarted machine knows no open vend; what the cut left open was closed by recovery.
        self.check.open = None;
        Ok(())
    }

    /// What a controller's step came to: a stop the fault model provoked (the disk full with
    /// the reserve gone) is the machine stopping safely; anything else is a violation.
    pub(super) fn settle(&mut self, result: Result<(), ControllerError>) -> Checked {
        match result {
            Ok(()) => Ok(()),
            Err(ControllerError::Journal(e)) if e.is_storage_full() && self.disk.is_some() => {
                self.stop_controller(&e.to_string())
            }
            Err(e) => Err((Invariant::ControllerError, e.to_string())),
        }
    }

    /// The controller stops as the kiosk's does: safe state, out of service, counting only a coin
    /// already on its way in, until the service manager restarts it.
    pub(super) fn stop_controller(&mut self, reason: &str) -> Checked {
        if let Some(c) = self.controller.as_mut() {
            c.halt(reason);
            if !self.sim.motors_on().is_empty() {
                return Err((
                    Invariant::SafeStop,
                    format!("motors on after the stop: {:?}", self.sim.motors_on()),
                ));
            }
        }
        self.drain()
    }

    /// The controller, if one runs and has not stopped.
    pub(super) fn running(&mut self) -> Option<&mut Controller> {
        self.controller.as_mut().filter(|c| !c.is_halted())
    }

    pub(super) fn controller(&mut self) -> Result<&mut Controller, (Invariant, String)> {
        self.controller.as_mut().ok_or((
            Invariant::ControllerError,
            "no controller running".to_string(),
        ))
    }
}
