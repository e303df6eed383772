//! The simulated peripherals as a port: what the master sends is answered at once by the
//! [`SimBus`] shared with whoever plays the customers (a test, the prompt).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use happiness_hardware::mdb::{BusWord, MdbPort, PortError};

use crate::mdb::sim::SimBus;
use crate::mdb::wire::Word;

/// A port onto simulated peripherals.
#[derive(Debug, Clone)]
pub struct SimPort {
    bus: Arc<Mutex<SimBus>>,
    answer: VecDeque<BusWord>,
}

impl SimPort {
    /// A port onto `bus`.
    pub fn new(bus: Arc<Mutex<SimBus>>) -> SimPort {
        SimPort {
            bus,
            answer: VecDeque::new(),
        }
    }
}

impl MdbPort for SimPort {
    fn send(&mut self, words: &[BusWord]) -> Result<(), PortError> {
        let words: Vec<Word> = words
            .iter()
            .map(|w| Word {
                byte: w.byte,
                mode: w.mode,
            })
            .collect();
        // A poisoned lock only means a customer's hand panicked: the devices are still there.
        let mut bus = self
            .bus
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let reply = bus.receive(&words);
        self.answer.extend(reply.into_iter().map(|w| BusWord {
            byte: w.byte,
            mode: w.mode,
        }));
        Ok(())
    }

    fn receive(&mut self, timeout: Duration) -> Result<Option<BusWord>, PortError> {
        if let Some(w) = self.answer.pop_front() {
            return Ok(Some(w));
        }
        // Nothing more can come until the master sends again.
        std::thread::sleep(timeout);
        Ok(None)
    }

    fn slack(&self) -> Duration {
        // The answer is there at once, but a loaded machine may run the master's thread late:
        // a simulated device must never be taken for silent because of that.
        Duration::from_millis(250)
    }
}

/// Serve the simulated peripherals in `bus` on `listener`, one connection at a time, in
/// `mdb::text`'s framing: what another process's bus master sends is answered as the bus
/// would. A burst is what arrived together (a master writes each burst at once); a partial
/// one fails its checksum and is tried again by the master, as on a noisy wire.
pub fn serve(
    listener: std::net::TcpListener,
    bus: Arc<Mutex<SimBus>>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    use std::io::{BufRead as _, BufReader, Write as _};
    std::thread::Builder::new()
        .name("mdb-sim-serve".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let Ok(mut out) = stream.try_clone() else {
                    continue;
                };
                let mut lines = BufReader::new(stream);
                let mut burst = Vec::new();
                let mut line = String::new();
                loop {
                    line.clear();
                    match lines.read_line(&mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                    if let Ok(Some(w)) = crate::mdb::text::word(&line) {
                        burst.push(w);
                    }
                    if !lines.buffer().is_empty() {
                        continue;
                    }
                    let reply = bus
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .receive(&burst);
                    burst.clear();
                    let text: String = reply
                        .into_iter()
                        .map(|w| crate::mdb::text::line(w) + "\n")
                        .collect();
                    if out.write_all(text.as_bytes()).is_err() {
                        break;
                    }
                }
            }
        })
}
