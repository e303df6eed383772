//! `[[secrets]]`: button sequences (the columns' selection buttons), their time, their answer
//! (a catalogue surprise or a message) and their daily count.

use std::time::Duration;

use super::super::raw::RawSecret;
use super::{messages, Checker};
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
        for (j, &n) in rs.sequence.iter().enumerate() {
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
        // One sequence ending with another would never be reached, or reached by the other.
        if let Some(other) = out
            .iter()
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
        let within_ms = c.count(&format!("{path}.within_ms"), rs.within_ms, 500, 30_000);
        let max_per_day = c.count(&format!("{path}.max_per_day"), rs.max_per_day, 1, 1_000);
        let answer = match (&rs.surprise, &rs.message) {
            (Some(wanted), None) => {
                match catalogue
                    .iter()
                    .position(|s| s.name.eq_ignore_ascii_case(wanted.trim()))
                {
                    Some(i) => Some(SecretAnswer::Surprise(i)),
                    None => {
                        c.issue(
                            format!("{path}.surprise"),
                            format!(
                                "no surprise is called \"{}\"",
                                wanted.chars().take(60).collect::<String>()
                            ),
                        );
                        None
                    }
                }
            }
            (None, Some(text))
                if !text.trim().is_empty()
                    && text.trim().chars().count() <= 120
                    && !text.contains('\n') =>
            {
                Some(SecretAnswer::Message {
                    text: text.trim().to_string(),
                    translations: messages(c, &path, &rs.messages),
                })
            }
            (None, Some(_)) => {
                c.issue(
                    format!("{path}.message"),
                    "must be one line of 1 to 120 characters",
                );
                None
            }
            _ => {
                c.issue(
                    format!("{path}.surprise"),
                    "give exactly one of `surprise = \"name\"` or `message = \"words\"`",
                );
                None
            }
        };
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
