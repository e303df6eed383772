//! The bus master: one exchange at a time, shared between the devices on the bus (MDB/ICP 4.2,
//! 2.3: the VMC is the only master; it addresses one peripheral, waits for its answer or the
//! response time, and only then addresses the next).
//!
//! Each cycle gives every device present one exchange, in the order changer, bill validator,
//! card reader: the command its driver asks for (a queued one, or POLL), then the outcome back
//! to the driver, whose events come out tagged with the device. A cycle starts [`Master::gap`]
//! after the last one ended, so an idle bus is polled a few dozen times a second and never
//! flooded.
//!
//! Pure: words and the time in, words to send and events out; [`Master::deadline`] says when it
//! must be asked again if no word arrives. The port carries the words.
//!
//! Owns: the order of exchanges. Must not touch: ports, what a device's answers mean (its
//! driver's), credit.

use std::time::Duration;

use happiness_hardware::Timestamp;

use super::bills::{BillEvent, Bills};
use super::bus::{Exchange, Outcome, Progress, Timing};
use super::coins::{CoinEvent, Coins};
use super::reader::{Reader, ReaderEvent};
use super::wire::Word;

/// A device class on the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Device {
    /// The coin changer (address 08h).
    Changer,
    /// The bill validator (address 30h).
    Bills,
    /// The cashless reader #1 (address 10h).
    Reader,
}

impl Device {
    /// The order a cycle visits them in.
    const ORDER: [Device; 3] = [Device::Changer, Device::Bills, Device::Reader];

    fn index(self) -> usize {
        match self {
            Device::Changer => 0,
            Device::Bills => 1,
            Device::Reader => 2,
        }
    }

    /// The device's name in words.
    pub fn name(self) -> &'static str {
        match self {
            Device::Changer => "coin changer",
            Device::Bills => "bill validator",
            Device::Reader => "card reader",
        }
    }
}

/// What a device's driver said after an exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MdbEvent {
    /// From the coin changer.
    Coins(CoinEvent),
    /// From the bill validator.
    Bills(BillEvent),
    /// From the card reader.
    Reader(ReaderEvent),
}

/// What the master asks of the port after a word or a deadline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tick {
    /// Words to send now, in order.
    pub send: Vec<Word>,
    /// What the devices said.
    pub events: Vec<MdbEvent>,
}

/// The bus master over the devices configured.
#[derive(Debug, Clone)]
pub struct Master {
    coins: Option<Coins>,
    bills: Option<Bills>,
    reader: Option<Reader>,
    timing: Timing,
    gap: Duration,
    /// The exchange under way, and whose it is.
    current: Option<(Device, Exchange)>,
    /// The next device in the cycle (an index into [`Device::ORDER`]).
    turn: usize,
    /// When the next exchange may start, while none is under way.
    next_start: Timestamp,
    /// A device that gave no answer is left out of the cycles until then (changer, bills,
    /// reader), so an absent one costs the others one failed exchange a second, not one a
    /// cycle.
    resting: [Option<Timestamp>; 3],
}

/// How long a device that did not answer is left out of the cycles.
pub const ABSENT_RETRY: Duration = Duration::from_secs(1);

/// The pause between two poll cycles.
pub const DEFAULT_GAP: Duration = Duration::from_millis(25);

impl Master {
    /// A master over the devices given (`None`: not on this machine's bus).
    pub fn new(coins: Option<Coins>, bills: Option<Bills>, reader: Option<Reader>) -> Master {
        Master {
            coins,
            bills,
            reader,
            timing: Timing::default(),
            gap: DEFAULT_GAP,
            current: None,
            turn: 0,
            next_start: Timestamp::ZERO,
            resting: [None; 3],
        }
    }

    /// The same, with other bus timing and cycle gap (tests, slow peripherals).
    pub fn with_timing(mut self, timing: Timing, gap: Duration) -> Master {
        self.timing = timing;
        self.gap = gap;
        self
    }

    /// The pause between two poll cycles.
    pub fn gap(&self) -> Duration {
        self.gap
    }

    /// The coin changer's driver, if there is one.
    pub fn coins(&mut self) -> Option<&mut Coins> {
        self.coins.as_mut()
    }

    /// The bill validator's driver, if there is one.
    pub fn bills(&mut self) -> Option<&mut Bills> {
        self.bills.as_mut()
    }

    /// The card reader's driver, if there is one.
    pub fn reader(&mut self) -> Option<&mut Reader> {
        self.reader.as_mut()
    }

    /// Whether any device is configured at all.
    pub fn is_empty(&self) -> bool {
        self.coins.is_none() && self.bills.is_none() && self.reader.is_none()
    }

    /// When [`Master::on_time`] must be called if no word arrives first.
    pub fn deadline(&self) -> Timestamp {
        match &self.current {
            Some((_, x)) => x.deadline(),
            None => self.next_start,
        }
    }

    /// The words last asked for were all on the wire at `now` (see [`Exchange::sent`]).
    pub fn sent(&mut self, now: Timestamp) {
        if let Some((_, exchange)) = self.current.as_mut() {
            exchange.sent(now);
        }
    }

    /// The device the exchange under way is with.
    pub fn talking_to(&self) -> Option<Device> {
        self.current.as_ref().map(|(d, _)| *d)
    }

    /// A word arrived at `now`.
    pub fn on_word(&mut self, word: Word, now: Timestamp) -> Tick {
        let Some((_, exchange)) = self.current.as_mut() else {
            // Nobody was addressed: a stray word is nobody's.
            return Tick::default();
        };
        let progress = exchange.on_word(word, now);
        self.progressed(progress, now)
    }

    /// The time is `now`: a deadline may have passed, or the next exchange may start.
    pub fn on_time(&mut self, now: Timestamp) -> Tick {
        if let Some((_, exchange)) = self.current.as_mut() {
            let progress = exchange.on_time(now);
            return self.progressed(progress, now);
        }
        let mut tick = Tick::default();
        if now >= self.next_start {
            self.start_next(now, &mut tick);
        }
        tick
    }

    fn progressed(&mut self, progress: Progress, now: Timestamp) -> Tick {
        let mut tick = Tick {
            send: progress.send,
            events: Vec::new(),
        };
        if let Some(outcome) = progress.done {
            if let Some((device, exchange)) = self.current.take() {
                if matches!(outcome, Outcome::Failed { .. }) {
                    self.resting[device.index()] = Some(now + ABSENT_RETRY);
                }
                self.deliver(device, exchange, &outcome, now, &mut tick.events);
            }
            if self.turn == 0 {
                // The cycle is over: the next one after the gap.
                self.next_start = now + self.gap;
            } else {
                self.start_next(now, &mut tick);
            }
        }
        tick
    }

    fn deliver(
        &mut self,
        device: Device,
        exchange: Exchange,
        outcome: &Outcome,
        now: Timestamp,
        events: &mut Vec<MdbEvent>,
    ) {
        let sent = exchange.command();
        match device {
            Device::Changer => {
                if let Some(c) = self.coins.as_mut() {
                    let said = c.answered(sent, outcome, now);
                    events.extend(said.into_iter().map(MdbEvent::Coins));
                }
            }
            Device::Bills => {
                if let Some(b) = self.bills.as_mut() {
                    let said = b.answered(sent, outcome, now);
                    events.extend(said.into_iter().map(MdbEvent::Bills));
                }
            }
            Device::Reader => {
                if let Some(r) = self.reader.as_mut() {
                    let said = r.answered(sent, outcome, now);
                    events.extend(said.into_iter().map(MdbEvent::Reader));
                }
            }
        }
    }

    /// Start the exchange of the next device present in the cycle (if any is present).
    fn start_next(&mut self, now: Timestamp, tick: &mut Tick) {
        for _ in 0..Device::ORDER.len() {
            let device = Device::ORDER[self.turn];
            self.turn = (self.turn + 1) % Device::ORDER.len();
            let resting = &mut self.resting[device.index()];
            if resting.is_some_and(|until| now < until) {
                if self.turn == 0 {
                    break;
                }
                continue;
            }
            *resting = None;
            let command = match device {
                Device::Changer => self.coins.as_mut().map(Coins::next_command),
                Device::Bills => self.bills.as_mut().map(Bills::next_command),
                Device::Reader => self.reader.as_mut().map(Reader::next_command),
            };
            if let Some(command) = command {
                let timing = if once_only(device, &command) {
                    Timing {
                        attempts: 1,
                        ..self.timing
                    }
                } else {
                    self.timing
                };
                let (exchange, words) = Exchange::start(command, timing, now);
                tick.send.extend(words);
                self.current = Some((device, exchange));
                return;
            }
            if self.turn == 0 {
                // The rest of the cycle is absent: wait for the next one.
                break;
            }
        }
        self.next_start = now + self.gap;
    }
}

/// Whether `command` must not be sent again when it got no answer: a device that carried it
/// out and whose ACK was lost cannot tell a repeat from a new one, so a payout or a dispense
/// sent again could pay twice. The driver finds out what happened instead (PAYOUT VALUE POLL,
/// PAYOUT STATUS, the tubes).
fn once_only(device: Device, command: &super::wire::Command) -> bool {
    device == Device::Changer
        && (command.code() == 0x0D
            || (command.code() == 0x0F && command.data().first() == Some(&0x02)))
}

#[cfg(test)]
mod tests;
