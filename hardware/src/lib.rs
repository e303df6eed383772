//! # happiness-hardware
//!
//! Everything the vending controller needs to know about pins, and nothing about vending policy.
//!
//! This crate owns:
//! - [`pins`]: BCM pin numbers and electrical polarity, as types.
//! - [`drivers`]: motor, lamp, button, drop sensor, home switch, coin input and door switch drivers,
//!   each generic over the `embedded-hal` 1.x digital traits so the same driver runs over Raspberry
//!   Pi pins, simulated pins, or `embedded-hal-mock` expectations.
//! - [`input`]: the pure signal conditioning that turns timestamped raw edges into clean events
//!   (debounce, pulse-width filtering, coin pulse counting, stuck-sensor detection).
//! - [`machine`]: the one interface ([`Hardware`]) the controller drives, implemented once for any
//!   pin type.
//! - [`rpi`]: the Raspberry Pi backend (rppal); [`sim`]: the simulated machine with a physics model
//!   and fault injection.
//! - [`mdb`]: the port an MDB bus master drives (words with their mode bit), and the Pi's UART
//!   behind it.
//!
//! It must not know about prices, credit, surprises or the journal: the application crate depends
//! on this one, never the reverse.

pub mod drivers;
pub mod input;
pub mod machine;
pub mod mdb;
pub mod pins;
pub mod rpi;
pub mod sim;
mod time;

pub use input::{
    EdgeSink, InputConditioner, InputEvent, InputLayout, InputLine, InputTiming, PulseTiming,
    RawEdge, Stamped,
};
pub use machine::{AuxOutput, Hardware, HwError, InputSnapshot, Machine, OutputRole, Wiring};
pub use pins::{Gpio, InputSpec, OutputSpec, Polarity, Pull};
pub use time::{Clock, ManualTime, Timestamp};
