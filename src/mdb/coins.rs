//! The coin changer's driver (MDB/ICP 4.2, 5.x, level 3): bringing the changer up in the spec's
//! order (RESET, POLL until JUST RESET, SETUP, EXPANSION IDENTIFICATION and FEATURE ENABLE, TUBE
//! STATUS, COIN TYPE), polling it, and paying change with the level 3 PAYOUT, checked against
//! what PAYOUT STATUS says was paid: change the changer could not pay is reported as owed,
//! never lost.
//!
//! Pure: it says which command to send next and takes each exchange's outcome. Owns: the
//! changer's state, the tubes as last reported. Must not touch: credit, the books.

use std::collections::VecDeque;
use std::time::Duration;

use happiness_hardware::Timestamp;

use super::bus::Outcome;
use super::changer::{command, Activity, ChangerSetup, Route, Status, Tubes};
use super::liveness::Liveness;
use super::wire::{Command, Reply};
use crate::money::Cents;

/// What the driver tells the controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoinEvent {
    /// The changer is set up and accepting coins.
    Ready,
    /// It stopped answering, or was reset: a payout under way is reported with what it paid.
    Lost {
        /// Why, in words.
        why: String,
    },
    /// A coin came in, worth this much (to a tube for change, or to the cash box).
    CoinIn {
        /// Its value.
        value: Cents,
        /// Whether it went to a tube.
        to_tube: bool,
    },
    /// The route driver paid coins out by hand (not the customer's money).
    ManualPayout {
        /// Their value.
        value: Cents,
    },
    /// The customer pressed the coin return lever.
    ReturnLever,
    /// A payout is over: this much was paid, and `owed` could not be.
    Paid {
        /// Paid out.
        paid: Cents,
        /// Asked for and not paid (the changer ran short).
        owed: Cents,
    },
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
    Features,
    TubeStatus,
    CoinType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Starting(Step),
    Running,
    /// PAYOUT sent for this much; PAYOUT VALUE POLL until the changer says it is done (ACK).
    Paying {
        asked: Cents,
    },
    /// PAYOUT STATUS sent: what was paid, per coin type.
    Counting {
        asked: Cents,
    },
}

/// The coin changer's driver.
#[derive(Debug, Clone)]
pub struct Coins {
    state: State,
    setup: Option<ChangerSetup>,
    tubes: Option<Tubes>,
    queue: VecDeque<Command>,
    alive: Liveness,
    accepting: bool,
    /// Tube status is asked again after coins move.
    tubes_stale: bool,
    /// When the payout under way was first answered about.
    payout_since: Option<Timestamp>,
    /// What the changer last said the payout under way has paid (PAYOUT VALUE POLL).
    reported: Cents,
}

/// A changer silent this long is taken off the bus (t non-response, 2 s for changers).
const SILENCE: Duration = Duration::from_secs(2);

/// A payout not counted within this long (the changer never said what it paid: it lost the
/// PAYOUT, or answers PAYOUT STATUS with nothing) is settled with what it last said it paid,
/// the rest owed, and a fault: the customer's change is never left hanging.
pub const PAYOUT_LIMIT: Duration = Duration::from_secs(30);

impl Coins {
    /// A changer to bring up.
    pub fn new() -> Coins {
        Coins {
            state: State::Starting(Step::Reset),
            setup: None,
            tubes: None,
            queue: VecDeque::new(),
            alive: Liveness::new(SILENCE),
            accepting: true,
            tubes_stale: false,
            payout_since: None,
            reported: Cents::ZERO,
        }
    }

    /// Whether the changer is up.
    pub fn is_ready(&self) -> bool {
        !matches!(self.state, State::Starting(_))
    }

    /// Whether a payout is under way.
    pub fn is_paying(&self) -> bool {
        matches!(self.state, State::Paying { .. } | State::Counting { .. })
    }

    /// The tubes as last reported.
    pub fn tubes(&self) -> Option<&Tubes> {
        self.tubes.as_ref()
    }

    /// The command to send now.
    pub fn next_command(&mut self) -> Command {
        match self.state {
            State::Starting(step) => match step {
                Step::Reset => command::reset(),
                Step::AwaitJustReset => command::poll(),
                Step::Setup => command::setup(),
                Step::Identify => command::identification(),
                // Alternative payout (bit 0) and extended diagnostics (bit 1).
                Step::Features => command::feature_enable(0x0000_0001),
                Step::TubeStatus => command::tube_status(),
                Step::CoinType => self.coin_type(),
            },
            State::Counting { .. } => command::payout_status(),
            State::Paying { .. } if self.queue.is_empty() => command::payout_value_poll(),
            State::Running | State::Paying { .. } => {
                if let Some(c) = self.queue.pop_front() {
                    return c;
                }
                if self.tubes_stale && !self.is_paying() {
                    self.tubes_stale = false;
                    return command::tube_status();
                }
                command::poll()
            }
        }
    }

    fn coin_type(&self) -> Command {
        let known: u16 = self.setup.as_ref().map_or(0, |s| {
            (0..16u8)
                .filter(|k| s.value_cents(*k).is_some())
                .fold(0, |m, k| m | (1 << k))
        });
        command::coin_type(if self.accepting { known } else { 0 }, known)
    }

    /// Accept coins, or refuse them (the acceptor hands them back).
    pub fn accept(&mut self, on: bool) {
        if self.accepting != on {
            self.accepting = on;
            if self.is_ready() {
                let c = self.coin_type();
                self.queue.push_back(c);
            }
        }
    }

    /// Whether the tubes can pay `amount` exactly, by what they last held.
    pub fn can_pay(&self, amount: Cents) -> bool {
        let (Some(setup), Some(tubes)) = (&self.setup, &self.tubes) else {
            return amount == Cents::ZERO;
        };
        let mut coins: Vec<(u64, u64)> = (0..16u8)
            .filter_map(|k| {
                let value = setup.value_cents(k)?;
                let count = u64::from(*tubes.counts.get(usize::from(k))?);
                Some((value, count))
            })
            .collect();
        coins.sort_by_key(|c| std::cmp::Reverse(c.0));
        let mut left = amount.get();
        for (value, count) in coins {
            let n = (left / value).min(count);
            left -= n * value;
        }
        left == 0
    }

    /// Pay `amount` in change (level 3 PAYOUT: the changer picks the coins).
    pub fn pay(&mut self, amount: Cents) -> Result<(), String> {
        if !self.is_ready() || self.is_paying() {
            return Err("the coin changer is not ready to pay".into());
        }
        let units = self.units(amount).ok_or_else(|| {
            format!("{amount} cannot be paid in this changer's units (or is over 255 of them)")
        })?;
        self.queue.push_back(command::payout(units));
        self.state = State::Paying { asked: amount };
        self.payout_since = None;
        self.reported = Cents::ZERO;
        Ok(())
    }

    fn unit(&self) -> Option<u64> {
        let s = self.setup.as_ref()?;
        (s.decimals <= 2 && s.scale > 0)
            .then(|| u64::from(s.scale) * 10u64.pow(u32::from(2 - s.decimals)))
    }

    fn units(&self, amount: Cents) -> Option<u8> {
        let unit = self.unit()?;
        if !amount.get().is_multiple_of(unit) {
            return None;
        }
        u8::try_from(amount.get() / unit).ok()
    }

    /// The outcome of the exchange for `sent` at `now`.
    pub fn answered(
        &mut self,
        sent: &Command,
        outcome: &Outcome,
        now: Timestamp,
    ) -> Vec<CoinEvent> {
        let mut events = Vec::new();
        let Some(reply) = self.alive.reply(outcome, now) else {
            self.silence(now, &mut events);
            return events;
        };
        if self.overdue_payout(now, &mut events) {
            return events;
        }
        match (self.state, reply) {
            (State::Starting(step), Reply::Ack) => self.started(step, sent, None, &mut events),
            (State::Starting(step), Reply::Data(data)) => {
                self.started(step, sent, Some(data), &mut events);
            }
            (State::Starting(Step::Identify | Step::Features), Reply::Nak) => {
                // A changer without the expansion commands: on to the tubes.
                self.state = State::Starting(Step::TubeStatus);
            }
            (State::Counting { asked }, Reply::Data(data)) => {
                self.counted(asked, data, &mut events);
            }
            // PAYOUT VALUE POLL answered with ACK: the payout is over; count what it paid.
            (State::Paying { asked }, Reply::Ack) if is_value_poll(sent) => {
                self.state = State::Counting { asked };
            }
            (State::Paying { .. }, Reply::Data(data)) if is_value_poll(sent) => {
                if let (Some(units), Some(unit)) = (data.first(), self.unit()) {
                    self.reported = Cents::new(u64::from(*units) * unit);
                }
            }
            (_, Reply::Data(data)) if sent.code() == command::tube_status().code() => {
                if let Ok(t) = Tubes::parse(data) {
                    self.tubes = Some(t);
                }
            }
            (_, Reply::Data(data)) if sent.code() == command::poll().code() => {
                self.polled(data, &mut events);
            }
            (_, Reply::Nak) if sent.code() != command::poll().code() => {
                self.queue.push_front(sent.clone());
            }
            _ => {}
        }
        events
    }

    fn started(
        &mut self,
        step: Step,
        sent: &Command,
        data: Option<&[u8]>,
        events: &mut Vec<CoinEvent>,
    ) {
        let next = match step {
            Step::Reset if sent.code() == 0x08 => Step::AwaitJustReset,
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
            Step::Setup => match data.map(ChangerSetup::parse) {
                Some(Ok(setup)) => {
                    let level3 = setup.level >= 3;
                    self.setup = Some(setup);
                    if level3 {
                        Step::Identify
                    } else {
                        Step::TubeStatus
                    }
                }
                _ => step,
            },
            Step::Identify if data.is_some() => Step::Features,
            Step::Features => Step::TubeStatus,
            Step::TubeStatus => match data.map(Tubes::parse) {
                Some(Ok(t)) => {
                    self.tubes = Some(t);
                    Step::CoinType
                }
                _ => step,
            },
            Step::CoinType => {
                self.state = State::Running;
                events.push(CoinEvent::Ready);
                return;
            }
            other => other,
        };
        self.state = State::Starting(next);
    }

    fn polled(&mut self, data: &[u8], events: &mut Vec<CoinEvent>) {
        let activity = match Activity::parse_all(data) {
            Ok(a) => a,
            Err(e) => {
                events.push(CoinEvent::Fault {
                    what: format!("an answer the coin changer sent could not be read: {e}"),
                });
                return;
            }
        };
        for a in activity {
            match a {
                Activity::Deposited { kind, route, .. } => {
                    let value = self.setup.as_ref().and_then(|s| s.value_cents(kind));
                    match (route, value) {
                        (Route::CashBox | Route::Tube, Some(v)) => {
                            self.tubes_stale = true;
                            events.push(CoinEvent::CoinIn {
                                value: Cents::new(v),
                                to_tube: route == Route::Tube,
                            });
                        }
                        (Route::CashBox | Route::Tube, None) => events.push(CoinEvent::Fault {
                            what: format!("the coin changer took a coin of type {kind}, which its setup does not value"),
                        }),
                        (Route::Rejected | Route::Unused, _) => {}
                    }
                }
                Activity::Dispensed { kind, count, .. } => {
                    self.tubes_stale = true;
                    let value = self
                        .setup
                        .as_ref()
                        .and_then(|s| s.value_cents(kind))
                        .unwrap_or(0);
                    events.push(CoinEvent::ManualPayout {
                        value: Cents::new(value * u64::from(count)),
                    });
                }
                Activity::Status(Status::EscrowRequest) => events.push(CoinEvent::ReturnLever),
                Activity::Status(Status::JustReset) => {
                    if self.is_ready() {
                        self.lose("the coin changer was reset", events);
                        self.state = State::Starting(Step::Setup);
                    }
                }
                Activity::Status(status) => {
                    if let Some(what) = status.fault() {
                        events.push(CoinEvent::Fault {
                            what: format!("coin changer: {what}"),
                        });
                    }
                }
                Activity::Slugs(_) => {}
            }
        }
    }

    /// PAYOUT STATUS: the coins of each type paid.
    fn counted(&mut self, asked: Cents, data: &[u8], events: &mut Vec<CoinEvent>) {
        let paid: u64 = data
            .iter()
            .take(16)
            .enumerate()
            .map(|(k, n)| {
                let value = u8::try_from(k)
                    .ok()
                    .and_then(|k| self.setup.as_ref()?.value_cents(k))
                    .unwrap_or(0);
                value * u64::from(*n)
            })
            .sum();
        let paid = Cents::new(paid);
        self.state = State::Running;
        self.tubes_stale = true;
        self.payout_since = None;
        self.reported = Cents::ZERO;
        events.push(CoinEvent::Paid {
            paid,
            owed: asked.saturating_sub(paid),
        });
    }

    fn lose(&mut self, why: &str, events: &mut Vec<CoinEvent>) {
        self.queue.clear();
        events.push(CoinEvent::Lost { why: why.into() });
        if let State::Paying { asked, .. } | State::Counting { asked } = self.state {
            // What it paid is only known as far as it said: the rest is owed until the tubes
            // are counted by hand.
            self.settle(asked, events);
        }
    }

    /// A payout settled with what the changer last said it paid, the rest owed.
    fn settle(&mut self, asked: Cents, events: &mut Vec<CoinEvent>) {
        let paid = self.reported.min(asked);
        events.push(CoinEvent::Paid {
            paid,
            owed: asked.saturating_sub(paid),
        });
        self.payout_since = None;
        self.reported = Cents::ZERO;
        self.tubes_stale = true;
    }

    /// Whether the payout under way ran past [`PAYOUT_LIMIT`] at `now` (and was settled).
    fn overdue_payout(&mut self, now: Timestamp, events: &mut Vec<CoinEvent>) -> bool {
        let (State::Paying { asked } | State::Counting { asked }) = self.state else {
            return false;
        };
        let since = *self.payout_since.get_or_insert(now);
        if now.saturating_since(since) < PAYOUT_LIMIT {
            return false;
        }
        events.push(CoinEvent::Fault {
            what: "the coin changer did not say what the payout paid".into(),
        });
        self.state = State::Running;
        self.settle(asked, events);
        true
    }

    fn silence(&mut self, now: Timestamp, events: &mut Vec<CoinEvent>) {
        if self.alive.overdue(now).is_none() {
            return;
        }
        if !matches!(self.state, State::Starting(_)) {
            self.lose("the coin changer has stopped answering", events);
        }
        self.state = State::Starting(Step::Reset);
    }
}

/// Whether `sent` is EXPANSION PAYOUT VALUE POLL.
fn is_value_poll(sent: &Command) -> bool {
    sent.code() == 0x0F && sent.data().first() == Some(&0x04)
}

impl Default for Coins {
    fn default() -> Self {
        Coins::new()
    }
}

#[cfg(test)]
mod tests;
