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

mod beam;
mod coin;
mod debounce;
mod pulse;

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

use beam::DropDecoder;
use coin::CoinDecoder;
use debounce::Debouncer;

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
mod tests;
