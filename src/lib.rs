//! # happiness
//!
//! The controller of a vending kiosk that always delivers what was paid for and now and then
//! over-delivers. The library holds everything except argument parsing:
//!
//! - [`vend`]: the pure vend state machine (events and time in, commands out);
//! - [`surprise`]: the surprise catalogue, policy and engine (pure, seeded);
//! - [`simulate`]: the Monte Carlo report of what a surprise policy does and costs;
//! - [`localtime`]: local wall-clock time for schedules and daily caps;
//! - [`model`]: the machine's vocabulary (columns, timings, payment mode, lamps), a leaf;
//! - [`money`]: cents as a type;
//! - [`metrics`]: the Prometheus counters, fed from the notices the controller books;
//! - [`config`]: `machine.toml`, parsed strictly and validated with field paths;
//! - [`alerts`]: what needs the operator now, and what to do about it (pure);
//! - [`controller`]: the tokio task that connects hardware events and timers to the core;
//! - [`kiosk`]: assembling a whole running kiosk on the simulator or on a Raspberry Pi;
//! - [`script`]: the line commands (`press 1`, `coin 200`, ...) that drive a simulated kiosk;
//! - [`trace`]: the stream of what the machine saw and did, as text or JSON lines;
//! - [`journal`]: the SQLite books, two-phase vend records and recovery;
//! - [`fleet`]: many kiosks and one operator over an MQTT broker (state, events, commands);
//! - [`torture`]: the seeded whole-machine simulation and fault campaign.
//!
//! Pins, drivers and the simulator's physics live in the `happiness-hardware` crate.

pub mod alerts;
pub mod audit;
pub mod config;
pub mod controller;
pub mod display;
pub mod files;
pub mod fleet;
pub mod i18n;
pub mod journal;
pub mod kiosk;
pub mod localtime;
pub mod mdb;
pub mod metrics;
pub mod model;
pub mod money;
pub mod operator;
pub mod payments;
pub mod script;
pub mod simulate;
pub mod surprise;
pub mod torture;
pub mod trace;
pub mod vend;

pub use happiness_hardware as hardware;
