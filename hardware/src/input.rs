//! Signal conditioning: timestamped raw edges in, clean machine events out.
//!
//! Pure code (no clock reads, no I/O, no threads): every function takes the time it should act at,
//! and [`InputConditioner::next_deadline`] says when it next needs a [`InputConditioner::poll`]. The
//! same conditioning runs behind the Raspberry Pi interrupts, behind the simulator, and in
//! deterministic tests.
//!
//! What each input needs:
//! - buttons, coin return, home switches and the door: a leading-edge debounce (the first edge
//!   counts at once, which keeps press-to-motor latency low; edges during the lockout window are
//!   reconciled when it ends, so a release inside the window is never lost);
//! - the coin pulse line: pulses of a plausible width are counted, glitches merged, too-short and
//!   too-long pulses rejected, and a coin ends when the line stays idle for the inter-coin gap;
//! - the drop beam: a blocked pulse long enough to be an item is a drop; blocked for too long is a
//!   stuck sensor, reported once and not counted as a drop.

use std::time::Duration;

use serde::Serialize;

use crate::time::Timestamp;

/// One physical input line of the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "line", content = "index", rename_all = "snake_case")]
pub enum InputLine {
    /// Customer selection button, by index into the wiring's button list.
    Button(u8),
    /// The coin-return button.
    CoinReturn,
    /// The coin acceptor's pulse output.
    Coin,
    /// A drop beam, by index into the wiring's sensor list.
    Drop(u8),
    /// A column's home (cam) switch, by column index.
    Home(u8),
    /// The service door switch.
    Door,
}

/// A change of level on an input line, polarity already applied (`active` = pressed, blocked,
/// open, pulsing), with the time it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RawEdge {
    /// Which line changed.
    pub line: InputLine,
    /// The new logical level.
    pub active: bool,
    /// When it changed.
    pub at: Timestamp,
}

/// Where a backend hands its input edges: called on the backend's own thread (an interrupt
/// thread on a Pi, whoever acts on the simulated world), so the controller can react without
/// waiting for another thread to wake up.
pub type EdgeSink = std::sync::Arc<dyn Fn(RawEdge) + Send + Sync>;

/// A value with the time it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Stamped<T> {
    /// When it happened.
    pub at: Timestamp,
    /// What happened.
    pub event: T,
}

/// A clean, debounced machine input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InputEvent {
    /// A selection button was pressed (index into the wiring's button list).
    ButtonPressed {
        /// Button index.
        button: u8,
    },
    /// The coin-return button was pressed.
    CoinReturnPressed,
    /// The coin acceptor finished a coin of `count` pulses.
    CoinPulses {
        /// Pulses counted for the coin.
        count: u32,
    },
    /// A pulse on the coin line had an implausible width and was ignored.
    CoinPulseRejected {
        /// The pulse's width in microseconds.
        width_us: u64,
    },
    /// An item fell through a drop beam.
    DropDetected {
        /// Sensor index.
        sensor: u8,
    },
    /// A drop beam has been blocked for longer than any falling item could block it.
    DropSensorStuck {
        /// Sensor index.
        sensor: u8,
    },
    /// A stuck drop beam is clear again.
    DropSensorCleared {
        /// Sensor index.
        sensor: u8,
    },
    /// A column's spiral reached its home position (one revolution done).
    HomeReached {
        /// Column index.
        column: u8,
    },
    /// The service door opened or closed.
    DoorChanged {
        /// True when open.
        open: bool,
    },
}

/// Timing rules for a pulse line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PulseTiming {
    /// Shortest pulse that counts.
    pub min_width: Duration,
    /// Longest pulse that counts.
    pub max_width: Duration,
    /// Gaps shorter than this inside a pulse are contact bounce or noise and are bridged.
    pub glitch: Duration,
}

/// Timing rules for all inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InputTiming {
    /// Lockout after a button edge.
    pub button_debounce: Duration,
    /// Lockout after a door switch edge.
    pub door_debounce: Duration,
    /// Lockout after a home switch edge.
    pub home_debounce: Duration,
    /// Coin pulse widths.
    pub coin: PulseTiming,
    /// Idle time on the coin line that ends a coin.
    pub coin_gap: Duration,
    /// Drop beam pulse widths (`max_width` is unused: longer is "stuck", see below).
    pub drop: PulseTiming,
    /// Blocked for this long means the beam is stuck.
    pub drop_stuck_after: Duration,
}

impl Default for InputTiming {
    fn default() -> Self {
        InputTiming {
            button_debounce: Duration::from_millis(20),
            door_debounce: Duration::from_millis(50),
            home_debounce: Duration::from_millis(5),
            coin: PulseTiming {
                min_width: Duration::from_millis(10),
                max_width: Duration::from_millis(150),
                glitch: Duration::from_millis(3),
            },
            coin_gap: Duration::from_millis(200),
            drop: PulseTiming {
                min_width: Duration::from_millis(2),
                max_width: Duration::from_secs(2),
                glitch: Duration::from_millis(1),
            },
            drop_stuck_after: Duration::from_secs(2),
        }
    }
}

/// Leading-edge debounce for a two-level input.
#[derive(Debug, Clone)]
struct Debouncer {
    window: Duration,
    stable: bool,
    raw: bool,
    last_change: Option<Timestamp>,
}

impl Debouncer {
    fn new(window: Duration, initial: bool) -> Self {
        Debouncer {
            window,
            stable: initial,
            raw: initial,
            last_change: None,
        }
    }

    fn lockout_end(&self) -> Option<Timestamp> {
        self.last_change.map(|t| t + self.window)
    }

    /// A raw edge; returns the new stable level if it changed now.
    fn on_edge(&mut self, at: Timestamp, active: bool) -> Option<bool> {
        self.raw = active;
        if active == self.stable {
            return None;
        }
        match self.lockout_end() {
            Some(end) if at < end => None,
            _ => {
                self.stable = active;
                self.last_change = Some(at);
                Some(active)
            }
        }
    }

    fn deadline(&self) -> Option<Timestamp> {
        if self.raw != self.stable {
            self.lockout_end()
        } else {
            None
        }
    }

    /// At the end of a lockout, adopt a level that changed during it.
    fn poll(&mut self, now: Timestamp) -> Option<(Timestamp, bool)> {
        let end = self.deadline()?;
        if now < end {
            return None;
        }
        self.stable = self.raw;
        self.last_change = Some(end);
        Some((end, self.stable))
    }
}

/// A pulse seen on a line after glitch bridging: from `start` to `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pulse {
    start: Timestamp,
    end: Timestamp,
}

impl Pulse {
    fn width(&self) -> Duration {
        self.end.saturating_since(self.start)
    }
}

/// Turns edges into whole pulses, bridging short gaps inside a pulse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PulseFilter {
    Idle,
    Active { start: Timestamp },
    Ending { start: Timestamp, end: Timestamp },
}

impl PulseFilter {
    fn on_edge(&mut self, at: Timestamp, active: bool, glitch: Duration) -> Option<Pulse> {
        match (*self, active) {
            (PulseFilter::Idle, true) => {
                *self = PulseFilter::Active { start: at };
                None
            }
            (PulseFilter::Active { start }, false) => {
                *self = PulseFilter::Ending { start, end: at };
                None
            }
            (PulseFilter::Ending { start, end }, true) => {
                if at < end + glitch {
                    *self = PulseFilter::Active { start };
                    None
                } else {
                    *self = PulseFilter::Active { start: at };
                    Some(Pulse { start, end })
                }
            }
            _ => None,
        }
    }

    fn deadline(&self, glitch: Duration) -> Option<Timestamp> {
        match *self {
            PulseFilter::Ending { end, .. } => Some(end + glitch),
            _ => None,
        }
    }

    fn poll(&mut self, now: Timestamp, glitch: Duration) -> Option<Pulse> {
        match *self {
            PulseFilter::Ending { start, end } if now >= end + glitch => {
                *self = PulseFilter::Idle;
                Some(Pulse { start, end })
            }
            _ => None,
        }
    }

    fn active_since(&self) -> Option<Timestamp> {
        match *self {
            PulseFilter::Active { start } => Some(start),
            _ => None,
        }
    }
}

/// Counts coin pulses into coins.
#[derive(Debug, Clone)]
struct CoinDecoder {
    filter: PulseFilter,
    pulse: PulseTiming,
    gap: Duration,
    count: u32,
    last_end: Option<Timestamp>,
}

impl CoinDecoder {
    fn new(pulse: PulseTiming, gap: Duration) -> Self {
        CoinDecoder {
            filter: PulseFilter::Idle,
            pulse,
            gap,
            count: 0,
            last_end: None,
        }
    }

    fn coin_due(&self) -> Option<Timestamp> {
        match (self.count, self.last_end) {
            (1.., Some(end)) => Some(end + self.gap),
            _ => None,
        }
    }

    fn finish_coin(&mut self, out: &mut Vec<Stamped<InputEvent>>) {
        if let Some(at) = self.coin_due() {
            out.push(Stamped {
                at,
                event: InputEvent::CoinPulses { count: self.count },
            });
        }
        self.count = 0;
        self.last_end = None;
    }

    fn take_pulse(&mut self, pulse: Pulse, out: &mut Vec<Stamped<InputEvent>>) {
        let width = pulse.width();
        if width < self.pulse.min_width || width > self.pulse.max_width {
            out.push(Stamped {
                at: pulse.end,
                event: InputEvent::CoinPulseRejected {
                    width_us: u64::try_from(width.as_micros()).unwrap_or(u64::MAX),
                },
            });
            return;
        }
        self.count = self.count.saturating_add(1);
        self.last_end = Some(pulse.end);
    }

    fn on_edge(&mut self, at: Timestamp, active: bool, out: &mut Vec<Stamped<InputEvent>>) {
        self.poll(at, out);
        if let Some(pulse) = self.filter.on_edge(at, active, self.pulse.glitch) {
            self.take_pulse(pulse, out);
        }
    }

    fn deadline(&self) -> Option<Timestamp> {
        let filter = self.filter.deadline(self.pulse.glitch);
        // While a pulse is in progress the coin cannot be over yet.
        let coin = match self.filter {
            PulseFilter::Idle => self.coin_due(),
            _ => None,
        };
        earliest(filter, coin)
    }

    fn poll(&mut self, now: Timestamp, out: &mut Vec<Stamped<InputEvent>>) {
        if let Some(pulse) = self.filter.poll(now, self.pulse.glitch) {
            self.take_pulse(pulse, out);
        }
        if self.filter == PulseFilter::Idle && self.coin_due().is_some_and(|due| now >= due) {
            self.finish_coin(out);
        }
    }
}

/// Detects items falling through a drop beam, and a beam that stays blocked.
#[derive(Debug, Clone)]
struct DropDecoder {
    sensor: u8,
    filter: PulseFilter,
    pulse: PulseTiming,
    stuck_after: Duration,
    stuck: bool,
}

impl DropDecoder {
    fn new(sensor: u8, pulse: PulseTiming, stuck_after: Duration, blocked_now: bool) -> Self {
        DropDecoder {
            sensor,
            filter: if blocked_now {
                PulseFilter::Active {
                    start: Timestamp::ZERO,
                }
            } else {
                PulseFilter::Idle
            },
            pulse,
            stuck_after,
            stuck: false,
        }
    }

    fn take_pulse(&mut self, pulse: Pulse, out: &mut Vec<Stamped<InputEvent>>) {
        let sensor = self.sensor;
        if self.stuck {
            self.stuck = false;
            out.push(Stamped {
                at: pulse.end,
                event: InputEvent::DropSensorCleared { sensor },
            });
        } else if pulse.width() >= self.pulse.min_width {
            out.push(Stamped {
                at: pulse.start,
                event: InputEvent::DropDetected { sensor },
            });
        }
    }

    fn on_edge(&mut self, at: Timestamp, active: bool, out: &mut Vec<Stamped<InputEvent>>) {
        self.poll(at, out);
        if let Some(pulse) = self.filter.on_edge(at, active, self.pulse.glitch) {
            self.take_pulse(pulse, out);
        }
    }

    fn stuck_due(&self) -> Option<Timestamp> {
        if self.stuck {
            return None;
        }
        self.filter.active_since().map(|s| s + self.stuck_after)
    }

    fn deadline(&self) -> Option<Timestamp> {
        earliest(self.filter.deadline(self.pulse.glitch), self.stuck_due())
    }

    fn poll(&mut self, now: Timestamp, out: &mut Vec<Stamped<InputEvent>>) {
        if let Some(pulse) = self.filter.poll(now, self.pulse.glitch) {
            self.take_pulse(pulse, out);
        }
        if let Some(due) = self.stuck_due() {
            if now >= due {
                self.stuck = true;
                out.push(Stamped {
                    at: due,
                    event: InputEvent::DropSensorStuck {
                        sensor: self.sensor,
                    },
                });
            }
        }
    }
}

fn earliest(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// What the conditioner needs to know about the machine: how many of each input, and their
/// levels at start-up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputLayout {
    /// Number of selection buttons.
    pub buttons: u8,
    /// Whether there is a coin-return button.
    pub coin_return: bool,
    /// Number of drop beams, with whether each was blocked at start-up.
    pub drop_blocked_at_start: Vec<bool>,
    /// Per column: whether it has a home switch, and whether it was home at start-up.
    pub home_at_start: Vec<Option<bool>>,
    /// Whether the door was open at start-up (`None`: no door switch).
    pub door_open_at_start: Option<bool>,
}

/// Conditions every input line of the machine.
#[derive(Debug, Clone)]
pub struct InputConditioner {
    buttons: Vec<Debouncer>,
    coin_return: Option<Debouncer>,
    homes: Vec<Option<Debouncer>>,
    door: Option<Debouncer>,
    coin: CoinDecoder,
    drops: Vec<DropDecoder>,
}

impl InputConditioner {
    /// A conditioner for `layout` with `timing`.
    pub fn new(layout: &InputLayout, timing: &InputTiming) -> Self {
        InputConditioner {
            buttons: (0..layout.buttons)
                .map(|_| Debouncer::new(timing.button_debounce, false))
                .collect(),
            coin_return: layout
                .coin_return
                .then(|| Debouncer::new(timing.button_debounce, false)),
            homes: layout
                .home_at_start
                .iter()
                .map(|h| h.map(|home| Debouncer::new(timing.home_debounce, home)))
                .collect(),
            door: layout
                .door_open_at_start
                .map(|open| Debouncer::new(timing.door_debounce, open)),
            coin: CoinDecoder::new(timing.coin, timing.coin_gap),
            drops: layout
                .drop_blocked_at_start
                .iter()
                .enumerate()
                .map(|(i, &blocked)| {
                    DropDecoder::new(
                        u8::try_from(i).unwrap_or(u8::MAX),
                        timing.drop,
                        timing.drop_stuck_after,
                        blocked,
                    )
                })
                .collect(),
        }
    }

    /// Feed one raw edge. Events that fell due before it are emitted first, so the output is in
    /// time order. Edges on lines the layout does not have are ignored.
    pub fn on_edge(&mut self, edge: RawEdge) -> Vec<Stamped<InputEvent>> {
        let mut out = self.poll(edge.at);
        let RawEdge { line, active, at } = edge;
        let stamp = |event| Stamped { at, event };
        match line {
            InputLine::Button(i) => {
                if let Some(d) = self.buttons.get_mut(usize::from(i)) {
                    if d.on_edge(at, active) == Some(true) {
                        out.push(stamp(InputEvent::ButtonPressed { button: i }));
                    }
                }
            }
            InputLine::CoinReturn => {
                if let Some(d) = self.coin_return.as_mut() {
                    if d.on_edge(at, active) == Some(true) {
                        out.push(stamp(InputEvent::CoinReturnPressed));
                    }
                }
            }
            InputLine::Home(c) => {
                if let Some(Some(d)) = self.homes.get_mut(usize::from(c)) {
                    if d.on_edge(at, active) == Some(true) {
                        out.push(stamp(InputEvent::HomeReached { column: c }));
                    }
                }
            }
            InputLine::Door => {
                if let Some(d) = self.door.as_mut() {
                    if let Some(open) = d.on_edge(at, active) {
                        out.push(stamp(InputEvent::DoorChanged { open }));
                    }
                }
            }
            InputLine::Coin => self.coin.on_edge(at, active, &mut out),
            InputLine::Drop(s) => {
                if let Some(d) = self.drops.get_mut(usize::from(s)) {
                    d.on_edge(at, active, &mut out);
                }
            }
        }
        out
    }

    /// Emit whatever has fallen due by `now`.
    pub fn poll(&mut self, now: Timestamp) -> Vec<Stamped<InputEvent>> {
        let mut out = Vec::new();
        for (i, d) in self.buttons.iter_mut().enumerate() {
            if let Some((at, true)) = d.poll(now) {
                let button = u8::try_from(i).unwrap_or(u8::MAX);
                out.push(Stamped {
                    at,
                    event: InputEvent::ButtonPressed { button },
                });
            }
        }
        if let Some((at, true)) = self.coin_return.as_mut().and_then(|d| d.poll(now)) {
            out.push(Stamped {
                at,
                event: InputEvent::CoinReturnPressed,
            });
        }
        for (i, d) in self.homes.iter_mut().enumerate() {
            if let Some((at, true)) = d.as_mut().and_then(|d| d.poll(now)) {
                let column = u8::try_from(i).unwrap_or(u8::MAX);
                out.push(Stamped {
                    at,
                    event: InputEvent::HomeReached { column },
                });
            }
        }
        if let Some((at, open)) = self.door.as_mut().and_then(|d| d.poll(now)) {
            out.push(Stamped {
                at,
                event: InputEvent::DoorChanged { open },
            });
        }
        self.coin.poll(now, &mut out);
        for d in &mut self.drops {
            d.poll(now, &mut out);
        }
        out.sort_by_key(|e| e.at);
        out
    }

    /// Whether a coin's pulses are being counted right now (the coin is in the machine, its value
    /// not yet known).
    pub fn coin_in_progress(&self) -> bool {
        self.coin.deadline().is_some()
    }

    /// When [`InputConditioner::poll`] next has something to do, if ever.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        let debouncers = self
            .buttons
            .iter()
            .chain(self.coin_return.iter())
            .chain(self.homes.iter().flatten())
            .chain(self.door.iter())
            .filter_map(Debouncer::deadline);
        let drops = self.drops.iter().filter_map(DropDecoder::deadline);
        debouncers.chain(drops).chain(self.coin.deadline()).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Timestamp {
        Timestamp::from_millis(n)
    }

    fn us(n: u64) -> Timestamp {
        Timestamp::from_micros(n)
    }

    fn layout() -> InputLayout {
        InputLayout {
            buttons: 2,
            coin_return: true,
            drop_blocked_at_start: vec![false],
            home_at_start: vec![Some(true), None],
            door_open_at_start: Some(false),
        }
    }

    /// Feeds edges and polls at every deadline up to `until`, like a runtime would.
    fn run(cond: &mut InputConditioner, edges: &[RawEdge], until: Timestamp) -> Vec<InputEvent> {
        let mut out = Vec::new();
        let mut edges = edges.to_vec();
        edges.sort_by_key(|e| e.at);
        let mut pending = edges.into_iter().peekable();
        loop {
            let next_edge = pending.peek().map(|e| e.at);
            let deadline = cond.next_deadline();
            match (next_edge, deadline) {
                (Some(e), Some(d)) if d < e => out.extend(cond.poll(d)),
                (Some(_), _) => {
                    if let Some(edge) = pending.next() {
                        out.extend(cond.on_edge(edge));
                    }
                }
                (None, Some(d)) if d <= until => out.extend(cond.poll(d)),
                _ => break,
            }
        }
        out.into_iter().map(|s| s.event).collect()
    }

    fn edge(line: InputLine, active: bool, at: Timestamp) -> RawEdge {
        RawEdge { line, active, at }
    }

    #[test]
    fn bouncing_button_gives_one_press() {
        let mut c = InputConditioner::new(&layout(), &InputTiming::default());
        let b = InputLine::Button(1);
        let edges = [
            edge(b, true, ms(100)),
            edge(b, false, us(100_300)),
            edge(b, true, us(100_700)),
            edge(b, false, us(101_500)),
            edge(b, true, ms(102)),
            edge(b, false, ms(180)),
            edge(b, true, us(180_400)),
            edge(b, false, ms(181)),
        ];
        assert_eq!(
            run(&mut c, &edges, ms(1000)),
            vec![InputEvent::ButtonPressed { button: 1 }]
        );
    }

    #[test]
    fn short_tap_inside_the_lockout_does_not_swallow_the_next_press() {
        let mut c = InputConditioner::new(&layout(), &InputTiming::default());
        let b = InputLine::Button(0);
        let edges = [
            edge(b, true, ms(0)),
            edge(b, false, ms(5)),
            edge(b, true, ms(300)),
            edge(b, false, ms(400)),
        ];
        assert_eq!(
            run(&mut c, &edges, ms(1000)),
            vec![
                InputEvent::ButtonPressed { button: 0 },
                InputEvent::ButtonPressed { button: 0 }
            ]
        );
    }

    #[test]
    fn edges_on_unknown_lines_are_ignored() {
        let mut c = InputConditioner::new(&layout(), &InputTiming::default());
        let edges = [
            edge(InputLine::Button(9), true, ms(1)),
            edge(InputLine::Drop(4), true, ms(2)),
            edge(InputLine::Home(1), true, ms(3)),
        ];
        assert!(run(&mut c, &edges, ms(5000)).is_empty());
    }

    #[test]
    fn door_bounce_settles_on_the_final_level() {
        let mut c = InputConditioner::new(&layout(), &InputTiming::default());
        let d = InputLine::Door;
        let edges = [
            edge(d, true, ms(10)),
            edge(d, false, ms(12)),
            edge(d, true, ms(14)),
            edge(d, false, ms(16)),
        ];
        // Opened, then the lockout ends with the switch closed again.
        assert_eq!(
            run(&mut c, &edges, ms(1000)),
            vec![
                InputEvent::DoorChanged { open: true },
                InputEvent::DoorChanged { open: false }
            ]
        );
    }

    fn coin_pulses(start: Timestamp, n: u32, width_ms: u64, gap_ms: u64) -> Vec<RawEdge> {
        (0..u64::from(n))
            .flat_map(|i| {
                let on = start + Duration::from_millis(i * (width_ms + gap_ms));
                [
                    edge(InputLine::Coin, true, on),
                    edge(InputLine::Coin, false, on + Duration::from_millis(width_ms)),
                ]
            })
            .collect()
    }

    #[test]
    fn coin_pulses_are_counted_into_one_coin() {
        let mut c = InputConditioner::new(&layout(), &InputTiming::default());
        let edges = coin_pulses(ms(0), 5, 30, 70);
        assert_eq!(
            run(&mut c, &edges, ms(5000)),
            vec![InputEvent::CoinPulses { count: 5 }]
        );
    }

    #[test]
    fn two_coins_back_to_back_are_two_coins() {
        let mut c = InputConditioner::new(&layout(), &InputTiming::default());
        let mut edges = coin_pulses(ms(0), 3, 30, 70);
        // The second coin starts 250 ms after the first one's last pulse ended.
        edges.extend(coin_pulses(ms(230 + 250), 2, 30, 70));
        assert_eq!(
            run(&mut c, &edges, ms(5000)),
            vec![
                InputEvent::CoinPulses { count: 3 },
                InputEvent::CoinPulses { count: 2 }
            ]
        );
    }

    #[test]
    fn second_coin_before_the_first_is_reported_still_splits_in_order() {
        // Feed the edges without polling in between, as a batch from a slow consumer would.
        let mut c = InputConditioner::new(&layout(), &InputTiming::default());
        let mut edges = coin_pulses(ms(0), 2, 30, 70);
        edges.extend(coin_pulses(ms(500), 1, 30, 70));
        let mut out = Vec::new();
        for e in edges {
            out.extend(c.on_edge(e).into_iter().map(|s| s.event));
        }
        out.extend(c.poll(ms(10_000)).into_iter().map(|s| s.event));
        assert_eq!(
            out,
            vec![
                InputEvent::CoinPulses { count: 2 },
                InputEvent::CoinPulses { count: 1 }
            ]
        );
    }

    #[test]
    fn coin_bounce_is_bridged_and_too_short_pulses_are_rejected() {
        let mut c = InputConditioner::new(&layout(), &InputTiming::default());
        let l = InputLine::Coin;
        let edges = [
            // A real 30 ms pulse chopped by contact bounce at both ends.
            edge(l, true, ms(0)),
            edge(l, false, us(400)),
            edge(l, true, us(900)),
            edge(l, false, ms(30)),
            edge(l, true, us(30_500)),
            edge(l, false, ms(31)),
            // A 2 ms spike: noise, not a pulse.
            edge(l, true, ms(100)),
            edge(l, false, ms(102)),
            // A second real pulse.
            edge(l, true, ms(150)),
            edge(l, false, ms(180)),
        ];
        assert_eq!(
            run(&mut c, &edges, ms(5000)),
            vec![
                InputEvent::CoinPulseRejected { width_us: 2000 },
                InputEvent::CoinPulses { count: 2 }
            ]
        );
    }

    #[test]
    fn an_overlong_coin_pulse_is_rejected() {
        let mut c = InputConditioner::new(&layout(), &InputTiming::default());
        let edges = [
            edge(InputLine::Coin, true, ms(0)),
            edge(InputLine::Coin, false, ms(400)),
        ];
        assert_eq!(
            run(&mut c, &edges, ms(5000)),
            vec![InputEvent::CoinPulseRejected { width_us: 400_000 }]
        );
    }

    #[test]
    fn item_through_the_beam_is_one_drop_and_noise_is_not() {
        let mut c = InputConditioner::new(&layout(), &InputTiming::default());
        let l = InputLine::Drop(0);
        let edges = [
            edge(l, true, us(5_000)),
            edge(l, false, us(5_300)),
            edge(l, true, ms(1000)),
            edge(l, false, us(1_000_200)),
            edge(l, true, us(1_000_500)),
            edge(l, false, ms(1025)),
        ];
        let events = run(&mut c, &edges, ms(5000));
        assert_eq!(events, vec![InputEvent::DropDetected { sensor: 0 }]);
    }

    #[test]
    fn stuck_beam_is_reported_once_and_not_counted_as_a_drop() {
        let mut c = InputConditioner::new(&layout(), &InputTiming::default());
        let l = InputLine::Drop(0);
        let edges = [edge(l, true, ms(10)), edge(l, false, ms(9000))];
        assert_eq!(
            run(&mut c, &edges, ms(20_000)),
            vec![
                InputEvent::DropSensorStuck { sensor: 0 },
                InputEvent::DropSensorCleared { sensor: 0 }
            ]
        );
    }

    #[test]
    fn beam_blocked_at_start_is_reported_as_stuck() {
        let mut l = layout();
        l.drop_blocked_at_start = vec![true];
        let mut c = InputConditioner::new(&l, &InputTiming::default());
        assert_eq!(
            run(&mut c, &[], ms(5000)),
            vec![InputEvent::DropSensorStuck { sensor: 0 }]
        );
    }

    #[test]
    fn home_switch_reports_arrival_not_departure() {
        let mut c = InputConditioner::new(&layout(), &InputTiming::default());
        let h = InputLine::Home(0);
        let edges = [edge(h, false, ms(50)), edge(h, true, ms(1500))];
        assert_eq!(
            run(&mut c, &edges, ms(5000)),
            vec![InputEvent::HomeReached { column: 0 }]
        );
    }
}
