//! A simulated level 3 coin changer: euro coins of 0.05 to 2.00 (scale 5), tubes for the four
//! smallest, coins reported on the next POLL, change paid from the tubes by the level 3 PAYOUT
//! (largest coins first) over a few PAYOUT VALUE POLLs.

use std::collections::VecDeque;

use super::{ack, data, identity, poll_answer, Answer, SimDevice};
use crate::mdb::wire::{Command, Reply};

/// Coin values in units of the scale factor (5 cents): 0.05, 0.10, 0.20, 0.50, 1.00, 2.00.
const VALUES: [u8; 6] = [1, 2, 4, 10, 20, 40];
/// Coin types that go to a tube (bit n: type n).
const ROUTABLE: u16 = 0x000F;
/// Coins a tube holds.
const TUBE_CAPACITY: u8 = 50;
/// The scale factor: cents per unit.
const SCALE: u8 = 5;

/// A payout under way.
#[derive(Debug, Clone)]
struct Payout {
    /// Coins of each type it pays.
    coins: [u8; 16],
    /// Units paid in all.
    units: u8,
    /// Value polls left before it is done.
    polls_left: u8,
}

/// The simulated coin changer.
#[derive(Debug, Clone)]
pub struct SimChanger {
    /// Coins in each tube.
    pub tubes: [u8; 16],
    /// Coins in the cash box, by type.
    pub cash_box: [u32; 16],
    /// Change paid out in all, in cents.
    pub paid_out: u64,
    /// Coins taken from customers in all, in cents.
    pub taken: u64,
    /// Each payout pays this many units less than it could (a coin that sticks in the tube),
    /// and says so in PAYOUT STATUS.
    pub short_by: u8,
    /// Unplugged: answers nothing (see [`SimDevice::plug`](super::SimDevice::plug)).
    unplugged: bool,
    accept: u16,
    just_reset: bool,
    activity: VecDeque<Vec<u8>>,
    payout: Option<Payout>,
    last_payout: Option<[u8; 16]>,
}

impl SimChanger {
    /// A changer with 20 coins in each tube.
    pub fn new() -> SimChanger {
        let mut tubes = [0; 16];
        tubes[..4].fill(20);
        SimChanger {
            tubes,
            cash_box: [0; 16],
            paid_out: 0,
            taken: 0,
            short_by: 0,
            unplugged: false,
            accept: 0,
            just_reset: false,
            activity: VecDeque::new(),
            payout: None,
            last_payout: None,
        }
    }

    /// The coin type worth `cents`, if this changer takes such a coin.
    pub fn kind_of(cents: u64) -> Option<u8> {
        VALUES
            .iter()
            .position(|v| u64::from(*v) * u64::from(SCALE) == cents)
            .and_then(|k| u8::try_from(k).ok())
    }

    /// A customer drops a coin of type `kind`: true if it was taken (reported on the next
    /// POLL), false if it fell through to the return cup (refused or unknown).
    pub fn insert(&mut self, kind: u8) -> bool {
        let k = usize::from(kind);
        if self.unplugged || k >= VALUES.len() || self.accept & (1 << kind) == 0 {
            return false;
        }
        let to_tube = ROUTABLE & (1 << kind) != 0 && self.tubes[k] < TUBE_CAPACITY;
        if to_tube {
            self.tubes[k] += 1;
        } else {
            self.cash_box[k] += 1;
        }
        self.taken += u64::from(VALUES[k]) * u64::from(SCALE);
        let route: u8 = if to_tube { 1 } else { 0 };
        self.activity
            .push_back(vec![0x40 | (route << 4) | kind, self.tubes[k]]);
        true
    }

    /// A coin jams in the acceptor (reported as COIN JAM on the next POLL).
    pub fn jam(&mut self) {
        self.activity.push_back(vec![0x0C]);
    }

    /// The customer presses the coin return lever (ESCROW REQUEST).
    pub fn lever(&mut self) {
        self.activity.push_back(vec![0x01]);
    }

    /// The value of the coins in the tubes, in cents.
    pub fn tube_value(&self) -> u64 {
        VALUES
            .iter()
            .zip(self.tubes)
            .map(|(v, n)| u64::from(*v) * u64::from(SCALE) * u64::from(n))
            .sum()
    }

    pub(super) fn answer(&mut self, c: &Command) -> Answer {
        if self.unplugged {
            return None;
        }
        match (c.code(), c.data()) {
            (0x08, _) => {
                // A reset changer takes no coins until it is told which (COIN TYPE).
                self.just_reset = true;
                self.accept = 0;
                self.activity.clear();
                self.payout = None;
                ack()
            }
            (0x09, _) => {
                let [r0, r1] = ROUTABLE.to_be_bytes();
                let mut d = vec![0x03, 0x19, 0x78, SCALE, 0x02, r0, r1];
                d.extend_from_slice(&VALUES);
                d.resize(7 + 16, 0);
                data(d)
            }
            (0x0A, _) => {
                let full: u16 = (0..16)
                    .filter(|k| self.tubes[*k] >= TUBE_CAPACITY)
                    .fold(0, |m, k| m | (1 << k));
                let mut d = full.to_be_bytes().to_vec();
                d.extend_from_slice(&self.tubes);
                data(d)
            }
            (0x0B, _) => self.poll(),
            (0x0C, [a, b, ..]) => {
                self.accept = u16::from_be_bytes([*a, *b]);
                ack()
            }
            (0x0D, [z, ..]) => {
                let (k, n) = (usize::from(z & 0x0F), z >> 4);
                if k < 16 {
                    self.tubes[k] = self.tubes[k].saturating_sub(n);
                }
                ack()
            }
            (0x0F, [0x00, ..]) => data(identity(b"HMS", "SIMCHANGER", &[0, 0, 0, 1])),
            (0x0F, [0x01, ..]) => ack(),
            (0x0F, [0x02, units, ..]) => {
                self.pay(*units);
                ack()
            }
            (0x0F, [0x03, ..]) => match self.last_payout.take() {
                Some(coins) => data(coins.to_vec()),
                None => ack(),
            },
            (0x0F, [0x04, ..]) => self.value_poll(),
            _ => Some(Reply::Nak),
        }
    }

    fn poll(&mut self) -> Answer {
        if self.payout.is_some() && !self.just_reset {
            // PAYOUT BUSY while coins are going out.
            return data(vec![0x02]);
        }
        poll_answer(&mut self.just_reset, 0x0B, &mut self.activity)
    }

    /// Pay `units` from the tubes, largest coins first; what the tubes cannot make is not paid.
    fn pay(&mut self, units: u8) {
        let mut left = units.saturating_sub(self.short_by);
        let mut coins = [0u8; 16];
        for k in (0..VALUES.len()).rev() {
            if ROUTABLE & (1 << k) == 0 {
                continue;
            }
            while left >= VALUES[k] && self.tubes[k] > coins[k] {
                coins[k] += 1;
                left -= VALUES[k];
            }
        }
        for (k, value) in VALUES.iter().enumerate() {
            self.tubes[k] -= coins[k];
            self.paid_out += u64::from(coins[k]) * u64::from(*value) * u64::from(SCALE);
        }
        let paid: u8 = VALUES
            .iter()
            .zip(coins)
            .map(|(v, n)| v.saturating_mul(n))
            .fold(0, u8::saturating_add);
        self.payout = Some(Payout {
            coins,
            units: paid,
            polls_left: 2,
        });
    }

    fn value_poll(&mut self) -> Answer {
        let Some(p) = self.payout.as_mut() else {
            return ack();
        };
        if p.polls_left > 0 {
            p.polls_left -= 1;
            return data(vec![p.units / (p.polls_left + 1)]);
        }
        self.last_payout = Some(p.coins);
        self.payout = None;
        ack()
    }
}

impl SimDevice for SimChanger {
    fn unplugged(&mut self) -> &mut bool {
        &mut self.unplugged
    }

    fn is_unplugged(&self) -> bool {
        self.unplugged
    }

    fn power_up(&mut self) {
        self.just_reset = true;
        self.accept = 0;
        self.activity.clear();
        self.payout = None;
    }
}

impl Default for SimChanger {
    fn default() -> Self {
        SimChanger::new()
    }
}
