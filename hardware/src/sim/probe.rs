//! The latency probe: when a motor was last switched on, for measuring press-to-motor time.

use crate::time::Clock;

use super::*;

impl SimHandle {
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
