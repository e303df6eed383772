//! Carrying out the campaign's scheduled actions on the simulated world and the controller:
//! coins, presses, faults, config reloads, power cuts, full disks, stops and restarts.

use super::*;

impl Run<'_> {
    pub(super) fn perform(&mut self, action: Action) -> Checked {
        match action {
            Action::Arrive => self.customer(),
            // Refusals (an inhibited acceptor, a machine without a part) are part of the game.
            Action::Coin(pulses) => {
                self.coins.offered += self.value_of(pulses);
                // Handed back if the acceptor is inhibited: the simulator reports that.
                let _ = self.sim.insert_coin(pulses);
            }
            Action::Press(n) => {
                let _ = self.sim.press(n);
            }
            Action::CoinReturn => {
                let _ = self.sim.press_coin_return();
            }
            Action::Take => {
                self.sim.take_tray();
            }
            Action::Fault(f) => {
                self.count(f.name());
                let _ = self.sim.inject(f.fault());
            }
            Action::Door(open) => {
                if open {
                    self.count("door_mid_vend");
                }
                let _ = self.sim.set_door(open);
            }
            Action::ReloadValid => return self.reload_valid(),
            Action::ReloadInvalid => return self.reload_invalid(),
            Action::PowerCut => {
                self.count("power_cut");
                self.sim.power_cut();
                // The controller dies with the power: no shutdown, no all-off, no goodbyes.
                self.drain()?;
                self.controller = None;
                self.boot()?;
            }
            Action::DiskFull => return self.disk_full(),
            Action::DiskFreed => return self.disk_freed(),
            Action::ControllerStop => {
                if self.running().is_some() {
                    self.count("controller_stop");
                    self.stop_controller("the controller stopped (a dead driver, a bug)")?;
                    self.later(1_000..8_000, Action::Restart);
                }
            }
            Action::Restart => {
                if self.running().is_none() {
                    self.count("restart");
                    self.drain()?;
                    self.controller = None;
                    self.boot()?;
                }
            }
            Action::Service => return self.service(),
            Action::EndService => return self.end_service(),
            Action::WalFlip => return self.wal_flip(),
            Action::KeylessEdit => return self.keyless_edit(),
        }
        Ok(())
    }

    /// A power cut, and the write-ahead log's tail unreadable when the power comes back: the
    /// books are as they were at the last start. When that loses records, the start must say so.
    fn wal_flip(&mut self) -> Checked {
        self.sim.power_cut();
        self.drain()?;
        self.controller = None;
        let lost = match &self.copy {
            Some(copy) => copy
                .put_back(&self.journal_name)
                .map_err(|e| (Invariant::ControllerError, e.to_string()))?,
            None => 0,
        };
        if lost == 0 {
            self.count("power_cut");
            return self.boot();
        }
        self.count("wal_flip");
        self.boot_on_damaged_books(
            Invariant::LossNoticed,
            &format!("{lost} committed record write(s) vanished and the machine sold on"),
        )
    }

    /// A power cut, and while it lasts someone deletes the newest coin or payout from the books
    /// with stand-ins for the seal functions. The start must say so.
    fn keyless_edit(&mut self) -> Checked {
        self.sim.power_cut();
        self.drain()?;
        self.controller = None;
        let edited = edit_memory_books_without_key(&self.journal_name)
            .map_err(|e| (Invariant::ControllerError, e.to_string()))?;
        if !edited {
            self.count("power_cut");
            return self.boot();
        }
        self.count("keyless_edit");
        self.boot_on_damaged_books(
            Invariant::EditNoticed,
            "a record deleted without the key went unnoticed and the machine sold on",
        )
    }

    /// Start on books damaged on purpose: the start must refuse them (which ends the seed: an
    /// operator has to come), or `invariant` is violated.
    fn boot_on_damaged_books(&mut self, invariant: Invariant, unnoticed: &str) -> Checked {
        match self.boot() {
            Err((Invariant::BooksSealed, named)) => {
                self.refused = Some(named);
                Ok(())
            }
            Err(other) => Err(other),
            Ok(()) => Err((invariant, unnoticed.to_string())),
        }
    }

    /// A valid variation of the surprise config, put in force (or refused only for a full disk).
    fn reload_valid(&mut self) -> Checked {
        self.count("config_reload_valid");
        self.reloads += 1;
        let p = f64::from(self.rng.random_range(0..=100u32)) / 100.0;
        let text = surprise_variant(&self.campaign.surprises_text, p);
        let parsed = SurpriseConfig::from_toml(
            std::path::Path::new("surprises.toml"),
            &text,
            &self.campaign.machine.columns,
        );
        let cfg = parsed.map_err(|e| {
            (
                Invariant::ControllerError,
                format!("valid reload refused: {e}"),
            )
        })?;
        let disk_full = self.disk.is_some();
        let Some(controller) = self.running() else {
            return Ok(());
        };
        match controller.apply_surprises(&text, "torture") {
            Ok(_) => {
                self.check.policy = cfg.policy.clone();
                self.check.recovery = cfg.recovery.clone();
                self.surprises_now = cfg;
            }
            // A change the books cannot record is refused, and the old one stays.
            Err(ConfigRejection::Storage { .. }) if disk_full => {}
            Err(e) => {
                return Err((
                    Invariant::ControllerError,
                    format!("valid reload refused: {e:?}"),
                ))
            }
        }
        Ok(())
    }

    /// An invalid surprise config, which must be refused.
    fn reload_invalid(&mut self) -> Checked {
        self.count("config_reload_invalid");
        let text = surprise_variant(&self.campaign.surprises_text, 7.0);
        let Some(controller) = self.running() else {
            return Ok(());
        };
        if controller.apply_surprises(&text, "torture").is_ok() {
            return Err((
                Invariant::ControllerError,
                "an invalid surprise config was accepted".into(),
            ));
        }
        Ok(())
    }

    /// The books' disk fills up a few commits from now (the reserve helps most times).
    fn disk_full(&mut self) -> Checked {
        if self.disk.is_some() {
            return Ok(());
        }
        self.count("disk_full");
        let reserve_helps = self.chance(0.85);
        let after = self.rng.random_range(0..4u64);
        let commits = self
            .controller
            .as_ref()
            .map_or(0, |c| c.journal().stats().commits);
        let fault = DiskFault {
            full_at_commit: commits + after,
            reserve_helps,
        };
        if let Some(c) = self.controller.as_mut() {
            c.journal_mut().set_disk_fault(Some(fault));
        }
        self.disk = Some(fault);
        self.later(20_000..120_000, Action::DiskFreed);
        Ok(())
    }

    /// Room is made on the disk.
    fn disk_freed(&mut self) -> Checked {
        self.disk = None;
        match self.running() {
            // The controller notices by itself (it looks again while the disk is full).
            Some(c) => c.journal_mut().set_disk_fault(None),
            // The service manager keeps trying to start it; now it can.
            None => self.later(1_000..5_000, Action::Restart),
        }
        Ok(())
    }

    /// An operator opens the door, clears faults and refills every column.
    fn service(&mut self) -> Checked {
        self.count("operator_service");
        let _ = self.sim.set_door(true);
        let columns = self.campaign.machine.columns.len();
        for i in 0..columns {
            let column = u8::try_from(i).unwrap_or(0);
            let _ = self.sim.inject(Fault::Fix { column });
            let capacity = self.campaign.machine.columns[i].capacity;
            let have = self.sim.stock(i + 1).unwrap_or(0);
            let _ = self.sim.load(i + 1, capacity.saturating_sub(have));
        }
        let _ = self.sim.inject(Fault::StuckBeam {
            sensor: 0,
            stuck: false,
        });
        self.later(2000..20_000, Action::EndService);
        Ok(())
    }

    /// The operator tells the controller about the refill, resets the columns and closes the door.
    fn end_service(&mut self) -> Checked {
        let now = self.now();
        if let Some(controller) = self.running() {
            let mut result = controller.feed(now, Event::Restock { column: None });
            for i in 0..controller.core().column_count() {
                if let Some(column) = ColumnId::from_index(i) {
                    result =
                        result.and_then(|()| controller.feed(now, Event::ResetColumn { column }));
                }
            }
            self.settle(result)?;
        }
        let _ = self.sim.set_door(false);
        Ok(())
    }

    pub(super) fn count_returned(&mut self, notices: &[happiness_hardware::Stamped<SimNotice>]) {
        for n in notices {
            if let SimNotice::CoinReturnedByAcceptor { pulses } = n.event {
                self.coins.returned_by_acceptor += self.value_of(pulses);
            }
        }
    }

    pub(super) fn value_of(&self, pulses: u32) -> u64 {
        self.campaign
            .machine
            .coin_for_pulses(pulses)
            .map_or(0, |c| c.get())
    }
}
