//! The runtime glue: hardware edges and timer deadlines in, vend core, commands out to the
//! hardware, everything traced.
//!
//! The controller owns the [`VendCore`], the input conditioner and the [`Hardware`]; it is the
//! only place where time is read (from the shared [`Clock`]) and where commands touch pins. It
//! holds no vending rules of its own: anything a customer could notice is decided by the core.
//! Whatever way it stops (shutdown signal, hardware gone, error) it switches every motor off.

use std::path::PathBuf;
use std::sync::Arc;

use happiness_hardware::sim::SimNotice;
use happiness_hardware::{
    Clock, Hardware, HwError, InputConditioner, InputEvent, RawEdge, Stamped, Timestamp,
};
use tokio::sync::watch;

use crate::config::{MachineConfig, MACHINE_FILE};
use crate::journal::{Journal, JournalError, StorageStatus};
use crate::localtime::LocalTime;
use crate::metrics::Metrics;
use crate::money::Cents;
use crate::surprise::config::SURPRISES_FILE;
use crate::surprise::SurpriseConfig;
use crate::trace::{display_text, SimReport, TraceEntry, TraceRecord};
use crate::vend::{
    ColumnId, ColumnStatus, Command, Event, LampRole, Ledger, Notice, Screen, VendCore,
};

/// While the disk is full, how often to look whether room was made (no timer runs otherwise).
const STORAGE_RECHECK_S: u64 = 5;

/// Why the controller stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// The hardware refused something that must work.
    #[error("hardware failure: {0}")]
    Hardware(HwError),
    /// The input edge stream ended: the backend is gone.
    #[error("the hardware input stream ended unexpectedly")]
    InputsClosed,
    /// The books could not be written: the machine stops rather than vend unrecorded.
    #[error("stopping: {0}")]
    Journal(JournalError),
    /// A step of the controller panicked (a bug): the machine stops rather than carry on in a
    /// state nobody designed.
    #[error("stopping after an internal error: {0}")]
    Panic(String),
}

// Written out rather than `#[from]`: the message already carries the cause, and a cause that is
// also the error's `source` is printed twice by anyone who prints the chain.
impl From<HwError> for ControllerError {
    fn from(e: HwError) -> Self {
        ControllerError::Hardware(e)
    }
}

impl From<JournalError> for ControllerError {
    fn from(e: JournalError) -> Self {
        ControllerError::Journal(e)
    }
}

/// A command the hardware refused, and whether the machine must stop for it.
struct DriveError {
    error: HwError,
    must_stop: bool,
}

/// Where the controller gets local wall-clock time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalClock {
    /// The system's local time.
    System,
    /// A fixed start, moving with the monotonic clock (for tests and replays).
    StartingAt(LocalTime),
}

impl LocalClock {
    /// Local time minus UTC now, in seconds (0 for a fixed start, which is its own timeline).
    pub fn utc_offset(self) -> i64 {
        match self {
            LocalClock::System => i64::from(chrono::Local::now().offset().local_minus_utc()),
            LocalClock::StartingAt(_) => 0,
        }
    }
}

/// What a controller runs with, besides its hardware.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The machine.
    pub machine: Arc<MachineConfig>,
    /// The surprise catalogue and policy.
    pub surprises: SurpriseConfig,
    /// Seed for the surprise engine.
    pub seed: u64,
    /// Source of local time.
    pub local_clock: LocalClock,
    /// A deliberate bug (only for the fault campaign's self-test).
    pub inject_bug: Option<crate::vend::InjectedBug>,
    /// Where the config files live, for accepted changes to be written back and for reloads.
    pub config_dir: Option<PathBuf>,
    /// The text of `machine.toml` the machine runs with.
    pub machine_text: String,
    /// The text of `surprises.toml` the machine runs with (empty without the file).
    pub surprises_text: String,
    /// Metrics to keep up to date.
    pub metrics: Option<Arc<Metrics>>,
    /// "sim" or "rpi", for status.
    pub hardware: String,
    /// Told what recovery found, just before selling starts.
    pub on_open: Option<OnOpen>,
}

impl Setup {
    /// A setup with no config directory, no metrics and no recorded config texts.
    pub fn basic(
        machine: Arc<MachineConfig>,
        surprises: SurpriseConfig,
        seed: u64,
        local_clock: LocalClock,
    ) -> Self {
        Setup {
            machine,
            surprises,
            seed,
            local_clock,
            inject_bug: None,
            config_dir: None,
            machine_text: String::new(),
            surprises_text: String::new(),
            metrics: None,
            hardware: "sim".into(),
            on_open: None,
        }
    }
}

/// The running controller. Build with [`Controller::new`], then [`Controller::run`].
pub struct Controller {
    core: VendCore,
    config: Arc<MachineConfig>,
    journal: Journal,
    local: LocalTime,
    local_clock: LocalClock,
    hw: Box<dyn Hardware>,
    conditioner: InputConditioner,
    clock: Clock,
    trace: TraceSink,
    status: watch::Sender<Status>,
    screen: Option<Screen>,
    lamps_on: Vec<LampRole>,
    /// The config files in force, and what became of the last change.
    files: config_files::ConfigFiles,
    metrics: Option<Arc<Metrics>>,
    hardware: String,
    /// Why the machine stopped selling for good (until restarted), once it has.
    halted: Option<String>,
    /// The books' disk as last seen.
    storage: StorageStatus,
    /// While the disk is full: when to look again whether room was made.
    storage_recheck: Option<Timestamp>,
    /// What needs the operator now.
    alerts: crate::alerts::Alerts,
    /// Local time minus UTC, in seconds, on the system clock (none on a clock of its own).
    utc_offset: Option<i32>,
    /// When alerts that time alone can raise are looked at again.
    alert_recheck: Option<Timestamp>,
    /// The last paid sale (or, until one, when the machine started selling).
    last_sale: Option<LocalTime>,
    /// A paid vend has finished and its customer has not yet answered "how was it?".
    feedback_open: bool,
    /// Paid vends finished (delivered or refunded) since start: names the vend a feedback
    /// answer is for.
    vends_finished: u64,
    /// Until the books have passed their checks: what waits for them.
    starting: Option<startup::Starting>,
    /// Today's sales and surprises.
    today: today::Today,
    /// A service test vend whose asker waits for its outcome.
    test_vend: Option<service::PendingTest>,
    /// The payment devices on the MDB bus, when any are fitted.
    payments: Option<payments::PaymentsLink>,
}

impl Controller {
    fn record(&mut self, at: Timestamp, entry: TraceEntry) {
        self.trace.emit(TraceRecord::new(at, entry));
    }

    /// Announce readiness in the trace.
    pub fn announce(&mut self) {
        let machine = self.config.name.clone();
        let hardware = self.hardware.clone();
        self.record(self.clock.now(), TraceEntry::Ready { machine, hardware });
    }

    /// When [`Controller::on_tick`] next has work: the earliest of the vend core's and the input
    /// conditioner's deadlines.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        if self.halted.is_some() {
            // Stopped: only a coin still being counted needs time.
            return self.conditioner.next_deadline();
        }
        [
            self.core.next_deadline(),
            self.conditioner.next_deadline(),
            self.storage_recheck,
            self.alert_recheck,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The vend core (read-only, for status and checks).
    pub fn core(&self) -> &VendCore {
        &self.core
    }

    /// The journal (read-only, for checks and reports).
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The journal, to change its disk (tests and the fault campaign make it fill up).
    pub fn journal_mut(&mut self) -> &mut Journal {
        &mut self.journal
    }

    /// A notice from the simulated world, for the trace.
    pub fn on_sim_notice(&mut self, notice: Stamped<SimNotice>) {
        let at = notice.at;
        let report = match notice.event {
            SimNotice::ItemInTray { column, product } => ColumnId::from_index(column.into())
                .map(|column| SimReport::ItemInTray { column, product }),
            SimNotice::MotorStalled { column } => {
                ColumnId::from_index(column.into()).map(|column| SimReport::MotorStalled { column })
            }
            SimNotice::CoinPaidOut => Some(SimReport::CoinPaidOut),
            SimNotice::CoinReturnedByAcceptor { pulses } => {
                Some(SimReport::CoinReturnedByAcceptor { pulses })
            }
        };
        if let Some(notice) = report {
            self.record(at, TraceEntry::Sim { notice });
        }
    }

    /// An input edge from the hardware.
    pub fn on_edge(&mut self, edge: RawEdge) -> Result<(), ControllerError> {
        let inputs = self.conditioner.on_edge(edge);
        self.inputs(inputs)
    }

    /// Handle conditioned inputs in order. One that fails stops the controller at once, and the
    /// ones after it (the last pulses of a coin, counted in the same breath) still reach the
    /// stopped controller, which logs a coin it can no longer book.
    fn inputs(&mut self, inputs: Vec<Stamped<InputEvent>>) -> Result<(), ControllerError> {
        let mut first = None;
        for input in inputs {
            if let Err(e) = self.input(input) {
                self.halt(&e.to_string());
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// Give the core the wall-clock time that corresponds to `at`: local, and steady (UTC).
    fn sync_local_time(&mut self, at: Timestamp) {
        let (local, steady) = match self.local_clock {
            LocalClock::System => {
                let now = chrono::Local::now();
                self.utc_offset = Some(now.offset().local_minus_utc());
                (LocalTime::now_from(&now), now.timestamp())
            }
            LocalClock::StartingAt(start) => {
                let local =
                    start.plus_secs(i64::try_from(at.as_micros() / 1_000_000).unwrap_or(i64::MAX));
                // A fixed start moved by the monotonic clock never jumps: its own timeline.
                (local, local.secs())
            }
        };
        self.local = local;
        self.core.set_wall_time(local, steady);
    }

    /// Act on deadlines that have passed (input conditioning and the vend core).
    pub fn on_tick(&mut self) -> Result<(), ControllerError> {
        let now = self.clock.now();
        let inputs = self.conditioner.poll(now);
        self.inputs(inputs)?;
        if self.halted.is_some() {
            return Ok(());
        }
        self.sync_local_time(now);
        let cmds = self.core.poll(now);
        self.execute(now, None, cmds)?;
        if self.storage_recheck.is_some_and(|t| t <= now) {
            self.sync_storage(now)?;
        }
        if self.alert_recheck.is_some_and(|t| t <= now) {
            self.alert_recheck = None;
            self.publish();
        }
        Ok(())
    }

    /// Translate a conditioned input into a vend event using the configuration.
    fn input(&mut self, input: Stamped<InputEvent>) -> Result<(), ControllerError> {
        if self.hold_input(input) {
            return Ok(());
        }
        if self.halted.is_some() {
            self.input_while_stopped(input);
            return Ok(());
        }
        let at = input.at;
        let event = match input.event {
            InputEvent::ButtonPressed { button } => {
                match self.config.buttons.get(usize::from(button)) {
                    Some(&column) => {
                        // No vend starts that the books might not be able to finish.
                        self.sync_storage(at)?;
                        Event::Select { column }
                    }
                    None => {
                        self.record(at, TraceEntry::Input { input: input.event });
                        return Ok(());
                    }
                }
            }
            InputEvent::CoinReturnPressed => Event::CoinReturn,
            InputEvent::CoinPulses { count } => match self.config.coin_for_pulses(count) {
                Some(value) => Event::Coin { value },
                None => Event::UnknownCoin { pulses: count },
            },
            InputEvent::DropDetected { sensor } => Event::Drop { sensor },
            InputEvent::DropSensorStuck { sensor } => Event::SensorStuck { sensor },
            InputEvent::DropSensorCleared { sensor } => Event::SensorCleared { sensor },
            InputEvent::HomeReached { column } => match ColumnId::from_index(column.into()) {
                Some(column) => Event::Home { column },
                None => return Ok(()),
            },
            InputEvent::DoorChanged { open } => Event::Door { open },
            InputEvent::CoinPulseRejected { .. } => {
                self.record(at, TraceEntry::Input { input: input.event });
                return Ok(());
            }
        };
        self.feed(at, event)
    }

    /// Feed an event to the core and carry out what it says.
    pub fn feed(&mut self, at: Timestamp, event: Event) -> Result<(), ControllerError> {
        if self.halted.is_some() {
            // Stopped: nothing more is decided or recorded.
            return Ok(());
        }
        self.sync_local_time(at);
        let cmds = self.core.handle(at, event);
        self.execute(at, Some(TraceEntry::Event { event }), cmds)
    }

    /// Carry out the core's commands: the books first, then the hardware, then the trace.
    /// `cause` (the event that led to them, if any) leads their trace records.
    fn execute(
        &mut self,
        at: Timestamp,
        mut cause: Option<TraceEntry>,
        cmds: Vec<Command>,
    ) -> Result<(), ControllerError> {
        // The books first: a vend's intent is on disk before its motor starts, and nothing is
        // done that could not be recorded.
        let commits = self.journal.stats().commits;
        self.book(at, &mut cause, &cmds)?;
        // Then the hardware, every command in order, before anything is traced: formatting and
        // handing out trace records must not stand between a press and its motor.
        let mut outcomes = Vec::with_capacity(cmds.len());
        for command in &cmds {
            let outcome = self.drive(command);
            let must_stop = matches!(&outcome, Err(e) if e.must_stop);
            outcomes.push(outcome);
            if must_stop {
                let _ = self.hw.safe_off();
                break;
            }
        }
        // After the motors: bookkeeping for the page must not stand before them either.
        if cmds.iter().any(|c| {
            matches!(
                c,
                Command::Notice(Notice::VendDelivered { .. } | Notice::VendFailed { .. })
            )
        }) {
            self.feedback_open = true;
            self.vends_finished += 1;
        }
        if cmds
            .iter()
            .any(|c| matches!(c, Command::Notice(Notice::VendDelivered { .. })))
        {
            self.last_sale = Some(self.local);
        }
        self.count_today(&cmds);
        self.answer_test_vend(&cmds);
        if let Some(cause) = cause {
            self.record(at, cause);
        }
        // `zip` ends at the last command driven: after a fatal failure nothing else was done.
        for (command, outcome) in cmds.into_iter().zip(outcomes) {
            if let Err(e) = outcome {
                self.record(
                    at,
                    TraceEntry::Error {
                        message: e.error.to_string(),
                    },
                );
                if e.must_stop {
                    return Err(e.error.into());
                }
            }
            let text = display_text(&command, &self.config.currency);
            self.record(at, TraceEntry::Command { command, text });
        }
        if self.journal.stats().commits != commits {
            self.sync_storage(at)?;
        }
        Ok(())
    }

    /// Book the notices among `cmds` in one transaction (the metrics see them too). When that
    /// fails even with the reserve released, every output goes safe and what could not be booked
    /// goes to the log, so that an operator can set the books right by hand.
    /// `cause` leads the trace of a failure (and is left for the caller otherwise).
    fn book(
        &mut self,
        at: Timestamp,
        cause: &mut Option<TraceEntry>,
        cmds: &[Command],
    ) -> Result<(), ControllerError> {
        let notices: Vec<&Notice> = cmds
            .iter()
            .filter_map(|c| match c {
                Command::Notice(n) => Some(n),
                _ => None,
            })
            .collect();
        if let Some(m) = &self.metrics {
            for n in &notices {
                m.observe(n);
            }
        }
        if notices.is_empty() {
            return Ok(());
        }
        let credit = self.core.credit();
        let mut result = self.journal.record(self.local, &notices, credit);
        if matches!(&result, Err(e) if e.is_storage_full()) && self.journal.release_reserve() {
            // The reserve is there for exactly this: what already happened (a coin in the
            // slot, an item in the tray) is recorded to the end. Nothing new starts after it.
            result = self.journal.record(self.local, &notices, credit);
        }
        let Err(e) = result else {
            return Ok(());
        };
        if let Some(cause) = cause.take() {
            self.record(at, cause);
        }
        let _ = self.hw.safe_off();
        self.record(
            at,
            TraceEntry::Error {
                message: format!("journal write failed, stopping: {e}"),
            },
        );
        let lost: Vec<Notice> = notices.iter().map(|n| (*n).clone()).collect();
        let entry = TraceEntry::Unrecorded { notices: lost };
        tracing::error!(
            "{}",
            TraceRecord::new(at, entry.clone()).to_text(&self.config.currency)
        );
        self.record(at, entry);
        Err(e.into())
    }

    /// Look at the books' disk, put the reserve back when room was made, and tell the core when
    /// the disk fills up or has room again. Cheap enough for every commit and every selection.
    fn sync_storage(&mut self, at: Timestamp) -> Result<(), ControllerError> {
        let mut status = self.journal.storage();
        if status.low && !status.reserve_held && self.journal.restore_reserve() {
            status = self.journal.storage();
        }
        self.storage = status;
        self.storage_recheck = status
            .low
            .then(|| at + std::time::Duration::from_secs(STORAGE_RECHECK_S));
        if status.low == self.core.storage_full() {
            return Ok(());
        }
        if status.low {
            tracing::error!(
                free_bytes = ?status.free_bytes,
                reserve = status.reserve_held,
                floor = self.journal.limits().min_free,
                "storage full: the machine takes no money and starts no vend until there is room \
                 on the disk holding the books; credit is kept"
            );
        } else {
            tracing::info!(free_bytes = ?status.free_bytes, "the disk has room again: selling");
        }
        self.feed(at, Event::Storage { full: status.low })
    }
}

mod alerting;
mod columns;
mod config_files;
mod dispatch;
mod drive;
mod gifts;
mod payments;
mod requests;
mod service;
mod startup;
mod status;
mod stop;
mod today;
mod trace_sink;

pub(crate) use config_files::rejection as config_rejection;
pub use dispatch::Dispatch;
pub use gifts::{GiftRefusal, GiftWaiting};
pub use payments::PaymentsLink;
pub use requests::{Applied, BodyFormat, ConfigRejection, IssueView, PeriodError, Request};
pub use service::{AuditError, AuditRead, TestVendOutcome, TestVendRefusal, TestVendReply};
pub use startup::OnOpen;
pub use status::{ColumnView, Status};
pub use today::Today;
pub use trace_sink::TraceSink;
