//! The industry's audit data (EVA-DTS, the "DEX file"): the envelope's integrity check.
//!
//! Owns the CRC-16 that the `G85` segment carries. It must not read the books, the clock or a
//! file: it turns bytes into a check value, and will turn counters into segments.

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
