//! Coin pulses into coins: widths checked, a coin ended by the inter-coin gap.

use std::time::Duration;

use super::*;

use super::pulse::{Pulse, PulseFilter};

/// Counts coin pulses into coins.
#[derive(Debug, Clone)]
pub(super) struct CoinDecoder {
    filter: PulseFilter,
    pulse: PulseTiming,
    gap: Duration,
    count: u32,
    last_end: Option<Timestamp>,
}

impl CoinDecoder {
    pub(super) fn new(pulse: PulseTiming, gap: Duration) -> Self {
        CoinDecoder {
            filter: PulseFilter::Idle,
            pulse,
            gap,
            count: 0,
            last_end: None,
        }
    }

    pub(super) fn coin_due(&self) -> Option<Timestamp> {
        match (self.count, self.last_end) {
            (1.., Some(end)) => Some(end + self.gap),
            _ => None,
        }
    }

    pub(super) fn finish_coin(&mut self, out: &mut Vec<Stamped<InputEvent>>) {
        if let Some(at) = self.coin_due() {
            out.push(Stamped {
                at,
                event: InputEvent::CoinPulses { count: self.count },
            });
        }
        self.count = 0;
        self.last_end = None;
    }

    pub(super) fn take_pulse(&mut self, pulse: Pulse, out: &mut Vec<Stamped<InputEvent>>) {
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

    pub(super) fn deadline(&self) -> Option<Timestamp> {
        let filter = self.filter.deadline(self.pulse.glitch);
        // While a pulse is in progress the coin cannot be over yet.
        let coin = match self.filter {
            PulseFilter::Idle => self.coin_due(),
            _ => None,
        };
        earliest(filter, coin)
    }

    pub(super) fn poll(&mut self, now: Timestamp, out: &mut Vec<Stamped<InputEvent>>) {
        if let Some(pulse) = self.filter.poll(now, self.pulse.glitch) {
            self.take_pulse(pulse, out);
        }
        if self.filter == PulseFilter::Idle && self.coin_due().is_some_and(|due| now >= due) {
            self.finish_coin(out);
        }
    }
}
