//! The Raspberry Pi's PL011 UART as an MDB port: 9600 baud, 8 data bits, 1 stop bit, the
//! parity bit standing in for the mode bit (see the parent module), through rppal.
//!
//! Two handles on the one device: the master's thread writes (switching MARK and SPACE parity
//! between words and waiting for each to leave), and a reader thread blocks on reads and hands
//! each word to the master through a channel, so a reply is seen the moment it arrives without
//! polling the UART.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use rppal::uart::{Parity, ParityCheck, Uart};

use super::{BusWord, MarkDecoder, MdbPort, PortError};

/// MDB's line speed.
pub const BAUD: u32 = 9600;

fn uart_error(e: rppal::uart::Error) -> PortError {
    PortError::Uart(e.to_string())
}

/// The Pi's UART, open for MDB.
pub struct PiUart {
    path: PathBuf,
    writer: Uart,
    /// The parity the writer is set to (MARK: the next word carries the mode bit).
    marking: bool,
    words: Receiver<BusWord>,
}

impl std::fmt::Debug for PiUart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PiUart").field("path", &self.path).finish()
    }
}

impl PiUart {
    /// Open `path` (`/dev/serial0` on most Pis, `/dev/ttyAMA0` for the PL011 with Bluetooth
    /// moved off it) for MDB, and start its reader thread.
    pub fn open(path: &Path) -> Result<PiUart, PortError> {
        let mut reader = Uart::with_path(path, BAUD, Parity::Space, 8, 1).map_err(uart_error)?;
        let mut writer = Uart::with_path(path, BAUD, Parity::Space, 8, 1).map_err(uart_error)?;
        // The settings belong to the device, so setting them on one handle sets both.
        writer
            .set_parity_check(ParityCheck::Mark)
            .map_err(uart_error)?;
        writer.set_write_mode(true).map_err(uart_error)?;
        reader
            .set_read_mode(1, Duration::ZERO)
            .map_err(uart_error)?;
        let (tx, words) = mpsc::sync_channel(super::WORDS_IN_FLIGHT);
        std::thread::Builder::new()
            .name("mdb-uart".into())
            .spawn(move || {
                let mut decoder = MarkDecoder::default();
                let mut buf = [0u8; 64];
                let mut out = Vec::new();
                loop {
                    let n = match reader.read(&mut buf) {
                        Ok(n) => n,
                        Err(e) => {
                            tracing::error!("MDB UART read failed: {e}");
                            return;
                        }
                    };
                    for b in buf.iter().take(n) {
                        decoder.push(*b, &mut out);
                    }
                    for w in out.drain(..) {
                        if tx.send(w).is_err() {
                            return;
                        }
                    }
                }
            })?;
        Ok(PiUart {
            path: path.to_path_buf(),
            writer,
            marking: false,
            words,
        })
    }
}

impl MdbPort for PiUart {
    fn send(&mut self, words: &[BusWord]) -> Result<(), PortError> {
        for w in words {
            if w.mode != self.marking {
                // The parity applies to what is written after it is set: let the last word
                // leave first.
                self.writer.drain().map_err(uart_error)?;
                let parity = if w.mode { Parity::Mark } else { Parity::Space };
                self.writer.set_parity(parity).map_err(uart_error)?;
                self.marking = w.mode;
            }
            let mut sent = 0;
            while sent == 0 {
                sent = self.writer.write(&[w.byte]).map_err(uart_error)?;
            }
        }
        self.writer.drain().map_err(uart_error)?;
        if self.marking {
            // Receive in SPACE parity, so a peripheral's mode bit is the one marked.
            self.writer.set_parity(Parity::Space).map_err(uart_error)?;
            self.marking = false;
        }
        Ok(())
    }

    fn slack(&self) -> Duration {
        // A word is seen when its last bit has arrived, 1.15 ms after it began at 9600 baud,
        // and Linux hands it to the reader thread a few milliseconds later at worst: the 5 ms
        // and 1 ms limits are the device's, measured on the wire, and the controller waits
        // this much longer rather than take a device that answered in time for silent.
        Duration::from_millis(10)
    }

    fn receive(&mut self, timeout: Duration) -> Result<Option<BusWord>, PortError> {
        super::next_word(&self.words, timeout, || {
            format!("the reader of {} stopped", self.path.display())
        })
    }
}
