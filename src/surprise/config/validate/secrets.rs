//! `[[secrets]]`: button sequences (the columns' selection buttons), their time, their answer
//! (a catalogue surprise or a message) and their daily count.

use std::time::Duration;

use super::super::raw::RawSecret;
use super::{messages, Checker};
use crate::model::ColumnId;
use crate::surprise::{Secret, SecretAnswer, Surprise, SECRET_LENGTH};

pub(super) fn secrets(
    c: &mut Checker<'_>,
    raw: &[RawSecret],
    catalogue: &[Surprise],
) -> Vec<Secret> {
    let mut out: Vec<Secret> = Vec::new();
    for (k, rs) in raw.iter().enumerate() {
        let path = format!("secrets[{k}]");
        let before = c.issues.len();
        let name = rs.name.trim().to_string();
        if name.is_empty() || name.contains('\n') || name.chars().count() > 60 {
            c.issue(
                format!("{path}.name"),
                "must be one line of 1 to 60 characters",
            );
        }
        let sequence = sequence(c, &path, rs, &out);
        let within_ms = c.count(&format!("{path}.within_ms"), rs.within_ms, 500, 30_000);
        let max_per_day = c.count(&format!("{path}.max_per_day"), rs.max_per_day, 1, 1_000);
        let answer = answer(c, &path, rs, catalogue);
        if let (true, Some(answer)) = (c.issues.len() == before, answer) {
            out.push(Secret {
                name,
                sequence,
                within: Duration::from_millis(within_ms.into()),
                answer,
                max_per_day,
            });
        }
    }
    out
}

/// The buttons, each a column for sale; a sequence that ends like one before it (or that one
/// like it) would never be reached, or always answer for the other.
fn sequence(c: &mut Checker<'_>, path: &str, rs: &RawSecret, before: &[Secret]) -> Vec<ColumnId> {
    if !SECRET_LENGTH.contains(&rs.sequence.len()) {
        c.issue(
            format!("{path}.sequence"),
            format!(
                "{} buttons: a secret has {} to {} (fewer would be found by chance)",
                rs.sequence.len(),
                SECRET_LENGTH.start(),
                SECRET_LENGTH.end()
            ),
        );
    }
    let mut sequence = Vec::new();
    // A sequence far too long is named once, not button by button.
    let checked = if rs.sequence.len() > *SECRET_LENGTH.end() {
        &[][..]
    } else {
        &rs.sequence[..]
    };
    for (j, &n) in checked.iter().enumerate() {
        let field = format!("{path}.sequence[{j}]");
        if let Some(column) = c.column(&field, n) {
            if !c.columns[column.index()].for_sale {
                c.issue(
                    field,
                    format!("column {n} has no selection button (not for sale)"),
                );
            }
            sequence.push(column);
        }
    }
    let comparable = SECRET_LENGTH.contains(&sequence.len());
    if let Some(other) = before
        .iter()
        .filter(|_| comparable)
        .find(|o| o.sequence.ends_with(&sequence) || sequence.ends_with(&o.sequence))
    {
        c.issue(
            format!("{path}.sequence"),
            format!(
                "ends like the sequence of \"{}\": the shorter one would always answer first",
                other.name
            ),
        );
    }
    sequence
}

/// Exactly one of a catalogue surprise (by name) or a one-line message.
fn answer(
    c: &mut Checker<'_>,
    path: &str,
    rs: &RawSecret,
    catalogue: &[Surprise],
) -> Option<SecretAnswer> {
    match (&rs.surprise, &rs.message) {
        (Some(wanted), None) => {
            let found = catalogue
                .iter()
                .position(|s| s.name.eq_ignore_ascii_case(wanted.trim()));
            if found.is_none() {
                c.issue(
                    format!("{path}.surprise"),
                    format!(
                        "no surprise is called \"{}\"",
                        wanted.chars().take(60).collect::<String>()
                    ),
                );
            }
            found.map(SecretAnswer::Surprise)
        }
        (None, Some(text)) => {
            let text = text.trim();
            if text.is_empty() || text.chars().count() > 120 || text.contains('\n') {
                c.issue(
                    format!("{path}.message"),
                    "must be one line of 1 to 120 characters",
                );
                return None;
            }
            Some(SecretAnswer::Message {
                text: text.to_string(),
                translations: messages(c, path, &rs.messages),
            })
        }
        _ => {
            c.issue(
                format!("{path}.surprise"),
                "give exactly one of `surprise = \"name\"` or `message = \"words\"`",
            );
            None
        }
    }
}
