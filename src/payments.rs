//! Payments over MDB, the I/O side: the bus master's own thread, driving a port (the Pi's
//! UART, a socket to peripherals attached from outside, or the simulated peripherals) with the
//! real time, and handing the devices' events on.
//!
//! Layout: `runner` (the thread: words in and out on time, requests from other threads applied
//! between exchanges), `port` (naming a port: `sim`, `tcp:HOST:PORT`, `unix:PATH`,
//! `uart:DEVICE`), `sim_port` (the simulated peripherals in this process), `socket` (words as
//! text lines over a stream socket).
//!
//! Owns: the bus's thread and ports. Must not touch: what the words mean (`mdb`'s), credit, the
//! books.

pub mod port;
pub mod runner;
pub mod sim_port;
pub mod socket;

pub use port::{open_port, PortName};
pub use runner::{spawn, Bus, Request};

#[cfg(test)]
mod tests;
