//! Ports for the MDB bus (the Multi-Drop Bus of coin changers, bill validators and card
//! readers): the one trait a bus master drives, and the Raspberry Pi's UART behind it.
//!
//! MDB words are nine bits: eight data bits and a mode bit (set on the address byte the VMC
//! sends, and on the last byte a peripheral sends). A PC-style UART has no ninth data bit, so
//! the Pi's UART stands in for it with the parity bit: MARK parity sends a word with the mode
//! bit, SPACE parity one without. On receiving, the UART is set to SPACE parity with parity
//! errors marked in the input stream (Linux's PARMRK): a byte whose parity bit was 1, which is
//! a byte with the mode bit, arrives as `FF 00 byte`, a real `FF` as `FF FF`, and any other byte
//! as itself. [`MarkDecoder`] turns that stream back into words.
//!
//! Owns: moving words over a wire. Must not touch: what the words mean (the application's
//! `mdb` module), credit.

use std::time::Duration;

/// One word on the bus: a byte and its mode bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BusWord {
    /// The eight data bits.
    pub byte: u8,
    /// The ninth (mode) bit.
    pub mode: bool,
}

/// Why a port failed.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// The device or socket could not be used.
    #[error("MDB port: {0}")]
    Io(#[from] std::io::Error),
    /// The UART refused a setting or a transfer.
    #[error("MDB port (UART): {0}")]
    Uart(String),
    /// The other end went away (the socket closed, the reader thread ended).
    #[error("MDB port closed: {0}")]
    Closed(String),
}

/// What a bus master needs from a port.
pub trait MdbPort: Send {
    /// Send `words` in order, as one burst (a command, maybe after the ACK of the last
    /// answer).
    fn send(&mut self, words: &[BusWord]) -> Result<(), PortError>;

    /// The next word that arrived, waiting at most `timeout` for it.
    fn receive(&mut self, timeout: Duration) -> Result<Option<BusWord>, PortError>;

    /// Words a real bus could not have carried in time are the port's to explain: a port
    /// whose timing is not the wire's (a simulator, a socket across a network) says how much
    /// slack the master should give (added to the 5 ms response time).
    fn slack(&self) -> Duration {
        Duration::ZERO
    }
}

/// Turns the byte stream of a UART in SPACE parity with parity errors marked (`FF 00 b`: `b`
/// had the mode bit; `FF FF`: a data `FF`) back into words. Pure.
#[derive(Debug, Clone, Default)]
pub struct MarkDecoder {
    /// Bytes of an escape seen so far (`FF`, or `FF 00`).
    pending: Vec<u8>,
}

impl MarkDecoder {
    /// Feed one byte; the words it completes go to `out`.
    pub fn push(&mut self, byte: u8, out: &mut Vec<BusWord>) {
        let data = |byte| BusWord { byte, mode: false };
        match (self.pending.as_slice(), byte) {
            ([], 0xFF) | ([0xFF], 0x00) => self.pending.push(byte),
            ([], b) => out.push(data(b)),
            ([0xFF], 0xFF) => {
                self.pending.clear();
                out.push(data(0xFF));
            }
            ([0xFF, 0x00], b) => {
                self.pending.clear();
                out.push(BusWord {
                    byte: b,
                    mode: true,
                });
            }
            // `FF` then anything else cannot come from PARMRK: the `FF` is taken as data (what
            // a UART without marking would give) and the byte read afresh.
            (_, b) => {
                self.pending.clear();
                out.push(data(0xFF));
                self.push(b, out);
            }
        }
    }
}

/// Words a reader thread may hand over before the master has taken them: past this the reader
/// waits (and with it the wire or the socket), so a peer that floods the line cannot make the
/// port hold more than this. An answer is at most 37 words.
pub const WORDS_IN_FLIGHT: usize = 1024;

/// The next word a reader thread handed over on `words`, waiting at most `timeout`; `gone`
/// says why when the thread has ended.
pub fn next_word(
    words: &std::sync::mpsc::Receiver<BusWord>,
    timeout: Duration,
    gone: impl FnOnce() -> String,
) -> Result<Option<BusWord>, PortError> {
    use std::sync::mpsc::RecvTimeoutError;
    match words.recv_timeout(timeout) {
        Ok(w) => Ok(Some(w)),
        Err(RecvTimeoutError::Timeout) => Ok(None),
        Err(RecvTimeoutError::Disconnected) => Err(PortError::Closed(gone())),
    }
}

pub mod uart;

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Vec<(u8, bool)> {
        let mut d = MarkDecoder::default();
        let mut out = Vec::new();
        for b in bytes {
            d.push(*b, &mut out);
        }
        out.iter().map(|w| (w.byte, w.mode)).collect()
    }

    #[test]
    fn marked_bytes_carry_the_mode_bit_and_a_doubled_ff_is_data() {
        // A changer's answer to POLL after a reset: 0B, then its checksum 0B with the mode bit.
        assert_eq!(
            decode(&[0x0B, 0xFF, 0x00, 0x0B]),
            vec![(0x0B, false), (0x0B, true)]
        );
        // A data FF (a NAK from the VMC's side, or a value), then an ACK with the mode bit.
        assert_eq!(
            decode(&[0xFF, 0xFF, 0xFF, 0x00, 0x00]),
            vec![(0xFF, false), (0x00, true)]
        );
        // A marked FF.
        assert_eq!(decode(&[0xFF, 0x00, 0xFF]), vec![(0xFF, true)]);
    }

    #[test]
    fn an_escape_broken_off_keeps_both_bytes() {
        assert_eq!(
            decode(&[0xFF, 0x12, 0x34]),
            vec![(0xFF, false), (0x12, false), (0x34, false)]
        );
        assert_eq!(
            decode(&[0xFF, 0xFF, 0xFF]),
            vec![(0xFF, false)],
            "the third FF waits for its pair"
        );
    }
}
