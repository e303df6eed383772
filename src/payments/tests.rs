//! The bus thread on the real clock, over the simulated peripherals in this process and over a
//! TCP socket to peripherals served by another thread. Each test waits for the events it needs
//! (with a generous bound), never for a fixed time.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use happiness_hardware::Clock;

use super::*;
use crate::mdb::bills::{BillEvent, Bills};
use crate::mdb::coins::{CoinEvent, Coins};
use crate::mdb::master::{Master, MdbEvent};
use crate::mdb::reader::{Reader, ReaderEvent};
use crate::mdb::sim::{SimBus, SimChanger};
use crate::mdb::text;
use crate::money::Cents;

const PATIENCE: Duration = Duration::from_secs(20);

fn master() -> Master {
    Master::new(
        Some(Coins::new()),
        Some(Bills::new()),
        Some(Reader::new(Cents::new(50), Cents::new(500))),
    )
}

fn wait_for(events: &Receiver<MdbEvent>, mut pred: impl FnMut(&MdbEvent) -> bool) -> Vec<MdbEvent> {
    let mut seen = Vec::new();
    loop {
        match events.recv_timeout(PATIENCE) {
            Ok(e) => {
                let done = pred(&e);
                seen.push(e);
                if done {
                    return seen;
                }
            }
            Err(_) => panic!("not seen in {PATIENCE:?}; saw {seen:?}"),
        }
    }
}

fn all_ready(events: &Receiver<MdbEvent>) {
    let mut ready = 0;
    wait_for(events, |e| {
        if matches!(
            e,
            MdbEvent::Coins(CoinEvent::Ready)
                | MdbEvent::Bills(BillEvent::Ready)
                | MdbEvent::Reader(ReaderEvent::Ready)
        ) {
            ready += 1;
        }
        ready == 3
    });
}

#[test]
fn the_bus_thread_brings_the_simulated_devices_up_and_carries_requests() {
    let sim = Arc::new(Mutex::new(SimBus::full()));
    let port = open_port(&PortName::Sim, &sim).expect("sim port");
    let (tx, events) = mpsc::channel();
    let bus = spawn(master(), port, Clock::start(), move |e| {
        let _ = tx.send(e);
    })
    .expect("spawn");
    all_ready(&events);

    let one_euro = SimChanger::kind_of(100).expect("1 euro");
    // The changer takes coins once it has been told which (the bus may still be sending COIN
    // TYPE right after READY): the hand tries until one is taken.
    let mut taken = false;
    while !taken {
        taken = sim
            .lock()
            .expect("sim")
            .changer
            .as_mut()
            .expect("changer")
            .insert(one_euro);
    }
    wait_for(&events, |e| {
        *e == MdbEvent::Coins(CoinEvent::CoinIn {
            value: Cents::new(100),
            to_tube: false,
        })
    });
    assert!(bus.request(Box::new(|m, _| {
        let _ = m.coins().map(|c| c.pay(Cents::new(15)));
    })));
    wait_for(&events, |e| {
        *e == MdbEvent::Coins(CoinEvent::Paid {
            paid: Cents::new(15),
            owed: Cents::ZERO,
        })
    });
    assert_eq!(
        sim.lock()
            .expect("sim")
            .changer
            .as_ref()
            .map(|c| c.paid_out),
        Some(15)
    );
    bus.stop().expect("a clean stop");
}

/// Serve `sim` on a TCP socket in the framing of `mdb::text`: one connection, each burst of
/// the master's lines answered as the bus would.
fn serve(sim: SimBus) -> (String, std::thread::JoinHandle<SimBus>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let handle = std::thread::spawn(move || {
        let mut sim = sim;
        let Ok((stream, _)) = listener.accept() else {
            return sim;
        };
        let mut out = stream.try_clone().expect("clone");
        let mut lines = BufReader::new(stream);
        let mut burst = Vec::new();
        loop {
            let mut line = String::new();
            match lines.read_line(&mut line) {
                Ok(0) | Err(_) => return sim,
                Ok(_) => {}
            }
            if let Ok(Some(w)) = text::word(line.trim_end()) {
                burst.push(w);
            }
            // A burst ends where the reader has nothing more buffered.
            if lines.buffer().is_empty() {
                let reply = sim.receive(&burst);
                burst.clear();
                let mut text_out = String::new();
                for w in reply {
                    text_out.push_str(&text::line(w));
                    text_out.push('\n');
                }
                if out.write_all(text_out.as_bytes()).is_err() {
                    return sim;
                }
            }
        }
    });
    (addr, handle)
}

#[test]
fn peripherals_in_another_process_are_reached_over_a_socket() {
    let mut only_card = SimBus::default();
    only_card.card = Some(crate::mdb::sim::SimCard::new());
    let (addr, server) = serve(only_card);
    let sim = Arc::new(Mutex::new(SimBus::default()));
    let port = open_port(&PortName::Tcp(addr), &sim).expect("tcp port");
    let (tx, events) = mpsc::channel();
    let reader_only = Master::new(
        None,
        None,
        Some(Reader::new(Cents::new(50), Cents::new(500))),
    );
    let bus = spawn(reader_only, port, Clock::start(), move |e| {
        let _ = tx.send(e);
    })
    .expect("spawn");
    wait_for(&events, |e| *e == MdbEvent::Reader(ReaderEvent::Ready));
    bus.stop().expect("a clean stop");
    let sim = server.join().expect("server");
    assert!(sim.card.is_some());
}

#[test]
fn a_port_that_cannot_be_opened_says_which_and_why() {
    let sim = Arc::new(Mutex::new(SimBus::default()));
    let Err(err) = open_port(&PortName::Uart("/nonexistent/serial9".into()), &sim) else {
        panic!("no such device");
    };
    assert!(err.to_string().contains("MDB port"), "{err}");
    let Err(err) = open_port(&PortName::Unix("/nonexistent/mdb.sock".into()), &sim) else {
        panic!("no such socket");
    };
    assert!(err.to_string().contains("MDB port"), "{err}");
}
