//! The trace's fan-out: every subscriber gets every record in order; live viewers share a
//! broadcast channel.

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use crate::trace::TraceRecord;

/// Where trace records go: every subscriber gets every record, in order; a broadcast channel, if
/// set, serves any number of live viewers (which may miss records when they fall behind).
#[derive(Debug, Clone, Default)]
pub struct TraceSink {
    subscribers: Vec<UnboundedSender<TraceRecord>>,
    broadcast: Option<tokio::sync::broadcast::Sender<TraceRecord>>,
}

impl TraceSink {
    /// A sink with no subscribers.
    pub fn new() -> Self {
        TraceSink::default()
    }

    /// Add a subscriber and return its receiving end.
    pub fn subscribe(&mut self) -> UnboundedReceiver<TraceRecord> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        self.subscribers.push(tx);
        rx
    }

    /// Add a broadcast channel for live viewers (the operator's event stream) and return its
    /// sender, from which viewers subscribe.
    pub fn broadcast(&mut self, capacity: usize) -> tokio::sync::broadcast::Sender<TraceRecord> {
        let (tx, _) = tokio::sync::broadcast::channel(capacity.max(1));
        self.broadcast = Some(tx.clone());
        tx
    }

    /// Send a record to every subscriber still listening.
    pub fn emit(&mut self, record: TraceRecord) {
        if let Some(b) = &self.broadcast {
            // No viewer connected is the normal case.
            let _ = b.send(record.clone());
        }
        self.subscribers.retain(|s| s.send(record.clone()).is_ok());
    }
}
