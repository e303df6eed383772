//! The controller facing outputs that refuse commands: a motor that will not start costs the
//! customer nothing, a motor that will not stop halts the machine with every output off, and a
//! driver that panics puts the machine out of service with the coin acceptor inhibited.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use happiness::config::MachineConfig;
use happiness::controller::{
    Controller, ControllerError, Dispatch, LocalClock, Request, Setup, Status, TraceSink,
};
use happiness::journal::Journal;
use happiness::localtime::LocalTime;
use happiness::money::Cents;
use happiness::surprise::SurpriseConfig;
use happiness::trace::{TraceEntry, TraceRecord};
use happiness::vend::{ColumnId, Command, Event};
use happiness_hardware::sim::{self, SimHandle};
use happiness_hardware::{AuxOutput, Clock, Hardware, HwError, InputSnapshot, ManualTime};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::watch;

/// The simulated machine with motors that refuse to start or to stop.
struct Flaky {
    inner: Box<dyn Hardware>,
    refuse_start: bool,
    refuse_stop: bool,
    panic_on_start: bool,
    safe_off: Arc<AtomicU32>,
}

impl Hardware for Flaky {
    fn set_motor(&mut self, column: usize, on: bool) -> Result<(), HwError> {
        assert!(
            !(on && self.panic_on_start),
            "relay board driver bug on column {column}"
        );
        if (on && self.refuse_start) || (!on && self.refuse_stop) {
            return Err(HwError::Gpio(format!(
                "motor {column} driver not answering"
            )));
        }
        self.inner.set_motor(column, on)
    }
    fn set_lamp(&mut self, lamp: usize, on: bool) -> Result<(), HwError> {
        self.inner.set_lamp(lamp, on)
    }
    fn set_aux(&mut self, output: AuxOutput, on: bool) -> Result<(), HwError> {
        self.inner.set_aux(output, on)
    }
    fn safe_off(&mut self) -> Result<(), HwError> {
        self.safe_off.fetch_add(1, Ordering::SeqCst);
        self.inner.safe_off()
    }
    fn read_inputs(&mut self) -> Result<InputSnapshot, HwError> {
        self.inner.read_inputs()
    }
    fn running_motors(&self) -> Vec<usize> {
        self.inner.running_motors()
    }
}

struct Rig {
    controller: Controller,
    trace: UnboundedReceiver<TraceRecord>,
    hand: ManualTime,
    clock: Clock,
    safe_off: Arc<AtomicU32>,
    sim: SimHandle,
    status: watch::Receiver<Status>,
}

fn rig(refuse_start: bool, refuse_stop: bool) -> Rig {
    rig_with(refuse_start, refuse_stop, false)
}

fn rig_with(refuse_start: bool, refuse_stop: bool, panic_on_start: bool) -> Rig {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let machine = Arc::new(MachineConfig::load_dir(&dir).expect("machine.toml"));
    let (clock, hand) = Clock::manual();
    let columns = machine.sim_columns();
    let (sim_machine, sim) =
        sim::build(&machine.wiring, columns, machine.sim.clone(), clock.clone()).expect("sim");
    let start = LocalTime::from_ymd_hm(2026, 3, 2, 12, 0).expect("date");
    let mut journal = Journal::open_in_memory().expect("journal");
    let recovery = journal.recover(&machine, start, 168).expect("recover");
    let safe_off = Arc::new(AtomicU32::new(0));
    let hw = Flaky {
        inner: Box::new(sim_machine),
        refuse_start,
        refuse_stop,
        panic_on_start,
        safe_off: Arc::clone(&safe_off),
    };
    let mut sink = TraceSink::new();
    let trace = sink.subscribe();
    let setup = Setup::basic(
        Arc::clone(&machine),
        SurpriseConfig::disabled(),
        1,
        LocalClock::StartingAt(start),
    );
    let (controller, status) =
        Controller::new(setup, Box::new(hw), clock.clone(), sink, journal, &recovery)
            .expect("controller");
    Rig {
        controller,
        trace,
        hand,
        clock,
        safe_off,
        sim,
        status,
    }
}

fn drain(trace: &mut UnboundedReceiver<TraceRecord>) -> Vec<TraceEntry> {
    let mut out = Vec::new();
    while let Ok(r) = trace.try_recv() {
        out.push(r.entry);
    }
    out
}

fn column(n: usize) -> ColumnId {
    ColumnId::from_number(n).expect("column")
}

fn pay_and_select(rig: &mut Rig) -> Result<(), ControllerError> {
    let now = rig.clock.now();
    rig.controller.feed(
        now,
        Event::Coin {
            value: Cents::new(200),
        },
    )?;
    rig.controller
        .feed(now, Event::Select { column: column(1) })
}

#[test]
fn a_motor_that_will_not_start_is_traced_in_order_and_the_customer_is_refunded() {
    let mut rig = rig(true, false);
    pay_and_select(&mut rig).expect("a motor that will not start does not stop the machine");
    let entries = drain(&mut rig.trace);
    let motor_on = entries
        .iter()
        .position(|e| {
            matches!(
                e,
                TraceEntry::Command {
                    command: Command::Motor { on: true, .. },
                    ..
                }
            )
        })
        .expect("the motor command is traced");
    assert!(
        matches!(&entries[motor_on - 1], TraceEntry::Error { message } if message.contains("not answering")),
        "the refusal is traced right before the command it concerns: {:?}",
        &entries[motor_on.saturating_sub(3)..=motor_on]
    );
    let select = entries
        .iter()
        .position(|e| {
            matches!(
                e,
                TraceEntry::Event {
                    event: Event::Select { .. }
                }
            )
        })
        .expect("the selection is traced");
    assert!(select < motor_on, "the event leads the commands it caused");
    assert!(rig.controller.core().is_vending());
    assert_eq!(rig.safe_off.load(Ordering::SeqCst), 0);

    // Nothing drops: sure-vend gives up after its nudges and the price goes back to credit.
    let mut steps = 0;
    while rig.controller.core().is_vending() && steps < 1000 {
        let next = rig
            .controller
            .next_deadline()
            .unwrap_or_else(|| rig.clock.now() + Duration::from_millis(10));
        rig.hand.set(next.max(rig.clock.now()));
        rig.controller.on_tick().expect("tick");
        steps += 1;
    }
    assert!(!rig.controller.core().is_vending(), "the vend ended");
    assert_eq!(rig.controller.core().credit(), Cents::new(200));
    let books = rig.controller.journal().report().expect("report");
    assert!(books.money.balanced, "{:?}", books.money);
    assert_eq!(books.money.spent, Cents::ZERO);
}

#[test]
fn a_motor_that_will_not_stop_halts_the_machine_with_every_output_off() {
    let mut rig = rig(false, true);
    pay_and_select(&mut rig).expect("the motor starts");
    assert_eq!(rig.controller.core().motor_on(), Some(column(1)));
    let mut result = Ok(());
    let mut steps = 0;
    while result.is_ok() && steps < 1000 {
        let next = rig
            .controller
            .next_deadline()
            .unwrap_or_else(|| rig.clock.now() + Duration::from_millis(10));
        rig.hand.set(next.max(rig.clock.now()));
        result = rig.controller.on_tick();
        steps += 1;
    }
    let err = result.expect_err("a motor that will not stop is fatal");
    assert!(
        matches!(err, ControllerError::Hardware(_)),
        "unexpected error: {err}"
    );
    assert!(
        rig.safe_off.load(Ordering::SeqCst) >= 1,
        "every output switched off"
    );
    let entries = drain(&mut rig.trace);
    let last_error = entries
        .iter()
        .rposition(|e| matches!(e, TraceEntry::Error { .. }))
        .expect("the failure is traced");
    assert!(
        !entries[last_error..].iter().any(|e| matches!(
            e,
            TraceEntry::Command {
                command: Command::Motor { on: false, .. },
                ..
            }
        )),
        "a motor command that failed is not traced as done"
    );
}

type Running = tokio::task::JoinHandle<Result<(), ControllerError>>;

/// Run `controller` behind a dispatch, as the kiosk does, with a customer paying 2.00 and
/// choosing column 1; returns the request channel and the run task.
fn run_paid_selection(
    controller: Controller,
) -> (tokio::sync::mpsc::UnboundedSender<Request>, Running) {
    let dispatch = Dispatch::new();
    dispatch.install(controller);
    let (requests, rx) = tokio::sync::mpsc::unbounded_channel();
    for event in [
        Event::Coin {
            value: Cents::new(200),
        },
        Event::Select { column: column(1) },
    ] {
        requests
            .send(Request::Event(event))
            .expect("controller running");
    }
    let run = tokio::spawn(Arc::clone(&dispatch).run(None, rx, std::future::pending()));
    (requests, run)
}

/// The lamps of the shipped config, in order: ready, vending, fault.
const FAULT_LAMP: usize = 2;

#[tokio::test]
async fn a_panicking_driver_puts_the_machine_out_of_service_with_the_acceptor_inhibited() {
    let rig = rig_with(false, false, true);
    let sim = rig.sim.clone();
    let status = rig.status.clone();
    assert!(!sim.inhibited(), "a ready machine takes coins");
    let (_requests, run) = run_paid_selection(rig.controller);
    let result = run.await.expect("the run task itself survives the panic");
    match result {
        Err(ControllerError::Panic(message)) => {
            assert!(message.contains("relay board driver bug"), "{message}")
        }
        other => panic!("expected a stop for the panic, got {other:?}"),
    }
    assert!(sim.inhibited(), "the acceptor refuses coins after the stop");
    assert!(sim.motors_on().is_empty(), "no motor runs");
    let lamps = sim.lamps();
    assert!(lamps[FAULT_LAMP], "the fault lamp is lit: {lamps:?}");
    assert!(
        !lamps[0] && !lamps[1],
        "ready and vending are dark: {lamps:?}"
    );
    let status = status.borrow().clone();
    let reason = status
        .out_of_service
        .expect("the status says out of service");
    assert!(reason.contains("relay board driver bug"), "{reason}");
    assert!(
        status.display.starts_with("Out of service"),
        "{}",
        status.display
    );
    assert_eq!(
        status.credit.saturating_add(status.escrow),
        Cents::new(200),
        "the money stays held: the open vend goes back to credit at the next start"
    );
    assert!(status.display.contains("€2.00"), "{}", status.display);
    let entries = drain(&mut { rig.trace });
    assert!(
        entries
            .iter()
            .any(|e| matches!(e, TraceEntry::Stopped { .. })),
        "the stop is traced"
    );
}

#[tokio::test]
async fn a_motor_that_will_not_stop_leaves_the_machine_out_of_service() {
    let rig = rig(false, true);
    let sim = rig.sim.clone();
    let status = rig.status.clone();
    let hand = rig.hand;
    let clock = rig.clock.clone();
    let (requests, run) = run_paid_selection(rig.controller);
    // The manual clock stands still: walk it to the motor's time limit by hand.
    let mut watching = status.clone();
    watching
        .wait_for(|s| s.motor_on.is_some())
        .await
        .expect("the motor starts");
    hand.set(clock.now() + Duration::from_secs(10));
    requests
        .send(Request::Event(Event::Restock { column: None }))
        .expect("a request wakes the loop, which acts on the passed deadline");
    let result = run.await.expect("run task");
    assert!(
        matches!(result, Err(ControllerError::Hardware(_))),
        "{result:?}"
    );
    assert!(sim.inhibited(), "the acceptor refuses coins");
    assert!(sim.lamps()[FAULT_LAMP], "the fault lamp is lit");
    let entries = drain(&mut { rig.trace });
    // Here the safe state's own switch-off reaches the motor (a driver that refuses even that is
    // the command-line test's `dead` fault): the stop reports no motor left on.
    let still_on = entries
        .iter()
        .find_map(|e| match e {
            TraceEntry::Stopped {
                motors_still_on, ..
            } => Some(motors_still_on.clone()),
            _ => None,
        })
        .expect("the stop is traced");
    assert!(still_on.is_empty());
    assert!(sim.motors_on().is_empty());
    assert!(status.borrow().out_of_service.is_some());
}
