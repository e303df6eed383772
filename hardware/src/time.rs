//! Monotonic timestamps shared by every backend, and the clock that makes them.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
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

/// The controller's monotonic clock.
///
/// Normally built on `tokio::time::Instant` ([`Clock::start`]), so that a test runtime with paused
/// time moves every part of the machine (simulated physics, debounce, vend deadlines) together; off
/// the runtime it reads the system's monotonic clock like `std::time::Instant`. A manual clock
/// ([`Clock::manual`]) only moves when told to: deterministic simulations step it from deadline to
/// deadline without any runtime.
#[derive(Debug, Clone)]
pub struct Clock {
    source: Source,
}

#[derive(Debug, Clone)]
enum Source {
    Runtime(tokio::time::Instant),
    Manual(Arc<AtomicU64>),
}

/// The hand that moves a manual [`Clock`].
#[derive(Debug, Clone)]
pub struct ManualTime(Arc<AtomicU64>);

impl ManualTime {
    /// Set the time (it never goes back: earlier times are ignored).
    pub fn set(&self, at: Timestamp) {
        self.0.fetch_max(at.0, Ordering::SeqCst);
    }

    /// The time now.
    pub fn get(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

impl Clock {
    /// A runtime clock whose zero is now.
    pub fn start() -> Self {
        Clock {
            source: Source::Runtime(tokio::time::Instant::now()),
        }
    }

    /// A manual clock at zero, and the hand that moves it.
    pub fn manual() -> (Self, ManualTime) {
        let t = Arc::new(AtomicU64::new(0));
        (
            Clock {
                source: Source::Manual(Arc::clone(&t)),
            },
            ManualTime(t),
        )
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        match &self.source {
            Source::Runtime(epoch) => {
                let elapsed = tokio::time::Instant::now().saturating_duration_since(*epoch);
                Timestamp(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX))
            }
            Source::Manual(t) => Timestamp(t.load(Ordering::SeqCst)),
        }
    }

    /// The runtime instant that corresponds to `at`, for sleeping until a deadline. A manual
    /// clock has no runtime instants; it answers with one `at` away from now.
    pub fn instant_at(&self, at: Timestamp) -> tokio::time::Instant {
        match &self.source {
            Source::Runtime(epoch) => *epoch + Duration::from_micros(at.0),
            Source::Manual(_) => tokio::time::Instant::now() + at.saturating_since(self.now()),
        }
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

    #[test]
    fn manual_clock_moves_only_forward_when_told() {
        let (clock, hand) = Clock::manual();
        assert_eq!(clock.now(), Timestamp::ZERO);
        hand.set(Timestamp::from_millis(5));
        hand.set(Timestamp::from_millis(2));
        assert_eq!(clock.clone().now(), Timestamp::from_millis(5));
        assert_eq!(hand.get(), Timestamp::from_millis(5));
    }
}
