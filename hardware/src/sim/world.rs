//! [`World`]: the simulated machine's physics, pure and time-explicit (spirals, home cams, the
//! drop beam, the coin acceptor and the hopper), and its faults.

mod actions;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Duration;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::input::{InputLine, RawEdge, Stamped};
use crate::machine::{OutputRole, Wiring};
use crate::time::Timestamp;

use super::*;

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

    /// How many columns the world has.
    pub fn column_count(&self) -> usize {
        self.columns.len()
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
