//! Stopping: a clean stop at the end of a run, and the safe stop after a failure. Either way the
//! outputs go to their safe state (every motor and the payout off, the coin acceptor inhibited),
//! the display and the status say "out of service", and the trace records what was done; a
//! failure also lights the fault lamp. A stopped controller decides and records nothing more,
//! but counts a coin already on its way in and names it in the log.

use happiness_hardware::{InputEvent, Stamped};

use super::{Controller, ControllerError};
use crate::trace::{display_text, TraceEntry, TraceRecord};
use crate::vend::{ColumnId, Command, LampRole, Notice, Screen};

impl Controller {
    /// The end of a clean run: the safe state, every lamp dark, "out of service" on the status.
    /// Fails when an output could not be put in its safe state.
    pub fn stop(&mut self) -> Result<(), ControllerError> {
        let result = self.out_of_service_outputs("the kiosk has stopped", false);
        result.map_err(ControllerError::from)
    }

    /// Stop selling for good after a failure: the safe state, the fault lamp, "out of service"
    /// with `reason` on the display and the status, each traced. The credit stays in the books
    /// for the next start. Calling it again only puts the outputs back in their safe state.
    pub fn halt(&mut self, reason: &str) {
        if self.halted.is_some() {
            let _ = self.hw.safe_off();
            self.light_fault_lamps();
            return;
        }
        tracing::error!("out of service: {reason}");
        self.record(
            self.clock.now(),
            TraceEntry::Error {
                message: format!("out of service: {reason}"),
            },
        );
        // A failure to reach an output is traced by the stop itself.
        let _ = self.out_of_service_outputs(reason, true);
    }

    /// Put the outputs in their safe state (motors and payout off, coin acceptor inhibited, lamps
    /// off) without any bookkeeping: the fallback when a failed step cannot even be halted.
    pub fn hardware_safe(&mut self) {
        let _ = self.hw.safe_off();
    }

    /// Whether the controller has stopped for good (until restarted): out of service, outputs
    /// safe, only counting a coin that was already on its way in.
    pub fn is_halted(&self) -> bool {
        self.halted.is_some()
    }

    /// Whether a vend (with its surprise items) or a payout is under way: a stop waits for it.
    pub fn under_way(&self) -> bool {
        self.core.is_vending() || self.core.is_paying_out()
    }

    /// Whether a coin's pulses are being counted (a stopped controller waits for it to end).
    pub fn counting_coin(&self) -> bool {
        self.conditioner.coin_in_progress()
    }

    /// The safe state and the out-of-service display and status, with every command traced and
    /// the stop last (naming any motor that would not switch off).
    fn out_of_service_outputs(
        &mut self,
        reason: &str,
        fault: bool,
    ) -> Result<(), happiness_hardware::HwError> {
        let now = self.clock.now();
        let running = self.hw.running_motors();
        let off = self.hw.safe_off();
        let still_on = self.hw.running_motors();
        if let Err(e) = &off {
            self.record(
                now,
                TraceEntry::Error {
                    message: format!("could not put every output in its safe state: {e}"),
                },
            );
        }
        let stopped: Vec<ColumnId> = running
            .iter()
            .filter(|c| !still_on.contains(c))
            .filter_map(|c| ColumnId::from_index(*c))
            .collect();
        let mut done: Vec<Command> = stopped
            .iter()
            .map(|&column| Command::Motor { column, on: false })
            .collect();
        done.push(Command::CoinInhibit { on: true });
        let fault_lit = fault && self.light_fault_lamps();
        if !fault {
            self.lamps_on.clear();
        }
        for role in LampRole::ALL {
            let on = role == LampRole::Fault && fault_lit;
            done.push(Command::Lamp { role, on });
        }
        // The price of a vend left open is the customer's again at the next start.
        let screen = Screen::OutOfService {
            credit: self.core.credit().saturating_add(self.core.escrow()),
        };
        self.screen = Some(screen.clone());
        done.push(Command::Display(screen));
        self.halted = Some(reason.to_string());
        for command in done {
            let text = display_text(&command, &self.config.currency);
            self.record(now, TraceEntry::Command { command, text });
        }
        self.record(
            now,
            TraceEntry::Stopped {
                motors_stopped: stopped,
                motors_still_on: still_on
                    .iter()
                    .filter_map(|c| ColumnId::from_index(*c))
                    .collect(),
            },
        );
        self.publish();
        off
    }

    /// Light the fault lamps (every other lamp is off after the safe state). Returns whether
    /// they all lit.
    fn light_fault_lamps(&mut self) -> bool {
        let lit = self
            .config
            .lamps
            .iter()
            .enumerate()
            .filter(|(_, r)| **r == LampRole::Fault)
            .fold(true, |all, (i, _)| self.hw.set_lamp(i, true).is_ok() && all);
        self.lamps_on = if lit {
            vec![LampRole::Fault]
        } else {
            Vec::new()
        };
        lit
    }

    /// After a stop nothing is sold or recorded, but a coin the acceptor was already paying in
    /// is counted to its end and named in the log, so that an operator can give it back.
    pub(super) fn input_while_stopped(&mut self, input: Stamped<InputEvent>) {
        let InputEvent::CoinPulses { count } = input.event else {
            return;
        };
        let Some(amount) = self.config.coin_for_pulses(count) else {
            tracing::error!(
                pulses = count,
                "an unknown coin came in as the controller stopped"
            );
            return;
        };
        let credit = self.core.credit().saturating_add(amount);
        let entry = TraceEntry::Unrecorded {
            notices: vec![Notice::CreditIn { amount, credit }],
        };
        tracing::error!(
            "{}",
            TraceRecord::new(input.at, entry.clone()).to_text(&self.config.currency)
        );
        self.record(input.at, entry);
    }
}
