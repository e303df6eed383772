//! The customers and the faults of the campaign's world: who comes when, what they insert and
//! press, and what goes wrong around their visit, all drawn from the seed.

use super::*;

/// The shipped surprise config with another probability (a valid reload), or an impossible one
/// (an invalid reload).
pub(super) fn surprise_variant(text: &str, probability: f64) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut replaced = false;
    for line in text.lines() {
        if !replaced && line.trim_start().starts_with("probability") {
            out.push_str(&format!("probability = {probability}"));
            replaced = true;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if !replaced {
        out = out.replacen(
            "[policy]",
            &format!("[policy]\nprobability = {probability}"),
            1,
        );
    }
    out
}

impl Run<'_> {
    /// A customer arrives: pays (or gives up short), presses, and around their visit the world
    /// misbehaves as the fault rates say. Every draw comes from the seed, in a fixed order.
    pub(super) fn customer(&mut self) {
        let machine = Arc::clone(&self.campaign.machine);
        let buttons = machine.buttons.len().max(1);
        let button = self.rng.random_range(1..=buttons);
        let price = machine
            .buttons
            .get(button - 1)
            .and_then(|c| machine.columns.get(c.index()))
            .map_or(0, |c| c.price.get());
        let t = self.pay(&machine, self.now(), price);
        let press_at = t;
        let t = self.presses(t, button, buttons);
        self.mechanical_faults(&machine, press_at, t);
        self.disruptions(press_at);
        self.leave(t);
    }

    /// Coins until the price is covered (now and then a customer gives up short). Returns when
    /// the last coin is in.
    fn pay(&mut self, machine: &MachineConfig, mut t: Timestamp, price: u64) -> Timestamp {
        let mut paid = 0u64;
        let short = self.chance(0.1);
        while paid < price && !(short && paid > 0) && !machine.coins.is_empty() {
            // Most people pay with one coin that covers the price; some count out small ones.
            let covering = machine
                .coins
                .iter()
                .filter(|c| c.value.get() >= price - paid)
                .min_by_key(|c| c.value);
            let coin = match covering {
                Some(c) if self.chance(0.7) => *c,
                _ => machine.coins[self.rng.random_range(0..machine.coins.len())],
            };
            paid += coin.value.get();
            self.schedule(t, Action::Coin(coin.pulses));
            t = t + Duration::from_millis(900);
        }
        t
    }

    /// The chosen button, and now and then a few impatient extra presses. Returns when the last
    /// press is over.
    fn presses(&mut self, mut t: Timestamp, button: usize, buttons: usize) -> Timestamp {
        let presses = if self.chance(0.15) {
            self.rng.random_range(2..=5)
        } else {
            1
        };
        for i in 0..presses {
            let b = if i == 0 {
                button
            } else {
                self.rng.random_range(1..=buttons)
            };
            self.schedule(t, Action::Press(b));
            t = t + Duration::from_millis(self.rng.random_range(60..400));
        }
        t
    }

    /// Jams, missed and hung items, double drops, empty columns, a stuck beam and bouncing
    /// switches around this visit.
    fn mechanical_faults(&mut self, machine: &MachineConfig, press_at: Timestamp, t: Timestamp) {
        let rates = self.faults;
        let mut faults = Vec::new();
        let columns = u8::try_from(machine.columns.len()).unwrap_or(1).max(1);
        let mut column = || self.rng.random_range(0..columns);
        let c = (column(), column(), column(), column(), column());
        for (rate, fault) in [
            (rates.jam, FaultAction::Jam(c.0)),
            (rates.miss, FaultAction::Miss(c.1)),
            (rates.hang, FaultAction::Hang(c.2)),
            (rates.double, FaultAction::Double(c.3)),
            (rates.empty, FaultAction::Empty(c.4)),
        ] {
            if self.chance(rate) {
                faults.push(fault);
            }
        }
        for f in faults {
            self.schedule(self.now(), Action::Fault(f));
        }
        if self.chance(rates.stuck) {
            let on = press_at + Duration::from_millis(self.rng.random_range(0..3000));
            self.schedule(on, Action::Fault(FaultAction::Stuck(true)));
            let off = on + Duration::from_millis(self.rng.random_range(1000..8000));
            self.schedule(off, Action::Fault(FaultAction::Stuck(false)));
        }
        if self.chance(rates.bounce) {
            self.schedule(self.now(), Action::Fault(FaultAction::Bounce(true)));
            self.schedule(
                t + Duration::from_secs(5),
                Action::Fault(FaultAction::Bounce(false)),
            );
        }
    }

    /// The door opened mid-vend, config reloads, a power cut, a full disk, a stopped controller:
    /// each, when it happens, some time after the press.
    fn disruptions(&mut self, press_at: Timestamp) {
        let rates = self.faults;
        if self.chance(rates.door_mid_vend) {
            let open = press_at + Duration::from_millis(self.rng.random_range(200..1500));
            self.schedule(open, Action::Door(true));
            let close = open + Duration::from_millis(self.rng.random_range(500..4000));
            self.schedule(close, Action::Door(false));
        }
        for (rate, window, action) in [
            (rates.reload_valid, 100..1500, Action::ReloadValid),
            (rates.reload_invalid, 100..1500, Action::ReloadInvalid),
            (rates.power_cut, 0..3000, Action::PowerCut),
            (rates.disk_full, 0..3000, Action::DiskFull),
            (rates.controller_stop, 0..3000, Action::ControllerStop),
            (rates.wal_flip, 0..3000, Action::WalFlip),
            (rates.keyless_edit, 0..3000, Action::KeylessEdit),
        ] {
            if self.chance(rate) {
                let at = press_at + Duration::from_millis(self.rng.random_range(window));
                self.schedule(at, action);
            }
        }
    }

    /// The customer takes the tray (and sometimes presses coin return) and leaves; an operator
    /// may come by (surely, when a column is out of service); the next customer is due.
    fn leave(&mut self, t: Timestamp) {
        let done = t + Duration::from_millis(self.rng.random_range(3000..7000));
        self.schedule(done, Action::Take);
        if self.chance(0.3) {
            self.schedule(done, Action::CoinReturn);
        }
        let faulted = self.controller.as_ref().is_some_and(|c| {
            (0..c.core().column_count()).any(|i| {
                ColumnId::from_index(i)
                    .and_then(|col| c.core().status(col))
                    .is_some_and(|s| s != crate::vend::ColumnStatus::InService)
            })
        });
        if self.chance(if faulted { 0.5 } else { self.faults.service }) {
            self.schedule(done + Duration::from_secs(1), Action::Service);
        }
        if self.outcome.vends < u64::from(self.campaign.vends) {
            let next = done + Duration::from_millis(self.rng.random_range(500..15_000));
            self.schedule(next, Action::Arrive);
        }
    }
}
