//! What people and tests do to the world: press buttons, insert coins, open the door, inject
//! faults and load columns.

use std::time::Duration;

use crate::input::{InputLine, Stamped};
use crate::time::Timestamp;

use super::*;

impl World {
    /// A finger presses button `index` (0-based) at `at` and lets go after the hold time.
    /// Returns when the release is over.
    pub fn press(&mut self, at: Timestamp, index: usize) -> Result<Timestamp, SimError> {
        if index >= self.buttons {
            return Err(SimError::NoSuchButton(index + 1, self.buttons));
        }
        let line = InputLine::Button(u8::try_from(index).unwrap_or(u8::MAX));
        Ok(self.tap(at, line))
    }

    /// A finger presses the coin-return button.
    pub fn press_coin_return(&mut self, at: Timestamp) -> Result<Timestamp, SimError> {
        if !self.has_coin_return {
            return Err(SimError::NotFitted("coin-return button"));
        }
        Ok(self.tap(at, InputLine::CoinReturn))
    }

    fn tap(&mut self, at: Timestamp, line: InputLine) -> Timestamp {
        self.advance(at);
        let release = at + self.params.press_hold;
        self.schedule_switch(at, line, true);
        self.schedule_switch(release, line, false);
        release + Duration::from_millis(5)
    }

    /// The coin acceptor accepts a coin worth `pulses` pulses. Coins queue behind each other the
    /// way a real acceptor's throat does. Returns when the last pulse has ended.
    pub fn insert_coin(&mut self, at: Timestamp, pulses: u32) -> Result<Timestamp, SimError> {
        if !self.has_coin {
            return Err(SimError::NotFitted("coin acceptor"));
        }
        if !(1..=100).contains(&pulses) {
            return Err(SimError::BadPulseCount(pulses));
        }
        self.advance(at);
        if self.inhibited {
            self.notices.push(Stamped {
                at,
                event: SimNotice::CoinReturnedByAcceptor { pulses },
            });
            return Err(SimError::Inhibited);
        }
        let start = at.max(self.coin_free_at);
        let period = self.params.coin_pulse + self.params.coin_pulse_gap;
        let mut end = start;
        for i in 0..pulses {
            let on = start + period * i;
            end = on + self.params.coin_pulse;
            self.schedule_switch(on, InputLine::Coin, true);
            self.schedule_switch(end, InputLine::Coin, false);
        }
        self.coin_free_at = end + self.params.coin_gap;
        Ok(end)
    }

    /// The service door opens or closes at `at`. Returns when the switch has settled.
    pub fn set_door(&mut self, at: Timestamp, open: bool) -> Result<Timestamp, SimError> {
        if !self.has_door {
            return Err(SimError::NotFitted("door switch"));
        }
        self.advance(at);
        self.schedule_switch(at, InputLine::Door, open);
        Ok(at + Duration::from_millis(10))
    }

    /// Inject (or clear) a fault at `at`.
    pub fn inject(&mut self, at: Timestamp, fault: Fault) -> Result<(), SimError> {
        self.advance(at);
        let columns = self.columns.len();
        let column = |c: u8| -> Result<usize, SimError> {
            let i = usize::from(c);
            if i < columns {
                Ok(i)
            } else {
                Err(SimError::NoSuchColumn(i + 1, columns))
            }
        };
        match fault {
            Fault::Jam { column: c } => self.columns[column(c)?].jammed = true,
            Fault::Fix { column: c } => {
                let col = &mut self.columns[column(c)?];
                col.jammed = false;
                col.blind = false;
                col.hang_next = false;
                col.double_next = 0;
                col.dead_driver = false;
            }
            Fault::DeadDriver { column: c } => self.columns[column(c)?].dead_driver = true,
            Fault::MissBeam { column: c } => self.columns[column(c)?].blind = true,
            Fault::Hang { column: c } => self.columns[column(c)?].hang_next = true,
            Fault::DoubleDrop { column: c } => self.columns[column(c)?].double_next += 1,
            Fault::Empty { column: c } => self.columns[column(c)?].spec.stock = 0,
            Fault::StuckBeam { sensor, stuck } => {
                let s = usize::from(sensor);
                if s >= self.sensors {
                    return Err(SimError::NoSuchSensor(s + 1, self.sensors));
                }
                let line = InputLine::Drop(sensor);
                if stuck {
                    self.set_level(at, line, true);
                    self.stuck[s] = true;
                } else {
                    self.stuck[s] = false;
                    self.set_level(at, line, false);
                }
            }
            Fault::Bounce { on } => self.bounce = on,
        }
        Ok(())
    }

    /// Column `c` holds exactly `count` items (a machine brought up from its books).
    pub fn set_stock(&mut self, column: usize, count: u32) -> Result<(), SimError> {
        let columns = self.columns.len();
        let c = self
            .columns
            .get_mut(column)
            .ok_or(SimError::NoSuchColumn(column + 1, columns))?;
        c.spec.stock = count;
        Ok(())
    }

    /// Load `count` more items into column `c` (what an operator does when restocking).
    pub fn load(&mut self, column: usize, count: u32) -> Result<(), SimError> {
        let columns = self.columns.len();
        let c = self
            .columns
            .get_mut(column)
            .ok_or(SimError::NoSuchColumn(column + 1, columns))?;
        c.spec.stock = c.spec.stock.saturating_add(count);
        Ok(())
    }
}
