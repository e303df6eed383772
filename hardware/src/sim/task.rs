//! The physics task: lets the world's time follow the clock.

use tokio::sync::mpsc::UnboundedSender;

use crate::input::{EdgeSink, Stamped};

use super::shared::Outlet;
use super::*;

/// Let the world's time follow the clock: sleep until its next deadline (or until someone acts
/// on it), advance, and hand edges to `edges` and notices to `notices`. Runs until aborted.
pub async fn run_physics(
    handle: SimHandle,
    edges: EdgeSink,
    notices: UnboundedSender<Stamped<SimNotice>>,
) {
    let shared = handle.shared;
    *shared.outlet.lock().unwrap_or_else(|p| p.into_inner()) = Some(Outlet { edges, notices });
    loop {
        let wake = shared.wake.notified();
        let deadline = shared.flush(shared.clock.now());
        match deadline {
            Some(at) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(shared.clock.instant_at(at)) => {}
                    _ = wake => {}
                }
            }
            None => wake.await,
        }
    }
}
