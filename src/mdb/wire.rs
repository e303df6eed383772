//! MDB's words and frames (MDB/ICP 4.2, section 2): 9-bit words, the checksum, the VMC's
//! commands and the peripherals' answers.
//!
//! A word is 8 data bits and a mode bit. The VMC sets the mode bit on the first byte of a
//! command (the address and command, which every peripheral listens for) and on nothing else; a
//! peripheral sets it on the last byte of its answer (the checksum, or a lone ACK or NAK). The
//! checksum is the sum of every byte before it, modulo 256. An answer carries at most 36 bytes
//! of data.
//!
//! Owns: framing and checking bytes. Must not touch: time, retries or what a device's bytes mean.

/// Acknowledged (and the checksum was right).
pub const ACK: u8 = 0x00;
/// Send the last answer again (the VMC only).
pub const RET: u8 = 0xAA;
/// Not acknowledged.
pub const NAK: u8 = 0xFF;
/// The most data bytes one frame carries, either way (the checksum not counted).
pub const MAX_DATA: usize = 36;

/// One 9-bit word on the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Word {
    /// The 8 data bits.
    pub byte: u8,
    /// The ninth bit.
    pub mode: bool,
}

impl Word {
    /// A word without the mode bit.
    pub const fn data(byte: u8) -> Word {
        Word { byte, mode: false }
    }

    /// A word with the mode bit set.
    pub const fn marked(byte: u8) -> Word {
        Word { byte, mode: true }
    }
}

/// The checksum of `bytes`: their sum modulo 256.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |sum, b| sum.wrapping_add(*b))
}

/// Why bytes are not a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The checksum byte is not the sum of the bytes before it.
    #[error("bad checksum: {got:#04x}, the bytes sum to {expected:#04x}")]
    Checksum {
        /// What the bytes add up to.
        expected: u8,
        /// What the frame said.
        got: u8,
    },
    /// More data than a frame may carry.
    #[error("{0} data bytes: a frame carries at most {MAX_DATA}")]
    TooLong(usize),
    /// A lone marked word that is neither ACK nor NAK.
    #[error("a lone word {0:#04x} that is neither ACK nor NAK")]
    Lone(u8),
    /// The answer ended without its marked last word.
    #[error("the answer stopped after {0} word(s) without its last (marked) word")]
    Unfinished(usize),
    /// A command's first byte is not an address and command the bus knows.
    #[error("{0:#04x} is not a command byte")]
    NotACommand(u8),
}

/// A command from the VMC: its address-and-command byte, then its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    bytes: Vec<u8>,
}

impl Command {
    /// The command byte `code` (a peripheral's address and the command in its low three bits)
    /// with `data`.
    pub fn new(code: u8, data: &[u8]) -> Result<Command, WireError> {
        if data.len() > MAX_DATA {
            return Err(WireError::TooLong(data.len()));
        }
        let mut bytes = Vec::with_capacity(data.len() + 1);
        bytes.push(code);
        bytes.extend_from_slice(data);
        Ok(Command { bytes })
    }

    /// A command of the drivers' own, whose data is known to fit a frame (data past the limit
    /// would be cut, never sent).
    pub(super) fn fixed(code: u8, data: &[u8]) -> Command {
        let mut bytes = Vec::with_capacity(data.len().min(MAX_DATA) + 1);
        bytes.push(code);
        bytes.extend_from_slice(data.get(..MAX_DATA).unwrap_or(data));
        Command { bytes }
    }

    /// The command byte.
    pub fn code(&self) -> u8 {
        self.bytes.first().copied().unwrap_or_default()
    }

    /// The data after the command byte.
    pub fn data(&self) -> &[u8] {
        self.bytes.get(1..).unwrap_or_default()
    }

    /// The words to send: the command byte marked, the data, and the checksum.
    pub fn words(&self) -> Vec<Word> {
        let mut words: Vec<Word> = Vec::with_capacity(self.bytes.len() + 1);
        for (i, b) in self.bytes.iter().enumerate() {
            words.push(Word {
                byte: *b,
                mode: i == 0,
            });
        }
        words.push(Word::data(checksum(&self.bytes)));
        words
    }

    /// A command read back from its words (a peripheral simulator's side): the first word
    /// marked, the last the checksum.
    pub fn from_words(words: &[Word]) -> Result<Command, WireError> {
        let Some((first, rest)) = words.split_first() else {
            return Err(WireError::Unfinished(0));
        };
        if !first.mode {
            return Err(WireError::NotACommand(first.byte));
        }
        let Some((chk, data)) = rest.split_last() else {
            return Err(WireError::Unfinished(1));
        };
        let mut bytes: Vec<u8> = Vec::with_capacity(words.len());
        bytes.push(first.byte);
        bytes.extend(data.iter().map(|w| w.byte));
        if bytes.len() - 1 > MAX_DATA {
            return Err(WireError::TooLong(bytes.len() - 1));
        }
        let expected = checksum(&bytes);
        if chk.byte != expected {
            return Err(WireError::Checksum {
                expected,
                got: chk.byte,
            });
        }
        Ok(Command { bytes })
    }
}

/// What a peripheral answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// ACK: done, nothing to say.
    Ack,
    /// NAK: not understood or not now.
    Nak,
    /// Data (checksum checked and removed).
    Data(Vec<u8>),
}

impl Reply {
    /// The words a peripheral sends for this answer.
    pub fn words(&self) -> Vec<Word> {
        match self {
            Reply::Ack => vec![Word::marked(ACK)],
            Reply::Nak => vec![Word::marked(NAK)],
            Reply::Data(data) => {
                let mut words: Vec<Word> = data.iter().map(|b| Word::data(*b)).collect();
                words.push(Word::marked(checksum(data)));
                words
            }
        }
    }

    /// An answer from its words, all of them (the last one marked).
    pub fn from_words(words: &[Word]) -> Result<Reply, WireError> {
        let mut reader = ReplyReader::default();
        for w in words {
            if let Some(done) = reader.push(*w) {
                return done;
            }
        }
        Err(WireError::Unfinished(words.len()))
    }
}

/// Puts an answer together word by word, as it comes off the bus.
#[derive(Debug, Clone, Default)]
pub struct ReplyReader {
    bytes: Vec<u8>,
}

impl ReplyReader {
    /// Take one word; the answer (or why it is none) once its marked last word has come. Words
    /// past the most a frame may hold make it an error at once, so that noise cannot grow it.
    pub fn push(&mut self, word: Word) -> Option<Result<Reply, WireError>> {
        if !word.mode {
            self.bytes.push(word.byte);
            if self.bytes.len() > MAX_DATA {
                let n = self.bytes.len();
                self.bytes.clear();
                return Some(Err(WireError::TooLong(n)));
            }
            return None;
        }
        let data = std::mem::take(&mut self.bytes);
        if data.is_empty() {
            return Some(match word.byte {
                ACK => Ok(Reply::Ack),
                NAK => Ok(Reply::Nak),
                other => Err(WireError::Lone(other)),
            });
        }
        let expected = checksum(&data);
        Some(if word.byte == expected {
            Ok(Reply::Data(data))
        } else {
            Err(WireError::Checksum {
                expected,
                got: word.byte,
            })
        })
    }

    /// Words taken so far for an answer not yet finished.
    pub fn pending(&self) -> usize {
        self.bytes.len()
    }

    /// Forget a half-read answer.
    pub fn clear(&mut self) {
        self.bytes.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_is_marked_on_its_first_byte_and_ends_with_the_sum() {
        // POLL to the coin changer: 0Bh, checksum 0Bh.
        let poll = Command::new(0x0B, &[]).expect("poll");
        assert_eq!(poll.words(), vec![Word::marked(0x0B), Word::data(0x0B)]);
        // VEND REQUEST to the cashless reader, 1.50 (150 at scale 1) for item 3:
        // 13 00 00 96 00 03, checksum 13+00+00+96+00+03 = AC.
        let vend = Command::new(0x13, &[0x00, 0x00, 0x96, 0x00, 0x03]).expect("vend");
        let words = vend.words();
        assert_eq!(words.first(), Some(&Word::marked(0x13)));
        assert_eq!(words.last(), Some(&Word::data(0xAC)));
        assert_eq!(Command::from_words(&words), Ok(vend));
        assert!(Command::new(0x13, &[0; 37]).is_err());
    }

    #[test]
    fn answers_end_on_their_marked_word_and_their_sum_is_checked() {
        assert_eq!(Reply::from_words(&[Word::marked(ACK)]), Ok(Reply::Ack));
        assert_eq!(Reply::from_words(&[Word::marked(NAK)]), Ok(Reply::Nak));
        // A cashless reader's JUST RESET: 00, checksum 00 (marked).
        assert_eq!(
            Reply::from_words(&[Word::data(0x00), Word::marked(0x00)]),
            Ok(Reply::Data(vec![0x00]))
        );
        // VEND APPROVED for 1.50: 05 00 96, checksum 9B.
        let approved = [
            Word::data(0x05),
            Word::data(0x00),
            Word::data(0x96),
            Word::marked(0x9B),
        ];
        assert_eq!(
            Reply::from_words(&approved),
            Ok(Reply::Data(vec![0x05, 0x00, 0x96]))
        );
        let mut bad = approved;
        bad[3] = Word::marked(0x9C);
        assert!(matches!(
            Reply::from_words(&bad),
            Err(WireError::Checksum {
                expected: 0x9B,
                got: 0x9C
            })
        ));
        assert_eq!(
            Reply::from_words(&[Word::marked(0x42)]),
            Err(WireError::Lone(0x42))
        );
        assert_eq!(
            Reply::from_words(&approved[..2]),
            Err(WireError::Unfinished(2))
        );
        let noise = vec![Word::data(1); 40];
        assert_eq!(Reply::from_words(&noise), Err(WireError::TooLong(37)));
    }

    proptest::proptest! {
        /// Any words at all: an answer, or an error, never a panic; what is sent is read back.
        #[test]
        fn any_words_are_read_without_a_panic(words in proptest::collection::vec((proptest::num::u8::ANY, proptest::bool::ANY), 0..80)) {
            let words: Vec<Word> = words.into_iter().map(|(byte, mode)| Word { byte, mode }).collect();
            let _ = Reply::from_words(&words);
            let _ = Command::from_words(&words);
        }

        #[test]
        fn every_answer_reads_back_as_sent(data in proptest::collection::vec(proptest::num::u8::ANY, 1..=MAX_DATA)) {
            let reply = Reply::Data(data);
            proptest::prop_assert_eq!(Reply::from_words(&reply.words()), Ok(reply));
        }
    }
}
