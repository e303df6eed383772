//! Words as text lines over a stream socket (TCP or a Unix socket), in `mdb::text`'s framing,
//! for peripherals attached from outside: a peripheral simulator in another process, a bridge
//! to a real bus on another board.

use std::io::{BufRead, BufReader, Write};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use happiness_hardware::mdb::{BusWord, MdbPort, PortError};

use crate::mdb::text;
use crate::mdb::wire::Word;

/// A stream socket carrying words as text lines.
pub struct SocketPort {
    name: String,
    writer: Box<dyn Write + Send>,
    words: Receiver<BusWord>,
    /// Shuts the socket, so the reader thread's blocked read ends when the port is dropped.
    close: Option<Box<dyn FnOnce() + Send>>,
}

impl Drop for SocketPort {
    fn drop(&mut self) {
        if let Some(close) = self.close.take() {
            close();
        }
    }
}

impl std::fmt::Debug for SocketPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketPort")
            .field("name", &self.name)
            .finish()
    }
}

impl SocketPort {
    /// A port over a connected stream: `reader` and `writer` are its two halves, `name` says
    /// where it goes (for errors), `close` shuts the stream when the port is dropped.
    pub fn new(
        name: String,
        reader: impl std::io::Read + Send + 'static,
        writer: impl Write + Send + 'static,
        close: impl FnOnce() + Send + 'static,
    ) -> Result<SocketPort, PortError> {
        let (tx, words) = mpsc::sync_channel(happiness_hardware::mdb::WORDS_IN_FLIGHT);
        let who = name.clone();
        std::thread::Builder::new()
            .name("mdb-socket".into())
            .spawn(move || {
                let mut reader = BufReader::new(reader);
                let mut noise: u64 = 0;
                loop {
                    let line = match read_line(&mut reader) {
                        Ok(Some(l)) => l,
                        Ok(None) => return,
                        Err(e) => {
                            tracing::warn!("MDB socket {who}: {e}");
                            return;
                        }
                    };
                    match text::word(&line) {
                        Ok(Some(w)) => {
                            let w = BusWord {
                                byte: w.byte,
                                mode: w.mode,
                            };
                            if tx.send(w).is_err() {
                                return;
                            }
                        }
                        Ok(None) => {}
                        // A line that is not a word is noise on the line: the exchange it
                        // belonged to fails and is tried again. A peer that sends nothing but
                        // noise must not fill the log: the first few are told, then one in
                        // a thousand with the count.
                        Err(e) => {
                            noise += 1;
                            if noise <= 10 || noise.is_multiple_of(1000) {
                                tracing::warn!("MDB socket {who}: {e} ({noise} bad lines so far)");
                            }
                        }
                    }
                }
            })?;
        Ok(SocketPort {
            name,
            writer: Box::new(writer),
            words,
            close: Some(Box::new(close)),
        })
    }
}

/// The longest line kept: longer ones are read to their end and kept cut (the framing then
/// refuses them as too long), so a peer cannot make the port hold a line of any size.
const MAX_LINE: usize = 64;

/// The next line (without its newline), `None` at the end of the stream.
fn read_line(reader: &mut impl BufRead) -> std::io::Result<Option<String>> {
    let mut kept = Vec::new();
    let mut any = false;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(any.then(|| String::from_utf8_lossy(&kept).into_owned()));
        }
        any = true;
        let (part, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        let room = (MAX_LINE + 1).saturating_sub(kept.len());
        kept.extend_from_slice(&part[..part.len().min(room)]);
        let used = done.unwrap_or(buf.len());
        reader.consume(used);
        if done.is_some() {
            return Ok(Some(String::from_utf8_lossy(&kept).into_owned()));
        }
    }
}

impl MdbPort for SocketPort {
    fn send(&mut self, words: &[BusWord]) -> Result<(), PortError> {
        let mut out = String::new();
        for w in words {
            out.push_str(&text::line(Word {
                byte: w.byte,
                mode: w.mode,
            }));
            out.push('\n');
        }
        self.writer.write_all(out.as_bytes())?;
        self.writer.flush()?;
        Ok(())
    }

    fn receive(&mut self, timeout: Duration) -> Result<Option<BusWord>, PortError> {
        happiness_hardware::mdb::next_word(&self.words, timeout, || {
            format!("{} closed the connection", self.name)
        })
    }

    fn slack(&self) -> Duration {
        // Another process answers, maybe across a network.
        Duration::from_millis(50)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_whole_and_a_long_one_is_cut() {
        let long = "7".repeat(10_000);
        let input = format!("12 mode\r\n{long}\n0b");
        let mut r = BufReader::with_capacity(16, input.as_bytes());
        assert_eq!(
            read_line(&mut r).expect("read").as_deref(),
            Some("12 mode\r")
        );
        let cut = read_line(&mut r).expect("read").expect("line");
        assert_eq!(cut.len(), MAX_LINE + 1);
        assert!(text::word(&cut).is_err());
        assert_eq!(read_line(&mut r).expect("read").as_deref(), Some("0b"));
        assert_eq!(read_line(&mut r).expect("read"), None);
    }
}
