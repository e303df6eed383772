//! The coin changer at address 08h, level 3 (MDB/ICP 4.2, section 5): its commands, its setup
//! and tube status, and what its poll answers say.
//!
//! Coins are of up to 16 types, each worth a number of scaled units (the setup says how many
//! cents a unit is). A poll answer holds up to 16 bytes of activity: coins deposited (to the
//! tubes or the cash box), coins paid out by hand from the route driver's buttons, slugs, and
//! status codes.
//!
//! Owns: the changer's bytes. Must not touch: money held, change decisions (the payment logic
//! reads these and decides).

use super::wire::Command;

/// The changer's address (its command bytes are 08h to 0Fh).
pub const ADDRESS: u8 = 0x08;

/// Why an answer from the changer is not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangerError {
    /// Shorter than its kind needs.
    #[error("{what}: {got} byte(s), at least {need} needed")]
    Short {
        /// The answer.
        what: &'static str,
        /// Bytes there.
        got: usize,
        /// Bytes needed.
        need: usize,
    },
    /// A status code the spec does not give a changer.
    #[error("unknown status {0:#04x} from the changer")]
    Unknown(u8),
}

fn need(what: &'static str, data: &[u8], n: usize) -> Result<(), ChangerError> {
    if data.len() < n {
        Err(ChangerError::Short {
            what,
            got: data.len(),
            need: n,
        })
    } else {
        Ok(())
    }
}

/// What the changer says about itself (the answer to SETUP, 09h).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangerSetup {
    /// Its feature level (2 or 3).
    pub level: u8,
    /// Its currency: the country or currency code as sent (BCD, e.g. 1978 for the euro).
    pub currency: u16,
    /// Every coin value is this many times the smallest unit.
    pub scale: u8,
    /// Decimal places of the values.
    pub decimals: u8,
    /// Which coin types can go to the tubes (bit n: type n).
    pub routable: u16,
    /// Each coin type's value in scaled units (0: not used), type 0 first.
    pub values: Vec<u8>,
}

impl ChangerSetup {
    /// Read a setup answer.
    pub fn parse(data: &[u8]) -> Result<ChangerSetup, ChangerError> {
        need("SETUP", data, 7)?;
        Ok(ChangerSetup {
            level: data[0],
            currency: u16::from_be_bytes([data[1], data[2]]),
            scale: data[3],
            decimals: data[4],
            routable: u16::from_be_bytes([data[5], data[6]]),
            values: data[7..].iter().take(16).copied().collect(),
        })
    }

    /// Coin type `kind`'s value in cents, if it is a coin this changer knows (only for two
    /// decimal places or fewer).
    pub fn value_cents(&self, kind: u8) -> Option<u64> {
        let units = u64::from(*self.values.get(usize::from(kind))?);
        if units == 0 || self.decimals > 2 {
            return None;
        }
        Some(units * u64::from(self.scale) * 10u64.pow(u32::from(2 - self.decimals)))
    }
}

/// The tubes (the answer to TUBE STATUS, 0Ah).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tubes {
    /// Which tubes are full (bit n: type n).
    pub full: u16,
    /// Coins in each tube, type 0 first.
    pub counts: Vec<u8>,
}

impl Tubes {
    /// Read a tube status answer.
    pub fn parse(data: &[u8]) -> Result<Tubes, ChangerError> {
        need("TUBE STATUS", data, 2)?;
        Ok(Tubes {
            full: u16::from_be_bytes([data[0], data[1]]),
            counts: data[2..].iter().take(16).copied().collect(),
        })
    }
}

/// Where a deposited coin went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// To the cash box (not for change).
    CashBox,
    /// To its tube (for change).
    Tube,
    /// Not used by the spec.
    Unused,
    /// Rejected: handed back.
    Rejected,
}

/// The changer's status codes (0000xxxx).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The escrow lever was pressed: the customer wants their money back.
    EscrowRequest,
    /// A payout is under way.
    PayoutBusy,
    /// A coin was validated but did not reach where it was sent.
    NoCredit,
    /// A tube sensor is defective.
    DefectiveTubeSensor,
    /// Two coins came too close together.
    DoubleArrival,
    /// The acceptor is unplugged.
    AcceptorUnplugged,
    /// A tube is jammed.
    TubeJam,
    /// Its program is damaged.
    RomChecksumError,
    /// A coin went the wrong way.
    CoinRoutingError,
    /// Busy: ask again later.
    Busy,
    /// It was reset: set it up again.
    JustReset,
    /// A coin is jammed in the acceptor.
    CoinJam,
    /// A coin may have been taken back out on a string.
    PossibleCreditedCoinRemoval,
}

impl Status {
    fn from_code(code: u8) -> Option<Status> {
        Some(match code {
            0x01 => Status::EscrowRequest,
            0x02 => Status::PayoutBusy,
            0x03 => Status::NoCredit,
            0x04 => Status::DefectiveTubeSensor,
            0x05 => Status::DoubleArrival,
            0x06 => Status::AcceptorUnplugged,
            0x07 => Status::TubeJam,
            0x08 => Status::RomChecksumError,
            0x09 => Status::CoinRoutingError,
            0x0A => Status::Busy,
            0x0B => Status::JustReset,
            0x0C => Status::CoinJam,
            0x0D => Status::PossibleCreditedCoinRemoval,
            _ => return None,
        })
    }

    /// In words, for the operator; `None` for what is not a fault.
    pub fn fault(self) -> Option<&'static str> {
        Some(match self {
            Status::DefectiveTubeSensor => "a tube sensor is defective",
            Status::AcceptorUnplugged => "the coin acceptor is unplugged",
            Status::TubeJam => "a coin tube is jammed",
            Status::RomChecksumError => "the changer's program is damaged",
            Status::CoinRoutingError => "a coin went the wrong way",
            Status::CoinJam => "a coin is jammed in the acceptor",
            Status::PossibleCreditedCoinRemoval => "a coin may have been pulled back out",
            Status::EscrowRequest
            | Status::PayoutBusy
            | Status::NoCredit
            | Status::DoubleArrival
            | Status::Busy
            | Status::JustReset => return None,
        })
    }
}

/// One piece of activity in a poll answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activity {
    /// Coins paid out by hand (the route driver's buttons): `count` of `kind`, `left` in its
    /// tube now.
    Dispensed {
        /// Coin type.
        kind: u8,
        /// How many.
        count: u8,
        /// Left in its tube.
        left: u8,
    },
    /// A coin came in: of `kind`, sent `route`, `left` in its tube now.
    Deposited {
        /// Coin type.
        kind: u8,
        /// Where it went.
        route: Route,
        /// Coins in its tube now.
        left: u8,
    },
    /// Coins not recognised since the last poll.
    Slugs(u8),
    /// A status.
    Status(Status),
}

impl Activity {
    /// Every piece of activity in a poll answer.
    pub fn parse_all(data: &[u8]) -> Result<Vec<Activity>, ChangerError> {
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(&z) = data.get(i) {
            if z & 0x80 != 0 {
                let left = *data.get(i + 1).ok_or(ChangerError::Short {
                    what: "COINS DISPENSED MANUALLY",
                    got: 1,
                    need: 2,
                })?;
                out.push(Activity::Dispensed {
                    kind: z & 0x0F,
                    count: (z >> 4) & 0x07,
                    left,
                });
                i += 2;
            } else if z & 0x40 != 0 {
                let left = *data.get(i + 1).ok_or(ChangerError::Short {
                    what: "COINS DEPOSITED",
                    got: 1,
                    need: 2,
                })?;
                let route = match (z >> 4) & 0x03 {
                    0 => Route::CashBox,
                    1 => Route::Tube,
                    2 => Route::Unused,
                    _ => Route::Rejected,
                };
                out.push(Activity::Deposited {
                    kind: z & 0x0F,
                    route,
                    left,
                });
                i += 2;
            } else if z & 0x20 != 0 {
                out.push(Activity::Slugs(z & 0x1F));
                i += 1;
            } else {
                let status = Status::from_code(z).ok_or(ChangerError::Unknown(z))?;
                out.push(Activity::Status(status));
                i += 1;
            }
        }
        Ok(out)
    }
}

/// Commands to the changer.
pub mod command {
    use super::*;

    /// RESET (08h).
    pub fn reset() -> Command {
        Command::fixed(0x08, &[])
    }

    /// SETUP (09h).
    pub fn setup() -> Command {
        Command::fixed(0x09, &[])
    }

    /// TUBE STATUS (0Ah).
    pub fn tube_status() -> Command {
        Command::fixed(0x0A, &[])
    }

    /// POLL (0Bh).
    pub fn poll() -> Command {
        Command::fixed(0x0B, &[])
    }

    /// COIN TYPE (0Ch): which coin types it accepts and which it may pay out by hand.
    pub fn coin_type(accept: u16, manual: u16) -> Command {
        let [a, b] = accept.to_be_bytes();
        let [c, d] = manual.to_be_bytes();
        Command::fixed(0x0C, &[a, b, c, d])
    }

    /// DISPENSE (0Dh): `count` (up to 15) coins of `kind`.
    pub fn dispense(kind: u8, count: u8) -> Command {
        Command::fixed(0x0D, &[(count.min(15) << 4) | (kind & 0x0F)])
    }

    /// EXPANSION IDENTIFICATION (0Fh 00h).
    pub fn identification() -> Command {
        Command::fixed(0x0F, &[0x00])
    }

    /// EXPANSION FEATURE ENABLE (0Fh 01h).
    pub fn feature_enable(features: u32) -> Command {
        let [a, b, c, d] = features.to_be_bytes();
        Command::fixed(0x0F, &[0x01, a, b, c, d])
    }

    /// EXPANSION PAYOUT (0Fh 02h), level 3: pay this many scaled units in change, the changer
    /// choosing the coins.
    pub fn payout(units: u8) -> Command {
        Command::fixed(0x0F, &[0x02, units])
    }

    /// EXPANSION PAYOUT STATUS (0Fh 03h): the coins of each type the last payout paid.
    pub fn payout_status() -> Command {
        Command::fixed(0x0F, &[0x03])
    }

    /// EXPANSION PAYOUT VALUE POLL (0Fh 04h): scaled units paid so far.
    pub fn payout_value_poll() -> Command {
        Command::fixed(0x0F, &[0x04])
    }
}

#[cfg(test)]
mod tests;
