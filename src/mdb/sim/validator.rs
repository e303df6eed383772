//! A simulated level 2 bill validator: euro bills of 5, 10, 20 and 50 (scale 100), every bill
//! held in escrow until ESCROW says stack or return, a stacker of 500.

use std::collections::VecDeque;

use super::{ack, data, identity, poll_answer, Answer, SimDevice};
use crate::mdb::wire::{Command, Reply};

/// Bill values in units of the scale factor (1.00): 5, 10, 20, 50.
const VALUES: [u8; 4] = [5, 10, 20, 50];
/// Cents per unit.
const SCALE: u16 = 100;
/// Bills the stacker holds.
const CAPACITY: u16 = 500;

/// The simulated bill validator.
#[derive(Debug, Clone)]
pub struct SimValidator {
    /// Bills in the stacker.
    pub stacked: u16,
    /// The value of the bills in the stacker, in cents.
    pub stacked_value: u64,
    /// Bills handed back to customers, in cents.
    pub returned_value: u64,
    /// Unplugged: answers nothing (see [`SimDevice::plug`](super::SimDevice::plug)).
    unplugged: bool,
    /// ESCROW is acknowledged but the validator never says where the bill went (a fault).
    pub mute_escrow: bool,
    accept: u16,
    escrow_enabled: u16,
    held: Option<u8>,
    just_reset: bool,
    activity: VecDeque<Vec<u8>>,
}

impl SimValidator {
    /// An empty validator.
    pub fn new() -> SimValidator {
        SimValidator {
            stacked: 0,
            stacked_value: 0,
            returned_value: 0,
            unplugged: false,
            mute_escrow: false,
            accept: 0,
            escrow_enabled: 0,
            held: None,
            just_reset: false,
            activity: VecDeque::new(),
        }
    }

    /// The bill type worth `cents`, if this validator takes such a bill.
    pub fn kind_of(cents: u64) -> Option<u8> {
        VALUES
            .iter()
            .position(|v| u64::from(*v) * u64::from(SCALE) == cents)
            .and_then(|k| u8::try_from(k).ok())
    }

    fn value(kind: u8) -> u64 {
        VALUES
            .get(usize::from(kind))
            .map_or(0, |v| u64::from(*v) * u64::from(SCALE))
    }

    /// Whether the stacker is full.
    pub fn is_full(&self) -> bool {
        self.stacked >= CAPACITY
    }

    /// Fill the stacker to the brim (a fault to try).
    pub fn fill_stacker(&mut self) {
        self.stacked = CAPACITY;
    }

    /// A bill in escrow, if one is held.
    pub fn held(&self) -> Option<u8> {
        self.held
    }

    /// A customer feeds a bill of type `kind`: true if it was drawn in (to escrow, or stacked
    /// when escrow is off for it), false if it was pushed straight back.
    pub fn insert(&mut self, kind: u8) -> bool {
        if self.unplugged || usize::from(kind) >= VALUES.len() {
            return false;
        }
        if self.accept & (1 << kind) == 0 || self.held.is_some() || self.is_full() {
            // DISABLED BILL REJECTED: the customer has it back.
            self.activity.push_back(vec![0xC0 | kind]);
            return false;
        }
        if self.escrow_enabled & (1 << kind) != 0 {
            self.held = Some(kind);
            self.activity.push_back(vec![0x90 | kind]);
        } else {
            self.stack(kind);
        }
        true
    }

    /// A bill jams in the validator (reported on the next POLL).
    pub fn jam(&mut self) {
        self.activity.push_back(vec![0x05]);
    }

    /// The customer pulls the bill in escrow back out (BILL REMOVED).
    pub fn pull_back(&mut self) {
        if let Some(kind) = self.held.take() {
            self.returned_value += Self::value(kind);
            self.activity.push_back(vec![0x07]);
        }
    }

    fn stack(&mut self, kind: u8) {
        self.stacked += 1;
        self.stacked_value += Self::value(kind);
        self.activity.push_back(vec![0x80 | kind]);
    }

    pub(super) fn answer(&mut self, c: &Command) -> Answer {
        if self.unplugged {
            return None;
        }
        match (c.code(), c.data()) {
            (0x30, _) => {
                // A reset validator takes no bills until it is told which (BILL TYPE).
                self.just_reset = true;
                self.accept = 0;
                self.activity.clear();
                // A reset hands the bill in escrow back.
                if let Some(kind) = self.held.take() {
                    self.returned_value += Self::value(kind);
                }
                ack()
            }
            (0x31, _) => {
                let [s0, s1] = SCALE.to_be_bytes();
                let [c0, c1] = CAPACITY.to_be_bytes();
                let mut d = vec![0x02, 0x19, 0x78, s0, s1, 0x02, c0, c1, 0x00, 0x00, 0xFF];
                d.extend_from_slice(&VALUES);
                d.resize(11 + 16, 0);
                data(d)
            }
            (0x32, _) => ack(),
            (0x33, _) => self.poll(),
            (0x34, [a, b, e, f, ..]) => {
                self.accept = u16::from_be_bytes([*a, *b]);
                self.escrow_enabled = u16::from_be_bytes([*e, *f]);
                ack()
            }
            (0x35, [stack, ..]) => {
                let Some(kind) = self.held.take() else {
                    // INVALID ESCROW REQUEST.
                    self.activity.push_back(vec![0x0A]);
                    return ack();
                };
                if self.mute_escrow {
                    // It went somewhere; the validator does not say where (the bill is kept).
                    self.stacked += 1;
                    self.stacked_value += Self::value(kind);
                } else if *stack == 0x01 {
                    self.stack(kind);
                } else {
                    self.returned_value += Self::value(kind);
                    self.activity.push_back(vec![0xA0 | kind]);
                }
                ack()
            }
            (0x36, _) => {
                let n = self.stacked.min(0x7FFF) | if self.is_full() { 0x8000 } else { 0 };
                data(n.to_be_bytes().to_vec())
            }
            (0x37, [0x00, ..]) => data(identity(b"HMS", "SIMBILLS", &[])),
            _ => Some(Reply::Nak),
        }
    }

    fn poll(&mut self) -> Answer {
        poll_answer(&mut self.just_reset, 0x06, &mut self.activity)
    }
}

impl SimDevice for SimValidator {
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
        if let Some(kind) = self.held.take() {
            self.returned_value += Self::value(kind);
        }
    }
}

impl Default for SimValidator {
    fn default() -> Self {
        SimValidator::new()
    }
}
