//! Simulated MDB peripherals: a coin changer, a bill validator and a card reader that answer
//! the VMC's words as real ones do (MDB/ICP 4.2 byte layouts), with the faults real ones have
//! (unplugged, garbled answers, a jam, a stacker full, a denied card, a bill never reported
//! where it went), so the whole payment path runs, byte for byte, on any machine.
//!
//! [`SimBus`] takes the words the master sends and gives back the words the addressed
//! peripheral answers; what customers do (a coin, a bill, a tap) goes through each device's
//! methods. Pure: no clock, no I/O; the port around it says when words go and come.
//!
//! Owns: the simulated peripherals' state. Must not touch: the drivers (it speaks to them only
//! in words), credit, the books.

mod card;
mod changer;
mod validator;

pub use card::SimCard;
pub use changer::SimChanger;
pub use validator::SimValidator;

use super::wire::{Command, Reply, Word, ACK, RET};

/// What a simulated peripheral answers to one command (`None`: it says nothing).
type Answer = Option<Reply>;

/// What the world can do to any simulated device: pull its plug, or make it reset by itself.
pub trait SimDevice {
    /// Its unplugged flag.
    #[doc(hidden)]
    fn unplugged(&mut self) -> &mut bool;

    /// Whether it is unplugged.
    fn is_unplugged(&self) -> bool;

    /// Its state as from power-up: JUST RESET on its next POLL, taking nothing until it is
    /// told what, nothing it had not reported kept (a bill in escrow handed back, an approved
    /// card vend's hold released).
    #[doc(hidden)]
    fn power_up(&mut self);

    /// Unplug it (`false`: it answers and takes nothing), or plug it back in (`true`: it
    /// starts as from power-up).
    fn plug(&mut self, on: bool) {
        if on && self.is_unplugged() {
            self.power_up();
        }
        *self.unplugged() = !on;
    }

    /// It resets by itself (a brown-out, a watchdog), as from power-up.
    fn reset_now(&mut self) {
        self.power_up();
    }
}

/// The three simulated peripherals on one bus, and the bus's own faults.
#[derive(Debug, Clone, Default)]
pub struct SimBus {
    /// The coin changer, if fitted.
    pub changer: Option<SimChanger>,
    /// The bill validator, if fitted.
    pub validator: Option<SimValidator>,
    /// The card reader, if fitted.
    pub card: Option<SimCard>,
    /// The next this many data answers go out with a wrong checksum (noise on the line).
    pub garble: u32,
    /// The next this many commands to a device are answered NAK and not carried out (busy).
    pub nak: u32,
    /// The next this many answers come too late for the master, which sends the command
    /// again: a data answer is then sent again as it was (the device never got the ACK), a
    /// command answered with a lone ACK is carried out again, as a real device would.
    pub late: u32,
    /// With `late`: only the answers of the device at this address (08h changer, 30h
    /// validator, 10h reader) are late; `None`: anyone's.
    pub late_from: Option<u8>,
    /// Words of the command being received.
    receiving: Vec<Word>,
    /// The last data answer, until the master's ACK: the command and the answer's words.
    unacknowledged: Option<(Command, Vec<Word>)>,
}

impl SimBus {
    /// A bus with the three devices, in their factory state (tubes and stacker as shipped).
    pub fn full() -> SimBus {
        SimBus {
            changer: Some(SimChanger::new()),
            validator: Some(SimValidator::new()),
            card: Some(SimCard::new()),
            ..SimBus::default()
        }
    }

    /// The master sent `words` (one burst: a whole command, maybe after the ACK of the last
    /// answer); the words the peripheral answers with.
    pub fn receive(&mut self, words: &[Word]) -> Vec<Word> {
        let mut out = Vec::new();
        for &w in words {
            if w.mode {
                // An address byte starts a command; one under way is abandoned.
                self.receiving.clear();
                self.receiving.push(w);
            } else if !self.receiving.is_empty() {
                self.receiving.push(w);
            } else if let Some((_, words)) = &self.unacknowledged {
                match w.byte {
                    RET => out.extend(words.iter().copied()),
                    ACK => self.unacknowledged = None,
                    // NAK: it did not arrive whole; the master sends the command again and gets
                    // the same answer.
                    _ => {}
                }
            }
        }
        if !self.receiving.is_empty() {
            let words = std::mem::take(&mut self.receiving);
            out.extend(self.command(&words));
        }
        out
    }

    fn command(&mut self, words: &[Word]) -> Vec<Word> {
        let Ok(command) = Command::from_words(words) else {
            // A command with a bad checksum is ignored (the master tries it again).
            return Vec::new();
        };
        match self.unacknowledged.take() {
            // The same command again while its answer was never acknowledged: the master did
            // not get it, so it is sent again as it was.
            Some((sent, words)) if sent == command => {
                self.unacknowledged = Some((sent, words.clone()));
                return words;
            }
            // Any other command is the master's word that the last answer arrived.
            _ => {}
        }
        let address = command.code() & 0xF8;
        let present = match address {
            0x08 => self.changer.as_ref().is_some_and(|d| !d.is_unplugged()),
            0x30 => self.validator.as_ref().is_some_and(|d| !d.is_unplugged()),
            0x10 => self.card.as_ref().is_some_and(|d| !d.is_unplugged()),
            _ => false,
        };
        if present && self.nak > 0 {
            self.nak -= 1;
            return Reply::Nak.words();
        }
        let answer = match address {
            0x08 => self.changer.as_mut().and_then(|d| d.answer(&command)),
            0x30 => self.validator.as_mut().and_then(|d| d.answer(&command)),
            0x10 => self.card.as_mut().and_then(|d| d.answer(&command)),
            _ => None,
        };
        let Some(reply) = answer else {
            return Vec::new();
        };
        let mut words = reply.words();
        if matches!(reply, Reply::Data(_)) {
            self.unacknowledged = Some((command, words.clone()));
        }
        if self.late > 0 && self.late_from.is_none_or(|a| a == address) {
            // Carried out, but the answer comes after the master stopped waiting: a data
            // answer is sent again when the command is, a lone ACK is not (a device cannot
            // tell a command sent again from a new one).
            self.late -= 1;
            return Vec::new();
        }
        if matches!(reply, Reply::Data(_)) && self.garble > 0 {
            self.garble -= 1;
            if let Some(last) = words.last_mut() {
                last.byte = last.byte.wrapping_add(1);
            }
        }
        words
    }
}

/// An answer with `bytes` of data.
fn data(bytes: Vec<u8>) -> Answer {
    Some(Reply::Data(bytes))
}

/// What a device answers to POLL: `reset_code` once after a reset (its JUST RESET), then what
/// it has to report, one report a poll, or a plain ACK.
fn poll_answer(
    just_reset: &mut bool,
    reset_code: u8,
    activity: &mut std::collections::VecDeque<Vec<u8>>,
) -> Answer {
    if std::mem::take(just_reset) {
        return data(vec![reset_code]);
    }
    match activity.pop_front() {
        Some(d) => data(d),
        None => ack(),
    }
}

/// A plain ACK.
fn ack() -> Answer {
    Some(Reply::Ack)
}

/// An identification answer: manufacturer, serial, model, version, then `extra` bytes.
fn identity(manufacturer: &[u8; 3], model: &str, extra: &[u8]) -> Vec<u8> {
    let mut d = manufacturer.to_vec();
    d.extend_from_slice(b"000000000001");
    let mut m = model.as_bytes().to_vec();
    m.resize(12, b' ');
    d.extend_from_slice(&m);
    d.extend_from_slice(&[0x01, 0x00]);
    d.extend_from_slice(extra);
    d
}

#[cfg(test)]
mod tests;
