//! A simulated level 2 cashless reader (scale 5, two decimals, refunds, cash sales): a card
//! tapped opens a session with its funds; a vend asked for is approved (a hold on the card) or
//! denied; VEND SUCCESS charges the hold, VEND FAILURE releases it. The card's own ledger lets
//! a test check that no card was ever charged for an item that did not drop.

use std::collections::VecDeque;

use super::{ack, data, identity, poll_answer, Answer, SimDevice};
use crate::mdb::wire::{Command, Reply};

/// Cents per unit.
const SCALE: u8 = 5;

/// The simulated card reader.
#[derive(Debug, Clone)]
pub struct SimCard {
    /// Amounts charged to cards, in cents, in order (only ever by VEND SUCCESS).
    pub charged: Vec<u64>,
    /// Holds released by VEND FAILURE or a cancel, in cents.
    pub refunded: Vec<u64>,
    /// Cash sales the VMC reported (price in cents, item).
    pub cash_sales: Vec<(u64, u16)>,
    /// The next vend request is denied.
    pub deny_next: bool,
    /// Unplugged: answers nothing (see [`SimDevice::plug`](super::SimDevice::plug)).
    unplugged: bool,
    enabled: bool,
    just_reset: bool,
    /// The session's funds in units, while a card is there.
    session: Option<u16>,
    /// The hold on the card (units) for an approved vend.
    hold: Option<u16>,
    activity: VecDeque<Vec<u8>>,
}

impl SimCard {
    /// A reader, not yet enabled.
    pub fn new() -> SimCard {
        SimCard {
            charged: Vec::new(),
            refunded: Vec::new(),
            cash_sales: Vec::new(),
            deny_next: false,
            unplugged: false,
            enabled: false,
            just_reset: false,
            session: None,
            hold: None,
            activity: VecDeque::new(),
        }
    }

    /// A card with `funds` cents on it is tapped: true if a session began (the reader is
    /// enabled and no other card is there).
    pub fn tap(&mut self, funds: u64) -> bool {
        if self.unplugged || !self.enabled || self.session.is_some() {
            return false;
        }
        let units = u16::try_from(funds / u64::from(SCALE)).unwrap_or(0xFFFE);
        self.session = Some(units);
        let [a, b] = units.to_be_bytes();
        self.activity.push_back(vec![0x03, a, b]);
        true
    }

    /// The customer takes the card away before buying (SESSION CANCEL REQUEST).
    pub fn walk_away(&mut self) {
        if self.session.is_some() {
            self.activity.push_back(vec![0x04]);
        }
    }

    /// Whether a card session is open.
    pub fn in_session(&self) -> bool {
        self.session.is_some()
    }

    /// Whether a vend is approved and neither charged nor released yet.
    pub fn is_holding(&self) -> bool {
        self.hold.is_some()
    }

    fn cents(units: u16) -> u64 {
        u64::from(units) * u64::from(SCALE)
    }

    fn release(&mut self) {
        if let Some(h) = self.hold.take() {
            self.refunded.push(Self::cents(h));
        }
    }

    pub(super) fn answer(&mut self, c: &Command) -> Answer {
        if self.unplugged {
            return None;
        }
        match (c.code(), c.data()) {
            (0x10, _) => {
                self.just_reset = true;
                self.enabled = false;
                self.session = None;
                // A reset ends an approved vend unconfirmed: the card is not charged.
                self.release();
                self.activity.clear();
                ack()
            }
            (0x11, [0x00, ..]) => data(vec![0x01, 0x02, 0x19, 0x78, SCALE, 0x02, 10, 0x09]),
            (0x11, [0x01, ..]) => ack(),
            (0x12, _) => self.poll(),
            (0x13, [0x00, p0, p1, ..]) => {
                let price = u16::from_be_bytes([*p0, *p1]);
                let funds = self.session.unwrap_or(0);
                if self.session.is_none() || self.deny_next || price > funds {
                    self.deny_next = false;
                    self.activity.push_back(vec![0x06]);
                } else {
                    self.hold = Some(price);
                    let [a, b] = price.to_be_bytes();
                    self.activity.push_back(vec![0x05, a, b]);
                }
                ack()
            }
            (0x13, [0x01, ..]) => {
                self.release();
                self.activity.push_back(vec![0x06]);
                ack()
            }
            (0x13, [0x02, ..]) => {
                if let Some(h) = self.hold.take() {
                    self.charged.push(Self::cents(h));
                    if let Some(f) = self.session.as_mut() {
                        *f = f.saturating_sub(h);
                    }
                }
                ack()
            }
            (0x13, [0x03, ..]) => {
                self.release();
                ack()
            }
            (0x13, [0x04, ..]) => {
                self.release();
                self.session = None;
                self.activity.push_back(vec![0x07]);
                ack()
            }
            (0x13, [0x05, p0, p1, i0, i1, ..]) => {
                let price = u16::from_be_bytes([*p0, *p1]);
                self.cash_sales
                    .push((Self::cents(price), u16::from_be_bytes([*i0, *i1])));
                ack()
            }
            (0x14, [0x00, ..]) => {
                self.enabled = false;
                ack()
            }
            (0x14, [0x01, ..]) => {
                self.enabled = true;
                ack()
            }
            (0x14, [0x02, ..]) => {
                // READER CANCEL: the reader answers CANCELLED.
                self.activity.push_back(vec![0x08]);
                ack()
            }
            (0x17, [0x00, ..]) => {
                let mut d = vec![0x09];
                d.extend(identity(b"HMS", "SIMCARD", &[]));
                data(d)
            }
            _ => Some(Reply::Nak),
        }
    }

    fn poll(&mut self) -> Answer {
        poll_answer(&mut self.just_reset, 0x00, &mut self.activity)
    }
}

impl SimDevice for SimCard {
    fn unplugged(&mut self) -> &mut bool {
        &mut self.unplugged
    }

    fn is_unplugged(&self) -> bool {
        self.unplugged
    }

    fn power_up(&mut self) {
        self.just_reset = true;
        self.enabled = false;
        self.session = None;
        self.release();
        self.activity.clear();
    }
}

impl Default for SimCard {
    fn default() -> Self {
        SimCard::new()
    }
}
