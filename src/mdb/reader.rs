//! The cashless reader's driver (MDB/ICP 4.2, 7.4): bringing the reader up in the spec's order
//! (RESET, POLL until JUST RESET, SETUP CONFIG DATA, SETUP MAX/MIN PRICES, EXPANSION REQUEST ID,
//! READER ENABLE), polling it, and carrying a card session through: BEGIN SESSION, VEND REQUEST,
//! VEND APPROVED or DENIED, VEND SUCCESS or VEND FAILURE (the reader refunds the card), SESSION
//! COMPLETE, END SESSION.
//!
//! The promise it keeps for the controller: a vend is only ever reported approved after the
//! reader said VEND APPROVED; VEND SUCCESS is sent only for an approved vend and only when the
//! controller says the item dropped; a vend that did not drop is reported VEND FAILURE, so the
//! card is not charged. A reader that stops answering for its non-response time is taken off
//! the bus, reset and brought back.
//!
//! Pure: it says which command to send next and takes each exchange's outcome; the bus
//! exchange and the port are someone else's. Owns: the reader's state. Must not touch: credit,
//! the books, the motors.

use std::collections::VecDeque;
use std::time::Duration;

use happiness_hardware::Timestamp;

use super::bus::Outcome;
use super::cashless::{command, malfunction_text, Message, ReaderConfig};
use super::liveness::Liveness;
use super::wire::{Command, Reply};
use crate::money::Cents;

/// What the driver tells the controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderEvent {
    /// The reader is set up and enabled: cards can be taken.
    Ready,
    /// The reader stopped answering, or was reset: no session can go on. A vend that was
    /// approved and not yet finished was never confirmed (so never charged).
    Lost {
        /// Why, in words.
        why: String,
    },
    /// A card or phone is there with this much to spend (`None`: the reader does not say).
    SessionBegun {
        /// Funds available.
        funds: Option<Cents>,
    },
    /// The vend asked for is paid by card: dispense it.
    Approved {
        /// What the card will be charged.
        amount: Cents,
    },
    /// The vend asked for is refused: dispense nothing.
    Denied,
    /// The reader wants the session ended (the card taken away, its own timeout).
    CancelRequested,
    /// The session is over.
    SessionEnded,
    /// Who the reader is (its answer to EXPANSION REQUEST ID): manufacturer code and serial
    /// number, for the books to name the reader each card sale went through.
    Identified {
        /// `MMM SERIAL`, trimmed.
        id: String,
    },
    /// The reader reports a fault.
    Fault {
        /// In words.
        what: String,
    },
}

/// Why a request to the reader is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReaderRefusal {
    /// No session is open (no card presented).
    #[error("no card session is open")]
    NoSession,
    /// A vend is already under way in this session.
    #[error("a card vend is already under way")]
    Busy,
    /// The card has less than the price.
    #[error("the card has {funds} and the item costs {price}")]
    InsufficientFunds {
        /// Funds available.
        funds: Cents,
        /// The price.
        price: Cents,
    },
    /// The price cannot be written in the reader's units (or is over its largest).
    #[error("the price {0} cannot be sent to this reader (its scale does not divide it)")]
    Unpriceable(Cents),
    /// No vend was approved to report on.
    #[error("no approved card vend to report")]
    NotApproved,
    /// The reader is not ready.
    #[error("the card reader is not ready")]
    NotReady,
}

/// Where the reader is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Bringing it up: the step to send next.
    Starting(Step),
    /// Set up and enabled, no card.
    Enabled,
    /// A card is there.
    Session,
    /// A vend was asked for (item, price in cents).
    Requested { item: u16, price: Cents },
    /// The vend was approved for this amount; waiting for the item.
    Approved { item: u16, amount: Cents },
    /// SESSION COMPLETE sent; waiting for END SESSION.
    Ending,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Reset,
    AwaitJustReset,
    SetupConfig,
    /// The setup was acknowledged without its data: the config comes in a poll.
    AwaitConfig,
    SetupPrices,
    RequestId,
    Enable,
}

/// The reader's driver.
#[derive(Debug, Clone)]
pub struct Reader {
    state: State,
    config: Option<ReaderConfig>,
    /// Commands the session asked for, sent before the next poll.
    queue: VecDeque<Command>,
    /// When it last answered, against how long it may stay silent before it is taken off the
    /// bus.
    alive: Liveness,
    /// The prices the VMC will ask for, for SETUP MAX/MIN PRICES.
    max_price: Cents,
    min_price: Cents,
}

/// The non-response time used until the reader's setup gives its own.
const DEFAULT_SILENCE: Duration = Duration::from_secs(5);

impl Reader {
    /// A reader to bring up, for items priced from `min_price` to `max_price`.
    pub fn new(min_price: Cents, max_price: Cents) -> Reader {
        Reader {
            state: State::Starting(Step::Reset),
            config: None,
            queue: VecDeque::new(),
            alive: Liveness::new(DEFAULT_SILENCE),
            max_price,
            min_price,
        }
    }

    /// Whether the reader is up (enabled, or in a session).
    pub fn is_ready(&self) -> bool {
        !matches!(self.state, State::Starting(_))
    }

    /// Whether a card session is open.
    pub fn in_session(&self) -> bool {
        matches!(
            self.state,
            State::Session | State::Requested { .. } | State::Approved { .. }
        )
    }

    /// The reader's configuration, once it sent it.
    pub fn config(&self) -> Option<ReaderConfig> {
        self.config
    }

    /// The command to send now.
    pub fn next_command(&mut self) -> Command {
        if let State::Starting(step) = self.state {
            return match step {
                Step::Reset => command::reset(),
                Step::AwaitJustReset | Step::AwaitConfig => command::poll(),
                Step::SetupConfig => command::setup_config(0, 0),
                Step::SetupPrices => {
                    let max = self.units(self.max_price).unwrap_or(u16::MAX);
                    let min = self.units(self.min_price).unwrap_or(0);
                    command::setup_prices(max, min)
                }
                Step::RequestId => command::request_id(),
                Step::Enable => command::reader_enable(),
            };
        }
        self.queue.pop_front().unwrap_or_else(command::poll)
    }

    /// Ask the card for `price` for item `item` (the column number).
    pub fn vend(&mut self, price: Cents, item: u16) -> Result<(), ReaderRefusal> {
        match self.state {
            State::Session => {}
            State::Requested { .. } | State::Approved { .. } => return Err(ReaderRefusal::Busy),
            State::Starting(_) => return Err(ReaderRefusal::NotReady),
            State::Enabled | State::Ending => return Err(ReaderRefusal::NoSession),
        }
        let units = self.units(price).ok_or(ReaderRefusal::Unpriceable(price))?;
        self.queue.push_back(command::vend_request(units, item));
        self.state = State::Requested { item, price };
        Ok(())
    }

    /// The approved vend is over: `dropped` if the drop sensor saw the item (VEND SUCCESS, the
    /// card is charged), otherwise VEND FAILURE (the reader refunds it). Then the session is
    /// completed.
    pub fn vend_done(&mut self, dropped: bool) -> Result<(), ReaderRefusal> {
        let State::Approved { item, .. } = self.state else {
            return Err(ReaderRefusal::NotApproved);
        };
        self.queue.push_back(if dropped {
            command::vend_success(item)
        } else {
            command::vend_failure()
        });
        self.complete();
        Ok(())
    }

    /// The customer ends the session (coin return, walking away): SESSION COMPLETE. A vend
    /// asked for and not answered yet is cancelled first.
    pub fn end_session(&mut self) {
        match self.state {
            State::Session => self.complete(),
            State::Requested { .. } => {
                self.queue.push_back(command::vend_cancel());
                self.complete();
            }
            // An approved vend ends with its outcome, never by a cancel.
            State::Approved { .. } | State::Starting(_) | State::Enabled | State::Ending => {}
        }
    }

    /// Tell the reader of an item paid with cash (for its own audit), if it takes them.
    pub fn cash_sale(&mut self, price: Cents, item: u16) {
        if !self.is_ready() || !self.config.is_some_and(ReaderConfig::takes_cash_sales) {
            return;
        }
        if let Some(units) = self.units(price) {
            self.queue.push_back(command::cash_sale(units, item));
        }
    }

    fn complete(&mut self) {
        self.queue.push_back(command::session_complete());
        self.state = State::Ending;
    }

    /// `cents` in the reader's scaled units, if it divides exactly and fits.
    fn units(&self, cents: Cents) -> Option<u16> {
        let config = self.config?;
        if config.decimals > 2 || config.scale == 0 {
            return None;
        }
        let unit = u64::from(config.scale) * 10u64.pow(u32::from(2 - config.decimals));
        if !cents.get().is_multiple_of(unit) {
            return None;
        }
        u16::try_from(cents.get() / unit).ok()
    }

    fn cents(&self, units: u32) -> Option<Cents> {
        let config = self.config?;
        if config.decimals > 2 {
            return None;
        }
        let unit = u64::from(config.scale) * 10u64.pow(u32::from(2 - config.decimals));
        Some(Cents::new(u64::from(units) * unit))
    }

    /// The outcome of the exchange for `sent` at `now`: what it means for the controller.
    pub fn answered(
        &mut self,
        sent: &Command,
        outcome: &Outcome,
        now: Timestamp,
    ) -> Vec<ReaderEvent> {
        let mut events = Vec::new();
        let Some(reply) = self.alive.reply(outcome, now) else {
            self.silence(now, &mut events);
            return events;
        };
        match reply {
            Reply::Nak => match self.state {
                // A reader without the expansion commands: go on without its id.
                State::Starting(Step::RequestId) => self.state = State::Starting(Step::Enable),
                // A start step is simply tried again.
                State::Starting(_) => {}
                // Not now: a command of the session is sent again.
                _ if sent.code() != command::poll().code() => self.queue.push_front(sent.clone()),
                _ => {}
            },
            Reply::Ack => self.acknowledged(sent, &mut events),
            Reply::Data(data) => {
                let level = self.config.map_or(1, |c| c.level);
                match Message::parse_all(data, level) {
                    Ok(messages) => {
                        self.acknowledged(sent, &mut events);
                        for m in messages {
                            self.on_message(m, &mut events);
                        }
                    }
                    Err(e) => events.push(ReaderEvent::Fault {
                        what: format!("an answer the reader sent could not be read: {e}"),
                    }),
                }
            }
        }
        events
    }

    /// A start step that was taken (an ACK, or data) moves the start on.
    fn acknowledged(&mut self, sent: &Command, events: &mut Vec<ReaderEvent>) {
        let State::Starting(step) = self.state else {
            return;
        };
        let next = match step {
            Step::Reset if sent.code() == 0x10 => Step::AwaitJustReset,
            Step::SetupConfig if sent.code() == 0x11 => Step::AwaitConfig,
            Step::SetupPrices if sent.code() == 0x11 => Step::RequestId,
            Step::RequestId if sent.code() == 0x17 => Step::Enable,
            Step::Enable if sent.code() == 0x14 => {
                self.state = State::Enabled;
                events.push(ReaderEvent::Ready);
                return;
            }
            other => other,
        };
        self.state = State::Starting(next);
    }

    fn on_message(&mut self, message: Message, events: &mut Vec<ReaderEvent>) {
        match message {
            Message::JustReset => {
                if let State::Starting(Step::AwaitJustReset) = self.state {
                    self.state = State::Starting(Step::SetupConfig);
                } else if self.is_ready() {
                    self.lose("the card reader was reset", events);
                    self.state = State::Starting(Step::SetupConfig);
                }
            }
            Message::Config(config) => {
                self.config = Some(config);
                self.alive.set_limit(
                    Duration::from_secs(u64::from(config.max_response_s.max(1)))
                        .max(DEFAULT_SILENCE),
                );
                if let State::Starting(Step::SetupConfig | Step::AwaitConfig) = self.state {
                    self.state = State::Starting(Step::SetupPrices);
                }
            }
            Message::BeginSession { funds, .. } => {
                if self.state == State::Enabled {
                    self.state = State::Session;
                    let funds = funds.and_then(|f| self.cents(f));
                    events.push(ReaderEvent::SessionBegun { funds });
                }
            }
            Message::VendApproved { amount } => {
                if let State::Requested { item, price } = self.state {
                    let amount = self.cents(amount).unwrap_or(price);
                    self.state = State::Approved { item, amount };
                    events.push(ReaderEvent::Approved { amount });
                }
            }
            Message::VendDenied => {
                if let State::Requested { .. } = self.state {
                    self.state = State::Session;
                    events.push(ReaderEvent::Denied);
                    // A denied card ends its session: the customer may try another or pay cash.
                    self.complete();
                }
            }
            Message::SessionCancelRequest => {
                events.push(ReaderEvent::CancelRequested);
                // An approved vend runs to its end first; otherwise the session ends now.
                if !matches!(self.state, State::Approved { .. }) {
                    self.end_session();
                }
            }
            Message::EndSession => {
                if self.in_session() || self.state == State::Ending {
                    self.lose_vend(events);
                    self.state = State::Enabled;
                    events.push(ReaderEvent::SessionEnded);
                }
            }
            Message::Malfunction { code } => events.push(ReaderEvent::Fault {
                what: format!("card reader: {} (code {code:#04x})", malfunction_text(code)),
            }),
            Message::PeripheralId {
                manufacturer,
                serial,
                ..
            } => events.push(ReaderEvent::Identified {
                id: format!("{} {}", manufacturer.trim(), serial.trim())
                    .trim()
                    .to_string(),
            }),
            Message::Display { .. }
            | Message::Cancelled
            | Message::OutOfSequence
            | Message::RevalueApproved
            | Message::RevalueDenied
            | Message::RevalueLimit { .. }
            | Message::TimeDateRequest => {}
        }
    }

    /// A session that ends while a vend was approved and not reported: it was never
    /// confirmed, so the card is not charged for it.
    fn lose_vend(&mut self, events: &mut Vec<ReaderEvent>) {
        if let State::Approved { .. } = self.state {
            events.push(ReaderEvent::Lost {
                why: "the card session ended before the vend was confirmed: the card is not \
                      charged for it"
                    .into(),
            });
        }
    }

    fn lose(&mut self, why: &str, events: &mut Vec<ReaderEvent>) {
        self.lose_vend(events);
        self.queue.clear();
        events.push(ReaderEvent::Lost { why: why.into() });
    }

    /// An exchange got no answer: past the reader's non-response time, it is taken off the bus
    /// and brought up again from RESET.
    fn silence(&mut self, now: Timestamp, events: &mut Vec<ReaderEvent>) {
        let Some(silent) = self.alive.overdue(now) else {
            return;
        };
        if !matches!(self.state, State::Starting(_)) {
            self.lose(
                &format!(
                    "the card reader has not answered for {} s",
                    silent.as_secs()
                ),
                events,
            );
        }
        self.state = State::Starting(Step::Reset);
    }
}

#[cfg(test)]
mod tests;
