//! The drop beam: a long enough block is a drop, too long is a stuck sensor (reported once).

use std::time::Duration;

use super::*;

use super::pulse::{Pulse, PulseFilter};

/// Detects items falling through a drop beam, and a beam that stays blocked.
#[derive(Debug, Clone)]
pub(super) struct DropDecoder {
    sensor: u8,
    filter: PulseFilter,
    pulse: PulseTiming,
    stuck_after: Duration,
    stuck: bool,
}

impl DropDecoder {
    pub(super) fn new(
        sensor: u8,
        pulse: PulseTiming,
        stuck_after: Duration,
        blocked_now: bool,
    ) -> Self {
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

    pub(super) fn take_pulse(&mut self, pulse: Pulse, out: &mut Vec<Stamped<InputEvent>>) {
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

    pub(super) fn on_edge(
        &mut self,
        at: Timestamp,
        active: bool,
        out: &mut Vec<Stamped<InputEvent>>,
    ) {
        self.poll(at, out);
        if let Some(pulse) = self.filter.on_edge(at, active, self.pulse.glitch) {
            self.take_pulse(pulse, out);
        }
    }

    pub(super) fn stuck_due(&self) -> Option<Timestamp> {
        if self.stuck {
            return None;
        }
        self.filter.active_since().map(|s| s + self.stuck_after)
    }

    pub(super) fn deadline(&self) -> Option<Timestamp> {
        earliest(self.filter.deadline(self.pulse.glitch), self.stuck_due())
    }

    pub(super) fn poll(&mut self, now: Timestamp, out: &mut Vec<Stamped<InputEvent>>) {
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
