//! The bus thread on the real clock, over the simulated peripherals in this process and over a
//! TCP socket to peripherals served by another thread. Each test waits for the events it needs
//! (with a generous bound), never for a fixed time.

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

#[test]
fn peripherals_in_another_process_are_reached_over_a_socket() {
    let mut only_card = SimBus::default();
    only_card.card = Some(crate::mdb::sim::SimCard::new());
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let served = Arc::new(Mutex::new(only_card));
    sim_port::serve(listener, Arc::clone(&served)).expect("serve");
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
    let served = served.lock().expect("served");
    assert!(served.card.as_ref().is_some_and(|c| !c.in_session()));
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
