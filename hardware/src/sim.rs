//! The simulated machine: pins wired to a small physics model, with faults on demand.
//!
//! [`World`] is the physics, pure and time-explicit: spirals turn while their motor is on (one
//! revolution takes [`SimParams::turn`]), the cam switch closes at home, an item leaves the spiral
//! part-way round and falls through the drop beam a little later, columns run empty, and injected
//! faults jam a spiral, hide an item from the beam, drop two items, hold the beam blocked, or make
//! switches bounce. Every randomness comes from one seeded ChaCha8 generator.
//!
//! [`SimOutputPin`] and [`SimInputPin`] implement the `embedded-hal` traits over a shared world, so
//! the controller drives the simulator through exactly the same [`Machine`] and drivers as the
//! Raspberry Pi. [`run_physics`] is the tokio task that lets the world's time follow the clock
//! and forwards its input edges; [`SimHandle`] is what a person or a test uses to press buttons,
//! insert coins, open the door and inject faults.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use embedded_hal::digital::{ErrorType, InputPin, OutputPin};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::Notify;

use crate::input::{EdgeSink, InputLine, RawEdge, Stamped};
use crate::machine::{HwError, Machine, OutputRole, Wiring};
use crate::pins::Polarity;
use crate::time::{Clock, Timestamp};

/// Physical constants of the simulated machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimParams {
    /// Time for one spiral revolution with the motor on.
    pub turn: Duration,
    /// Part of the revolution, from home, during which the cam switch is closed.
    pub home_width: Duration,
    /// Point of the revolution at which the front item leaves the spiral.
    pub release_at: Duration,
    /// Time from leaving the spiral to reaching the drop beam.
    pub fall: Duration,
    /// How long a falling item blocks the beam.
    pub beam_block: Duration,
    /// How long a simulated finger holds a button.
    pub press_hold: Duration,
    /// Width of a coin acceptor pulse.
    pub coin_pulse: Duration,
    /// Gap between the pulses of one coin.
    pub coin_pulse_gap: Duration,
    /// Idle time the acceptor leaves between two coins.
    pub coin_gap: Duration,
    /// Seed for bounce patterns and any other randomness.
    pub seed: u64,
}

impl Default for SimParams {
    fn default() -> Self {
        SimParams {
            turn: Duration::from_millis(1200),
            home_width: Duration::from_millis(100),
            release_at: Duration::from_millis(900),
            fall: Duration::from_millis(250),
            beam_block: Duration::from_millis(30),
            press_hold: Duration::from_millis(120),
            coin_pulse: Duration::from_millis(30),
            coin_pulse_gap: Duration::from_millis(70),
            coin_gap: Duration::from_millis(400),
            seed: 0,
        }
    }
}

/// What is physically in one column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimColumnSpec {
    /// Product name printed on the items.
    pub product: String,
    /// Items actually loaded (may differ from what the controller believes).
    pub stock: u32,
    /// Index of the drop beam its items fall through.
    pub sensor: u8,
}

/// A fault to inject into the simulated machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Fault {
    /// The column's spiral stalls until [`Fault::Unjam`].
    Jam {
        /// Column index.
        column: u8,
    },
    /// Clears every column fault (jam, blind beam, hung item, double drop).
    Fix {
        /// Column index.
        column: u8,
    },
    /// Items from the column fall past the beam without being seen (a misaligned beam), until
    /// [`Fault::Fix`].
    MissBeam {
        /// Column index.
        column: u8,
    },
    /// The next item from the column hangs on the spiral instead of falling; the next turn
    /// (a nudge) frees it.
    Hang {
        /// Column index.
        column: u8,
    },
    /// The next release from the column drops two items.
    DoubleDrop {
        /// Column index.
        column: u8,
    },
    /// The column is physically empty.
    Empty {
        /// Column index.
        column: u8,
    },
    /// A drop beam reads blocked (stuck) or recovers.
    StuckBeam {
        /// Sensor index.
        sensor: u8,
        /// True to stick, false to recover.
        stuck: bool,
    },
    /// The driver of the column's motor stops answering (a dead relay board or port expander):
    /// every command to it fails and the motor stays as it was, on or off, until [`Fault::Fix`].
    DeadDriver {
        /// Column index.
        column: u8,
    },
    /// Every switch (buttons, door, home switches, coin line) bounces on each change.
    Bounce {
        /// True to turn bounce on.
        on: bool,
    },
}

/// Something the simulated world did that an observer may want to see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SimNotice {
    /// An item landed in the delivery tray.
    ItemInTray {
        /// Column index it came from.
        column: u8,
        /// Product name.
        product: String,
    },
    /// A motor turned on a jammed spiral.
    MotorStalled {
        /// Column index.
        column: u8,
    },
    /// The payout hopper dropped a coin into the return cup.
    CoinPaidOut,
    /// The coin acceptor is inhibited and handed a coin straight back.
    CoinReturnedByAcceptor {
        /// The pulses the coin would have given (what it is worth).
        pulses: u32,
    },
}

/// An item waiting in the delivery tray.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrayItem {
    /// Column index it came from.
    pub column: u8,
    /// Product name.
    pub product: String,
    /// When it landed.
    pub at: Timestamp,
}

/// A simulator request that makes no sense for this machine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// No button with that number.
    #[error("there is no button {0} (this machine has {1})")]
    NoSuchButton(usize, usize),
    /// No column with that number.
    #[error("there is no column {0} (this machine has {1})")]
    NoSuchColumn(usize, usize),
    /// No drop sensor with that number.
    #[error("there is no drop sensor {0} (this machine has {1})")]
    NoSuchSensor(usize, usize),
    /// The wiring has no such input.
    #[error("this machine has no {0}")]
    NotFitted(&'static str),
    /// A coin with an impossible pulse count.
    #[error("a coin must give between 1 and 100 pulses, not {0}")]
    BadPulseCount(u32),
    /// The acceptor is inhibited (credit is at its maximum) and returns coins.
    #[error("the coin acceptor is not accepting coins right now (it is inhibited): coin returned")]
    Inhibited,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Scheduled {
    Edge { line: InputLine, active: bool },
    Lands { column: u8 },
}

/// Orders [`InputLine`] for the event queue without giving the public type an arbitrary order.
fn line_key(line: InputLine) -> (u8, u8) {
    match line {
        InputLine::Button(i) => (0, i),
        InputLine::CoinReturn => (1, 0),
        InputLine::Coin => (2, 0),
        InputLine::Drop(i) => (3, i),
        InputLine::Home(i) => (4, i),
        InputLine::Door => (5, 0),
    }
}

impl PartialOrd for InputLine {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for InputLine {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        line_key(*self).cmp(&line_key(*other))
    }
}

#[derive(Debug, Clone)]
struct Column {
    spec: SimColumnSpec,
    /// Position in the revolution (0 = home) as of `since` or, when stopped, now.
    pos_us: u64,
    /// Rotation is folded into `pos_us` up to this time, while the motor is on.
    since: Option<Timestamp>,
    /// When the motor was switched on, while it is on.
    on_at: Option<Timestamp>,
    jammed: bool,
    blind: bool,
    hang_next: bool,
    double_next: u32,
    has_home: bool,
    /// Its motor driver no longer answers.
    dead_driver: bool,
}

/// The simulated machine's physics. Time only moves when a method is given a later timestamp.
#[derive(Debug, Clone)]
pub struct World {
    params: SimParams,
    columns: Vec<Column>,
    buttons: usize,
    sensors: usize,
    has_coin: bool,
    has_coin_return: bool,
    has_door: bool,
    has_inhibit: bool,
    lamps: Vec<bool>,
    inhibited: bool,
    payout_on: bool,
    cup: u32,
    levels: HashMap<InputLine, bool>,
    stuck: Vec<bool>,
    bounce: bool,
    queue: BinaryHeap<Reverse<(Timestamp, u64, Scheduled)>>,
    seq: u64,
    now: Timestamp,
    coin_free_at: Timestamp,
    outbox: Vec<RawEdge>,
    notices: Vec<Stamped<SimNotice>>,
    tray: Vec<TrayItem>,
    rng: ChaCha8Rng,
}

impl World {
    /// A world for `wiring`, with `columns` loaded as described (same length as the motors).
    pub fn new(wiring: &Wiring, columns: Vec<SimColumnSpec>, params: SimParams) -> Self {
        let columns: Vec<Column> = columns
            .into_iter()
            .enumerate()
            .map(|(i, spec)| Column {
                spec,
                pos_us: 0,
                since: None,
                on_at: None,
                jammed: false,
                blind: false,
                hang_next: false,
                double_next: 0,
                has_home: wiring.home_switches.get(i).is_some_and(Option::is_some),
                dead_driver: false,
            })
            .collect();
        let mut levels = HashMap::new();
        for (line, _) in wiring.inputs() {
            let active = match line {
                InputLine::Home(c) => columns.get(usize::from(c)).is_some_and(|c| c.has_home),
                _ => false,
            };
            levels.insert(line, active);
        }
        World {
            rng: ChaCha8Rng::seed_from_u64(params.seed),
            params,
            columns,
            buttons: wiring.buttons.len(),
            sensors: wiring.drop_sensors.len(),
            has_coin: wiring.coin.is_some(),
            has_coin_return: wiring.coin_return.is_some(),
            has_door: wiring.door.is_some(),
            has_inhibit: wiring.coin_inhibit.is_some(),
            lamps: vec![false; wiring.lamps.len()],
            // Undriven, the inhibit line's pull refuses coins (see `power_cut`).
            inhibited: wiring.coin_inhibit.is_some(),
            payout_on: false,
            cup: 0,
            levels,
            stuck: vec![false; wiring.drop_sensors.len()],
            bounce: false,
            queue: BinaryHeap::new(),
            seq: 0,
            now: Timestamp::ZERO,
            coin_free_at: Timestamp::ZERO,
            outbox: Vec::new(),
            notices: Vec::new(),
            tray: Vec::new(),
        }
    }

    /// The world's current time.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Logical level of an input line (true = active).
    pub fn level(&self, line: InputLine) -> bool {
        self.levels.get(&line).copied().unwrap_or(false)
    }

    /// When column `c`'s motor was switched on, if it is on.
    pub fn motor_on_since(&self, column: usize) -> Option<Timestamp> {
        self.columns.get(column).and_then(|c| c.on_at)
    }

    /// Power fails: every motor and output stops where it is. Items already falling keep falling.
    pub fn power_cut(&mut self, at: Timestamp) {
        self.advance(at);
        for c in &mut self.columns {
            c.since = None;
            c.on_at = None;
        }
        self.payout_on = false;
        // The inhibit line is wired with a pull to "inhibit" (hardware/README.md): undriven, the
        // acceptor refuses coins until a controller can record them.
        self.inhibited = self.has_inhibit;
        for l in &mut self.lamps {
            *l = false;
        }
    }

    /// Whether column `c`'s motor is on.
    pub fn motor_on(&self, column: usize) -> bool {
        self.columns.get(column).is_some_and(|c| c.since.is_some())
    }

    /// Lamp states.
    pub fn lamps(&self) -> &[bool] {
        &self.lamps
    }

    /// Items physically left in column `c`.
    pub fn stock(&self, column: usize) -> Option<u32> {
        self.columns.get(column).map(|c| c.spec.stock)
    }

    /// Items in the delivery tray.
    pub fn tray(&self) -> &[TrayItem] {
        &self.tray
    }

    /// The customer takes everything from the tray.
    pub fn take_tray(&mut self) -> Vec<TrayItem> {
        std::mem::take(&mut self.tray)
    }

    /// Input edges produced so far, oldest first.
    pub fn drain_edges(&mut self) -> Vec<RawEdge> {
        std::mem::take(&mut self.outbox)
    }

    /// Notices produced so far, oldest first.
    pub fn drain_notices(&mut self) -> Vec<Stamped<SimNotice>> {
        std::mem::take(&mut self.notices)
    }

    fn schedule(&mut self, at: Timestamp, what: Scheduled) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, what)));
    }

    /// Schedules a switch changing to `active` at `at`, with contact bounce if enabled.
    fn schedule_switch(&mut self, at: Timestamp, line: InputLine, active: bool) {
        if self.bounce {
            let mut t = at;
            let flips = self.rng.random_range(2..=6u32) * 2;
            for i in 0..flips {
                let level = if i % 2 == 0 { active } else { !active };
                self.schedule(
                    t,
                    Scheduled::Edge {
                        line,
                        active: level,
                    },
                );
                t = t + Duration::from_micros(self.rng.random_range(100..900u64));
            }
            self.schedule(t, Scheduled::Edge { line, active });
        } else {
            self.schedule(at, Scheduled::Edge { line, active });
        }
    }

    fn position(&self, c: &Column, at: Timestamp) -> u64 {
        let turn = duration_us(self.params.turn).max(1);
        match (c.since, c.jammed) {
            (Some(since), false) => (c.pos_us + duration_us(at.saturating_since(since))) % turn,
            _ => c.pos_us,
        }
    }

    /// When the running, unjammed column `i` next passes a point of interest, and which.
    fn next_milestone(&self, i: usize) -> Option<(Timestamp, Milestone)> {
        let c = self.columns.get(i)?;
        c.since?;
        if c.jammed {
            return None;
        }
        let turn = duration_us(self.params.turn).max(1);
        let p = self.position(c, self.now);
        let mut best: Option<(u64, Milestone)> = None;
        for (m, what) in [
            (0, Milestone::Home),
            (duration_us(self.params.home_width), Milestone::LeaveHome),
            (duration_us(self.params.release_at), Milestone::Release),
        ] {
            let d = match (m % turn + turn - p) % turn {
                0 => turn,
                d => d,
            };
            if best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, what));
            }
        }
        best.map(|(d, what)| (self.now + Duration::from_micros(d), what))
    }

    fn next_motor_event(&self) -> Option<(Timestamp, usize, Milestone)> {
        (0..self.columns.len())
            .filter_map(|i| self.next_milestone(i).map(|(t, m)| (t, i, m)))
            .min_by_key(|(t, i, _)| (*t, *i))
    }

    /// When the world next changes by itself, if ever.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        let queued = self.queue.peek().map(|Reverse((t, _, _))| *t);
        let motor = self.next_motor_event().map(|(t, _, _)| t);
        match (queued, motor) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, None) => a,
            (None, b) => b,
        }
    }

    /// Move the world's time forward to `to`, running everything that happens on the way.
    pub fn advance(&mut self, to: Timestamp) {
        loop {
            let queued = self.queue.peek().map(|Reverse((t, _, _))| *t);
            let motor = self.next_motor_event();
            let take_motor = match (queued, motor) {
                (Some(q), Some((m, _, _))) => m < q,
                (None, Some(_)) => true,
                _ => false,
            };
            if take_motor {
                let Some((t, i, what)) = motor else { break };
                if t > to {
                    break;
                }
                self.move_columns_to(t);
                self.milestone(t, i, what);
            } else {
                let Some(Reverse((t, _, what))) = self.queue.peek().copied() else {
                    break;
                };
                if t > to {
                    break;
                }
                self.queue.pop();
                self.move_columns_to(t);
                self.run(t, what);
            }
        }
        self.move_columns_to(to.max(self.now));
    }

    /// Folds the elapsed rotation of every running column into its position.
    fn move_columns_to(&mut self, t: Timestamp) {
        for i in 0..self.columns.len() {
            let pos = self.position(&self.columns[i], t);
            let c = &mut self.columns[i];
            c.pos_us = pos;
            if c.since.is_some() {
                c.since = Some(t);
            }
        }
        self.now = self.now.max(t);
    }

    fn milestone(&mut self, t: Timestamp, i: usize, what: Milestone) {
        let column = u8::try_from(i).unwrap_or(u8::MAX);
        let has_home = self.columns[i].has_home;
        match what {
            Milestone::Home if has_home => self.schedule_switch(t, InputLine::Home(column), true),
            Milestone::LeaveHome if has_home => {
                self.schedule_switch(t, InputLine::Home(column), false)
            }
            Milestone::Release => self.release(t, i),
            _ => {}
        }
        // Run edges scheduled for exactly now before looking for the next milestone.
        while let Some(Reverse((at, _, w))) = self.queue.peek().copied() {
            if at > t {
                break;
            }
            self.queue.pop();
            self.run(at, w);
        }
    }

    fn release(&mut self, t: Timestamp, i: usize) {
        let column = u8::try_from(i).unwrap_or(u8::MAX);
        let c = &mut self.columns[i];
        if c.hang_next {
            c.hang_next = false;
            return;
        }
        let mut count = 1;
        if c.double_next > 0 {
            c.double_next -= 1;
            count = 2;
        }
        for n in 0..count {
            let c = &mut self.columns[i];
            if c.spec.stock == 0 {
                return;
            }
            c.spec.stock -= 1;
            let seen = !c.blind;
            let sensor = c.spec.sensor;
            let at_beam = t + self.params.fall + Duration::from_millis(80 * n);
            let clear = at_beam + self.params.beam_block;
            if seen {
                let line = InputLine::Drop(sensor);
                self.schedule(at_beam, Scheduled::Edge { line, active: true });
                self.schedule(
                    clear,
                    Scheduled::Edge {
                        line,
                        active: false,
                    },
                );
            }
            self.schedule(clear, Scheduled::Lands { column });
        }
    }

    fn run(&mut self, t: Timestamp, what: Scheduled) {
        match what {
            Scheduled::Edge { line, active } => self.set_level(t, line, active),
            Scheduled::Lands { column } => {
                let product = self
                    .columns
                    .get(usize::from(column))
                    .map(|c| c.spec.product.clone())
                    .unwrap_or_default();
                self.tray.push(TrayItem {
                    column,
                    product: product.clone(),
                    at: t,
                });
                self.notices.push(Stamped {
                    at: t,
                    event: SimNotice::ItemInTray { column, product },
                });
            }
        }
    }

    fn set_level(&mut self, at: Timestamp, line: InputLine, active: bool) {
        if let InputLine::Drop(s) = line {
            if self.stuck.get(usize::from(s)).copied().unwrap_or(false) {
                return;
            }
        }
        let old = self.levels.insert(line, active);
        if old != Some(active) {
            self.outbox.push(RawEdge { line, active, at });
        }
    }

    /// Switch column `c`'s motor at time `at`.
    pub fn set_motor(&mut self, at: Timestamp, column: usize, on: bool) {
        self.advance(at);
        let stalled = {
            let Some(c) = self.columns.get_mut(column) else {
                return;
            };
            match (on, c.since) {
                (true, None) => {
                    c.since = Some(self.now);
                    c.on_at = Some(self.now);
                    c.jammed
                }
                (false, Some(_)) => {
                    c.since = None;
                    c.on_at = None;
                    false
                }
                _ => false,
            }
        };
        if stalled {
            self.notices.push(Stamped {
                at: self.now,
                event: SimNotice::MotorStalled {
                    column: u8::try_from(column).unwrap_or(u8::MAX),
                },
            });
        }
    }

    /// Switch lamp `l` at time `at`.
    pub fn set_lamp(&mut self, at: Timestamp, lamp: usize, on: bool) {
        self.advance(at);
        if let Some(l) = self.lamps.get_mut(lamp) {
            *l = on;
        }
    }

    /// Drive any output at time `at`. A motor whose driver is dead refuses and stays as it was.
    pub fn set_output(
        &mut self,
        at: Timestamp,
        role: OutputRole,
        on: bool,
    ) -> Result<(), DriverNotAnswering> {
        if let OutputRole::Motor(c) = role {
            if self.columns.get(c).is_some_and(|c| c.dead_driver) {
                self.advance(at);
                return Err(DriverNotAnswering);
            }
        }
        match role {
            OutputRole::Motor(c) => self.set_motor(at, c, on),
            OutputRole::Lamp(l) => self.set_lamp(at, l, on),
            OutputRole::CoinInhibit => {
                self.advance(at);
                self.inhibited = on;
            }
            OutputRole::Payout => {
                self.advance(at);
                // The hopper ejects one coin per pulse, on the pulse's rising edge.
                if on && !self.payout_on {
                    self.cup += 1;
                    self.notices.push(Stamped {
                        at: self.now,
                        event: SimNotice::CoinPaidOut,
                    });
                }
                self.payout_on = on;
            }
        }
        Ok(())
    }

    /// Coins the payout hopper has dropped into the return cup so far.
    pub fn coins_paid_out(&self) -> u32 {
        self.cup
    }

    /// Whether the coin acceptor is inhibited.
    pub fn inhibited(&self) -> bool {
        self.inhibited
    }

    /// A finger presses button `index` (0-based) at `at` and lets go after the hold time.
    /// Returns when the release is over.
    pub fn press(&mut self, at: Timestamp, index: usize) -> Result<Timestamp, SimError> {
        if index >= self.buttons {
            return Err(SimError::NoSuchButton(index + 1, self.buttons));
        }
        let line = InputLine::Button(u8::try_from(index).unwrap_or(u8::MAX));
        Ok(self.tap(at, line))
    }

    /// A finger presses the coin-return button.
    pub fn press_coin_return(&mut self, at: Timestamp) -> Result<Timestamp, SimError> {
        if !self.has_coin_return {
            return Err(SimError::NotFitted("coin-return button"));
        }
        Ok(self.tap(at, InputLine::CoinReturn))
    }

    fn tap(&mut self, at: Timestamp, line: InputLine) -> Timestamp {
        self.advance(at);
        let release = at + self.params.press_hold;
        self.schedule_switch(at, line, true);
        self.schedule_switch(release, line, false);
        release + Duration::from_millis(5)
    }

    /// The coin acceptor accepts a coin worth `pulses` pulses. Coins queue behind each other the
    /// way a real acceptor's throat does. Returns when the last pulse has ended.
    pub fn insert_coin(&mut self, at: Timestamp, pulses: u32) -> Result<Timestamp, SimError> {
        if !self.has_coin {
            return Err(SimError::NotFitted("coin acceptor"));
        }
        if !(1..=100).contains(&pulses) {
            return Err(SimError::BadPulseCount(pulses));
        }
        self.advance(at);
        if self.inhibited {
            self.notices.push(Stamped {
                at,
                event: SimNotice::CoinReturnedByAcceptor { pulses },
            });
            return Err(SimError::Inhibited);
        }
        let start = at.max(self.coin_free_at);
        let period = self.params.coin_pulse + self.params.coin_pulse_gap;
        let mut end = start;
        for i in 0..pulses {
            let on = start + period * i;
            end = on + self.params.coin_pulse;
            self.schedule_switch(on, InputLine::Coin, true);
            self.schedule_switch(end, InputLine::Coin, false);
        }
        self.coin_free_at = end + self.params.coin_gap;
        Ok(end)
    }

    /// The service door opens or closes at `at`. Returns when the switch has settled.
    pub fn set_door(&mut self, at: Timestamp, open: bool) -> Result<Timestamp, SimError> {
        if !self.has_door {
            return Err(SimError::NotFitted("door switch"));
        }
        self.advance(at);
        self.schedule_switch(at, InputLine::Door, open);
        Ok(at + Duration::from_millis(10))
    }

    /// Inject (or clear) a fault at `at`.
    pub fn inject(&mut self, at: Timestamp, fault: Fault) -> Result<(), SimError> {
        self.advance(at);
        let columns = self.columns.len();
        let column = |c: u8| -> Result<usize, SimError> {
            let i = usize::from(c);
            if i < columns {
                Ok(i)
            } else {
                Err(SimError::NoSuchColumn(i + 1, columns))
            }
        };
        match fault {
            Fault::Jam { column: c } => self.columns[column(c)?].jammed = true,
            Fault::Fix { column: c } => {
                let col = &mut self.columns[column(c)?];
                col.jammed = false;
                col.blind = false;
                col.hang_next = false;
                col.double_next = 0;
                col.dead_driver = false;
            }
            Fault::DeadDriver { column: c } => self.columns[column(c)?].dead_driver = true,
            Fault::MissBeam { column: c } => self.columns[column(c)?].blind = true,
            Fault::Hang { column: c } => self.columns[column(c)?].hang_next = true,
            Fault::DoubleDrop { column: c } => self.columns[column(c)?].double_next += 1,
            Fault::Empty { column: c } => self.columns[column(c)?].spec.stock = 0,
            Fault::StuckBeam { sensor, stuck } => {
                let s = usize::from(sensor);
                if s >= self.sensors {
                    return Err(SimError::NoSuchSensor(s + 1, self.sensors));
                }
                let line = InputLine::Drop(sensor);
                if stuck {
                    self.set_level(at, line, true);
                    self.stuck[s] = true;
                } else {
                    self.stuck[s] = false;
                    self.set_level(at, line, false);
                }
            }
            Fault::Bounce { on } => self.bounce = on,
        }
        Ok(())
    }

    /// Column `c` holds exactly `count` items (a machine brought up from its books).
    pub fn set_stock(&mut self, column: usize, count: u32) -> Result<(), SimError> {
        let columns = self.columns.len();
        let c = self
            .columns
            .get_mut(column)
            .ok_or(SimError::NoSuchColumn(column + 1, columns))?;
        c.spec.stock = count;
        Ok(())
    }

    /// Load `count` more items into column `c` (what an operator does when restocking).
    pub fn load(&mut self, column: usize, count: u32) -> Result<(), SimError> {
        let columns = self.columns.len();
        let c = self
            .columns
            .get_mut(column)
            .ok_or(SimError::NoSuchColumn(column + 1, columns))?;
        c.spec.stock = c.spec.stock.saturating_add(count);
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Milestone {
    Home,
    LeaveHome,
    Release,
}

fn duration_us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The world shared between the pins, the physics task and the people poking at it.
#[derive(Debug)]
struct Shared {
    world: Mutex<World>,
    wake: Notify,
    clock: Clock,
    wiring: Wiring,
    /// Wall-clock moment a motor was last switched on (for latency measurements).
    motor_started: Mutex<Option<std::time::Instant>>,
    /// Signalled when a motor is switched on.
    motor_signal: std::sync::Condvar,
    /// Where input edges and notices go once [`run_physics`] runs.
    outlet: Mutex<Option<Outlet>>,
    /// Held while edges are delivered, so deliveries from different threads never interleave.
    delivery: Mutex<()>,
}

struct Outlet {
    edges: EdgeSink,
    notices: UnboundedSender<Stamped<SimNotice>>,
}

impl std::fmt::Debug for Outlet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Outlet")
    }
}

impl Shared {
    /// Bring the world to `now` and deliver what happened on the way. The world is unlocked while
    /// edges are delivered (the controller reacting to one may switch a motor, which locks the
    /// world), and a delivery lock keeps the physics task and people acting on the world from
    /// reordering edges. Returns the world's next deadline.
    fn flush(&self, now: Timestamp) -> Option<Timestamp> {
        let _delivering = self.delivery.lock().unwrap_or_else(|p| p.into_inner());
        if self
            .outlet
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
        {
            // Nobody to deliver to: whoever steps the world by hand collects the edges.
            return self.world().next_deadline();
        }
        let (edges, notices, deadline) = {
            let mut world = self.world();
            world.advance(now);
            (
                world.drain_edges(),
                world.drain_notices(),
                world.next_deadline(),
            )
        };
        let outlet = self.outlet.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(outlet) = outlet.as_ref() {
            for edge in edges {
                (outlet.edges)(edge);
            }
            for notice in notices {
                // Nobody listening to notices is fine: they are for display only.
                let _ = outlet.notices.send(notice);
            }
        }
        deadline
    }

    /// A poisoned lock only means another thread panicked mid-update; the world is still the best
    /// description of the machine there is, so keep using it rather than cascade the panic.
    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// An output pin of the simulated machine.
#[derive(Debug, Clone)]
pub struct SimOutputPin {
    shared: Arc<Shared>,
    role: OutputRole,
    polarity: Polarity,
}

/// A simulated output whose driver has stopped answering ([`Fault::DeadDriver`]).
#[derive(Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the driver does not answer")]
pub struct DriverNotAnswering;

impl std::fmt::Debug for DriverNotAnswering {
    // Drivers report errors through `Debug` (all embedded-hal promises): say it in words.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the driver does not answer")
    }
}

impl embedded_hal::digital::Error for DriverNotAnswering {
    fn kind(&self) -> embedded_hal::digital::ErrorKind {
        embedded_hal::digital::ErrorKind::Other
    }
}

impl ErrorType for SimOutputPin {
    type Error = DriverNotAnswering;
}

impl SimOutputPin {
    fn write(&mut self, high: bool) -> Result<(), DriverNotAnswering> {
        let active = self.polarity.is_active(high);
        let now = self.shared.clock.now();
        self.shared.world().set_output(now, self.role, active)?;
        self.shared.wake.notify_one();
        // After the world knows, so that whoever is woken sees the motor running.
        if active && matches!(self.role, OutputRole::Motor(_)) {
            *self
                .shared
                .motor_started
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) =
                Some(std::time::Instant::now());
            self.shared.motor_signal.notify_all();
        }
        Ok(())
    }
}

impl OutputPin for SimOutputPin {
    fn set_low(&mut self) -> Result<(), DriverNotAnswering> {
        self.write(false)
    }

    fn set_high(&mut self) -> Result<(), DriverNotAnswering> {
        self.write(true)
    }
}

/// An input pin of the simulated machine.
#[derive(Debug, Clone)]
pub struct SimInputPin {
    shared: Arc<Shared>,
    line: InputLine,
    polarity: Polarity,
}

impl ErrorType for SimInputPin {
    type Error = Infallible;
}

impl InputPin for SimInputPin {
    fn is_high(&mut self) -> Result<bool, Infallible> {
        let active = self.shared.world().level(self.line);
        Ok(self.polarity.level_for(active))
    }

    fn is_low(&mut self) -> Result<bool, Infallible> {
        self.is_high().map(|h| !h)
    }
}

/// A machine on simulated pins.
pub type SimMachine = Machine<SimOutputPin, SimInputPin>;

/// A handle on the simulated world, for pressing buttons, inserting coins, opening the door and
/// injecting faults. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SimHandle {
    shared: Arc<Shared>,
}

/// Build a simulated machine: its [`Machine`] (for the controller) and a [`SimHandle`].
pub fn build(
    wiring: &Wiring,
    columns: Vec<SimColumnSpec>,
    params: SimParams,
    clock: Clock,
) -> Result<(SimMachine, SimHandle), HwError> {
    let shared = Arc::new(Shared {
        world: Mutex::new(World::new(wiring, columns, params)),
        wake: Notify::new(),
        clock,
        wiring: wiring.clone(),
        motor_started: Mutex::new(None),
        motor_signal: std::sync::Condvar::new(),
        outlet: Mutex::new(None),
        delivery: Mutex::new(()),
    });
    let handle = SimHandle { shared };
    let machine = handle.machine()?;
    Ok((machine, handle))
}

impl SimHandle {
    /// A fresh [`Machine`] on this same simulated world (the controller restarting after a power
    /// cut finds the machine as it was left).
    pub fn machine(&self) -> Result<SimMachine, HwError> {
        let shared = &self.shared;
        Machine::build(
            &shared.wiring,
            |role, spec| {
                Ok(SimOutputPin {
                    shared: Arc::clone(shared),
                    role,
                    polarity: spec.polarity,
                })
            },
            |_, line, spec| {
                Ok(SimInputPin {
                    shared: Arc::clone(shared),
                    line,
                    polarity: spec.polarity,
                })
            },
        )
    }

    fn act<T>(&self, f: impl FnOnce(&mut World, Timestamp) -> T) -> T {
        let now = self.shared.clock.now();
        let out = f(&mut self.shared.world(), now);
        // An edge due now goes straight to the controller, like an interrupt does on a Pi, rather
        // than waiting for the physics task to wake up.
        self.shared.flush(now);
        self.shared.wake.notify_one();
        out
    }

    /// Press and release button `number` (1-based). Returns when the release is over.
    pub fn press(&self, number: usize) -> Result<Timestamp, SimError> {
        let buttons = self.shared.wiring.buttons.len();
        let index = number
            .checked_sub(1)
            .ok_or(SimError::NoSuchButton(number, buttons))?;
        self.act(|w, now| w.press(now, index))
    }

    /// Press and release the coin-return button.
    pub fn press_coin_return(&self) -> Result<Timestamp, SimError> {
        self.act(|w, now| w.press_coin_return(now))
    }

    /// Insert a coin that the acceptor reports as `pulses` pulses. Returns when its last pulse
    /// ends.
    pub fn insert_coin(&self, pulses: u32) -> Result<Timestamp, SimError> {
        self.act(|w, now| w.insert_coin(now, pulses))
    }

    /// Open or close the service door.
    pub fn set_door(&self, open: bool) -> Result<Timestamp, SimError> {
        self.act(|w, now| w.set_door(now, open))
    }

    /// Inject or clear a fault.
    pub fn inject(&self, fault: Fault) -> Result<(), SimError> {
        self.act(|w, now| w.inject(now, fault))
    }

    /// Load more items into column `number` (1-based).
    pub fn load(&self, number: usize, count: u32) -> Result<(), SimError> {
        let columns = self.shared.world().columns.len();
        let index = number
            .checked_sub(1)
            .ok_or(SimError::NoSuchColumn(number, columns))?;
        self.act(|w, _| w.load(index, count))
    }

    /// Column `number` (1-based) holds exactly `count` items.
    pub fn set_stock(&self, number: usize, count: u32) -> Result<(), SimError> {
        let columns = self.shared.world().columns.len();
        let index = number
            .checked_sub(1)
            .ok_or(SimError::NoSuchColumn(number, columns))?;
        self.shared.world().set_stock(index, count)
    }

    /// Items in the delivery tray.
    pub fn tray(&self) -> Vec<TrayItem> {
        self.shared.world().tray().to_vec()
    }

    /// Take everything out of the tray.
    pub fn take_tray(&self) -> Vec<TrayItem> {
        self.shared.world().take_tray()
    }

    /// Items physically left in column `number` (1-based).
    pub fn stock(&self, number: usize) -> Option<u32> {
        let index = number.checked_sub(1)?;
        self.shared.world().stock(index)
    }

    /// Lamp states.
    pub fn lamps(&self) -> Vec<bool> {
        self.shared.world().lamps().to_vec()
    }

    /// Coins the payout hopper has dropped into the return cup so far.
    pub fn coins_paid_out(&self) -> u32 {
        self.shared.world().coins_paid_out()
    }

    /// Whether the coin acceptor is inhibited.
    pub fn inhibited(&self) -> bool {
        self.shared.world().inhibited()
    }

    /// Columns (0-based) whose motor is on in the simulated world.
    pub fn motors_on(&self) -> Vec<usize> {
        let world = self.shared.world();
        (0..world.columns.len())
            .filter(|&c| world.motor_on(c))
            .collect()
    }

    /// Move the world to `to` and take the input edges and notices produced on the way (for
    /// stepping the simulation without a runtime; [`run_physics`] does this on a runtime).
    pub fn advance(&self, to: Timestamp) -> (Vec<RawEdge>, Vec<Stamped<SimNotice>>) {
        let mut world = self.shared.world();
        world.advance(to);
        (world.drain_edges(), world.drain_notices())
    }

    /// When the world next changes by itself.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.shared.world().next_deadline()
    }

    /// Power fails now (see [`World::power_cut`]).
    pub fn power_cut(&self) {
        let now = self.shared.clock.now();
        self.shared.world().power_cut(now);
    }

    /// For each column (0-based) whose motor is on, since when.
    pub fn motors_on_since(&self) -> Vec<(usize, Timestamp)> {
        let world = self.shared.world();
        (0..world.columns.len())
            .filter_map(|c| world.motor_on_since(c).map(|t| (c, t)))
            .collect()
    }

    /// The wall-clock moment a motor was last switched on through the pins (for measuring
    /// press-to-motor latency).
    pub fn last_motor_start(&self) -> Option<std::time::Instant> {
        *self
            .shared
            .motor_started
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Block (this thread, not a runtime) until a motor is switched on after `after`, and return
    /// when that happened; `None` after `timeout`. Measuring this way keeps the measuring thread
    /// off the CPU the controller needs.
    pub fn wait_motor_start(
        &self,
        after: std::time::Instant,
        timeout: std::time::Duration,
    ) -> Option<std::time::Instant> {
        let guard = self
            .shared
            .motor_started
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (guard, _) = self
            .shared
            .motor_signal
            .wait_timeout_while(guard, timeout, |t| t.is_none_or(|t| t <= after))
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.filter(|t| *t > after)
    }

    /// The clock the world runs on.
    pub fn clock(&self) -> Clock {
        self.shared.clock.clone()
    }
}

/// Let the world's time follow the clock: sleep until its next deadline (or until someone acts
/// on it), advance, and hand edges to `edges` and notices to `notices`. Runs until aborted.
pub async fn run_physics(
    handle: SimHandle,
    edges: EdgeSink,
    notices: UnboundedSender<Stamped<SimNotice>>,
) {
    let shared = handle.shared;
    *shared.outlet.lock().unwrap_or_else(|p| p.into_inner()) = Some(Outlet { edges, notices });
    loop {
        let wake = shared.wake.notified();
        let deadline = shared.flush(shared.clock.now());
        match deadline {
            Some(at) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(shared.clock.instant_at(at)) => {}
                    _ = wake => {}
                }
            }
            None => wake.await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pins::{Gpio, InputSpec, OutputSpec, Pull};

    fn wiring(columns: usize) -> Wiring {
        let pin = |n: usize| Gpio::new(u8::try_from(n).expect("small")).expect("valid");
        Wiring {
            motors: (0..columns)
                .map(|i| OutputSpec {
                    pin: pin(20 + i),
                    polarity: Polarity::ActiveHigh,
                })
                .collect(),
            home_switches: (0..columns)
                .map(|i| {
                    Some(InputSpec {
                        pin: pin(2 + i),
                        polarity: Polarity::ActiveLow,
                        pull: Pull::Up,
                    })
                })
                .collect(),
            lamps: vec![],
            buttons: (0..columns)
                .map(|i| InputSpec {
                    pin: pin(10 + i),
                    polarity: Polarity::ActiveLow,
                    pull: Pull::Up,
                })
                .collect(),
            coin_return: None,
            coin: Some(InputSpec {
                pin: pin(8),
                polarity: Polarity::ActiveLow,
                pull: Pull::Up,
            }),
            drop_sensors: vec![InputSpec {
                pin: pin(9),
                polarity: Polarity::ActiveLow,
                pull: Pull::Up,
            }],
            door: Some(InputSpec {
                pin: pin(7),
                polarity: Polarity::ActiveHigh,
                pull: Pull::Down,
            }),
            coin_inhibit: None,
            payout: None,
        }
    }

    fn world(stock: u32) -> World {
        World::new(
            &wiring(2),
            vec![
                SimColumnSpec {
                    product: "Cola".into(),
                    stock,
                    sensor: 0,
                },
                SimColumnSpec {
                    product: "Water".into(),
                    stock,
                    sensor: 0,
                },
            ],
            SimParams::default(),
        )
    }

    fn ms(n: u64) -> Timestamp {
        Timestamp::from_millis(n)
    }

    #[test]
    fn one_turn_drops_one_item_through_the_beam_and_returns_home() {
        let mut w = world(3);
        w.set_motor(ms(0), 0, true);
        w.advance(ms(1200));
        w.set_motor(ms(1200), 0, false);
        w.advance(ms(3000));
        let edges: Vec<_> = w
            .drain_edges()
            .into_iter()
            .map(|e| (e.at.as_millis(), e.line, e.active))
            .collect();
        assert_eq!(
            edges,
            vec![
                (100, InputLine::Home(0), false),
                (1150, InputLine::Drop(0), true),
                (1180, InputLine::Drop(0), false),
                (1200, InputLine::Home(0), true),
            ]
        );
        assert_eq!(w.stock(0), Some(2));
        assert_eq!(w.tray().len(), 1);
        assert_eq!(w.tray()[0].product, "Cola");
    }

    #[test]
    fn jammed_spiral_does_not_turn_and_empty_column_drops_nothing() {
        let mut w = world(1);
        w.inject(ms(0), Fault::Jam { column: 0 }).expect("jam");
        w.set_motor(ms(0), 0, true);
        assert_eq!(w.next_deadline(), None);
        w.advance(ms(5000));
        w.set_motor(ms(5000), 0, false);
        assert!(w.drain_edges().is_empty());
        assert_eq!(w.drain_notices().len(), 1);

        w.inject(ms(5000), Fault::Empty { column: 1 })
            .expect("empty");
        w.set_motor(ms(5000), 1, true);
        w.advance(ms(6200));
        w.set_motor(ms(6200), 1, false);
        w.advance(ms(8000));
        assert!(w.tray().is_empty());
        assert!(!w
            .drain_edges()
            .iter()
            .any(|e| matches!(e.line, InputLine::Drop(_))));
    }

    #[test]
    fn missed_beam_item_lands_unseen_and_double_drop_gives_two() {
        let mut w = world(5);
        w.inject(ms(0), Fault::MissBeam { column: 0 })
            .expect("miss");
        w.set_motor(ms(0), 0, true);
        w.advance(ms(1200));
        w.set_motor(ms(1200), 0, false);
        w.advance(ms(2000));
        assert!(!w
            .drain_edges()
            .iter()
            .any(|e| matches!(e.line, InputLine::Drop(_))));
        assert_eq!(w.take_tray().len(), 1);
        w.inject(ms(2000), Fault::Fix { column: 0 }).expect("fix");

        w.inject(ms(2000), Fault::DoubleDrop { column: 0 })
            .expect("double");
        w.set_motor(ms(2000), 0, true);
        w.advance(ms(3200));
        w.set_motor(ms(3200), 0, false);
        w.advance(ms(5000));
        assert_eq!(w.take_tray().len(), 2);
        assert_eq!(w.stock(0), Some(2));
    }

    #[test]
    fn hung_item_falls_on_the_next_turn() {
        let mut w = world(2);
        w.inject(ms(0), Fault::Hang { column: 0 }).expect("hang");
        w.set_motor(ms(0), 0, true);
        w.advance(ms(1200));
        w.set_motor(ms(1200), 0, false);
        w.advance(ms(2000));
        assert!(w.tray().is_empty());
        w.set_motor(ms(2000), 0, true);
        w.advance(ms(3200));
        w.set_motor(ms(3200), 0, false);
        w.advance(ms(4000));
        assert_eq!(w.tray().len(), 1);
        assert_eq!(w.stock(0), Some(1));
    }

    #[test]
    fn stopping_mid_turn_keeps_the_position() {
        let mut w = world(2);
        w.set_motor(ms(0), 0, true);
        w.set_motor(ms(600), 0, false);
        w.advance(ms(2000));
        w.set_motor(ms(2000), 0, true);
        // 300 ms more reaches the release point at 900 ms of rotation.
        w.advance(ms(2300));
        w.set_motor(ms(2300), 0, false);
        w.advance(ms(4000));
        assert_eq!(w.tray().len(), 1);
    }

    #[test]
    fn coins_queue_behind_each_other_and_bounce_adds_edges() {
        let mut w = world(1);
        let end1 = w.insert_coin(ms(0), 2).expect("coin");
        assert_eq!(end1, ms(130));
        let end2 = w.insert_coin(ms(0), 1).expect("coin");
        assert_eq!(end2, ms(130 + 400 + 30));
        w.advance(ms(2000));
        assert_eq!(w.drain_edges().len(), 6);

        w.inject(ms(2000), Fault::Bounce { on: true })
            .expect("bounce");
        w.press(ms(2000), 0).expect("button");
        w.advance(ms(3000));
        assert!(w.drain_edges().len() > 2);
        assert_eq!(w.press(ms(3000), 7), Err(SimError::NoSuchButton(8, 2)));
        assert_eq!(w.insert_coin(ms(3000), 0), Err(SimError::BadPulseCount(0)));
    }

    #[test]
    fn stuck_beam_hides_items() {
        let mut w = world(2);
        w.inject(
            ms(0),
            Fault::StuckBeam {
                sensor: 0,
                stuck: true,
            },
        )
        .expect("stick");
        w.set_motor(ms(0), 0, true);
        w.advance(ms(1200));
        w.set_motor(ms(1200), 0, false);
        w.advance(ms(3000));
        let drops: Vec<_> = w
            .drain_edges()
            .into_iter()
            .filter(|e| matches!(e.line, InputLine::Drop(_)))
            .collect();
        assert_eq!(drops.len(), 1, "only the stick itself: {drops:?}");
        assert!(w.level(InputLine::Drop(0)));
    }

    #[tokio::test(start_paused = true)]
    async fn pins_and_physics_task_deliver_edges_in_time() {
        let clock = Clock::start();
        let (mut machine, handle) = build(
            &wiring(2),
            vec![
                SimColumnSpec {
                    product: "Cola".into(),
                    stock: 1,
                    sensor: 0,
                },
                SimColumnSpec {
                    product: "Water".into(),
                    stock: 1,
                    sensor: 0,
                },
            ],
            SimParams::default(),
            clock,
        )
        .expect("sim");
        let snapshot = crate::Hardware::read_inputs(&mut machine).expect("read");
        assert_eq!(snapshot.home, vec![Some(true), Some(true)]);
        assert_eq!(snapshot.door_open, Some(false));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (ntx, mut nrx) = tokio::sync::mpsc::unbounded_channel();
        let sink: EdgeSink = Arc::new(move |e| {
            let _ = tx.send(e);
        });
        let physics = tokio::spawn(run_physics(handle.clone(), sink, ntx));
        crate::Hardware::set_motor(&mut machine, 1, true).expect("motor");
        assert_eq!(handle.motors_on(), vec![1]);
        let mut seen = Vec::new();
        while let Some(edge) = rx.recv().await {
            seen.push(edge);
            if edge.line == InputLine::Home(1) && edge.active {
                crate::Hardware::set_motor(&mut machine, 1, false).expect("motor");
                break;
            }
        }
        assert_eq!(seen.len(), 4, "{seen:?}");
        assert_eq!(seen[3].at, ms(1200));
        let notice = nrx.recv().await.expect("notice");
        assert!(matches!(
            notice.event,
            SimNotice::ItemInTray { column: 1, .. }
        ));
        assert_eq!(handle.tray().len(), 1);
        assert_eq!(handle.stock(2), Some(0));
        physics.abort();
    }
}
