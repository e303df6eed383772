//! Starting up: ready at once, selling only on books that passed their checks.
//!
//! A controller is built in a starting state that needs nothing from the history in the books:
//! the display says "starting up", the web pages and the API answer, the coin acceptor stays
//! inhibited and no vend can start. Meanwhile the books are checked (SQLite's integrity check
//! and every seal: a cost that grows with the history) off the controller's thread. When the
//! checks pass, [`Controller::open_books`] recovers what a crash left open, hands the vend core
//! its credit, stock and column states, replays what happened at the inputs meanwhile (a coin
//! already on its way in is credited; a press is not turned into a late vend) and starts
//! selling. When they fail, the controller stops with the reason, and never sells.

use std::sync::Arc;

use happiness_hardware::{Hardware, InputConditioner, InputEvent, Stamped};
use tokio::sync::watch;

use super::config_files::ConfigFiles;

use super::{
    Controller, ControllerError, Request, Setup, Status, TraceSink, MACHINE_FILE, SURPRISES_FILE,
};
use crate::journal::{BooksCheck, Journal, JournalError, Recovery, StorageStatus};
use crate::localtime::LocalTime;
use crate::trace::TraceEntry;
use crate::vend::{Event, Screen, VendCore, VendSettings};
use happiness_hardware::Clock;

/// Called with what recovery found, just before the machine starts selling (the simulator uses
/// it to load its columns with the stock the books say they hold).
#[derive(Clone)]
pub struct OnOpen(pub Arc<dyn Fn(&Recovery) + Send + Sync>);

impl std::fmt::Debug for OnOpen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnOpen")
    }
}

/// What waits for the books to pass their checks.
pub(super) struct Starting {
    /// Inputs seen meanwhile, other than presses, in order.
    inputs: Vec<Stamped<InputEvent>>,
    /// Requests from the console meanwhile, in order.
    requests: Vec<Request>,
    /// Whether the door was open when the inputs were first read.
    door_open: bool,
    on_open: Option<OnOpen>,
}

impl Controller {
    /// A controller for `setup` on `hw`, starting: ready to show itself, not yet selling. Reads
    /// the start-up levels of the inputs (door, drop beams, home switches) so that the first
    /// edges are interpreted correctly, and writes nothing to the books.
    pub fn starting(
        setup: Setup,
        mut hw: Box<dyn Hardware>,
        clock: Clock,
        trace: TraceSink,
        journal: Journal,
    ) -> Result<(Self, watch::Receiver<Status>), ControllerError> {
        let config = setup.machine;
        let snapshot = hw.read_inputs()?;
        let conditioner =
            InputConditioner::new(&snapshot.layout(&config.wiring), &config.input_timing);
        let core = VendCore::new(&VendSettings {
            payment: config.payment,
            columns: config.columns.clone(),
            timings: config.timings,
            sensors: config.wiring.drop_sensors.len(),
            max_credit: config.max_credit,
            payout: config.payout,
            surprises: setup.surprises,
            seed: setup.seed,
            inject_bug: setup.inject_bug,
        });
        let (status, rx) = watch::channel(Status::initial(&config, &setup.hardware));
        let mut controller = Controller {
            core,
            config,
            journal,
            local: LocalTime::default(),
            local_clock: setup.local_clock,
            hw,
            conditioner,
            clock: clock.clone(),
            trace,
            status,
            screen: Some(Screen::StartingUp),
            lamps_on: Vec::new(),
            files: ConfigFiles::new(setup.config_dir, setup.machine_text, setup.surprises_text),
            metrics: setup.metrics,
            hardware: setup.hardware,
            halted: None,
            storage: StorageStatus::default(),
            storage_recheck: None,
            alerts: crate::alerts::Alerts::default(),
            utc_offset: None,
            alert_recheck: None,
            last_sale: None,
            feedback_open: false,
            vends_finished: 0,
            today: super::Today::default(),
            test_vend: None,
            payments: None,
            starting: Some(Starting {
                inputs: Vec::new(),
                requests: Vec::new(),
                door_open: snapshot.door_open == Some(true),
                on_open: setup.on_open,
            }),
        };
        controller.sync_local_time(clock.now());
        controller.publish();
        Ok((controller, rx))
    }

    /// A controller that sells at once on books the caller has checked and recovered (tests and
    /// the fault campaign, which restart on books in memory).
    pub fn new(
        setup: Setup,
        hw: Box<dyn Hardware>,
        clock: Clock,
        trace: TraceSink,
        journal: Journal,
        recovery: &Recovery,
    ) -> Result<(Self, watch::Receiver<Status>), ControllerError> {
        let (mut controller, rx) = Controller::starting(setup, hw, clock, trace, journal)?;
        if let Err(e) = controller.start_selling(recovery, None) {
            // Whatever the start did to the outputs, they go safe before the error leaves.
            controller.halt(&e.to_string());
            return Err(e);
        }
        Ok((controller, rx))
    }

    /// Whether the books have not passed their checks yet.
    pub fn is_starting(&self) -> bool {
        self.starting.is_some()
    }

    /// The books' checks are done (`checked`, run elsewhere on a connection of their own), or
    /// are to be run here now (`None`, for books in memory, where they take no time). If they
    /// passed, recover and start selling; if not, stop with the reason.
    pub fn open_books(
        &mut self,
        checked: Option<Result<BooksCheck, JournalError>>,
    ) -> Result<(), ControllerError> {
        let result = self.try_open_books(checked);
        if let Err(e) = &result {
            // Out of service before the error leaves: whoever gets it may not stop us.
            self.halt(&e.to_string());
        }
        result
    }

    fn try_open_books(
        &mut self,
        checked: Option<Result<BooksCheck, JournalError>>,
    ) -> Result<(), ControllerError> {
        if self.starting.is_none() {
            return Ok(());
        }
        let check = match checked {
            Some(result) => result?,
            None => self.journal.check_books()?,
        };
        if let Some(e) = check.failure(self.journal.path()) {
            return Err(e.into());
        }
        let now = self.clock.now();
        self.sync_local_time(now);
        let local = self.local;
        let window = self.core.surprises().config().policy.budget_window_hours;
        let machine = Arc::clone(&self.config);
        let mut recovered = self.journal.recover(&machine, local, window);
        if matches!(&recovered, Err(e) if e.is_storage_full()) && self.journal.release_reserve() {
            recovered = self.journal.recover(&machine, local, window);
        }
        let recovery = recovered?;
        for v in &recovery.interrupted {
            tracing::warn!(
                vend = v.id,
                column = v.column,
                product = %v.product,
                price = %v.price,
                "a power cut interrupted this vend: closed as interrupted, price back in credit, \
                 motor not re-run"
            );
        }
        self.start_selling(&recovery, Some(&check))
    }

    /// Take over the recovered state and start selling; then replay what waited.
    fn start_selling(
        &mut self,
        recovery: &Recovery,
        check: Option<&BooksCheck>,
    ) -> Result<(), ControllerError> {
        let Some(starting) = self.starting.take() else {
            return Ok(());
        };
        self.core.restore(&recovery.restored);
        let history = &recovery.surprise_history;
        self.core.surprises_mut().restore_history(
            &history.sales,
            &history.awards,
            history.streak,
            self.local_clock.utc_offset(),
        );
        self.core.surprises_mut().restore_recovery(
            &history.recovery_offers,
            &history.recovery_taken,
            self.local_clock.utc_offset(),
        );
        if history.paused {
            self.core.surprises_mut().set_paused(true);
        }
        self.refresh_campaigns();
        self.load_today();
        if let Some(OnOpen(hook)) = &starting.on_open {
            hook(recovery);
        }
        let now = self.clock.now();
        self.sync_local_time(now);
        let local = self.local;
        if !self.files.machine_text.is_empty() {
            let text = self.files.machine_text.clone();
            self.journal
                .record_config(local, MACHINE_FILE, &text, "start")?;
        }
        if !self.files.surprises_text.is_empty() {
            let text = self.files.surprises_text.clone();
            let (version, _) = self
                .journal
                .record_config(local, SURPRISES_FILE, &text, "start")?;
            self.files.surprise_version = Some(version);
        }
        let cmds = self.core.start(now);
        self.execute(now, None, cmds)?;
        let cmds = self.core.power_restored(now, recovery.refunded);
        self.execute(now, None, cmds)?;
        if starting.door_open {
            self.feed(now, Event::Door { open: true })?;
        }
        self.sync_storage(now)?;
        if let Some(check) = check {
            self.record(
                now,
                TraceEntry::Selling {
                    records: check.seals.records,
                    checked_ms: check.millis,
                },
            );
        }
        self.inputs(starting.inputs)?;
        for request in starting.requests {
            self.on_request(request)?;
        }
        self.publish();
        Ok(())
    }

    /// While starting: keep an input for later, or (a press) let it go. A coin on its way in is
    /// credited once the books are open; a press is not turned into a vend seconds later.
    pub(super) fn hold_input(&mut self, input: Stamped<InputEvent>) -> bool {
        let Some(starting) = self.starting.as_mut() else {
            return false;
        };
        match input.event {
            InputEvent::ButtonPressed { .. } | InputEvent::CoinReturnPressed => {
                self.record(input.at, TraceEntry::Input { input: input.event });
            }
            _ => starting.inputs.push(input),
        }
        true
    }

    /// While starting: keep a request for later. Returns it when the controller is selling.
    pub(super) fn hold_request(&mut self, request: Request) -> Option<Request> {
        match self.starting.as_mut() {
            Some(starting) if !matches!(request, Request::OpenBooks { .. } | Request::Announce) => {
                starting.requests.push(request);
                None
            }
            _ => Some(request),
        }
    }
}
