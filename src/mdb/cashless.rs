//! The cashless reader, device #1 at address 10h (MDB/ICP 4.2, section 7): its commands, and what
//! its answers say.
//!
//! A poll answer may hold several messages one after another (JUST RESET, then READER CONFIG
//! DATA, say); how long each is depends on the message and on the reader's feature level, which
//! its setup answer tells. Amounts are in the reader's scaled units, most significant byte first.
//!
//! Owns: the reader's bytes. Must not touch: the bus's timing, sessions and money (the session
//! logic reads these messages).

use super::wire::Command;

/// The reader's address (its command bytes are 10h to 17h).
pub const ADDRESS: u8 = 0x10;

/// The VMC's feature level this controller speaks to readers.
pub const VMC_LEVEL: u8 = 0x02;

/// Why an answer from the reader is not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CashlessError {
    /// The message is shorter than its kind needs.
    #[error("{what}: {got} byte(s), at least {need} needed")]
    Short {
        /// The message.
        what: &'static str,
        /// Bytes there.
        got: usize,
        /// Bytes needed.
        need: usize,
    },
    /// A message code the spec does not give a reader.
    #[error("unknown message {0:#04x} from the reader")]
    Unknown(u8),
}

/// What the reader says about itself at setup (READER CONFIG DATA, 01h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderConfig {
    /// Its feature level (1 to 3).
    pub level: u8,
    /// Its currency: the country or currency code as sent (BCD, e.g. 1978 for the euro).
    pub currency: u16,
    /// Amounts on the bus are this many times the smallest unit.
    pub scale: u8,
    /// Decimal places of the amounts.
    pub decimals: u8,
    /// The longest it may take to answer, in seconds (its non-response time).
    pub max_response_s: u8,
    /// Option bits: refunds, multivend, has a display, cash sale.
    pub options: u8,
}

impl ReaderConfig {
    /// Whether it can be told of sales paid with cash (option bit 3).
    pub fn takes_cash_sales(self) -> bool {
        self.options & 0x08 != 0
    }

    /// Whether it refunds a vend that failed (option bit 0).
    pub fn refunds(self) -> bool {
        self.options & 0x01 != 0
    }
}

/// One message in a poll answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The reader has been reset (power, a bus reset, its own fault): set it up again.
    JustReset,
    /// Its configuration (the answer to SETUP CONFIG DATA, or sent unasked).
    Config(ReaderConfig),
    /// Something to show on the VMC's display for this long (tenths of a second).
    Display {
        /// Tenths of a second.
        tenths: u8,
        /// The text, as sent.
        text: Vec<u8>,
    },
    /// A customer's card or phone is there, with this much to spend (scaled; `None`: unknown,
    /// FFFFh).
    BeginSession {
        /// Funds available.
        funds: Option<u32>,
        /// The payment media's id (level 2 and up).
        media_id: Option<u32>,
    },
    /// The reader wants the session ended (the card was taken away, a timeout).
    SessionCancelRequest,
    /// The vend asked for is paid: this much (scaled) will be charged.
    VendApproved {
        /// The amount.
        amount: u32,
    },
    /// The vend asked for is refused.
    VendDenied,
    /// The session is over.
    EndSession,
    /// A READER CANCEL is done.
    Cancelled,
    /// Who the reader is (the answer to EXPANSION REQUEST ID).
    PeripheralId {
        /// Three letters.
        manufacturer: String,
        /// Its serial number.
        serial: String,
        /// Its model.
        model: String,
        /// Its software version (BCD).
        version: u16,
    },
    /// The reader has a fault (the code as the spec lists it).
    Malfunction {
        /// The error code.
        code: u8,
    },
    /// It got a command it did not expect now.
    OutOfSequence,
    /// A revalue (money put back on a card) was done.
    RevalueApproved,
    /// A revalue was refused.
    RevalueDenied,
    /// The most a card can be revalued by.
    RevalueLimit {
        /// Scaled amount.
        amount: u32,
    },
    /// It asks for the date and time.
    TimeDateRequest,
}

impl Message {
    /// Every message in a poll answer from a reader at `level`.
    pub fn parse_all(data: &[u8], level: u8) -> Result<Vec<Message>, CashlessError> {
        let mut out = Vec::new();
        let mut rest = data;
        while !rest.is_empty() {
            let (message, used) = Message::parse_one(rest, level)?;
            out.push(message);
            // Every message uses at least its code byte.
            rest = rest.get(used.max(1)..).unwrap_or_default();
        }
        Ok(out)
    }

    /// The first message of `data` and the bytes it used.
    fn parse_one(data: &[u8], level: u8) -> Result<(Message, usize), CashlessError> {
        let need = |what: &'static str, n: usize| -> Result<(), CashlessError> {
            if data.len() < n {
                Err(CashlessError::Short {
                    what,
                    got: data.len(),
                    need: n,
                })
            } else {
                Ok(())
            }
        };
        let code = data.first().copied().unwrap_or_default();
        let u16_at = |i: usize| u16::from_be_bytes([data[i], data[i + 1]]);
        Ok(match code {
            0x00 => (Message::JustReset, 1),
            0x01 => {
                need("READER CONFIG DATA", 8)?;
                (
                    Message::Config(ReaderConfig {
                        level: data[1],
                        currency: u16_at(2),
                        scale: data[4],
                        decimals: data[5],
                        max_response_s: data[6],
                        options: data[7],
                    }),
                    8,
                )
            }
            0x02 => {
                need("DISPLAY REQUEST", 2)?;
                // The text runs to the end of the answer (its length is the display's size,
                // which the VMC gave at setup; a poll answer holds nothing after it).
                (
                    Message::Display {
                        tenths: data[1],
                        text: data[2..].to_vec(),
                    },
                    data.len(),
                )
            }
            0x03 => {
                need("BEGIN SESSION", 3)?;
                let funds = match u16_at(1) {
                    0xFFFF => None,
                    n => Some(u32::from(n)),
                };
                // Level 2 and up add the payment media id, type and data (10 bytes in all).
                if level >= 2 && data.len() >= 10 {
                    let id = u32::from_be_bytes([data[3], data[4], data[5], data[6]]);
                    (
                        Message::BeginSession {
                            funds,
                            media_id: Some(id),
                        },
                        10,
                    )
                } else {
                    (
                        Message::BeginSession {
                            funds,
                            media_id: None,
                        },
                        3,
                    )
                }
            }
            0x04 => (Message::SessionCancelRequest, 1),
            0x05 => {
                need("VEND APPROVED", 3)?;
                (
                    Message::VendApproved {
                        amount: u32::from(u16_at(1)),
                    },
                    3,
                )
            }
            0x06 => (Message::VendDenied, 1),
            0x07 => (Message::EndSession, 1),
            0x08 => (Message::Cancelled, 1),
            0x09 => {
                need("PERIPHERAL ID", 30)?;
                let text = |r: std::ops::Range<usize>| {
                    String::from_utf8_lossy(&data[r])
                        .trim_end_matches([' ', '\0'])
                        .to_string()
                };
                // Level 3 readers add four bytes of optional feature bits.
                let used = if level >= 3 && data.len() >= 34 {
                    34
                } else {
                    30
                };
                (
                    Message::PeripheralId {
                        manufacturer: text(1..4),
                        serial: text(4..16),
                        model: text(16..28),
                        version: u16_at(28),
                    },
                    used,
                )
            }
            0x0A => {
                need("MALFUNCTION/ERROR", 2)?;
                (Message::Malfunction { code: data[1] }, 2)
            }
            // Level 2 and up say which state they are in after the code.
            0x0B if level >= 2 && data.len() >= 2 => (Message::OutOfSequence, 2),
            0x0B => (Message::OutOfSequence, 1),
            0x0D => (Message::RevalueApproved, 1),
            0x0E => (Message::RevalueDenied, 1),
            0x0F => {
                need("REVALUE LIMIT AMOUNT", 3)?;
                (
                    Message::RevalueLimit {
                        amount: u32::from(u16_at(1)),
                    },
                    3,
                )
            }
            0x11 => (Message::TimeDateRequest, 1),
            other => return Err(CashlessError::Unknown(other)),
        })
    }
}

/// The malfunction codes' meaning, for the operator (upper nibble of the code).
pub fn malfunction_text(code: u8) -> &'static str {
    match code >> 4 {
        0x0 => "payment media error",
        0x1 => "invalid payment media",
        0x2 => "tamper error",
        0x3 => "manufacturer defined error",
        0x4 => "communications error",
        0x5 => "reader requires service",
        0x7 => "reader failure",
        0x8 => "communications error (revalue)",
        0x9 => "payment media jammed",
        0xA => "manufacturer defined error (refund)",
        0xC => "refund error: the reader could not refund",
        _ => "reader error",
    }
}

/// Commands to the reader.
pub mod command {
    use super::*;

    fn cmd(code: u8, data: &[u8]) -> Command {
        Command::fixed(code, data)
    }

    /// RESET (10h).
    pub fn reset() -> Command {
        cmd(0x10, &[])
    }

    /// SETUP CONFIG DATA (11h 00h): the VMC's level and its display (columns, rows, type).
    pub fn setup_config(columns: u8, rows: u8) -> Command {
        cmd(0x11, &[0x00, VMC_LEVEL, columns, rows, 0x01])
    }

    /// SETUP MAX/MIN PRICES (11h 01h), scaled.
    pub fn setup_prices(max: u16, min: u16) -> Command {
        let [a, b] = max.to_be_bytes();
        let [c, d] = min.to_be_bytes();
        cmd(0x11, &[0x01, a, b, c, d])
    }

    /// POLL (12h).
    pub fn poll() -> Command {
        cmd(0x12, &[])
    }

    /// VEND REQUEST (13h 00h): this price (scaled) for this item.
    pub fn vend_request(price: u16, item: u16) -> Command {
        let [a, b] = price.to_be_bytes();
        let [c, d] = item.to_be_bytes();
        cmd(0x13, &[0x00, a, b, c, d])
    }

    /// VEND CANCEL (13h 01h): the vend asked for is not wanted after all.
    pub fn vend_cancel() -> Command {
        cmd(0x13, &[0x01])
    }

    /// VEND SUCCESS (13h 02h): the item dropped.
    pub fn vend_success(item: u16) -> Command {
        let [a, b] = item.to_be_bytes();
        cmd(0x13, &[0x02, a, b])
    }

    /// VEND FAILURE (13h 03h): the item did not drop; the reader refunds the card.
    pub fn vend_failure() -> Command {
        cmd(0x13, &[0x03])
    }

    /// SESSION COMPLETE (13h 04h).
    pub fn session_complete() -> Command {
        cmd(0x13, &[0x04])
    }

    /// CASH SALE (13h 05h): an item paid with cash, for the reader's audit.
    pub fn cash_sale(price: u16, item: u16) -> Command {
        let [a, b] = price.to_be_bytes();
        let [c, d] = item.to_be_bytes();
        cmd(0x13, &[0x05, a, b, c, d])
    }

    /// READER DISABLE (14h 00h).
    pub fn reader_disable() -> Command {
        cmd(0x14, &[0x00])
    }

    /// READER ENABLE (14h 01h).
    pub fn reader_enable() -> Command {
        cmd(0x14, &[0x01])
    }

    /// READER CANCEL (14h 02h).
    pub fn reader_cancel() -> Command {
        cmd(0x14, &[0x02])
    }

    /// EXPANSION REQUEST ID (17h 00h): the VMC's manufacturer, serial, model and version.
    pub fn request_id() -> Command {
        let mut data = vec![0x00];
        data.extend_from_slice(b"HMK");
        data.extend_from_slice(b"000000000001");
        data.extend_from_slice(b"HAPPINESS-1 ");
        data.extend_from_slice(&[0x01, 0x00]);
        cmd(0x17, &data)
    }
}

#[cfg(test)]
mod tests;
