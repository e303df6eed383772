//! Pin numbers and electrical conventions.
//!
//! Pins are BCM GPIO numbers (what rppal and the Pi's datasheets use), not header positions.
//! Keeping the number in a newtype means a pin can only exist once it has been checked to be a
//! GPIO that the 40-pin header exposes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A BCM GPIO number available on the Raspberry Pi 40-pin header (GPIO 0 to 27).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Gpio(u8);

impl Gpio {
    /// Highest BCM GPIO number brought out on the 40-pin header.
    pub const MAX: u8 = 27;

    /// The pin with BCM number `n`, if the header has it.
    pub fn new(n: u8) -> Option<Self> {
        (n <= Self::MAX).then_some(Gpio(n))
    }

    /// The BCM number.
    pub fn number(self) -> u8 {
        self.0
    }

    /// True for GPIO 0 and 1, which the Pi reserves for the HAT ID EEPROM (I2C0).
    pub fn is_hat_eeprom(self) -> bool {
        self.0 <= 1
    }
}

impl fmt::Display for Gpio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GPIO{}", self.0)
    }
}

/// Which electrical level means "active" (pressed, blocked, open, on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Polarity {
    /// High is active.
    #[default]
    ActiveHigh,
    /// Low is active: the usual wiring for a switch to ground with a pull-up, and for many
    /// opto-isolated relay boards.
    ActiveLow,
}

impl Polarity {
    /// The logical state for an electrical level.
    pub fn is_active(self, high: bool) -> bool {
        match self {
            Polarity::ActiveHigh => high,
            Polarity::ActiveLow => !high,
        }
    }

    /// The electrical level (true = high) that represents `active`.
    pub fn level_for(self, active: bool) -> bool {
        self.is_active(active)
    }
}

/// The Pi's internal bias resistor for an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pull {
    /// No internal bias: the circuit provides it (an external pull-up or a driven output).
    None,
    /// Internal pull-up (about 50 kOhm): switch to ground, active low.
    #[default]
    Up,
    /// Internal pull-down.
    Down,
}

/// How an output pin is wired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct OutputSpec {
    /// The pin.
    pub pin: Gpio,
    /// Which level switches the load on.
    pub polarity: Polarity,
}

/// How an input pin is wired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct InputSpec {
    /// The pin.
    pub pin: Gpio,
    /// Which level means active.
    pub polarity: Polarity,
    /// Internal bias resistor.
    pub pull: Pull,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_header_gpios_exist() {
        assert!(Gpio::new(27).is_some());
        assert!(Gpio::new(28).is_none());
        assert_eq!(Gpio::new(17).map(|g| g.to_string()), Some("GPIO17".into()));
    }

    #[test]
    fn polarity_maps_levels_both_ways() {
        assert!(Polarity::ActiveLow.is_active(false));
        assert!(!Polarity::ActiveLow.is_active(true));
        assert!(Polarity::ActiveHigh.level_for(true));
        assert!(!Polarity::ActiveLow.level_for(true));
    }
}
