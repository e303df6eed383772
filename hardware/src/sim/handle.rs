//! [`SimHandle`]: pressing buttons, inserting coins, opening the door and injecting faults on
//! the shared world from any thread.

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::input::{RawEdge, Stamped};
use crate::machine::{HwError, Machine, Wiring};
use crate::time::{Clock, Timestamp};

use super::shared::Shared;
use super::*;

/// A handle on the simulated world, for pressing buttons, inserting coins, opening the door and
/// injecting faults. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SimHandle {
    pub(super) shared: Arc<Shared>,
}

/// Build a simulated machine: its [`Machine`] (for the controller) and a [`SimHandle`].
pub fn build(
    wiring: &Wiring,
    columns: Vec<SimColumnSpec>,
    params: SimParams,
    clock: Clock,
) -> Result<(SimMachine, SimHandle), HwError> {
    let shared = Arc::new(Shared {
        world: Mutex::new(World::new(wiring, columns, params)),
        wake: Notify::new(),
        clock,
        wiring: wiring.clone(),
        motor_started: Mutex::new(None),
        motor_signal: std::sync::Condvar::new(),
        outlet: Mutex::new(None),
        delivery: Mutex::new(()),
    });
    let handle = SimHandle { shared };
    let machine = handle.machine()?;
    Ok((machine, handle))
}

impl SimHandle {
    /// A fresh [`Machine`] on this same simulated world (the controller restarting after a power
    /// cut finds the machine as it was left).
    pub fn machine(&self) -> Result<SimMachine, HwError> {
        let shared = &self.shared;
        Machine::build(
            &shared.wiring,
            |role, spec| {
                Ok(SimOutputPin {
                    shared: Arc::clone(shared),
                    role,
                    polarity: spec.polarity,
                })
            },
            |_, line, spec| {
                Ok(SimInputPin {
                    shared: Arc::clone(shared),
                    line,
                    polarity: spec.polarity,
                })
            },
        )
    }

    fn act<T>(&self, f: impl FnOnce(&mut World, Timestamp) -> T) -> T {
        let now = self.shared.clock.now();
        let out = f(&mut self.shared.world(), now);
        // An edge due now goes straight to the controller, like an interrupt does on a Pi, rather
        // than waiting for the physics task to wake up.
        self.shared.flush(now);
        self.shared.wake.notify_one();
        out
    }

    /// Press and release button `number` (1-based). Returns when the release is over.
    pub fn press(&self, number: usize) -> Result<Timestamp, SimError> {
        let buttons = self.shared.wiring.buttons.len();
        let index = number
            .checked_sub(1)
            .ok_or(SimError::NoSuchButton(number, buttons))?;
        self.act(|w, now| w.press(now, index))
    }

    /// Press and release the coin-return button.
    pub fn press_coin_return(&self) -> Result<Timestamp, SimError> {
        self.act(|w, now| w.press_coin_return(now))
    }

    /// Insert a coin that the acceptor reports as `pulses` pulses. Returns when its last pulse
    /// ends.
    pub fn insert_coin(&self, pulses: u32) -> Result<Timestamp, SimError> {
        self.act(|w, now| w.insert_coin(now, pulses))
    }

    /// Open or close the service door.
    pub fn set_door(&self, open: bool) -> Result<Timestamp, SimError> {
        self.act(|w, now| w.set_door(now, open))
    }

    /// Inject or clear a fault.
    pub fn inject(&self, fault: Fault) -> Result<(), SimError> {
        self.act(|w, now| w.inject(now, fault))
    }

    /// Load more items into column `number` (1-based).
    pub fn load(&self, number: usize, count: u32) -> Result<(), SimError> {
        let columns = self.shared.world().column_count();
        let index = number
            .checked_sub(1)
            .ok_or(SimError::NoSuchColumn(number, columns))?;
        self.act(|w, _| w.load(index, count))
    }

    /// Column `number` (1-based) holds exactly `count` items.
    pub fn set_stock(&self, number: usize, count: u32) -> Result<(), SimError> {
        let columns = self.shared.world().column_count();
        let index = number
            .checked_sub(1)
            .ok_or(SimError::NoSuchColumn(number, columns))?;
        self.shared.world().set_stock(index, count)
    }

    /// Items in the delivery tray.
    pub fn tray(&self) -> Vec<TrayItem> {
        self.shared.world().tray().to_vec()
    }

    /// Take everything out of the tray.
    pub fn take_tray(&self) -> Vec<TrayItem> {
        self.shared.world().take_tray()
    }

    /// Items physically left in column `number` (1-based).
    pub fn stock(&self, number: usize) -> Option<u32> {
        let index = number.checked_sub(1)?;
        self.shared.world().stock(index)
    }

    /// Lamp states.
    pub fn lamps(&self) -> Vec<bool> {
        self.shared.world().lamps().to_vec()
    }

    /// Coins the payout hopper has dropped into the return cup so far.
    pub fn coins_paid_out(&self) -> u32 {
        self.shared.world().coins_paid_out()
    }

    /// Whether the coin acceptor is inhibited.
    pub fn inhibited(&self) -> bool {
        self.shared.world().inhibited()
    }

    /// Columns (0-based) whose motor is on in the simulated world.
    pub fn motors_on(&self) -> Vec<usize> {
        let world = self.shared.world();
        (0..world.column_count())
            .filter(|&c| world.motor_on(c))
            .collect()
    }

    /// Move the world to `to` and take the input edges and notices produced on the way (for
    /// stepping the simulation without a runtime; [`run_physics`] does this on a runtime).
    pub fn advance(&self, to: Timestamp) -> (Vec<RawEdge>, Vec<Stamped<SimNotice>>) {
        let mut world = self.shared.world();
        world.advance(to);
        (world.drain_edges(), world.drain_notices())
    }

    /// When the world next changes by itself.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.shared.world().next_deadline()
    }

    /// Power fails now (see [`World::power_cut`]).
    pub fn power_cut(&self) {
        let now = self.shared.clock.now();
        self.shared.world().power_cut(now);
    }

    /// For each column (0-based) whose motor is on, since when.
    pub fn motors_on_since(&self) -> Vec<(usize, Timestamp)> {
        let world = self.shared.world();
        (0..world.column_count())
            .filter_map(|c| world.motor_on_since(c).map(|t| (c, t)))
            .collect()
    }
}
