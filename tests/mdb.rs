//! `happiness mdb`, the real binary, against simulated peripherals served over TCP from this
//! process: the devices present come up and the exit says so; a device that is not there is
//! named, with exit 3.

use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};

use happiness::mdb::sim::{SimBus, SimCard, SimChanger};
use happiness::payments::sim_port;

fn serve(bus: SimBus) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    sim_port::serve(listener, Arc::new(Mutex::new(bus))).expect("serve");
    addr
}

fn changer_and_reader() -> SimBus {
    let mut bus = SimBus::default();
    bus.changer = Some(SimChanger::new());
    bus.card = Some(SimCard::new());
    bus
}

fn monitor(addr: &str, devices: &str) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_happiness"))
        .args([
            "mdb",
            "--port",
            &format!("tcp:{addr}"),
            "--devices",
            devices,
        ])
        .args(["--for", "4"])
        .output()
        .expect("run happiness mdb");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_devices_on_the_bus_come_up_over_a_socket() {
    let addr = serve(changer_and_reader());
    let (code, out, err) = monitor(&addr, "changer,reader");
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("coin changer: ready"), "{out}");
    assert!(out.contains("card reader: ready"), "{out}");
    assert!(out.contains("every device came up"), "{out}");
}

#[test]
fn a_device_that_never_answers_is_named_with_exit_3() {
    let addr = serve(changer_and_reader());
    let (code, out, err) = monitor(&addr, "changer,bills,reader");
    assert_eq!(code, Some(3), "{out}\n{err}");
    assert!(err.contains("not answering: bill validator"), "{err}");
    assert!(out.contains("coin changer: ready"), "{out}");
}
