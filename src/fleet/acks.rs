//! Which outbox copies the broker has: the publishes handed to the MQTT client are matched, in
//! order, to the packet ids the client gives them, and each acknowledgement to its sequence
//! number. Only an unbroken run from the start counts as delivered, so a copy is never cleared
//! while one before it may still be lost. Pure.

use std::collections::{HashMap, HashSet, VecDeque};

/// What a publish handed to the client was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// An outbox copy, by sequence number.
    Event(u64),
    /// Anything else (the state, a reply).
    Other,
}

/// The copies on their way to the broker over one connection.
#[derive(Debug, Default)]
pub struct Acks {
    /// Handed to the client, not yet written: the client writes them in this order.
    queued: VecDeque<Tag>,
    /// Written with a packet id, not yet acknowledged.
    by_pkid: HashMap<u16, u64>,
    /// Every copy handed over and not yet counted as delivered, in order.
    sent: VecDeque<u64>,
    /// Acknowledged, but after one that is not yet.
    early: HashSet<u64>,
    /// Every copy up to this one is delivered.
    delivered: u64,
    /// The last copy handed over.
    last: u64,
}

impl Acks {
    /// A connection that starts with every copy up to `delivered` known delivered.
    pub fn new(delivered: u64) -> Acks {
        Acks {
            delivered,
            last: delivered,
            ..Acks::default()
        }
    }

    /// A publish was handed to the client.
    pub fn queued(&mut self, tag: Tag) {
        if let Tag::Event(seq) = tag {
            self.sent.push_back(seq);
            self.last = self.last.max(seq);
        }
        self.queued.push_back(tag);
    }

    /// The client wrote the next publish with packet id `pkid`.
    pub fn written(&mut self, pkid: u16) {
        if let Some(Tag::Event(seq)) = self.queued.pop_front() {
            self.by_pkid.insert(pkid, seq);
        }
    }

    /// The broker acknowledged `pkid`. Returns the new delivered mark when it moved.
    pub fn acked(&mut self, pkid: u16) -> Option<u64> {
        let seq = self.by_pkid.remove(&pkid)?;
        self.early.insert(seq);
        let before = self.delivered;
        while let Some(&front) = self.sent.front() {
            if !self.early.remove(&front) {
                break;
            }
            self.sent.pop_front();
            self.delivered = front;
        }
        (self.delivered != before).then_some(self.delivered)
    }

    /// Copies handed over and not yet delivered.
    pub fn in_flight(&self) -> usize {
        self.sent.len()
    }

    /// Every copy up to this one is delivered.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// The last copy handed over (or delivered, when none is in flight).
    pub fn last(&self) -> u64 {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unbroken_run_counts_as_delivered() {
        let mut a = Acks::new(10);
        for tag in [Tag::Event(11), Tag::Other, Tag::Event(12), Tag::Event(13)] {
            a.queued(tag);
        }
        for pkid in 1..=4 {
            a.written(pkid);
        }
        assert_eq!(a.acked(3), None, "12 before 11");
        assert_eq!(a.acked(2), None, "the state");
        assert_eq!(a.acked(1), Some(12));
        assert_eq!(a.in_flight(), 1);
        assert_eq!(a.acked(1), None, "an ack twice");
        assert_eq!(a.acked(4), Some(13));
        assert_eq!((a.delivered(), a.last(), a.in_flight()), (13, 13, 0));
    }

    #[test]
    fn packet_ids_are_reused_after_their_ack() {
        let mut a = Acks::new(0);
        a.queued(Tag::Event(1));
        a.written(1);
        assert_eq!(a.acked(1), Some(1));
        a.queued(Tag::Event(2));
        a.written(1);
        assert_eq!(a.acked(1), Some(2));
    }
}
