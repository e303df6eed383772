//! The bus master's thread: the master's words go out through the port the moment it asks,
//! each word that comes back goes to it with the time it was read, and its deadlines are kept
//! with the real clock. Other threads reach the drivers only through [`Request`]s, applied
//! between two words, so a driver is never touched mid-exchange by anyone else.
//!
//! A thread of its own, not a task: MDB answers are due within 5 ms, a budget an async
//! runtime busy with pages and the books should not have to keep.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use happiness_hardware::mdb::{BusWord, MdbPort, PortError};
use happiness_hardware::{Clock, Timestamp};

use crate::mdb::bus::Timing;
use crate::mdb::master::{Master, MdbEvent, Tick};
use crate::mdb::wire::Word;

/// Something to do to the drivers, with the time it is done at (a vend request, a payout, a
/// bill to stack).
pub type Request = Box<dyn FnOnce(&mut Master, Timestamp) + Send>;

/// The running bus.
#[derive(Debug)]
pub struct Bus {
    requests: Sender<Request>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<(), PortError>>>,
}

impl Bus {
    /// Have `request` done between two exchanges. False if the bus has stopped.
    pub fn request(&self, request: Request) -> bool {
        self.requests.send(request).is_ok()
    }

    /// Stop the thread and say how it ended.
    pub fn stop(mut self) -> Result<(), PortError> {
        self.stop.store(true, Ordering::SeqCst);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(ended)) => ended,
            Some(Err(_)) => Err(PortError::Closed("the MDB thread panicked".into())),
            None => Ok(()),
        }
    }

    /// Whether the thread has ended (a port that failed, or a stop).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// The longest the thread sleeps without looking for requests or a stop.
const WAKE: Duration = Duration::from_millis(20);

/// Start the master's thread on `port`; each device event goes to `sink`.
pub fn spawn(
    master: Master,
    mut port: Box<dyn MdbPort>,
    clock: Clock,
    mut sink: impl FnMut(MdbEvent) + Send + 'static,
) -> Result<Bus, PortError> {
    let slack = port.slack();
    let base = Timing::default();
    let timing = Timing {
        response: base.response + slack,
        inter_byte: base.inter_byte + slack,
        attempts: base.attempts,
    };
    let gap = master.gap();
    let mut master = master.with_timing(timing, gap);
    let (requests, inbox) = mpsc::channel::<Request>();
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("mdb".into())
        .spawn(move || {
            run(
                &mut master,
                port.as_mut(),
                &clock,
                &inbox,
                &stopped,
                &mut sink,
            )
        })?;
    Ok(Bus {
        requests,
        stop,
        thread: Some(thread),
    })
}

fn run(
    master: &mut Master,
    port: &mut dyn MdbPort,
    clock: &Clock,
    inbox: &Receiver<Request>,
    stop: &AtomicBool,
    sink: &mut impl FnMut(MdbEvent),
) -> Result<(), PortError> {
    while !stop.load(Ordering::SeqCst) {
        while let Ok(request) = inbox.try_recv() {
            request(master, clock.now());
        }
        let now = clock.now();
        let deadline = master.deadline();
        if deadline <= now {
            let tick = master.on_time(now);
            if carry(tick, port, sink)? {
                master.sent(clock.now());
            }
            continue;
        }
        let wait = deadline.saturating_since(now).min(WAKE);
        if let Some(w) = port.receive(wait)? {
            let tick = master.on_word(
                Word {
                    byte: w.byte,
                    mode: w.mode,
                },
                clock.now(),
            );
            if carry(tick, port, sink)? {
                master.sent(clock.now());
            }
        }
    }
    Ok(())
}

/// Send the tick's words and hand on its events; whether any words went out.
fn carry(
    tick: Tick,
    port: &mut dyn MdbPort,
    sink: &mut impl FnMut(MdbEvent),
) -> Result<bool, PortError> {
    let sent = !tick.send.is_empty();
    if sent {
        let words: Vec<BusWord> = tick
            .send
            .iter()
            .map(|w| BusWord {
                byte: w.byte,
                mode: w.mode,
            })
            .collect();
        port.send(&words)?;
    }
    for e in tick.events {
        sink(e);
    }
    Ok(sent)
}
