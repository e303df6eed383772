//! Who may run a controller step, from which thread.

use std::future::Future;
use std::sync::{Arc, Mutex};

use happiness_hardware::sim::SimNotice;
use happiness_hardware::{Clock, EdgeSink, RawEdge, Stamped};
use tokio::sync::mpsc::UnboundedReceiver;

use super::{Controller, ControllerError, Request};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves the controller as it was at that moment; carrying on
    // with it beats taking the whole machine down.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The controller shared between the threads that feed it. Input edges are handled on the
/// thread they arrive on (an interrupt thread on a Pi, whoever acts on the simulated world), so a
/// button press reaches the motor without waiting for another thread to wake; timers, requests and
/// simulator notices are handled by [`Dispatch::run`] on the runtime.
pub struct Dispatch {
    controller: Mutex<Option<Controller>>,
    early: Mutex<Vec<RawEdge>>,
    wake: tokio::sync::Notify,
    failed: Mutex<Option<ControllerError>>,
}

impl Dispatch {
    /// A dispatch with no controller yet (edges that arrive before one is installed are kept).
    pub fn new() -> Arc<Dispatch> {
        Arc::new(Dispatch {
            controller: Mutex::new(None),
            early: Mutex::new(Vec::new()),
            wake: tokio::sync::Notify::new(),
            failed: Mutex::new(None),
        })
    }

    /// The sink the hardware backend hands its edges to.
    pub fn edge_sink(self: &Arc<Self>) -> EdgeSink {
        let me = Arc::clone(self);
        Arc::new(move |edge| me.edge(edge))
    }

    fn edge(&self, edge: RawEdge) {
        {
            let mut guard = lock(&self.controller);
            let Some(controller) = guard.as_mut() else {
                lock(&self.early).push(edge);
                return;
            };
            if lock(&self.failed).is_some() {
                return;
            }
            match controller.on_edge(edge) {
                Ok(()) => controller.publish(),
                Err(e) => *lock(&self.failed) = Some(e),
            }
        }
        // Deadlines may have moved: let the runtime loop look again.
        self.wake.notify_one();
    }

    /// Put the controller in place, and feed it any edges that arrived before it.
    pub fn install(&self, controller: Controller) {
        let mut guard = lock(&self.controller);
        let controller = guard.insert(controller);
        for edge in std::mem::take(&mut *lock(&self.early)) {
            if let Err(e) = controller.on_edge(edge) {
                *lock(&self.failed) = Some(e);
                break;
            }
        }
        controller.publish();
        drop(guard);
        self.wake.notify_one();
    }

    /// Run the controller's timers and requests until `shutdown` completes or the controller
    /// fails; every motor is off on return.
    pub async fn run(
        self: Arc<Self>,
        mut notices: Option<UnboundedReceiver<Stamped<SimNotice>>>,
        mut requests: UnboundedReceiver<Request>,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), ControllerError> {
        tokio::pin!(shutdown);
        let result = loop {
            let wake = self.wake.notified();
            if let Some(e) = lock(&self.failed).take() {
                break Err(e);
            }
            let (deadline, clock) = {
                let guard = lock(&self.controller);
                match guard.as_ref() {
                    Some(c) => (c.next_deadline(), c.clock.clone()),
                    None => (None, Clock::start()),
                }
            };
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(clock.instant_at(at)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                () = &mut shutdown => break Ok(()),
                () = wake => {}
                Some(request) = requests.recv() => self.with(|c| c.on_request(request)),
                notice = recv_opt(&mut notices) => match notice {
                    Some(n) => self.with(|c| {
                        c.on_sim_notice(n);
                        Ok(())
                    }),
                    None => notices = None,
                },
                () = sleep => self.with(Controller::on_tick),
            }
        };
        // Take the controller out: the hardware's edge sink points back at this dispatch, and
        // the trace's subscribers wait for the controller's senders to be dropped.
        let stopped = match lock(&self.controller).take() {
            Some(mut c) => c.stop(),
            None => Ok(()),
        };
        result.and(stopped)
    }

    fn with(&self, f: impl FnOnce(&mut Controller) -> Result<(), ControllerError>) {
        let mut guard = lock(&self.controller);
        if let Some(c) = guard.as_mut() {
            match f(c) {
                Ok(()) => c.publish(),
                Err(e) => *lock(&self.failed) = Some(e),
            }
        }
    }
}

async fn recv_opt<T>(rx: &mut Option<UnboundedReceiver<T>>) -> Option<T> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
