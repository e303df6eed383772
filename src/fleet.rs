//! The fleet link: many kiosks, one operator, over an MQTT broker.
//!
//! Each kiosk publishes a retained summary of itself (`happiness/{id}/state`, with a last will
//! that says it went offline), every record of its books in order (`happiness/{id}/events`, from
//! the journal's outbox, each with its sequence number `seq`), and answers the commands on its
//! own `happiness/{id}/cmd` on `happiness/{id}/reply`. The operator's side reads every machine's
//! state and events into one table and sends commands.
//!
//! Layout: `protocol` (topics, the command grammar, the state summary and the event envelope:
//! pure), `acks` (which outbox copies the broker has: pure), `mqtt` (connection options, TLS and
//! credentials, shared by both sides), `link` (the kiosk's side: a task beside the controller that
//! never holds it up), `command` (carrying out a command through the operator's actions),
//! `view` (the fleet table: pure), `client` (the operator's side: watching, sending, pushing), and
//! `page` (the fleet table as a live web page).. The link owns no machine state: it reads the status, asks the
//! controller for outbox copies and hands operator actions over exactly as the HTTP API does.
//! It must never make vending wait for the broker.

pub mod acks;
pub mod client;
mod command;
pub mod link;
pub mod mqtt;
pub mod page;
pub mod protocol;
pub mod view;

pub use link::FleetLink;
pub use mqtt::{Credentials, FleetError};
