//! The industry's audit data (EVA-DTS 6.1, the "DEX file"): the counters it reports, the
//! segments that carry them and the envelope's integrity check.
//!
//! Owns the file's grammar: which segment says what, lifetime and interim ("since the last
//! reset") counters, wrapping at the fields' digits, the `G85` CRC and the `SE` count. It must
//! not read the books, the clock or a file: the journal counts ([`Counters`]), this module
//! writes; so the same numbers always make the same bytes.

mod file;

pub use file::{write_file, AuditColumn, AuditEvent, AuditFile, AuditReads, SelectionStatus};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Counts and values wrap past eight digits, as the standard's `N0 8` fields do.
pub const WRAP: u64 = 100_000_000;

/// A number of vends and what they were worth, in the currency's minor unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// How many.
    pub count: u64,
    /// Worth, in minor units (cents).
    pub value: u64,
}

impl Tally {
    /// One more vend worth `value`.
    pub fn add(&mut self, value: u64) {
        self.count = self.count.saturating_add(1);
        self.value = self.value.saturating_add(value);
    }

    /// What was counted after `earlier` (never below zero: a damaged earlier read counts as 0).
    fn since(self, earlier: Tally) -> Tally {
        Tally {
            count: self.count.saturating_sub(earlier.count),
            value: self.value.saturating_sub(earlier.value),
        }
    }
}

/// One column's vends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnCounters {
    /// Paid vends delivered (`PA2`).
    pub paid: Tally,
    /// Service test vends delivered (`PA3`).
    pub test: Tally,
    /// Free vends delivered: surprises, failures made right, free-vend mode (`PA4`).
    pub free: Tally,
}

/// The machine's counters since its books began: stored with every read, so that "since the
/// last reset" is now minus the counters stored with the last read with reset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Paid vends delivered (`VA1`; all payment is cash, so `CA2` too).
    pub paid: Tally,
    /// Service test vends delivered (`VA2`).
    pub test: Tally,
    /// Free vends delivered (`VA3`).
    pub free: Tally,
    /// Coins inserted, all to the cash box (`CA3`).
    pub cash_in: u64,
    /// Coins the payout hopper paid back (`CA4`).
    pub cash_out: u64,
    /// Per column number.
    #[serde(default)]
    pub columns: BTreeMap<u32, ColumnCounters>,
    /// Per event id (`EA2`): how often it happened.
    #[serde(default)]
    pub events: BTreeMap<String, u64>,
}

impl Counters {
    /// What was counted after `earlier`: the interim counters when `earlier` is the last reset.
    pub fn since(&self, earlier: &Counters) -> Counters {
        let none = ColumnCounters::default();
        Counters {
            paid: self.paid.since(earlier.paid),
            test: self.test.since(earlier.test),
            free: self.free.since(earlier.free),
            cash_in: self.cash_in.saturating_sub(earlier.cash_in),
            cash_out: self.cash_out.saturating_sub(earlier.cash_out),
            columns: self
                .columns
                .iter()
                .map(|(n, c)| {
                    let e = earlier.columns.get(n).unwrap_or(&none);
                    let c = ColumnCounters {
                        paid: c.paid.since(e.paid),
                        test: c.test.since(e.test),
                        free: c.free.since(e.free),
                    };
                    (*n, c)
                })
                .collect(),
            events: self
                .events
                .iter()
                .map(|(id, n)| {
                    let e = earlier.events.get(id).copied().unwrap_or(0);
                    (id.clone(), n.saturating_sub(e))
                })
                .collect(),
        }
    }
}

/// Longest reader name (`EA304`).
pub const MAX_READER: usize = 30;

/// Check who reads the audit data: 1 to 30 of plain ASCII letters, digits and punctuation other
/// than the field separator `*` (the name is recorded and written in `EA3`).
pub fn check_reader(reader: &str) -> Result<(), String> {
    if reader.trim().is_empty() {
        return Err(format!("a reader's name is 1 to {MAX_READER} characters"));
    }
    crate::config::audit_text(reader, MAX_READER)
}

/// The reader's name for a read over the API from `peer`: `api from ADDRESS`, shortened to fit
/// `EA304` where it can (an IPv4 address mapped into IPv6 is written as IPv4). A long IPv6
/// address is recorded whole in the books; the file carries its first 30 characters.
pub fn api_reader(peer: std::net::IpAddr) -> String {
    let ip = peer.to_canonical();
    let long = format!("api from {ip}");
    if long.len() <= MAX_READER {
        return long;
    }
    let short = format!("api {ip}");
    if short.len() <= MAX_READER {
        short
    } else {
        ip.to_string()
    }
}

/// Check a reader's name that the program made itself (the API's `api from ADDRESS`): any
/// length, since the books keep it whole, but only text a field can carry.
pub fn check_own_reader(reader: &str) -> Result<(), String> {
    if reader.trim().is_empty() {
        return Err("a reader's name cannot be empty".into());
    }
    crate::config::audit_text(reader, usize::MAX)
}

/// CRC-16/ARC, as EVA-DTS's `G85` asks: polynomial 0x8005 reflected (0xA001), initial value 0,
/// no final xor.
pub fn crc16_arc(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in bytes {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// The `G85` value: four uppercase hex digits, most significant byte first.
pub fn g85(bytes: &[u8]) -> String {
    format!("{:04X}", crc16_arc(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_peer_address_makes_a_reader_the_books_take() {
        use std::net::IpAddr;
        for (peer, name) in [
            ("127.0.0.1", "api from 127.0.0.1"),
            ("::ffff:192.168.178.123", "api from 192.168.178.123"),
            ("fe80::1", "api from fe80::1"),
            (
                "2001:db8:1234:5678:9abc:def0:1234:5678",
                "2001:db8:1234:5678:9abc:def0:1234:5678",
            ),
            ("2001:db8:1234::5678:9ab", "api 2001:db8:1234::5678:9ab"),
        ] {
            let ip: IpAddr = peer.parse().expect("address");
            let reader = api_reader(ip);
            assert_eq!(reader, name);
            assert_eq!(check_own_reader(&reader), Ok(()), "{peer}");
        }
        // A name an operator types is still held to what the file carries.
        assert!(check_reader(&"x".repeat(31)).is_err());
    }

    #[test]
    fn a_reader_name_must_fit_the_file() {
        assert!(check_reader("route-7").is_ok());
        for bad in ["", "  ", "a*b", "Zoë", "x\r\nSE*1", &"r".repeat(31)] {
            assert!(check_reader(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn crc16_arc_gives_the_standard_check_value() {
        assert_eq!(crc16_arc(b"123456789"), 0xBB3D);
        assert_eq!(g85(b"123456789"), "BB3D");
        assert_eq!(g85(b""), "0000");
    }

    #[test]
    fn the_check_value_is_written_most_significant_byte_first_with_leading_zeros() {
        // 0x00C0 would lose its zeros or swap its bytes in a careless format.
        let crc = crc16_arc(b"A");
        assert_eq!(g85(b"A"), format!("{:02X}{:02X}", crc >> 8, crc & 0xFF));
        assert_eq!(g85(b"A").len(), 4);
    }
}
