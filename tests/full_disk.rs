//! A full disk at every commit point of a customer's visit: coins, a paid vend, a payout, and
//! whatever comes after. With the space reserve, nothing is lost and nothing new starts; with the
//! reserve gone too, the machine stops safely and a restart on the same books still balances.
//!
//! The whole machine runs stepped in virtual time (the real controller, vend core, journal and
//! simulated hardware), with the journal's failing-write hook making the disk full from a chosen
//! commit on, exactly as `SQLITE_FULL` from a real disk would.

use std::sync::Arc;
use std::time::Duration;

use happiness::config::MachineConfig;
use happiness::controller::{Controller, ControllerError, LocalClock, Setup, TraceSink};
use happiness::journal::{DiskFault, Journal, MemoryKeeper};
use happiness::localtime::LocalTime;
use happiness::money::Cents;
use happiness::surprise::SurpriseConfig;
use happiness::trace::{TraceEntry, TraceRecord};
use happiness::vend::Notice;
use happiness_hardware::sim::{self, SimHandle};
use happiness_hardware::{Clock, ManualTime, Timestamp};
use tokio::sync::mpsc::UnboundedReceiver;

fn machine() -> Arc<MachineConfig> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    Arc::new(MachineConfig::load_dir(&dir).expect("machine.toml"))
}

/// What a customer does, and when.
#[derive(Debug, Clone, Copy)]
enum Act {
    Coin(u64),
    Press(usize),
    CoinReturn,
    Take,
    /// The operator makes room on the disk.
    FreeDisk,
}

/// The visit: pay, buy, ask for the change, then try to pay and buy again.
const VISIT: &[(u64, Act)] = &[
    (100, Act::Coin(200)),
    (1_000, Act::Coin(50)),
    (2_000, Act::Press(1)),
    (7_000, Act::CoinReturn),
    (9_000, Act::Take),
    (10_000, Act::Coin(100)),
    (11_000, Act::Coin(100)),
    (12_000, Act::Press(2)),
    (18_000, Act::Take),
];

struct Machine {
    config: Arc<MachineConfig>,
    sim: SimHandle,
    clock: Clock,
    hand: ManualTime,
    controller: Option<Controller>,
    name: String,
    _keeper: MemoryKeeper,
    /// Value of every coin the acceptor took (not the ones it handed back).
    accepted: u64,
    /// Value of the coins the inhibited acceptor handed back.
    returned_by_acceptor: u64,
    /// Items the customer took from the tray.
    taken: usize,
    stopped: Option<ControllerError>,
    trace: Option<UnboundedReceiver<TraceRecord>>,
}

static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Machine {
    fn new() -> Machine {
        let config = machine();
        let (clock, hand) = Clock::manual();
        let (_, sim) = sim::build(
            &config.wiring,
            config.sim_columns(),
            config.sim.clone(),
            clock.clone(),
        )
        .expect("sim");
        let name = format!(
            "full-disk-{}",
            RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let keeper = MemoryKeeper::new(&name).expect("keeper");
        let mut m = Machine {
            config,
            sim,
            clock,
            hand,
            controller: None,
            name,
            _keeper: keeper,
            accepted: 0,
            returned_by_acceptor: 0,
            taken: 0,
            stopped: None,
            trace: None,
        };
        m.boot(None).expect("boot");
        m
    }

    fn start_local() -> LocalTime {
        LocalTime::from_ymd_hm(2026, 3, 2, 12, 0).expect("date")
    }

    /// Start a controller on the books kept in memory, as a restart would.
    fn boot(&mut self, fault: Option<DiskFault>) -> Result<(), String> {
        let mut journal = Journal::open_shared_memory(&self.name).map_err(|e| e.to_string())?;
        let check = journal.check_books().map_err(|e| e.to_string())?;
        assert!(check.passed(), "the books pass their checks: {check:?}");
        journal.set_disk_fault(fault);
        let elapsed = i64::try_from(self.clock.now().as_micros() / 1_000_000).unwrap_or(0);
        let recovery = journal
            .recover(&self.config, Machine::start_local().plus_secs(elapsed), 168)
            .map_err(|e| e.to_string())?;
        let hw = self.sim.machine().map_err(|e| e.to_string())?;
        let setup = Setup::basic(
            Arc::clone(&self.config),
            SurpriseConfig::disabled(),
            3,
            LocalClock::StartingAt(Machine::start_local()),
        );
        let mut sink = TraceSink::new();
        self.trace = Some(sink.subscribe());
        let (controller, _) = Controller::new(
            setup,
            Box::new(hw),
            self.clock.clone(),
            sink,
            journal,
            &recovery,
        )
        .map_err(|e| e.to_string())?;
        self.controller = Some(controller);
        Ok(())
    }

    /// The disk fills up from the `in_commits`-th commit from now.
    fn fill_disk(&mut self, in_commits: u64, reserve_helps: bool) {
        let c = self.controller.as_mut().expect("running");
        let full_at_commit = c.journal().stats().commits + in_commits;
        c.journal_mut().set_disk_fault(Some(DiskFault {
            full_at_commit,
            reserve_helps,
        }));
    }

    fn commits(&self) -> u64 {
        self.controller
            .as_ref()
            .map_or(0, |c| c.journal().stats().commits)
    }

    /// Run until `until`, acting on every deadline of the controller and the simulated world.
    fn run_to(&mut self, until: Timestamp) {
        loop {
            let controller = self.controller.as_ref().and_then(Controller::next_deadline);
            let next = [controller, self.sim.next_deadline()]
                .into_iter()
                .flatten()
                .filter(|t| *t <= until)
                .min();
            let Some(t) = next else { break };
            self.step(t.max(self.clock.now()));
        }
        self.step(until.max(self.clock.now()));
    }

    fn step(&mut self, t: Timestamp) {
        self.hand.set(t);
        let (edges, _) = self.sim.advance(t);
        let Some(c) = self.controller.as_mut() else {
            return;
        };
        let mut result = Ok(());
        for edge in edges {
            result = result.and_then(|()| c.on_edge(edge));
        }
        if result.is_ok() && c.next_deadline().is_some_and(|d| d <= t) {
            result = c.on_tick();
        }
        if let Err(e) = result {
            // What the dispatch does with a failed step: the machine goes out of service.
            c.halt(&e.to_string());
            self.stopped = Some(e);
            self.controller = None;
        }
    }

    fn act(&mut self, act: Act) {
        match act {
            Act::Coin(cents) => {
                let pulses = self
                    .config
                    .pulses_for_coin(Cents::new(cents))
                    .expect("coin");
                match self.sim.insert_coin(pulses) {
                    Ok(_) => self.accepted += cents,
                    Err(_) => self.returned_by_acceptor += cents,
                }
            }
            Act::Press(n) => {
                let _ = self.sim.press(n);
            }
            Act::CoinReturn => {
                let _ = self.sim.press_coin_return();
            }
            Act::Take => self.taken += self.sim.take_tray().len(),
            Act::FreeDisk => {
                if let Some(c) = self.controller.as_mut() {
                    c.journal_mut().set_disk_fault(None);
                }
            }
        }
    }

    /// Coins the stopped controller could not book (it traced and logged them).
    fn unrecorded_coins(&mut self) -> u64 {
        let mut sum = 0;
        if let Some(rx) = self.trace.as_mut() {
            while let Ok(r) = rx.try_recv() {
                if let TraceEntry::Unrecorded { notices } = r.entry {
                    for n in notices {
                        if let Notice::CreditIn { amount, .. } = n {
                            sum += amount.get();
                        }
                    }
                }
            }
        }
        sum
    }

    fn visit(&mut self, script: &[(u64, Act)]) {
        for (at, act) in script {
            self.run_to(Timestamp::from_millis(*at));
            self.act(*act);
        }
        self.run_to(self.clock.now() + Duration::from_secs(30));
        self.taken += self.sim.take_tray().len();
    }
}

/// Books as the journal has them now.
fn books(name: &str) -> happiness::journal::BooksReport {
    let journal = Journal::open_shared_memory(name).expect("journal");
    journal.report().expect("report")
}

fn delivered_in_books(report: &happiness::journal::BooksReport) -> u64 {
    report.sales.iter().map(|s| s.count).sum()
}

#[test]
fn a_full_disk_at_any_commit_loses_no_cent_and_no_item_and_starts_nothing_new() {
    let mut clean = Machine::new();
    let first = clean.commits();
    clean.visit(VISIT);
    let last = clean.commits();
    assert!(clean.stopped.is_none());
    let report = books(&clean.name);
    assert!(report.money.balanced);
    assert_eq!(
        delivered_in_books(&report),
        2,
        "a clean visit buys two items"
    );
    assert!(last - first >= 8, "the visit commits at many points");

    for k in first..last {
        let mut m = Machine::new();
        m.fill_disk(k - first, true);
        m.visit(VISIT);
        let case = format!("disk full from commit {k} (of {first}..{last})");
        assert!(
            m.stopped.is_none(),
            "{case}: the reserve finishes what is under way: {:?}",
            m.stopped
        );
        let c = m.controller.as_mut().expect("running");
        assert!(
            c.core().storage_full(),
            "{case}: out of service: storage full"
        );
        assert!(m.sim.inhibited(), "{case}: the acceptor refuses coins");
        let status = c.journal_mut().storage();
        assert!(status.low && !status.reserve_held, "{case}: {status:?}");

        let report = books(&m.name);
        assert!(report.money.balanced, "{case}: {:?}", report.money);
        // Every coin the acceptor kept is in the books; the others went back to the customer.
        assert_eq!(
            report.money.inserted.get(),
            m.accepted,
            "{case}: coins recorded"
        );
        assert_eq!(
            m.accepted + m.returned_by_acceptor,
            200 + 50 + 100 + 100,
            "{case}: every coin is either recorded or handed back"
        );
        // Every item that fell was sold and recorded, and stock agrees with the machine.
        assert_eq!(
            delivered_in_books(&report),
            u64::try_from(m.taken).unwrap_or(0),
            "{case}: items in the tray = deliveries in the books"
        );
        for line in &report.inventory {
            let physical = m.sim.stock(usize::try_from(line.column).unwrap_or(0));
            assert_eq!(
                physical.map(i64::from),
                Some(line.stock),
                "{case}: stock of column {}",
                line.column
            );
        }
        assert_eq!(report.interrupted, 0, "{case}: nothing was cut short");
        assert!(
            report.faults.iter().any(|f| f.kind == "storage_full"),
            "{case}: the books say the disk filled up"
        );
    }
}

#[test]
fn when_room_is_made_the_reserve_comes_back_and_the_machine_sells_again() {
    let mut m = Machine::new();
    m.fill_disk(1, true);
    m.visit(&[(100, Act::Coin(200)), (1_000, Act::Press(1))]);
    assert!(m
        .controller
        .as_ref()
        .expect("running")
        .core()
        .storage_full());
    let before = books(&m.name);
    let credit = m.controller.as_ref().expect("running").core().credit();
    m.act(Act::FreeDisk);
    // No press is needed: while full, the controller looks again every few seconds.
    m.run_to(m.clock.now() + Duration::from_secs(10));
    let c = m.controller.as_mut().expect("running");
    assert!(!c.core().storage_full(), "selling again");
    assert!(
        c.journal_mut().storage().reserve_held,
        "the reserve is back"
    );
    assert!(!m.sim.inhibited(), "the acceptor takes coins again");
    let start = m.clock.now().as_micros() / 1000;
    m.visit(&[(start + 100, Act::Press(1))]);
    let after = books(&m.name);
    assert!(after.money.balanced);
    assert_eq!(
        delivered_in_books(&after),
        delivered_in_books(&before) + u64::from(credit >= Cents::new(150)),
        "the credit kept through the outage buys an item"
    );
}

#[test]
fn with_the_reserve_gone_too_the_machine_stops_safely_and_restarts_on_balanced_books() {
    let mut clean = Machine::new();
    let first = clean.commits();
    clean.visit(VISIT);
    let last = clean.commits();
    for k in first..last {
        let mut m = Machine::new();
        m.fill_disk(k - first, false);
        m.visit(VISIT);
        let case = format!("disk full for good from commit {k}");
        let stopped = m
            .stopped
            .as_ref()
            .unwrap_or_else(|| panic!("{case}: no stop"));
        assert!(
            matches!(stopped, ControllerError::Journal(e) if e.is_storage_full()),
            "{case}: {stopped}"
        );
        assert!(m.sim.inhibited(), "{case}: the acceptor refuses coins");
        assert!(m.sim.motors_on().is_empty(), "{case}: every motor is off");
        // A coin already in the slot when the books gave out is named in the log.
        let unrecorded = m.unrecorded_coins();
        // Room is made; the service manager starts the kiosk again on the same books.
        m.boot(None).expect("restart");
        m.run_to(m.clock.now() + Duration::from_secs(30));
        m.taken += m.sim.take_tray().len();
        let report = books(&m.name);
        assert!(report.money.balanced, "{case}: {:?}", report.money);
        assert_eq!(
            report.money.inserted.get() + unrecorded,
            m.accepted,
            "{case}: every coin taken is in the books or in the log"
        );
        assert_eq!(report.open_vends, 0, "{case}: every intent has its outcome");
        // The customer never loses: an item that fell is in the books or its price came back
        // (a delivery the disk could not record counts as interrupted: money back).
        let delivered = delivered_in_books(&report);
        assert!(
            delivered <= u64::try_from(m.taken).unwrap_or(0)
                && u64::try_from(m.taken).unwrap_or(0) <= delivered + report.interrupted,
            "{case}: taken {} delivered {delivered} interrupted {}",
            m.taken,
            report.interrupted
        );
    }
}
