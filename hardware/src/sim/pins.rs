//! `embedded-hal` pins over the shared world: what the controller drives, exactly as on a Pi.

use std::convert::Infallible;
use std::sync::Arc;

use embedded_hal::digital::{ErrorType, InputPin, OutputPin};

use crate::input::InputLine;
use crate::machine::{Machine, OutputRole};
use crate::pins::Polarity;

use super::shared::Shared;

#[derive(Debug, Clone)]
pub struct SimOutputPin {
    pub(super) shared: Arc<Shared>,
    pub(super) role: OutputRole,
    pub(super) polarity: Polarity,
}

/// A simulated output whose driver has stopped answering ([`Fault::DeadDriver`]).
#[derive(Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the driver does not answer")]
pub struct DriverNotAnswering;

impl std::fmt::Debug for DriverNotAnswering {
    // Drivers report errors through `Debug` (all embedded-hal promises): say it in words.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the driver does not answer")
    }
}

impl embedded_hal::digital::Error for DriverNotAnswering {
    fn kind(&self) -> embedded_hal::digital::ErrorKind {
        embedded_hal::digital::ErrorKind::Other
    }
}

impl ErrorType for SimOutputPin {
    type Error = DriverNotAnswering;
}

impl SimOutputPin {
    fn write(&mut self, high: bool) -> Result<(), DriverNotAnswering> {
        let active = self.polarity.is_active(high);
        let now = self.shared.clock.now();
        self.shared.world().set_output(now, self.role, active)?;
        self.shared.wake.notify_one();
        // After the world knows, so that whoever is woken sees the motor running.
        if active && matches!(self.role, OutputRole::Motor(_)) {
            *self
                .shared
                .motor_started
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) =
                Some(std::time::Instant::now());
            self.shared.motor_signal.notify_all();
        }
        Ok(())
    }
}

impl OutputPin for SimOutputPin {
    fn set_low(&mut self) -> Result<(), DriverNotAnswering> {
        self.write(false)
    }

    fn set_high(&mut self) -> Result<(), DriverNotAnswering> {
        self.write(true)
    }
}

/// An input pin of the simulated machine.
#[derive(Debug, Clone)]
pub struct SimInputPin {
    pub(super) shared: Arc<Shared>,
    pub(super) line: InputLine,
    pub(super) polarity: Polarity,
}

impl ErrorType for SimInputPin {
    type Error = Infallible;
}

impl InputPin for SimInputPin {
    fn is_high(&mut self) -> Result<bool, Infallible> {
        let active = self.shared.world().level(self.line);
        Ok(self.polarity.level_for(active))
    }

    fn is_low(&mut self) -> Result<bool, Infallible> {
        self.is_high().map(|h| !h)
    }
}

/// A machine on simulated pins.
pub type SimMachine = Machine<SimOutputPin, SimInputPin>;
