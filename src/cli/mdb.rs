//! `happiness mdb`: the MDB bus on its own, for wiring a machine and checking its payment
//! devices: the devices are brought up through the port named, and what each says is printed
//! in words as it happens.
//!
//! The monitor takes no money: coins and bills are refused unless `--accept` is given (a
//! bench, or a route driver filling the changer's tubes), a bill is always handed back from
//! escrow, and a card session is ended at once.

use std::process::ExitCode;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use happiness::mdb::bills::{BillEvent, Bills};
use happiness::mdb::coins::{CoinEvent, Coins};
use happiness::mdb::master::{Device, Master, MdbEvent};
use happiness::mdb::reader::{Reader, ReaderEvent};
use happiness::mdb::sim::SimBus;
use happiness::money::Cents;
use happiness::payments::{open_port, spawn, PortName};
use happiness_hardware::Clock;

/// Arguments of `happiness mdb`.
#[derive(Debug, Args)]
pub struct MdbArgs {
    /// The bus: `sim` (simulated devices), `uart:/dev/serial0` (the Pi's UART through an MDB
    /// level shifter), `tcp:HOST:PORT` or `unix:PATH` (devices reached over a socket, one word
    /// per text line).
    #[arg(long, default_value = "sim")]
    port: PortName,
    /// The devices on the bus, comma-separated: changer, bills, reader.
    #[arg(long, value_delimiter = ',', default_value = "changer,bills,reader")]
    devices: Vec<DeviceArg>,
    /// Stop after this many seconds (1 to 86400) and exit 3 if a device never came up; without
    /// it, run until interrupted.
    #[arg(long = "for", value_name = "SECONDS", value_parser = clap::value_parser!(u32).range(1..=86_400))]
    for_seconds: Option<u32>,
    /// Let the changer and the validator take coins and bills (a bench, or filling the tubes);
    /// without it they refuse them, since nothing here credits anyone.
    #[arg(long)]
    accept: bool,
}

/// A device named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DeviceArg {
    /// The coin changer.
    Changer,
    /// The bill validator.
    Bills,
    /// The cashless (card) reader.
    Reader,
}

/// Run the monitor.
pub fn mdb(args: MdbArgs) -> ExitCode {
    let wanted = |d| args.devices.contains(&d);
    let coins = wanted(DeviceArg::Changer).then(|| {
        let mut c = Coins::new();
        c.accept(args.accept);
        c
    });
    let bills = wanted(DeviceArg::Bills).then(|| {
        let mut b = Bills::new();
        b.accept(args.accept);
        b
    });
    // The reader's price range is only what it is told at setup; nothing is sold here.
    let reader = wanted(DeviceArg::Reader).then(|| Reader::new(Cents::new(5), Cents::new(1000)));
    let mut waiting: Vec<Device> = [
        (coins.is_some(), Device::Changer),
        (bills.is_some(), Device::Bills),
        (reader.is_some(), Device::Reader),
    ]
    .into_iter()
    .filter_map(|(on, d)| on.then_some(d))
    .collect();
    let sim = Arc::new(Mutex::new(SimBus::full()));
    let port = match open_port(&args.port, &sim) {
        Ok(p) => p,
        Err(e) => {
            tell!("error: {}: {e}", args.port);
            return ExitCode::from(2);
        }
    };
    let (tx, events) = mpsc::channel();
    let bus = match spawn(
        Master::new(coins, bills, reader),
        port,
        Clock::start(),
        move |e| {
            let _ = tx.send(e);
        },
    ) {
        Ok(b) => b,
        Err(e) => {
            tell!("error: {e}");
            return ExitCode::from(2);
        }
    };
    say!(
        "MDB on {}: bringing up {} device(s)",
        args.port,
        waiting.len()
    );
    let start = Instant::now();
    let end = args
        .for_seconds
        .map(|s| start + Duration::from_secs(u64::from(s)));
    loop {
        let wait = end.map_or(Duration::from_millis(500), |e| {
            e.saturating_duration_since(Instant::now())
        });
        match events.recv_timeout(wait) {
            Ok(event) => {
                let (device, words) = describe(&event);
                if is_ready(&event) {
                    waiting.retain(|d| *d != device);
                }
                say!(
                    "[{:8.3} s] {}: {}",
                    start.elapsed().as_secs_f64(),
                    device.name(),
                    words
                );
                answer(&bus, &event);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if end.is_some_and(|e| Instant::now() >= e) {
            break;
        }
    }
    let ended = bus.stop();
    if let Err(e) = ended {
        tell!("error: {e}");
        return ExitCode::from(2);
    }
    if waiting.is_empty() {
        say!("every device came up");
        ExitCode::SUCCESS
    } else {
        let names: Vec<&str> = waiting.iter().map(|d| d.name()).collect();
        tell!(
            "not answering: {} (check the wiring, the level shifter and the device's power)",
            names.join(", ")
        );
        ExitCode::from(3)
    }
}

fn is_ready(e: &MdbEvent) -> bool {
    matches!(
        e,
        MdbEvent::Coins(CoinEvent::Ready)
            | MdbEvent::Bills(BillEvent::Ready)
            | MdbEvent::Reader(ReaderEvent::Ready)
    )
}

/// Nothing is sold here: a bill in escrow goes back, a card session ends.
fn answer(bus: &happiness::payments::Bus, e: &MdbEvent) {
    match e {
        MdbEvent::Bills(BillEvent::Escrowed { .. }) => {
            bus.request(Box::new(|m, now| {
                let _ = m.bills().map(|b| b.give_back(now));
            }));
        }
        MdbEvent::Reader(ReaderEvent::SessionBegun { .. }) => {
            bus.request(Box::new(|m, _| {
                if let Some(r) = m.reader() {
                    r.end_session();
                }
            }));
        }
        _ => {}
    }
}

/// The device an event is from, and what it says in words.
fn describe(e: &MdbEvent) -> (Device, String) {
    match e {
        MdbEvent::Coins(c) => (Device::Changer, coins(c)),
        MdbEvent::Bills(b) => (Device::Bills, bills(b)),
        MdbEvent::Reader(r) => (Device::Reader, reader(r)),
    }
}

fn coins(e: &CoinEvent) -> String {
    match e {
        CoinEvent::Ready => "ready".into(),
        CoinEvent::Lost { why } => format!("lost: {why}"),
        CoinEvent::CoinIn { value, to_tube } => format!(
            "coin {value} in, to the {}",
            if *to_tube { "tubes" } else { "cash box" }
        ),
        CoinEvent::ManualPayout { value } => format!("{value} paid out by hand"),
        CoinEvent::ReturnLever => "coin return lever pressed".into(),
        CoinEvent::Paid { paid, owed } if owed.get() == 0 => format!("paid {paid} in change"),
        CoinEvent::Paid { paid, owed } => {
            format!("paid {paid} in change; {owed} could not be paid")
        }
        CoinEvent::Fault { what } => format!("fault: {what}"),
    }
}

fn bills(e: &BillEvent) -> String {
    match e {
        BillEvent::Ready => "ready".into(),
        BillEvent::Lost { why } => format!("lost: {why}"),
        BillEvent::Escrowed { value } => format!("bill {value} in escrow (handed back)"),
        BillEvent::Stacked { value } => format!("bill {value} stacked"),
        BillEvent::Returned { value } => format!("bill {value} handed back"),
        BillEvent::Rejected => "a bill was refused".into(),
        BillEvent::Unsure { value } => {
            format!("bill {value}: the validator did not say where it went")
        }
        BillEvent::StackerFull => "the stacker is full".into(),
        BillEvent::Fault { what } => format!("fault: {what}"),
    }
}

fn reader(e: &ReaderEvent) -> String {
    match e {
        ReaderEvent::Ready => "ready".into(),
        ReaderEvent::Lost { why } => format!("lost: {why}"),
        ReaderEvent::SessionBegun { funds: Some(f) } => {
            format!("card presented with {f} (session ended: nothing is sold here)")
        }
        ReaderEvent::SessionBegun { funds: None } => {
            "card presented (session ended: nothing is sold here)".into()
        }
        ReaderEvent::Approved { amount } => format!("vend of {amount} approved"),
        ReaderEvent::Denied => "vend denied".into(),
        ReaderEvent::CancelRequested => "the reader asks to end the session".into(),
        ReaderEvent::SessionEnded => "session ended".into(),
        ReaderEvent::Identified { id } => format!("identified as {id}"),
        ReaderEvent::Fault { what } => format!("fault: {what}"),
    }
}
