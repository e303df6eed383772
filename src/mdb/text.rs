//! The socket port's framing: MDB's 9-bit words as lines of text, so that a peripheral
//! simulator written by someone else, or a bridge to a USB MDB adapter, can be attached over a
//! Unix or TCP socket with nothing but a line reader.
//!
//! One word per line: two hexadecimal digits for the byte, then ` mode` when the mode bit is
//! set. Blank lines and lines starting with `#` are ignored; a line ends with `\n` (a `\r`
//! before it is allowed). The VMC's POLL to the cashless reader and a JUST RESET answer read:
//!
//! ```text
//! 12 mode
//! 12
//! # the reader answers
//! 00
//! 00 mode
//! ```
//!
//! Owns: the text form of words. Must not touch: sockets, timing.

use super::wire::Word;

/// Why a line is not a word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Not two hexadecimal digits.
    #[error("`{0}` is not a byte: write two hexadecimal digits, e.g. `0b`")]
    NotAByte(String),
    /// Something after the byte other than `mode`.
    #[error("`{0}` after the byte: only `mode` may follow it")]
    Trailing(String),
    /// A line longer than any word's.
    #[error("a line of {0} characters: a word's line is at most 16")]
    TooLong(usize),
}

/// A word as its line (without the newline).
pub fn line(word: Word) -> String {
    if word.mode {
        format!("{:02x} mode", word.byte)
    } else {
        format!("{:02x}", word.byte)
    }
}

/// The word a line holds; `None` for a blank line or a comment.
pub fn word(line: &str) -> Result<Option<Word>, TextError> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.len() > 16 {
        return Err(TextError::TooLong(line.len()));
    }
    let text = line.trim();
    if text.is_empty() || text.starts_with('#') {
        return Ok(None);
    }
    let mut parts = text.split_whitespace();
    let byte = parts.next().unwrap_or_default();
    if byte.len() != 2 || !byte.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(TextError::NotAByte(byte.chars().take(16).collect()));
    }
    let byte = u8::from_str_radix(byte, 16).map_err(|_| TextError::NotAByte(byte.into()))?;
    let mode = match parts.next() {
        None => false,
        Some(m) if m.eq_ignore_ascii_case("mode") => true,
        Some(other) => return Err(TextError::Trailing(other.chars().take(16).collect())),
    };
    if let Some(more) = parts.next() {
        return Err(TextError::Trailing(more.chars().take(16).collect()));
    }
    Ok(Some(Word { byte, mode }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lines_and_back() {
        assert_eq!(line(Word::marked(0x12)), "12 mode");
        assert_eq!(line(Word::data(0x0b)), "0b");
        assert_eq!(word("12 mode"), Ok(Some(Word::marked(0x12))));
        assert_eq!(word("AA\r"), Ok(Some(Word::data(0xAA))));
        assert_eq!(word("  ff MODE "), Ok(Some(Word::marked(0xFF))));
        assert_eq!(word("# a comment"), Ok(None));
        assert_eq!(word(""), Ok(None));
        assert!(matches!(word("123"), Err(TextError::NotAByte(_))));
        assert!(matches!(word("zz"), Err(TextError::NotAByte(_))));
        assert!(matches!(word("12 data"), Err(TextError::Trailing(_))));
        assert!(matches!(word("12 mode x"), Err(TextError::Trailing(_))));
        assert!(matches!(
            word(&"1".repeat(100)),
            Err(TextError::TooLong(100))
        ));
    }

    proptest::proptest! {
        #[test]
        fn every_word_reads_back(byte in proptest::num::u8::ANY, mode in proptest::bool::ANY) {
            let w = Word { byte, mode };
            proptest::prop_assert_eq!(word(&line(w)), Ok(Some(w)));
        }

        #[test]
        fn any_line_is_a_word_nothing_or_an_error(text in "\\PC{0,40}") {
            let _ = word(&text);
        }
    }
}
