//! Assembling a running kiosk: configuration, a hardware backend, and the controller task.
//!
//! This is the one place that knows both backends; everything it starts is the same code for
//! both. It must be called from inside a tokio runtime.

use std::sync::{Arc, Mutex};

use happiness_hardware::sim::{self, SimHandle, SimNotice};
use happiness_hardware::{rpi, Clock, HwError, Stamped};
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use std::path::PathBuf;

use crate::config::{CoinDevice, MachineConfig};
use crate::controller::{
    Controller, ControllerError, Dispatch, LocalClock, OnOpen, PaymentsLink, Request, Setup,
    Status, TraceSink,
};
use crate::journal::{check_books_in, Journal, JournalError, OpenOptions, Recovery, SealKey};
use crate::mdb::sim::{SimBus, SimCard, SimChanger, SimValidator};
use crate::metrics::Metrics;
use crate::payments::port::BadPortName;
use crate::payments::{open_port, PortName};
use crate::surprise::SurpriseConfig;
use crate::vend::Event;

/// Everything a kiosk needs besides its hardware choice.
#[derive(Debug, Clone)]
pub struct KioskConfig {
    /// The machine.
    pub machine: Arc<MachineConfig>,
    /// Surprise catalogue and policy.
    pub surprises: SurpriseConfig,
    /// Seed for all randomness (simulated bounce, surprises).
    pub seed: u64,
    /// Source of local time.
    pub local_clock: LocalClock,
    /// Where the books are kept.
    pub journal: JournalLocation,
    /// The config directory, for operator changes to be written back and reloads to be read.
    pub config_dir: Option<PathBuf>,
    /// The text of `machine.toml` (recorded as a config version).
    pub machine_text: String,
    /// The text of `surprises.toml` (recorded as a config version; empty without the file).
    pub surprises_text: String,
    /// Metrics to keep up to date.
    pub metrics: Option<Arc<Metrics>>,
    /// How a journal on disk is opened (new books, free-space rules).
    pub journal_options: OpenOptions,
    /// Copy every record into the journal's outbox for the fleet link.
    pub outbox: bool,
}

/// Where the journal lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalLocation {
    /// In memory: the books last as long as the process (the simulator's default).
    Memory,
    /// `journal.db` in this directory.
    Dir(PathBuf),
}

impl KioskConfig {
    /// A kiosk with no surprises, the system's local time and books in memory.
    pub fn plain(machine: MachineConfig, seed: u64) -> Self {
        KioskConfig {
            machine: Arc::new(machine),
            surprises: SurpriseConfig::disabled(),
            seed,
            local_clock: LocalClock::System,
            journal: JournalLocation::Memory,
            config_dir: None,
            machine_text: String::new(),
            surprises_text: String::new(),
            metrics: None,
            journal_options: OpenOptions::default(),
            outbox: false,
        }
    }
}

/// Which hardware to drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The simulated machine.
    Sim,
    /// The Raspberry Pi's GPIO.
    Rpi,
}

impl Backend {
    /// "sim" or "rpi".
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sim => "sim",
            Backend::Rpi => "rpi",
        }
    }
}

/// Whether this computer is a Raspberry Pi (from the device tree's model string).
pub fn is_raspberry_pi() -> bool {
    std::fs::read_to_string("/proc/device-tree/model")
        .map(|m| m.contains("Raspberry Pi"))
        .unwrap_or(false)
}

/// Why a kiosk could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
pub enum KioskError {
    /// The hardware could not be opened.
    #[error(transparent)]
    Hardware(#[from] HwError),
    /// The controller failed.
    #[error(transparent)]
    Controller(#[from] ControllerError),
    /// The journal could not be opened or recovered.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The controller task panicked or was cancelled.
    #[error("the controller task ended abnormally: {0}")]
    Task(String),
    /// The payment devices' bus could not be started.
    #[error("cannot start the MDB bus on {port}: {why}")]
    Payments {
        /// The port, as named in `[payment] port`.
        port: String,
        /// What went wrong.
        why: String,
    },
}

impl KioskError {
    /// Whether the books stopped the kiosk in a way only an operator can set right (damaged,
    /// altered, emptied or missing books): a restart would fail the same way.
    pub fn books_need_operator(&self) -> bool {
        match self {
            KioskError::Journal(e) | KioskError::Controller(ControllerError::Journal(e)) => {
                e.needs_operator()
            }
            _ => false,
        }
    }
}

/// A running kiosk.
pub struct Kiosk {
    /// The simulated world, when running on the simulator.
    pub sim: Option<SimHandle>,
    /// The simulated payment devices, when `[payment] port = "sim"` (a card to tap, a bill).
    pub mdb: Option<Arc<Mutex<SimBus>>>,
    /// The latest machine status.
    pub status: watch::Receiver<Status>,
    /// The configuration it runs with.
    pub config: Arc<MachineConfig>,
    /// The clock everything runs on.
    pub clock: Clock,
    requests: UnboundedSender<Request>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ControllerError>>>,
    /// Closed when the controller task ends, whatever the reason.
    done: watch::Receiver<()>,
    /// The dispatch, for the process's panic hook (not kept alive by it).
    panic_stop: std::sync::Weak<Dispatch>,
}

impl Kiosk {
    /// Start a kiosk for `setup` on `backend`, tracing into `trace`.
    pub fn start(
        setup: KioskConfig,
        backend: Backend,
        trace: TraceSink,
    ) -> Result<Kiosk, KioskError> {
        let config = Arc::clone(&setup.machine);
        let clock = Clock::start();
        // Opening is quick whatever the history: the checks that grow with it run below, after
        // the kiosk is ready, and selling waits for them.
        let mut journal = match &setup.journal {
            JournalLocation::Memory => Journal::open_in_memory()?,
            JournalLocation::Dir(dir) => Journal::open_dir_with(dir, &setup.journal_options)?,
        };
        if setup.outbox {
            journal.enable_outbox()?;
        }
        let seal_key = journal.seal_key();

        let dispatch = Dispatch::new();
        let hardware = open_backend(backend, &config, setup.seed, &clock, &dispatch)?;
        let HardwareParts {
            hw,
            sim,
            notices,
            physics,
            on_open,
        } = hardware;
        let controller_setup = Setup {
            machine: Arc::clone(&config),
            surprises: setup.surprises,
            // A different stream from the simulator's, so the two never correlate.
            seed: setup.seed ^ 0x5eed_5a4f_0000_0001,
            local_clock: setup.local_clock,
            inject_bug: None,
            config_dir: setup.config_dir,
            machine_text: setup.machine_text,
            surprises_text: setup.surprises_text,
            metrics: setup.metrics,
            hardware: backend.name().to_string(),
            on_open,
        };
        let (mut controller, status) =
            Controller::starting(controller_setup, hw, clock.clone(), trace, journal)?;
        let (request_tx, request_rx) = tokio::sync::mpsc::unbounded_channel();
        let mdb = match start_payments(&config, &clock, &request_tx)? {
            Some((link, sim)) => {
                controller.attach_payments(link);
                sim
            }
            None => None,
        };
        if setup.journal == JournalLocation::Memory {
            // Books in memory are new and small: check and open them now, so that a simulated
            // kiosk sells from its first moment.
            controller.open_books(None)?;
        }
        dispatch.install(controller);
        let panic_stop = Arc::downgrade(&dispatch);
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        if let JournalLocation::Dir(dir) = &setup.journal {
            check_books_later(dir.clone(), seal_key, request_tx.clone());
        }
        let (done_tx, done) = watch::channel(());
        let task = tokio::spawn(async move {
            // Dropped when the task ends (or panics): whoever waits on `finished` wakes up.
            let _done = done_tx;
            let result = dispatch
                .run(notices, request_rx, async move {
                    // A dropped sender means whoever owned the kiosk is gone: stop too.
                    let _ = stop_rx.await;
                })
                .await;
            if let Some(p) = physics {
                p.abort();
            }
            result
        });
        Ok(Kiosk {
            sim,
            mdb,
            status,
            config,
            clock,
            requests: request_tx,
            stop: Some(stop_tx),
            task: Some(task),
            done,
            panic_stop,
        })
    }

    /// Make any panic in this process, on any thread, stop this kiosk safely (motors off, acceptor
    /// inhibited, out of service) before it unwinds, and end the kiosk so that the process exits
    /// non-zero. For the kiosk's own process (`happiness run`); the hook outlives the kiosk and
    /// does nothing once it is gone.
    pub fn stop_on_any_panic(&self) {
        let dispatch = self.panic_stop.clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(d) = dispatch.upgrade() {
                let what = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".into());
                let at = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                d.stop_on_panic(&format!("{what}{at}"));
            }
            previous(info);
        }));
    }

    /// Say in the trace that the kiosk is ready (call once its pages are served too).
    pub fn announce(&self) {
        let _ = self.send(Request::Announce);
    }

    /// Completes once the books passed their checks and the machine sells (at once for books in
    /// memory), or the controller stopped: a script's first line waits for this.
    pub async fn opened(&self) {
        let mut status = self.status.clone();
        let _ = status.wait_for(|s| !s.starting).await;
    }

    /// Hand an operator event (restock, reset a column) to the controller, and return once it
    /// is applied and the status shows it.
    pub async fn request(&self, event: Event) -> Result<(), KioskError> {
        let (reply, applied) = oneshot::channel();
        self.send(Request::Then(Box::new(Request::Event(event)), reply))?;
        applied
            .await
            .map_err(|_| KioskError::Task("the controller has stopped".into()))
    }

    /// Hand any request to the controller.
    pub fn send(&self, request: Request) -> Result<(), KioskError> {
        self.requests
            .send(request)
            .map_err(|_| KioskError::Task("the controller has stopped".into()))
    }

    /// A handle for sending requests from other tasks (the HTTP API, the config watcher).
    pub fn requests(&self) -> UnboundedSender<Request> {
        self.requests.clone()
    }

    /// A copy of the latest status.
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// Whether the controller has stopped by itself (for example after a hardware failure).
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Completes when the controller has stopped by itself (or been stopped): a failed controller
    /// must end the process promptly, whatever else it is waiting for.
    pub async fn finished(&self) {
        let mut done = self.done.clone();
        // Nothing is ever sent: the only news is the sender going away with the task.
        while done.changed().await.is_ok() {}
    }

    /// Stop the controller (every motor off) and wait for it.
    pub async fn stop(mut self) -> Result<(), KioskError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.wait().await
    }

    /// Wait for the controller to end on its own. Returns at once if it was already awaited.
    pub async fn wait(&mut self) -> Result<(), KioskError> {
        let Some(task) = self.task.take() else {
            return Ok(());
        };
        match task.await {
            Ok(result) => result.map_err(KioskError::from),
            Err(e) => Err(KioskError::Task(e.to_string())),
        }
    }
}

/// What a backend gives the controller: its hardware, and on the simulator the handle, the
/// world's notices, the physics task and the hook that loads the world with the books' stock.
struct HardwareParts {
    hw: Box<dyn happiness_hardware::Hardware>,
    sim: Option<SimHandle>,
    notices: Option<tokio::sync::mpsc::UnboundedReceiver<Stamped<SimNotice>>>,
    physics: Option<JoinHandle<()>>,
    on_open: Option<OnOpen>,
}

/// Open the backend: the simulated machine (with its physics task) or the Pi's GPIO, its edges
/// going to `dispatch`.
fn open_backend(
    backend: Backend,
    config: &MachineConfig,
    seed: u64,
    clock: &Clock,
    dispatch: &Arc<Dispatch>,
) -> Result<HardwareParts, KioskError> {
    match backend {
        Backend::Sim => {
            let mut params = config.sim.clone();
            params.seed = seed;
            let (machine, handle) =
                sim::build(&config.wiring, config.sim_columns(), params, clock.clone())?;
            // The simulated machine holds what the books say it holds.
            let loader = handle.clone();
            let on_open = OnOpen(Arc::new(move |recovery: &Recovery| {
                for (i, (stock, _)) in recovery.restored.columns.iter().enumerate() {
                    let _ = loader.set_stock(i + 1, *stock);
                }
            }));
            let (notice_tx, notice_rx) = tokio::sync::mpsc::unbounded_channel();
            let physics = tokio::spawn(sim::run_physics(
                handle.clone(),
                dispatch.edge_sink(),
                notice_tx,
            ));
            Ok(HardwareParts {
                hw: Box::new(machine),
                sim: Some(handle),
                notices: Some(notice_rx),
                physics: Some(physics),
                on_open: Some(on_open),
            })
        }
        Backend::Rpi => {
            let machine = rpi::open(&config.wiring, clock.clone(), dispatch.edge_sink())?;
            Ok(HardwareParts {
                hw: Box::new(machine),
                sim: None,
                notices: None,
                physics: None,
                on_open: None,
            })
        }
    }
}

/// Simulated MDB devices shared between the bus thread and whoever acts as the customer.
type SharedSimBus = Arc<Mutex<SimBus>>;

/// The payment devices' bus, when `[payment]` names any: its link for the controller, and the
/// simulated devices when the port is `sim` (only those the config names are on the bus).
fn start_payments(
    config: &MachineConfig,
    clock: &Clock,
    requests: &UnboundedSender<Request>,
) -> Result<Option<(PaymentsLink, Option<SharedSimBus>)>, KioskError> {
    let devices = &config.payments;
    if !devices.uses_mdb() {
        return Ok(None);
    }
    let failed = |why: String| KioskError::Payments {
        port: devices.port.clone(),
        why,
    };
    let name: PortName = devices
        .port
        .parse()
        .map_err(|e: BadPortName| failed(e.to_string()))?;
    let mut bus = SimBus::default();
    bus.changer = (devices.coins == CoinDevice::Mdb).then(SimChanger::new);
    bus.validator = devices.bills.then(SimValidator::new);
    bus.card = devices.cashless.then(SimCard::new);
    let bus = Arc::new(Mutex::new(bus));
    let port = open_port(&name, &bus).map_err(|e| failed(e.to_string()))?;
    let link = PaymentsLink::start(
        devices,
        &config.columns,
        port,
        clock.clone(),
        requests.clone(),
    )
    .map_err(|e| failed(e.to_string()))?;
    Ok(Some((link, (name == PortName::Sim).then_some(bus))))
}

/// Check the books in `dir` on a blocking thread, through a connection of their own (they read
/// the whole file), while the display and the pages already answer; then tell the controller.
fn check_books_later(dir: PathBuf, key: Option<SealKey>, controller: UnboundedSender<Request>) {
    tokio::spawn(async move {
        let checked = tokio::task::spawn_blocking(move || check_books_in(&dir, key))
            .await
            .unwrap_or_else(|e| {
                Err(JournalError::Inconsistent(format!(
                    "the check of the books did not finish: {e}"
                )))
            });
        let _ = controller.send(Request::OpenBooks {
            checked: Some(checked),
        });
    });
}
