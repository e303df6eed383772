//! Whole pulses from edges, bridging glitches: shared by the coin line and the drop beam.

use std::time::Duration;

use super::*;

/// A pulse seen on a line after glitch bridging: from `start` to `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pulse {
    pub(super) start: Timestamp,
    pub(super) end: Timestamp,
}

impl Pulse {
    pub(super) fn width(&self) -> Duration {
        self.end.saturating_since(self.start)
    }
}

/// Turns edges into whole pulses, bridging short gaps inside a pulse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PulseFilter {
    Idle,
    Active { start: Timestamp },
    Ending { start: Timestamp, end: Timestamp },
}

impl PulseFilter {
    pub(super) fn on_edge(
        &mut self,
        at: Timestamp,
        active: bool,
        glitch: Duration,
    ) -> Option<Pulse> {
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

    pub(super) fn deadline(&self, glitch: Duration) -> Option<Timestamp> {
        match *self {
            PulseFilter::Ending { end, .. } => Some(end + glitch),
            _ => None,
        }
    }

    pub(super) fn poll(&mut self, now: Timestamp, glitch: Duration) -> Option<Pulse> {
        match *self {
            PulseFilter::Ending { start, end } if now >= end + glitch => {
                *self = PulseFilter::Idle;
                Some(Pulse { start, end })
            }
            _ => None,
        }
    }

    pub(super) fn active_since(&self) -> Option<Timestamp> {
        match *self {
            PulseFilter::Active { start } => Some(start),
            _ => None,
        }
    }
}
