//! Carrying out one command of the vend core: motors, lamps, the display state, the coin
//! inhibit and the hopper on the hardware; change, card commands and the acceptors' inhibit to
//! the payment devices. Which failures stop the machine is decided here, per command.

use happiness_hardware::AuxOutput;

use super::{Controller, DriveError};
use crate::vend::Command;

impl Controller {
    /// Carry out one command on the hardware (or the display state).
    pub(super) fn drive(&mut self, command: &Command) -> Result<(), DriveError> {
        match command {
            Command::Motor { column, on } => {
                // A motor that will not stop is the one failure we cannot ride out. A motor that
                // will not start delivers nothing: the core's sure-vend timeout refunds the
                // customer.
                self.hw
                    .set_motor(column.index(), *on)
                    .map_err(|error| DriveError {
                        error,
                        must_stop: !*on,
                    })
            }
            Command::Lamp { role, on } => {
                self.lamps_on.retain(|r| r != role);
                if *on {
                    self.lamps_on.push(*role);
                }
                let mut result = Ok(());
                for (i, lamp_role) in self.config.lamps.iter().enumerate() {
                    if lamp_role == role {
                        // A dead lamp must not stop a sale.
                        if let Err(error) = self.hw.set_lamp(i, *on) {
                            result = Err(DriveError {
                                error,
                                must_stop: false,
                            });
                        }
                    }
                }
                result
            }
            Command::Display(screen) => {
                self.screen = Some(screen.clone());
                Ok(())
            }
            Command::CoinInhibit { on } | Command::Payout { on } => {
                if matches!(command, Command::CoinInhibit { .. }) {
                    self.drive_payments(command);
                }
                let aux = if matches!(command, Command::Payout { .. }) {
                    AuxOutput::Payout
                } else {
                    AuxOutput::CoinInhibit
                };
                // Without the inhibit line coins are still credited; a hopper that fails to pay
                // shows as credit kept. Neither loses money.
                self.hw.set_aux(aux, *on).map_err(|error| DriveError {
                    error,
                    must_stop: false,
                })
            }
            // The surprise lamp follows the core's lamp commands; the pattern itself is for
            // displays that can animate it (the trace carries it there).
            Command::Notice(_) | Command::Show { .. } => Ok(()),
            // The card reader's requests go to the bus thread (the core makes them only after
            // a reader on it reported itself ready).
            Command::PayChange { .. }
            | Command::CardVend { .. }
            | Command::CardVendResult { .. }
            | Command::CardEndSession
            | Command::CardCashSale { .. } => {
                self.drive_payments(command);
                Ok(())
            }
        }
    }
}
