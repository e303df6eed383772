//! Putting trace records back in time order: the simulated world reports what it did (an item
//! landing in the tray) as soon as it happens, while the controller records the edge that
//! caused it (the drop beam) a moment later, stamped with the edge's earlier time.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::TraceRecord;

/// Records held back until nothing earlier can still come.
#[derive(Debug, Default)]
pub struct InOrder {
    held: BinaryHeap<Reverse<Held>>,
    newest_ms: f64,
    arrivals: u64,
}

#[derive(Debug)]
struct Held {
    t_ms: f64,
    arrival: u64,
    record: TraceRecord,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Held {}

impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Held {
    // By time, then (for one time) in the order they came.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.t_ms
            .total_cmp(&other.t_ms)
            .then(self.arrival.cmp(&other.arrival))
    }
}

impl InOrder {
    /// Hold `record`.
    pub fn push(&mut self, record: TraceRecord) {
        self.newest_ms = self.newest_ms.max(record.t_ms);
        self.arrivals += 1;
        self.held.push(Reverse(Held {
            t_ms: record.t_ms,
            arrival: self.arrivals,
            record,
        }));
    }

    /// The records at least `window_ms` older than the newest seen, oldest first: nothing
    /// earlier than them is expected any more.
    pub fn ready(&mut self, window_ms: f64) -> Vec<TraceRecord> {
        let until = self.newest_ms - window_ms;
        let mut out = Vec::new();
        while self.held.peek().is_some_and(|Reverse(h)| h.t_ms <= until) {
            if let Some(Reverse(h)) = self.held.pop() {
                out.push(h.record);
            }
        }
        out
    }

    /// Every record held, oldest first (when the stream has gone quiet or ended).
    pub fn drain(&mut self) -> Vec<TraceRecord> {
        let mut out = Vec::with_capacity(self.held.len());
        while let Some(Reverse(h)) = self.held.pop() {
            out.push(h.record);
        }
        out
    }

    /// Whether records are held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::TraceEntry;
    use happiness_hardware::Timestamp;

    fn at(ms: u64, message: &str) -> TraceRecord {
        TraceRecord::new(
            Timestamp::from_millis(ms),
            TraceEntry::Error {
                message: message.into(),
            },
        )
    }

    fn messages(records: Vec<TraceRecord>) -> Vec<String> {
        records
            .into_iter()
            .map(|r| match r.entry {
                TraceEntry::Error { message } => message,
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_late_earlier_record_goes_before_what_came_first() {
        let mut order = InOrder::default();
        order.push(at(1845, "tray"));
        assert!(
            order.ready(100.0).is_empty(),
            "held: something earlier may come"
        );
        order.push(at(1815, "drop"));
        order.push(at(1815, "delivered"));
        order.push(at(2000, "home"));
        assert_eq!(messages(order.ready(100.0)), ["drop", "delivered", "tray"]);
        assert!(!order.is_empty());
        assert_eq!(messages(order.drain()), ["home"]);
        assert!(order.is_empty());
    }
}
