//! Who may run a controller step, from which thread, and what happens when one fails.
//!
//! Every step runs under one lock and inside a panic guard: a step that returns an error or
//! panics marks the dispatch failed, the hardware goes to its safe state at once (motors off,
//! coin acceptor inhibited), and [`Dispatch::run`] ends with the error after putting the machine
//! out of service (fault lamp, "out of service" on the display and the status).

use std::future::Future;
use std::panic::AssertUnwindSafe;
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
            // A stopped controller still counts a coin already on its way in (and only that).
            self.step(controller, |c| c.on_edge(edge));
        }
        // Deadlines may have moved: let the runtime loop look again.
        self.wake.notify_one();
    }

    /// Put the controller in place, and feed it any edges that arrived before it.
    pub fn install(&self, controller: Controller) {
        let mut guard = lock(&self.controller);
        let controller = guard.insert(controller);
        let early = std::mem::take(&mut *lock(&self.early));
        self.step(controller, |c| {
            for edge in early {
                c.on_edge(edge)?;
            }
            Ok(())
        });
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
        // Set when asked to stop: a vend or payout under way ends first (bounded by DRAIN), so
        // that the customer gets the item or the refund and the books close it, rather than
        // the next start finding an interrupted vend.
        let mut draining: Option<tokio::time::Instant> = None;
        let result = loop {
            let wake = self.wake.notified();
            if let Some(e) = lock(&self.failed).take() {
                break Err(e);
            }
            if let Some(since) = draining {
                let under_way = lock(&self.controller)
                    .as_ref()
                    .is_some_and(Controller::under_way);
                if !under_way {
                    break Ok(());
                }
                if since.elapsed() >= DRAIN {
                    tracing::warn!(
                        "stopping with a vend or payout still under way after {} s: the next \
                         start settles it",
                        DRAIN.as_secs()
                    );
                    break Ok(());
                }
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
            let give_up = async {
                match draining {
                    Some(since) => tokio::time::sleep_until(since + DRAIN).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                () = &mut shutdown, if draining.is_none() => {
                    draining = Some(tokio::time::Instant::now());
                }
                () = give_up => {}
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
        if result.is_err() {
            self.settle_coin().await;
        }
        // Take the controller out: the hardware's edge sink points back at this dispatch, and
        // the trace's subscribers wait for the controller's senders to be dropped.
        let taken = lock(&self.controller).take();
        let Some(mut c) = taken else {
            return result;
        };
        let stopped = std::panic::catch_unwind(AssertUnwindSafe(|| match &result {
            Ok(()) => c.stop(),
            Err(e) => {
                c.halt(&e.to_string());
                Ok(())
            }
        }))
        .unwrap_or_else(|p| Err(ControllerError::Panic(panic_text(p.as_ref()))));
        result.and(stopped)
    }

    /// After a failure (the failed step has put the machine out of service): a moment for a coin
    /// the acceptor was already paying in to be counted and named in the log.
    async fn settle_coin(&self) {
        let Some(clock) = lock(&self.controller).as_ref().map(|c| c.clock.clone()) else {
            return;
        };
        let give_up = clock.now() + COIN_GRACE;
        loop {
            let wake = self.wake.notified();
            let (counting, deadline) = match lock(&self.controller).as_ref() {
                Some(c) => (c.counting_coin(), c.next_deadline()),
                None => return,
            };
            if !counting || clock.now() >= give_up {
                return;
            }
            let until = deadline.map_or(give_up, |d| d.min(give_up));
            tokio::select! {
                () = tokio::time::sleep_until(clock.instant_at(until)) => {
                    self.with(Controller::on_tick);
                }
                () = wake => {}
            }
        }
    }

    fn with(&self, f: impl FnOnce(&mut Controller) -> Result<(), ControllerError>) {
        let mut guard = lock(&self.controller);
        if let Some(c) = guard.as_mut() {
            self.step(c, f);
        }
    }

    /// A panic outside a step (any thread of the process: the script's, a server's, a helper's)
    /// stops the machine the same way a failed step does: out of service, outputs safe, the
    /// dispatch failed so that the kiosk ends and the process exits for systemd to restart it.
    /// Called from the process's panic hook, before the panic unwinds. A panic inside a step is
    /// left to the step's own guard, which holds the lock.
    pub fn stop_on_panic(&self, what: &str) {
        if IN_STEP.with(std::cell::Cell::get) {
            return;
        }
        // The lock is held only for the length of one step (milliseconds); a holder that never
        // lets go is not waited for past this.
        let give_up = std::time::Instant::now() + std::time::Duration::from_secs(2);
        let mut guard = loop {
            match self.controller.try_lock() {
                Ok(guard) => break Some(guard),
                Err(std::sync::TryLockError::Poisoned(p)) => break Some(p.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) if std::time::Instant::now() < give_up => {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Err(std::sync::TryLockError::WouldBlock) => break None,
            }
        };
        let reason = format!("a panic: {what}");
        if let Some(c) = guard.as_mut().and_then(|g| g.as_mut()) {
            if std::panic::catch_unwind(AssertUnwindSafe(|| c.halt(&reason))).is_err() {
                let _ = std::panic::catch_unwind(AssertUnwindSafe(|| c.hardware_safe()));
            }
        }
        drop(guard);
        lock(&self.failed).get_or_insert(ControllerError::Panic(what.to_string()));
        self.wake.notify_one();
    }

    /// Run one step and publish the status after it. A step that fails or panics leaves the
    /// machine in its safe state at once, and the dispatch failed.
    fn step(
        &self,
        c: &mut Controller,
        f: impl FnOnce(&mut Controller) -> Result<(), ControllerError>,
    ) {
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            IN_STEP.with(|s| s.set(true));
            let result = f(c);
            if result.is_ok() {
                c.publish();
            }
            result
        }));
        IN_STEP.with(|s| s.set(false));
        let error = match outcome {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e,
            Err(payload) => ControllerError::Panic(panic_text(payload.as_ref())),
        };
        // Whatever state the step left behind, the machine goes out of service now: outputs
        // safe, acceptor inhibited, fault lamp, "out of service" on the display and the status.
        let reason = error.to_string();
        let halted = std::panic::catch_unwind(AssertUnwindSafe(|| c.halt(&reason)));
        if halted.is_err() {
            let _ = std::panic::catch_unwind(AssertUnwindSafe(|| c.hardware_safe()));
        }
        tracing::error!("the controller stopped: {error}");
        lock(&self.failed).get_or_insert(error);
        self.wake.notify_one();
    }
}

thread_local! {
    /// Whether this thread is running a step (whose own guard handles a panic in it).
    static IN_STEP: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// How long a stopped controller waits for a coin already on its way in to be counted: the
/// longest pulse train and the gap that ends it, within the second a stop may take.
const COIN_GRACE: std::time::Duration = std::time::Duration::from_millis(800);

/// How long a stop waits for a vend or payout under way to end: longer than a vend with every
/// retry and a surprise item after it on the shipped timings, shorter than systemd's stop
/// timeout in the shipped unit.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(12);

/// The message a panic carried, as far as it can be read.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

async fn recv_opt<T>(rx: &mut Option<UnboundedReceiver<T>>) -> Option<T> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
