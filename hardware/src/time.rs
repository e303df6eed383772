//! Monotonic timestamps shared by every backend, and the clock that makes them.

use std::fmt;
use std::time::Duration;

/// A point in time, in microseconds since the controller's clock started.
///
/// Plain data on purpose: the pure signal conditioning and the simulator's physics take time as an
/// argument instead of reading a clock, which is what makes them deterministic under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The clock's start.
    pub const ZERO: Timestamp = Timestamp(0);

    /// A timestamp `micros` microseconds after the clock's start.
    pub const fn from_micros(micros: u64) -> Self {
        Timestamp(micros)
    }

    /// A timestamp `millis` milliseconds after the clock's start.
    pub const fn from_millis(millis: u64) -> Self {
        Timestamp(millis.saturating_mul(1000))
    }

    /// Microseconds since the clock's start.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Whole milliseconds since the clock's start.
    pub const fn as_millis(self) -> u64 {
        self.0 / 1000
    }

    /// Time elapsed from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Timestamp) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

impl std::ops::Add<Duration> for Timestamp {
    type Output = Timestamp;
    fn add(self, rhs: Duration) -> Timestamp {
        let micros = u64::try_from(rhs.as_micros()).unwrap_or(u64::MAX);
        Timestamp(self.0.saturating_add(micros))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.0 / 1_000_000, (self.0 / 1000) % 1000)
    }
}

/// The controller's monotonic clock, anchored to the moment it was created.
///
/// Built on `tokio::time::Instant` so that a test runtime with paused time moves every part of the
/// machine (simulated physics, debounce, vend deadlines) together; off the runtime it reads the
/// system's monotonic clock like `std::time::Instant`.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    epoch: tokio::time::Instant,
}

impl Clock {
    /// A clock whose zero is now.
    pub fn start() -> Self {
        Clock {
            epoch: tokio::time::Instant::now(),
        }
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        let elapsed = tokio::time::Instant::now().saturating_duration_since(self.epoch);
        Timestamp(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX))
    }

    /// The runtime instant that corresponds to `at`, for sleeping until a deadline.
    pub fn instant_at(&self, at: Timestamp) -> tokio::time::Instant {
        self.epoch + Duration::from_micros(at.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_overflowing() {
        let late = Timestamp::from_micros(u64::MAX - 1);
        assert_eq!(
            late + Duration::from_secs(5),
            Timestamp::from_micros(u64::MAX)
        );
        assert_eq!(
            Timestamp::from_millis(1).saturating_since(Timestamp::from_millis(5)),
            Duration::ZERO
        );
        assert_eq!(Timestamp::from_millis(1500).to_string(), "1.500s");
    }
}
