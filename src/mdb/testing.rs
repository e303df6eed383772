//! What the drivers' tests share: the time in milliseconds, and the outcomes of an exchange.

use happiness_hardware::Timestamp;

use super::bus::{Outcome, Silence};
use super::wire::Reply;

/// `ms` milliseconds from the start.
pub(super) fn at(ms: u64) -> Timestamp {
    Timestamp::from_millis(ms)
}

/// The device answered with `bytes` of data.
pub(super) fn data(bytes: &[u8]) -> Outcome {
    Outcome::Answered(Reply::Data(bytes.to_vec()))
}

/// The device answered ACK.
pub(super) fn ack() -> Outcome {
    Outcome::Answered(Reply::Ack)
}

/// The device said nothing, three times.
pub(super) fn silent() -> Outcome {
    Outcome::Failed {
        attempts: 3,
        why: Silence::NoAnswer,
    }
}
