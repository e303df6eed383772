//! The bill validator's driver (MDB/ICP 4.2, section 6, levels 1 and 2): bringing the validator
//! up in the spec's order (RESET, POLL until JUST RESET, SETUP, EXPANSION IDENTIFICATION at
//! level 2, STACKER, BILL TYPE), polling it, and carrying each bill through escrow: a bill held
//! in escrow is reported to the controller, which says stack (keep it, give credit) or return
//! (hand it back); credit is due only once the validator says the bill was stacked.
//!
//! The promise it keeps: a bill the validator took is always reported, as stacked (credit due)
//! or as a bill whose fate is not known (the validator went silent or reset after it was told
//! to stack), never dropped silently. [`should_stack`] is the rule for which bills to keep.
//!
//! Pure: it says which command to send next and takes each exchange's outcome. Owns: the
//! validator's state, the bill in escrow. Must not touch: credit, the books.

use std::collections::VecDeque;
use std::time::Duration;

use happiness_hardware::Timestamp;

use super::bill::{command, Activity, BillSetup, Routing, Stacker, Status};
use super::bus::Outcome;
use super::liveness::Liveness;
use super::wire::{Command, Reply};
use crate::money::Cents;

/// What the driver tells the controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BillEvent {
    /// The validator is set up and taking bills.
    Ready,
    /// It stopped answering, or was reset.
    Lost {
        /// Why, in words.
        why: String,
    },
    /// A bill is held in escrow: say [`Bills::stack`] or [`Bills::give_back`].
    Escrowed {
        /// Its value.
        value: Cents,
    },
    /// A bill went into the stacker: the machine has it, and its value is the customer's.
    Stacked {
        /// Its value.
        value: Cents,
    },
    /// A bill was handed back out of escrow.
    Returned {
        /// Its value.
        value: Cents,
    },
    /// A bill was refused (not genuine, not accepted now, or taken back by hand from escrow).
    Rejected,
    /// The validator was told to stack this bill and then went silent or reset before saying
    /// where it went: the bill may be in the stacker. Never dropped silently.
    Unsure {
        /// Its value.
        value: Cents,
    },
    /// The stacker is full: no bill is taken until it is emptied.
    StackerFull,
    /// A fault, in words.
    Fault {
        /// What is wrong.
        what: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Reset,
    AwaitJustReset,
    Setup,
    Identify,
    Stacker,
    BillType,
}

/// A bill in escrow and what was decided for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    /// Waiting for the controller.
    Waiting { kind: u8, value: Cents },
    /// ESCROW sent (`stack` or not); waiting for the poll that says where it went.
    Told {
        kind: u8,
        value: Cents,
        stack: bool,
        /// When the controller decided.
        at: Timestamp,
    },
}

/// The bill validator's driver.
#[derive(Debug, Clone)]
pub struct Bills {
    step: Option<Step>,
    setup: Option<BillSetup>,
    held: Option<Held>,
    queue: VecDeque<Command>,
    alive: Liveness,
    accepting: bool,
    stacker_full: bool,
    /// STACKER is asked again after a bill is stacked.
    stacker_stale: bool,
}

/// How long a bill told to stack or return may take to be reported there (the spec allows
/// a validator up to 30 s for an ESCROW command's work).
const ESCROW_LIMIT: Duration = Duration::from_secs(30);

/// A validator silent this long is taken off the bus (t non-response, 5 s for validators).
const SILENCE: Duration = Duration::from_secs(5);

impl Bills {
    /// A validator to bring up.
    pub fn new() -> Bills {
        Bills {
            step: Some(Step::Reset),
            setup: None,
            held: None,
            queue: VecDeque::new(),
            alive: Liveness::new(SILENCE),
            accepting: true,
            stacker_full: false,
            stacker_stale: false,
        }
    }

    /// Whether the validator is up.
    pub fn is_ready(&self) -> bool {
        self.step.is_none()
    }

    /// The bill in escrow waiting for a decision, by value.
    pub fn waiting(&self) -> Option<Cents> {
        match self.held {
            Some(Held::Waiting { value, .. }) => Some(value),
            _ => None,
        }
    }

    /// Whether a bill is in escrow (waiting, or told where to go and not there yet).
    pub fn is_holding(&self) -> bool {
        self.held.is_some()
    }

    /// The validator's setup, once it sent it.
    pub fn setup(&self) -> Option<&BillSetup> {
        self.setup.as_ref()
    }

    /// The command to send now.
    pub fn next_command(&mut self) -> Command {
        if let Some(step) = self.step {
            return match step {
                Step::Reset => command::reset(),
                Step::AwaitJustReset => command::poll(),
                Step::Setup => command::setup(),
                Step::Identify => command::identification(),
                Step::Stacker => command::stacker(),
                Step::BillType => self.bill_type(),
            };
        }
        if let Some(c) = self.queue.pop_front() {
            return c;
        }
        if self.stacker_stale {
            self.stacker_stale = false;
            return command::stacker();
        }
        command::poll()
    }

    fn bill_type(&self) -> Command {
        let known: u16 = self.setup.as_ref().map_or(0, |s| {
            (0..16u8)
                .filter(|k| s.value_cents(*k).is_some())
                .fold(0, |m, k| m | (1 << k))
        });
        let on = self.accepting && !self.stacker_full;
        // Every bill it takes is held in escrow, so none is kept that the controller did not
        // decide to keep.
        command::bill_type(if on { known } else { 0 }, known)
    }

    /// Take bills, or refuse them.
    pub fn accept(&mut self, on: bool) {
        if self.accepting != on {
            self.accepting = on;
            self.send_bill_type();
        }
    }

    fn send_bill_type(&mut self) {
        if self.is_ready() {
            let c = self.bill_type();
            self.queue.push_back(c);
        }
    }

    /// Keep the bill in escrow (decided at `now`): it goes to the stacker, and
    /// [`BillEvent::Stacked`] follows.
    pub fn stack(&mut self, now: Timestamp) -> Result<(), String> {
        self.decide(true, now)
    }

    /// Hand the bill in escrow back (decided at `now`).
    pub fn give_back(&mut self, now: Timestamp) -> Result<(), String> {
        self.decide(false, now)
    }

    fn decide(&mut self, stack: bool, at: Timestamp) -> Result<(), String> {
        let Some(Held::Waiting { kind, value }) = self.held else {
            return Err("no bill is waiting in escrow".into());
        };
        self.queue.push_back(command::escrow(stack));
        self.held = Some(Held::Told {
            kind,
            value,
            stack,
            at,
        });
        Ok(())
    }

    /// The outcome of the exchange for `sent` at `now`.
    pub fn answered(
        &mut self,
        sent: &Command,
        outcome: &Outcome,
        now: Timestamp,
    ) -> Vec<BillEvent> {
        let mut events = Vec::new();
        let Some(reply) = self.alive.reply(outcome, now) else {
            self.silence(now, &mut events);
            return events;
        };
        if let Some(step) = self.step {
            self.started(step, sent, reply, &mut events);
            return events;
        }
        self.overdue(now, &mut events);
        match reply {
            Reply::Data(data) if sent.code() == command::poll().code() => {
                self.polled(data, &mut events);
            }
            Reply::Data(data) if sent.code() == command::stacker().code() => {
                if let Ok(s) = Stacker::parse(data) {
                    self.stacker(s, &mut events);
                }
            }
            // A command other than POLL refused: it is sent again.
            Reply::Nak if sent.code() != command::poll().code() => {
                self.queue.push_front(sent.clone());
            }
            _ => {}
        }
        events
    }

    fn started(&mut self, step: Step, sent: &Command, reply: &Reply, events: &mut Vec<BillEvent>) {
        let data = match reply {
            Reply::Data(d) => Some(d.as_slice()),
            Reply::Ack => None,
            Reply::Nak => {
                // A level 1 validator has no expansion command: on to the stacker.
                if step == Step::Identify {
                    self.step = Some(Step::Stacker);
                }
                return;
            }
        };
        let next = match step {
            Step::Reset if sent.code() == command::reset().code() => Step::AwaitJustReset,
            Step::AwaitJustReset => {
                let reset = data
                    .and_then(|d| Activity::parse_all(d).ok())
                    .is_some_and(|a| a.contains(&Activity::Status(Status::JustReset)));
                if reset {
                    Step::Setup
                } else {
                    step
                }
            }
            Step::Setup => match data.map(BillSetup::parse) {
                Some(Ok(setup)) => {
                    let level2 = setup.level >= 2;
                    self.setup = Some(setup);
                    if level2 {
                        Step::Identify
                    } else {
                        Step::Stacker
                    }
                }
                _ => step,
            },
            Step::Identify if data.is_some() => Step::Stacker,
            Step::Stacker => match data.map(Stacker::parse) {
                Some(Ok(s)) => {
                    self.stacker_full = s.full;
                    if s.full {
                        events.push(BillEvent::StackerFull);
                    }
                    Step::BillType
                }
                _ => step,
            },
            Step::BillType => {
                self.step = None;
                events.push(BillEvent::Ready);
                return;
            }
            other => other,
        };
        self.step = Some(next);
    }

    fn stacker(&mut self, s: Stacker, events: &mut Vec<BillEvent>) {
        if s.full != self.stacker_full {
            self.stacker_full = s.full;
            if s.full {
                events.push(BillEvent::StackerFull);
            }
            self.send_bill_type();
        }
    }

    fn polled(&mut self, data: &[u8], events: &mut Vec<BillEvent>) {
        let activity = match Activity::parse_all(data) {
            Ok(a) => a,
            Err(e) => {
                events.push(BillEvent::Fault {
                    what: format!("an answer the bill validator sent could not be read: {e}"),
                });
                return;
            }
        };
        for a in activity {
            match a {
                Activity::Bill { kind, to } => self.bill(kind, to, events),
                Activity::Status(Status::JustReset) => {
                    self.lose("the bill validator was reset", events);
                    self.step = Some(Step::Setup);
                }
                Activity::Status(Status::BillRemoved) => {
                    // Pulled back out of escrow by the customer: no credit, and the bill is
                    // theirs again, so it is settled as returned.
                    if let Some(Held::Waiting { value, .. } | Held::Told { value, .. }) =
                        self.held.take()
                    {
                        events.push(BillEvent::Returned { value });
                    }
                }
                Activity::Status(Status::BillRejected) => events.push(BillEvent::Rejected),
                Activity::Status(status) => {
                    if let Some(what) = status.fault() {
                        events.push(BillEvent::Fault {
                            what: what.to_string(),
                        });
                    }
                }
                Activity::AttemptsWhileDisabled(_) => {}
            }
        }
    }

    fn bill(&mut self, kind: u8, to: Routing, events: &mut Vec<BillEvent>) {
        let value = self
            .setup
            .as_ref()
            .and_then(|s| s.value_cents(kind))
            .map(Cents::new);
        match to {
            Routing::Escrow => match (value, self.held) {
                (Some(value), None) => {
                    self.held = Some(Held::Waiting { kind, value });
                    events.push(BillEvent::Escrowed { value });
                }
                // The same bill reported again (a repeated poll answer): nothing new.
                (Some(_), Some(Held::Waiting { kind: k, .. } | Held::Told { kind: k, .. }))
                    if k == kind => {}
                // A bill type its setup does not value, or a second bill while one is held:
                // hand it back rather than keep what cannot be credited.
                _ => self.queue.push_back(command::escrow(false)),
            },
            Routing::Stacked | Routing::Returned => {
                let stacked = to == Routing::Stacked;
                if stacked {
                    self.stacker_stale = true;
                }
                let value = match self.held {
                    // The bill in escrow went where it was told (or where the validator chose).
                    Some(Held::Waiting { kind: k, value } | Held::Told { kind: k, value, .. })
                        if k == kind =>
                    {
                        self.held = None;
                        Some(value)
                    }
                    // Another bill (stacked without escrow), valued by the setup; a bill held
                    // keeps waiting for its own outcome.
                    _ => value,
                };
                match (value, stacked) {
                    (Some(value), true) => events.push(BillEvent::Stacked { value }),
                    (Some(value), false) => events.push(BillEvent::Returned { value }),
                    (None, true) => events.push(BillEvent::Fault {
                        what: format!(
                            "the bill validator stacked a bill of type {kind}, which its setup does not value"
                        ),
                    }),
                    (None, false) => {}
                }
            }
            Routing::DisabledRejected => events.push(BillEvent::Rejected),
            // Recycler movements are the route driver's, never the customer's.
            Routing::ToRecycler
            | Routing::ManualFill
            | Routing::ManualDispense
            | Routing::RecyclerToCashbox => {}
        }
    }

    /// A bill told where to go and not reported there within [`ESCROW_LIMIT`] while the
    /// validator answers: settled as if the validator had been lost, with a fault.
    fn overdue(&mut self, now: Timestamp, events: &mut Vec<BillEvent>) {
        let Some(Held::Told {
            at, value, stack, ..
        }) = self.held
        else {
            return;
        };
        let waited = now.as_micros().saturating_sub(at.as_micros());
        if u128::from(waited) < ESCROW_LIMIT.as_micros() {
            return;
        }
        self.held = None;
        events.push(BillEvent::Fault {
            what: "the bill validator did not say where the bill in escrow went".into(),
        });
        events.push(if stack {
            BillEvent::Unsure { value }
        } else {
            BillEvent::Returned { value }
        });
    }

    fn lose(&mut self, why: &str, events: &mut Vec<BillEvent>) {
        self.queue.clear();
        events.push(BillEvent::Lost { why: why.into() });
        match self.held.take() {
            // Told to stack and not seen stacked: it may be in the stacker.
            Some(Held::Told {
                value, stack: true, ..
            }) => events.push(BillEvent::Unsure { value }),
            // A validator returns the bill in escrow when it resets (or it is in its
            // throat): the customer has it back.
            Some(Held::Waiting { value, .. } | Held::Told { value, .. }) => {
                events.push(BillEvent::Returned { value });
            }
            None => {}
        }
    }

    fn silence(&mut self, now: Timestamp, events: &mut Vec<BillEvent>) {
        if self.alive.overdue(now).is_none() {
            return;
        }
        if self.step.is_none() {
            self.lose("the bill validator has stopped answering", events);
        }
        self.step = Some(Step::Reset);
    }
}

impl Default for Bills {
    fn default() -> Self {
        Bills::new()
    }
}

/// Whether to keep a bill of `value` held in escrow, given the customer's `credit`, the most
/// credit the machine takes (`limit`), the cheapest price of something that can be sold now
/// (`cheapest`, `None`: nothing can be sold), and whether change of an amount can be paid.
///
/// A bill is kept only if the credit stays within the limit and, whatever the customer buys, the
/// change is there: after the cheapest item the rest must be payable in coins. So a bill is
/// never kept that the machine could only pay back by owing.
pub fn should_stack(
    value: Cents,
    credit: Cents,
    limit: Cents,
    cheapest: Option<Cents>,
    can_pay: impl Fn(Cents) -> bool,
) -> bool {
    let Some(cheapest) = cheapest else {
        return false;
    };
    let total = credit.saturating_add(value);
    if total > limit {
        return false;
    }
    can_pay(total.saturating_sub(cheapest))
}

#[cfg(test)]
mod tests;
