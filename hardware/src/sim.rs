//! The simulated machine: pins wired to a small physics model, with faults on demand.
//!
//! [`World`] is the physics, pure and time-explicit: spirals turn while their motor is on (one
//! revolution takes [`SimParams::turn`]), the cam switch closes at home, an item leaves the spiral
//! part-way round and falls through the drop beam a little later, columns run empty, and injected
//! faults jam a spiral, hide an item from the beam, drop two items, hold the beam blocked, or make
//! switches bounce. Every randomness comes from one seeded ChaCha8 generator.
//!
//! [`SimOutputPin`] and [`SimInputPin`] implement the `embedded-hal` traits over a shared world, so
//! the controller drives the simulator through exactly the same [`Machine`] and drivers as the
//! Raspberry Pi. [`run_physics`] is the tokio task that lets the world's time follow the clock
//! and forwards its input edges; [`SimHandle`] is what a person or a test uses to press buttons,
//! insert coins, open the door and inject faults.

mod handle;
mod pins;
mod probe;
mod shared;
mod task;
mod world;

use std::time::Duration;

use serde::Serialize;

use crate::time::Timestamp;

pub use handle::{build, SimHandle};
pub use pins::{DriverNotAnswering, SimInputPin, SimMachine, SimOutputPin};
pub use task::run_physics;
pub use world::World;

/// Physical constants of the simulated machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimParams {
    /// Time for one spiral revolution with the motor on.
    pub turn: Duration,
    /// Part of the revolution, from home, during which the cam switch is closed.
    pub home_width: Duration,
    /// Point of the revolution at which the front item leaves the spiral.
    pub release_at: Duration,
    /// Time from leaving the spiral to reaching the drop beam.
    pub fall: Duration,
    /// How long a falling item blocks the beam.
    pub beam_block: Duration,
    /// How long a simulated finger holds a button.
    pub press_hold: Duration,
    /// Width of a coin acceptor pulse.
    pub coin_pulse: Duration,
    /// Gap between the pulses of one coin.
    pub coin_pulse_gap: Duration,
    /// Idle time the acceptor leaves between two coins.
    pub coin_gap: Duration,
    /// Seed for bounce patterns and any other randomness.
    pub seed: u64,
}

impl Default for SimParams {
    fn default() -> Self {
        SimParams {
            turn: Duration::from_millis(1200),
            home_width: Duration::from_millis(100),
            release_at: Duration::from_millis(900),
            fall: Duration::from_millis(250),
            beam_block: Duration::from_millis(30),
            press_hold: Duration::from_millis(120),
            coin_pulse: Duration::from_millis(30),
            coin_pulse_gap: Duration::from_millis(70),
            coin_gap: Duration::from_millis(400),
            seed: 0,
        }
    }
}

/// What is physically in one column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimColumnSpec {
    /// Product name printed on the items.
    pub product: String,
    /// Items actually loaded (may differ from what the controller believes).
    pub stock: u32,
    /// Index of the drop beam its items fall through.
    pub sensor: u8,
}

/// A fault to inject into the simulated machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Fault {
    /// The column's spiral stalls until [`Fault::Unjam`].
    Jam {
        /// Column index.
        column: u8,
    },
    /// Clears every column fault (jam, blind beam, hung item, double drop).
    Fix {
        /// Column index.
        column: u8,
    },
    /// Items from the column fall past the beam without being seen (a misaligned beam), until
    /// [`Fault::Fix`].
    MissBeam {
        /// Column index.
        column: u8,
    },
    /// The next item from the column hangs on the spiral instead of falling; the next turn
    /// (a nudge) frees it.
    Hang {
        /// Column index.
        column: u8,
    },
    /// The next release from the column drops two items.
    DoubleDrop {
        /// Column index.
        column: u8,
    },
    /// The column is physically empty.
    Empty {
        /// Column index.
        column: u8,
    },
    /// A drop beam reads blocked (stuck) or recovers.
    StuckBeam {
        /// Sensor index.
        sensor: u8,
        /// True to stick, false to recover.
        stuck: bool,
    },
    /// The driver of the column's motor stops answering (a dead relay board or port expander):
    /// every command to it fails and the motor stays as it was, on or off, until [`Fault::Fix`].
    DeadDriver {
        /// Column index.
        column: u8,
    },
    /// Every switch (buttons, door, home switches, coin line) bounces on each change.
    Bounce {
        /// True to turn bounce on.
        on: bool,
    },
}

/// Something the simulated world did that an observer may want to see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SimNotice {
    /// An item landed in the delivery tray.
    ItemInTray {
        /// Column index it came from.
        column: u8,
        /// Product name.
        product: String,
    },
    /// A motor turned on a jammed spiral.
    MotorStalled {
        /// Column index.
        column: u8,
    },
    /// The payout hopper dropped a coin into the return cup.
    CoinPaidOut,
    /// The coin acceptor is inhibited and handed a coin straight back.
    CoinReturnedByAcceptor {
        /// The pulses the coin would have given (what it is worth).
        pulses: u32,
    },
}

/// An item waiting in the delivery tray.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrayItem {
    /// Column index it came from.
    pub column: u8,
    /// Product name.
    pub product: String,
    /// When it landed.
    pub at: Timestamp,
}

/// A simulator request that makes no sense for this machine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// No button with that number.
    #[error("there is no button {0} (this machine has {1})")]
    NoSuchButton(usize, usize),
    /// No column with that number.
    #[error("there is no column {0} (this machine has {1})")]
    NoSuchColumn(usize, usize),
    /// No drop sensor with that number.
    #[error("there is no drop sensor {0} (this machine has {1})")]
    NoSuchSensor(usize, usize),
    /// The wiring has no such input.
    #[error("this machine has no {0}")]
    NotFitted(&'static str),
    /// A coin with an impossible pulse count.
    #[error("a coin must give between 1 and 100 pulses, not {0}")]
    BadPulseCount(u32),
    /// The acceptor is inhibited (credit is at its maximum) and returns coins.
    #[error("the coin acceptor is not accepting coins right now (it is inhibited): coin returned")]
    Inhibited,
}

#[cfg(test)]
mod tests;
