//! The bill validator at address 30h, levels 1 and 2 (MDB/ICP 4.2, section 6): its commands,
//! its setup, its stacker, and what its poll answers say.
//!
//! A bill that is accepted with escrow waits in the escrow position until the VMC says STACK
//! (keep it) or RETURN (hand it back): the controller stacks only a bill it can give credit and
//! change for. A poll answer holds up to 16 bytes: bills and where they went, status codes, and
//! how many bills were tried while the validator was disabled.
//!
//! Owns: the validator's bytes. Must not touch: credit, the choice to stack or return.

use super::wire::Command;

/// The validator's address (its command bytes are 30h to 37h).
pub const ADDRESS: u8 = 0x30;

/// Why an answer from the validator is not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BillError {
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
    /// A status code the spec does not give a validator.
    #[error("unknown status {0:#04x} from the bill validator")]
    Unknown(u8),
}

/// What the validator says about itself (the answer to SETUP, 31h).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillSetup {
    /// Its feature level (1 or 2).
    pub level: u8,
    /// Its currency: the country or currency code as sent (BCD).
    pub currency: u16,
    /// Every bill value is this many times the smallest unit.
    pub scale: u16,
    /// Decimal places of the values.
    pub decimals: u8,
    /// Bills the stacker holds.
    pub stacker_capacity: u16,
    /// Which bill types are checked with high security.
    pub security: u16,
    /// Whether it holds bills in escrow.
    pub escrow: bool,
    /// Each bill type's value in scaled units (0: not used), type 0 first.
    pub values: Vec<u8>,
}

impl BillSetup {
    /// Read a setup answer.
    pub fn parse(data: &[u8]) -> Result<BillSetup, BillError> {
        if data.len() < 11 {
            return Err(BillError::Short {
                what: "SETUP",
                got: data.len(),
                need: 11,
            });
        }
        Ok(BillSetup {
            level: data[0],
            currency: u16::from_be_bytes([data[1], data[2]]),
            scale: u16::from_be_bytes([data[3], data[4]]),
            decimals: data[5],
            stacker_capacity: u16::from_be_bytes([data[6], data[7]]),
            security: u16::from_be_bytes([data[8], data[9]]),
            escrow: data[10] == 0xFF,
            values: data[11..].iter().take(16).copied().collect(),
        })
    }

    /// Bill type `kind`'s value in cents, if it is a bill this validator knows (only for two
    /// decimal places or fewer).
    pub fn value_cents(&self, kind: u8) -> Option<u64> {
        let units = u64::from(*self.values.get(usize::from(kind))?);
        if units == 0 || self.decimals > 2 {
            return None;
        }
        Some(units * u64::from(self.scale) * 10u64.pow(u32::from(2 - self.decimals)))
    }
}

/// The stacker (the answer to STACKER, 36h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stacker {
    /// It is full.
    pub full: bool,
    /// Bills in it.
    pub bills: u16,
}

impl Stacker {
    /// Read a stacker answer.
    pub fn parse(data: &[u8]) -> Result<Stacker, BillError> {
        if data.len() < 2 {
            return Err(BillError::Short {
                what: "STACKER",
                got: data.len(),
                need: 2,
            });
        }
        let n = u16::from_be_bytes([data[0], data[1]]);
        Ok(Stacker {
            full: n & 0x8000 != 0,
            bills: n & 0x7FFF,
        })
    }
}

/// Where a bill went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routing {
    /// Into the stacker: the machine has it.
    Stacked,
    /// Held in escrow, waiting for STACK or RETURN.
    Escrow,
    /// Handed back.
    Returned,
    /// Into the recycler.
    ToRecycler,
    /// A bill type that is disabled was refused.
    DisabledRejected,
    /// Into the recycler by the route driver.
    ManualFill,
    /// Paid out by the route driver.
    ManualDispense,
    /// Moved from the recycler to the cash box.
    RecyclerToCashbox,
}

/// The validator's status codes (0000xxxx).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A motor is defective.
    DefectiveMotor,
    /// A sensor has a problem.
    SensorProblem,
    /// Busy: ask again later.
    Busy,
    /// Its program is damaged.
    RomChecksumError,
    /// A bill is jammed.
    Jammed,
    /// It was reset: set it up again.
    JustReset,
    /// A bill was taken out of escrow by hand (no credit for it).
    BillRemoved,
    /// The cash box is out of position (taken out).
    CashBoxOut,
    /// It is disabled.
    Disabled,
    /// An ESCROW command came with no bill in escrow.
    InvalidEscrowRequest,
    /// A bill was rejected.
    BillRejected,
    /// A bill may have been pulled back out after its credit.
    PossibleCreditedBillRemoval,
}

impl Status {
    fn from_code(code: u8) -> Option<Status> {
        Some(match code {
            0x01 => Status::DefectiveMotor,
            0x02 => Status::SensorProblem,
            0x03 => Status::Busy,
            0x04 => Status::RomChecksumError,
            0x05 => Status::Jammed,
            0x06 => Status::JustReset,
            0x07 => Status::BillRemoved,
            0x08 => Status::CashBoxOut,
            0x09 => Status::Disabled,
            0x0A => Status::InvalidEscrowRequest,
            0x0B => Status::BillRejected,
            0x0C => Status::PossibleCreditedBillRemoval,
            _ => return None,
        })
    }

    /// In words, for the operator; `None` for what is not a fault.
    pub fn fault(self) -> Option<&'static str> {
        Some(match self {
            Status::DefectiveMotor => "a bill validator motor is defective",
            Status::SensorProblem => "a bill validator sensor has a problem",
            Status::RomChecksumError => "the bill validator's program is damaged",
            Status::Jammed => "a bill is jammed in the validator",
            Status::CashBoxOut => "the bill cash box is out of position",
            Status::PossibleCreditedBillRemoval => "a bill may have been pulled back out",
            Status::Busy
            | Status::JustReset
            | Status::BillRemoved
            | Status::Disabled
            | Status::InvalidEscrowRequest
            | Status::BillRejected => return None,
        })
    }
}

/// One piece of activity in a poll answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// A bill of `kind` went `to`.
    Bill {
        /// Bill type.
        kind: u8,
        /// Where it went.
        to: Routing,
    },
    /// A status.
    Status(Status),
    /// Bills tried while it was disabled.
    AttemptsWhileDisabled(u8),
}

impl Activity {
    /// Every piece of activity in a poll answer (one byte each).
    pub fn parse_all(data: &[u8]) -> Result<Vec<Activity>, BillError> {
        data.iter()
            .map(|&z| {
                if z & 0x80 != 0 {
                    let to = match (z >> 4) & 0x07 {
                        0 => Routing::Stacked,
                        1 => Routing::Escrow,
                        2 => Routing::Returned,
                        3 => Routing::ToRecycler,
                        4 => Routing::DisabledRejected,
                        5 => Routing::ManualFill,
                        6 => Routing::ManualDispense,
                        _ => Routing::RecyclerToCashbox,
                    };
                    Ok(Activity::Bill { kind: z & 0x0F, to })
                } else if z & 0xE0 == 0x40 {
                    Ok(Activity::AttemptsWhileDisabled(z & 0x1F))
                } else {
                    Status::from_code(z)
                        .map(Activity::Status)
                        .ok_or(BillError::Unknown(z))
                }
            })
            .collect()
    }
}

/// Commands to the validator.
pub mod command {
    use super::*;

    /// RESET (30h).
    pub fn reset() -> Command {
        Command::fixed(0x30, &[])
    }

    /// SETUP (31h).
    pub fn setup() -> Command {
        Command::fixed(0x31, &[])
    }

    /// SECURITY (32h): bill types checked with high security.
    pub fn security(types: u16) -> Command {
        Command::fixed(0x32, &types.to_be_bytes())
    }

    /// POLL (33h).
    pub fn poll() -> Command {
        Command::fixed(0x33, &[])
    }

    /// BILL TYPE (34h): bill types accepted, and those held in escrow.
    pub fn bill_type(accept: u16, escrow: u16) -> Command {
        let [a, b] = accept.to_be_bytes();
        let [c, d] = escrow.to_be_bytes();
        Command::fixed(0x34, &[a, b, c, d])
    }

    /// ESCROW (35h): keep the bill in escrow (`true`: stack it) or hand it back.
    pub fn escrow(stack: bool) -> Command {
        Command::fixed(0x35, &[u8::from(stack)])
    }

    /// STACKER (36h).
    pub fn stacker() -> Command {
        Command::fixed(0x36, &[])
    }

    /// EXPANSION LEVEL 1 IDENTIFICATION (37h 00h).
    pub fn identification() -> Command {
        Command::fixed(0x37, &[0x00])
    }
}

#[cfg(test)]
mod tests;
