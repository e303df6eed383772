//! One exchange at a time on the bus (MDB/ICP 4.2, 2.3 to 2.5): a command goes out, its answer
//! must start within the response time and continue without gaps; an answer with data gets the
//! VMC's ACK, a garbled one a RET (send it again) and then a NAK; a command that got no usable
//! answer is sent again, up to a number of attempts.
//!
//! Pure: words and the time in, words to send and the outcome out. The port sends the words and
//! reports the words that arrive and the time; the device drivers decide what a silent
//! peripheral means (taken off the bus after its non-response time, reset, brought back).
//!
//! Owns: the timing and retries of one exchange. Must not touch: ports, what the bytes mean.

use std::time::Duration;

use happiness_hardware::Timestamp;

use super::wire::{Command, Reply, ReplyReader, WireError, Word, ACK, NAK, RET};

/// The bus's time limits and how often a command is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// From the end of a command to the first word of its answer (t response, 5 ms).
    pub response: Duration,
    /// Between two words of one answer (t inter-byte, 1 ms).
    pub inter_byte: Duration,
    /// Times a command is sent before the exchange is given up.
    pub attempts: u8,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            response: Duration::from_millis(5),
            inter_byte: Duration::from_millis(1),
            attempts: 3,
        }
    }
}

/// How an exchange ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The peripheral answered (data answers were acknowledged).
    Answered(Reply),
    /// No usable answer after every attempt.
    Failed {
        /// Attempts made.
        attempts: u8,
        /// Why the last one failed.
        why: Silence,
    },
}

/// Why an attempt got no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Silence {
    /// Nothing came within the response time.
    NoAnswer,
    /// The answer stopped for longer than the inter-byte time.
    Stopped(usize),
    /// The answer could not be read (even after asking for it again).
    Garbled(WireError),
}

/// What an exchange asks of the port now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// Words to send at once.
    pub send: Vec<Word>,
    /// The end of the exchange, when it has ended.
    pub done: Option<Outcome>,
}

/// One command and its answer.
#[derive(Debug, Clone)]
pub struct Exchange {
    command: Command,
    timing: Timing,
    attempt: u8,
    reader: ReplyReader,
    /// When the wait for the next word ends.
    deadline: Timestamp,
    /// The last answer was garbled and RET was sent: a second garbled one ends the attempt.
    asked_again: bool,
    done: bool,
}

impl Exchange {
    /// Start sending `command`; the words to send now.
    pub fn start(command: Command, timing: Timing, now: Timestamp) -> (Exchange, Vec<Word>) {
        let words = command.words();
        let exchange = Exchange {
            command,
            timing: Timing {
                attempts: timing.attempts.max(1),
                ..timing
            },
            attempt: 1,
            reader: ReplyReader::default(),
            deadline: now + timing.response,
            asked_again: false,
            done: false,
        };
        (exchange, words)
    }

    /// The command being exchanged.
    pub fn command(&self) -> &Command {
        &self.command
    }

    /// When [`Exchange::on_time`] must be called if no word comes first.
    pub fn deadline(&self) -> Timestamp {
        self.deadline
    }

    /// Whether the exchange has ended.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The words asked for were all on the wire at `now`: the response time runs from the end
    /// of a command, and a slow port (a UART takes over a millisecond a word) must not eat into
    /// it. Nothing changes once an answer has begun.
    pub fn sent(&mut self, now: Timestamp) {
        if !self.done && self.reader.pending() == 0 {
            self.deadline = self.deadline.max(now + self.timing.response);
        }
    }

    /// A word arrived at `now`.
    pub fn on_word(&mut self, word: Word, now: Timestamp) -> Progress {
        if self.done {
            // A late or repeated word after the end belongs to nobody.
            return Progress::default();
        }
        if now > self.deadline {
            // Too late: it counts as silence first (the port should have asked in time).
            let mut progress = self.on_time(now);
            if self.done {
                return progress;
            }
            let more = self.on_word(word, now);
            progress.send.extend(more.send);
            progress.done = more.done;
            return progress;
        }
        match self.reader.push(word) {
            None => {
                self.deadline = now + self.timing.inter_byte;
                Progress::default()
            }
            Some(Ok(reply)) => {
                self.done = true;
                let send = match reply {
                    // Data is acknowledged; ACK and NAK are not.
                    Reply::Data(_) => vec![Word::data(ACK)],
                    Reply::Ack | Reply::Nak => Vec::new(),
                };
                Progress {
                    send,
                    done: Some(Outcome::Answered(reply)),
                }
            }
            Some(Err(e)) => {
                if self.asked_again {
                    // Garbled twice: refuse it, and try the command again.
                    let mut progress = self.retry(now, Silence::Garbled(e));
                    progress.send.insert(0, Word::data(NAK));
                    progress
                } else {
                    self.asked_again = true;
                    self.deadline = now + self.timing.response;
                    Progress {
                        send: vec![Word::data(RET)],
                        done: None,
                    }
                }
            }
        }
    }

    /// The time is `now` and no word came before the deadline (if it has passed).
    pub fn on_time(&mut self, now: Timestamp) -> Progress {
        if self.done || now < self.deadline {
            return Progress::default();
        }
        let why = match self.reader.pending() {
            0 => Silence::NoAnswer,
            n => Silence::Stopped(n),
        };
        self.retry(now, why)
    }

    fn retry(&mut self, now: Timestamp, why: Silence) -> Progress {
        self.reader.clear();
        self.asked_again = false;
        if self.attempt >= self.timing.attempts {
            self.done = true;
            return Progress {
                send: Vec::new(),
                done: Some(Outcome::Failed {
                    attempts: self.attempt,
                    why,
                }),
            };
        }
        self.attempt += 1;
        self.deadline = now + self.timing.response;
        Progress {
            send: self.command.words(),
            done: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(us: u64) -> Timestamp {
        Timestamp::from_micros(us)
    }

    fn poll() -> Command {
        Command::new(0x12, &[]).expect("poll")
    }

    #[test]
    fn data_is_acknowledged_and_a_lone_ack_is_not() {
        let (mut x, sent) = Exchange::start(poll(), Timing::default(), at(0));
        assert_eq!(sent, vec![Word::marked(0x12), Word::data(0x12)]);
        assert_eq!(x.on_word(Word::data(0x00), at(1_000)), Progress::default());
        let p = x.on_word(Word::marked(0x00), at(1_500));
        assert_eq!(p.send, vec![Word::data(ACK)]);
        assert_eq!(p.done, Some(Outcome::Answered(Reply::Data(vec![0x00]))));
        assert!(x.is_done());

        let (mut x, _) = Exchange::start(poll(), Timing::default(), at(0));
        let p = x.on_word(Word::marked(ACK), at(2_000));
        assert!(p.send.is_empty());
        assert_eq!(p.done, Some(Outcome::Answered(Reply::Ack)));
    }

    #[test]
    fn silence_sends_the_command_again_then_gives_up() {
        let (mut x, _) = Exchange::start(poll(), Timing::default(), at(0));
        assert_eq!(x.on_time(at(4_999)), Progress::default());
        let p = x.on_time(at(5_000));
        assert_eq!(p.send, poll().words(), "attempt 2");
        let p = x.on_time(at(10_000));
        assert_eq!(p.send, poll().words(), "attempt 3");
        let p = x.on_time(at(15_000));
        assert_eq!(
            p.done,
            Some(Outcome::Failed {
                attempts: 3,
                why: Silence::NoAnswer
            })
        );
    }

    #[test]
    fn an_answer_that_stops_midway_is_tried_again() {
        let (mut x, _) = Exchange::start(poll(), Timing::default(), at(0));
        x.on_word(Word::data(0x05), at(1_000));
        // More than 1 ms without the next word.
        let p = x.on_time(at(2_001));
        assert_eq!(p.send, poll().words());
        // The second attempt is answered whole.
        x.on_word(Word::data(0x07), at(3_000));
        let p = x.on_word(Word::marked(0x07), at(3_500));
        assert_eq!(p.done, Some(Outcome::Answered(Reply::Data(vec![0x07]))));
    }

    #[test]
    fn the_response_time_runs_from_the_end_of_the_command() {
        // A 37-word command takes about 42 ms on a UART at 9600 baud.
        let (mut x, _) = Exchange::start(poll(), Timing::default(), at(0));
        x.sent(at(42_000));
        assert_eq!(x.deadline(), at(47_000));
        assert_eq!(x.on_time(at(46_999)), Progress::default());
        let p = x.on_word(Word::marked(ACK), at(46_999));
        assert_eq!(p.done, Some(Outcome::Answered(Reply::Ack)));
    }

    #[test]
    fn a_garbled_answer_is_asked_for_again_then_refused() {
        let (mut x, _) = Exchange::start(poll(), Timing::default(), at(0));
        x.on_word(Word::data(0x05), at(1_000));
        let p = x.on_word(Word::marked(0x00), at(1_500));
        assert_eq!(p.send, vec![Word::data(RET)]);
        assert_eq!(p.done, None);
        // Sent again, right this time.
        x.on_word(Word::data(0x05), at(2_000));
        let p = x.on_word(Word::marked(0x05), at(2_500));
        assert_eq!(p.done, Some(Outcome::Answered(Reply::Data(vec![0x05]))));

        let (mut x, _) = Exchange::start(poll(), Timing::default(), at(0));
        x.on_word(Word::marked(0x42), at(1_000));
        let p = x.on_word(Word::marked(0x43), at(2_000));
        let mut expected = vec![Word::data(NAK)];
        expected.extend(poll().words());
        assert_eq!(p.send, expected, "NAK, and the command again");
    }

    proptest::proptest! {
        /// Whatever the peripheral sends and whenever, the exchange ends within its attempts
        /// and never panics.
        #[test]
        fn any_answer_at_any_time_ends(events in proptest::collection::vec((proptest::num::u8::ANY, proptest::bool::ANY, 0u64..8_000), 0..200)) {
            let (mut x, _) = Exchange::start(poll(), Timing::default(), at(0));
            let mut now = 0;
            let mut sent = 0usize;
            for (byte, mode, gap) in events {
                now += gap;
                let p = x.on_word(Word { byte, mode }, at(now));
                sent += p.send.len();
                if x.is_done() {
                    break;
                }
            }
            // Silence from here on ends it.
            for _ in 0..10 {
                now += 10_000;
                x.on_time(at(now));
            }
            proptest::prop_assert!(x.is_done());
            proptest::prop_assert!(sent <= 3 * (2 + 1) + 3, "{sent} words sent");
        }
    }
}
