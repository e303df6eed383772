//! Text an operator writes that customers and reports show: one line of plain text, no control
//! or direction-changing characters (a right-to-left override can make "Cola 1.50" read as
//! something else on the display, a receipt or the audit file), and a bounded length.

/// Why `text` cannot be shown as one line, if it cannot.
pub fn one_line_problem(text: &str, max: usize) -> Option<String> {
    if text.chars().count() > max {
        return Some(format!("must be at most {max} characters"));
    }
    let bad = text.chars().find(|&c| {
        c.is_control()
            || matches!(c,
                // Direction marks, embeddings, overrides and isolates.
                '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
                // Line and paragraph separators, zero-width and invisible format characters.
                | '\u{2028}' | '\u{2029}' | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}')
    })?;
    Some(format!(
        "must be one line of plain text: U+{:04X} (a line break, control or text-direction \
         character) is not allowed",
        u32::from(bad)
    ))
}

/// Placeholders a message may hold, and the `{name}`s in `text` that are none of them.
pub fn unknown_placeholders<'a>(text: &'a str, known: &[&str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let name = &after[..close];
        if !known.contains(&name) {
            out.push(name);
        }
        rest = &after[close + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_pass_and_tricks_do_not() {
        assert_eq!(one_line_problem("Cola 1,50 € – 夏", 40), None);
        for bad in [
            "Cola\nFree",
            "Cola\u{202E}05.1",
            "Cola\u{2028}x",
            "Co\u{0}la",
            "Cola\u{200B}",
            "\u{2067}Cola",
        ] {
            assert!(one_line_problem(bad, 40).is_some(), "{bad:?}");
        }
        assert!(one_line_problem(&"x".repeat(41), 40).is_some());
    }

    #[test]
    fn unknown_placeholders_are_named() {
        let known = ["product", "count"];
        assert!(unknown_placeholders("Enjoy {count} {product}!", &known).is_empty());
        assert_eq!(
            unknown_placeholders("Ein {produkt} und {count}", &known),
            vec!["produkt"]
        );
    }
}
