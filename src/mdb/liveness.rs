//! Whether a device still answers: the time it was last heard, and its non-response time (t
//! non-response: how long a device may stay silent before the VMC takes it off the bus and
//! resets it). Shared by the drivers, which decide what being lost means for each.

use std::time::Duration;

use happiness_hardware::Timestamp;

use super::bus::Outcome;
use super::wire::Reply;

/// When a device was last heard, against its non-response time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Liveness {
    heard: Option<Timestamp>,
    limit: Duration,
}

impl Liveness {
    /// A device not heard yet, allowed `limit` of silence.
    pub(super) fn new(limit: Duration) -> Liveness {
        Liveness { heard: None, limit }
    }

    /// Allow `limit` of silence from now on (a reader says its own in its setup).
    pub(super) fn set_limit(&mut self, limit: Duration) {
        self.limit = limit;
    }

    /// The reply of an exchange that ended at `now`, noting that the device was heard; `None`
    /// when it gave no usable answer.
    pub(super) fn reply<'a>(&mut self, outcome: &'a Outcome, now: Timestamp) -> Option<&'a Reply> {
        match outcome {
            Outcome::Answered(reply) => {
                self.heard = Some(now);
                Some(reply)
            }
            Outcome::Failed { .. } => None,
        }
    }

    /// After an exchange that failed at `now`: how long the device has been silent, if that is
    /// past its limit. The clock then starts again, so a device that stays away is reported
    /// once per limit, not once per exchange.
    pub(super) fn overdue(&mut self, now: Timestamp) -> Option<Duration> {
        let since = self.heard.unwrap_or(Timestamp::ZERO);
        let silent = now.saturating_since(since);
        if silent < self.limit {
            return None;
        }
        self.heard = Some(now);
        Some(silent)
    }
}
