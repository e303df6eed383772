//! Leading-edge debounce for buttons, the coin return, home switches and the door.

use std::time::Duration;

use super::*;

/// Leading-edge debounce for a two-level input.
#[derive(Debug, Clone)]
pub(super) struct Debouncer {
    window: Duration,
    stable: bool,
    raw: bool,
    last_change: Option<Timestamp>,
}

impl Debouncer {
    pub(super) fn new(window: Duration, initial: bool) -> Self {
        Debouncer {
            window,
            stable: initial,
            raw: initial,
            last_change: None,
        }
    }

    pub(super) fn lockout_end(&self) -> Option<Timestamp> {
        self.last_change.map(|t| t + self.window)
    }

    /// A raw edge; returns the new stable level if it changed now.
    pub(super) fn on_edge(&mut self, at: Timestamp, active: bool) -> Option<bool> {
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

    pub(super) fn deadline(&self) -> Option<Timestamp> {
        if self.raw != self.stable {
            self.lockout_end()
        } else {
            None
        }
    }

    /// At the end of a lockout, adopt a level that changed during it.
    pub(super) fn poll(&mut self, now: Timestamp) -> Option<(Timestamp, bool)> {
        let end = self.deadline()?;
        if now < end {
            return None;
        }
        self.stable = self.raw;
        self.last_change = Some(end);
        Some((end, self.stable))
    }
}
