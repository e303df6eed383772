//! The world shared between the pins, the physics task and the people poking at it, and the
//! delivery of its edges.

use std::sync::{Mutex, MutexGuard};

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::Notify;

use crate::input::{EdgeSink, Stamped};
use crate::machine::Wiring;
use crate::time::{Clock, Timestamp};

use super::*;

/// The world shared between the pins, the physics task and the people poking at it.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) world: Mutex<World>,
    pub(super) wake: Notify,
    pub(super) clock: Clock,
    pub(super) wiring: Wiring,
    /// Wall-clock moment a motor was last switched on (for latency measurements).
    pub(super) motor_started: Mutex<Option<std::time::Instant>>,
    /// Signalled when a motor is switched on.
    pub(super) motor_signal: std::sync::Condvar,
    /// Where input edges and notices go once [`run_physics`] runs.
    pub(super) outlet: Mutex<Option<Outlet>>,
    /// Held while edges are delivered, so deliveries from different threads never interleave.
    pub(super) delivery: Mutex<()>,
}

pub(super) struct Outlet {
    pub(super) edges: EdgeSink,
    pub(super) notices: UnboundedSender<Stamped<SimNotice>>,
}

impl std::fmt::Debug for Outlet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Outlet")
    }
}

impl Shared {
    /// Bring the world to `now` and deliver what happened on the way. The world is unlocked while
    /// edges are delivered (the controller reacting to one may switch a motor, which locks the
    /// world), and a delivery lock keeps the physics task and people acting on the world from
    /// reordering edges. Returns the world's next deadline.
    pub(super) fn flush(&self, now: Timestamp) -> Option<Timestamp> {
        let _delivering = self.delivery.lock().unwrap_or_else(|p| p.into_inner());
        if self
            .outlet
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
        {
            // Nobody to deliver to: whoever steps the world by hand collects the edges.
            return self.world().next_deadline();
        }
        let (edges, notices, deadline) = {
            let mut world = self.world();
            world.advance(now);
            (
                world.drain_edges(),
                world.drain_notices(),
                world.next_deadline(),
            )
        };
        let outlet = self.outlet.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(outlet) = outlet.as_ref() {
            for edge in edges {
                (outlet.edges)(edge);
            }
            for notice in notices {
                // Nobody listening to notices is fine: they are for display only.
                let _ = outlet.notices.send(notice);
            }
        }
        deadline
    }

    /// A poisoned lock only means another thread panicked mid-update; the world is still the best
    /// description of the machine there is, so keep using it rather than cascade the panic.
    pub(super) fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }
}
