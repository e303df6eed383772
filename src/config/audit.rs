//! `[audit]` in `machine.toml`: how the machine names itself in its EVA-DTS audit file (the
//! "DEX file" route drivers and telemetry read): manufacturer code, serial, model, asset number,
//! location and the ISO currency. Plain data and its checks; the file itself is the audit
//! module's.

use serde::{Deserialize, Serialize};

/// Longest serial, model or asset number (the audit file's identification fields).
pub const MAX_ID_FIELD: usize = 20;
/// Longest location.
pub const MAX_LOCATION: usize = 30;

/// A currency as the audit file states it (`ID4`): ISO 4217 letters, number and minor digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IsoCurrency {
    /// Alphabetic code, e.g. `EUR`.
    pub alpha: &'static str,
    /// Numeric code, e.g. 978.
    pub numeric: u16,
    /// Digits after the decimal point: amounts are counted in this minor unit.
    pub decimals: u8,
}

/// The currencies the audit file knows (ISO 4217), with the symbols that name them.
const CURRENCIES: &[(IsoCurrency, &[&str])] = &[
    (iso("EUR", 978, 2), &["€", "EUR"]),
    (iso("USD", 840, 2), &["$", "US$", "USD"]),
    (iso("GBP", 826, 2), &["£", "GBP"]),
    (iso("CHF", 756, 2), &["CHF", "Fr.", "Fr"]),
    (iso("JPY", 392, 0), &["¥", "円", "JPY"]),
    (iso("SEK", 752, 2), &["SEK"]),
    (iso("NOK", 578, 2), &["NOK"]),
    (iso("DKK", 208, 2), &["DKK"]),
    (iso("PLN", 985, 2), &["zł", "PLN"]),
    (iso("CAD", 124, 2), &["CA$", "CAD"]),
    (iso("AUD", 36, 2), &["A$", "AUD"]),
];

const fn iso(alpha: &'static str, numeric: u16, decimals: u8) -> IsoCurrency {
    IsoCurrency {
        alpha,
        numeric,
        decimals,
    }
}

impl IsoCurrency {
    /// The currency with ISO code `code` (any case).
    pub fn from_code(code: &str) -> Option<IsoCurrency> {
        CURRENCIES
            .iter()
            .map(|(c, _)| *c)
            .find(|c| c.alpha.eq_ignore_ascii_case(code.trim()))
    }

    /// The currency a display symbol names, when it names only one.
    pub fn from_symbol(symbol: &str) -> Option<IsoCurrency> {
        CURRENCIES
            .iter()
            .find(|(_, symbols)| symbols.contains(&symbol.trim()))
            .map(|(c, _)| *c)
    }

    /// The codes known, for messages.
    fn known() -> String {
        CURRENCIES
            .iter()
            .map(|(c, _)| c.alpha)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The machine's identity in its audit file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditIdentity {
    /// Three-letter manufacturer code (the start of the communication id in `DXS`).
    pub manufacturer: String,
    /// The machine's serial number (`ID101`).
    pub serial: String,
    /// Model (`ID102`).
    pub model: String,
    /// Where it stands (`ID104`).
    pub location: String,
    /// The operator's asset number (`ID106`).
    pub asset: String,
    /// The currency amounts are in (`ID4`), when known (`audit.currency`, or a display symbol
    /// that names one currency).
    pub currency: Option<IsoCurrency>,
}

impl AuditIdentity {
    /// The communication id of `DXS`: the manufacturer code and the last seven letters or
    /// digits of the serial, zero-padded on the left to ten characters.
    pub fn communication_id(&self) -> String {
        let tail: Vec<char> = self
            .serial
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let tail: String = tail[tail.len().saturating_sub(7)..].iter().collect();
        format!("{}{tail:0>7}", self.manufacturer)
    }
}

/// `[audit]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAudit {
    manufacturer: Option<String>,
    serial: Option<String>,
    model: Option<String>,
    location: Option<String>,
    asset: Option<String>,
    currency: Option<String>,
}

/// `[audit]`, checked: the identity, and each problem as (field path, message). `symbol` is
/// `[machine] currency`, which names the ISO currency when `[audit] currency` is not given.
pub(super) fn audit(raw: &RawAudit, symbol: &str) -> (AuditIdentity, Vec<(String, String)>) {
    let mut issues = Vec::new();
    let mut issue = |field: &str, message: String| issues.push((format!("audit.{field}"), message));
    let manufacturer = raw.manufacturer.as_deref().unwrap_or("HMK").trim();
    if manufacturer.len() != 3 || !manufacturer.chars().all(|c| c.is_ascii_uppercase()) {
        issue(
            "manufacturer",
            format!("`{manufacturer}` is not a manufacturer code: three capital letters A-Z"),
        );
    }
    let mut text = |field: &str, value: &Option<String>, default: &str, max: usize| {
        let value = value.as_deref().unwrap_or(default).trim().to_string();
        if let Err(why) = audit_text(&value, max) {
            issue(field, why);
        }
        value
    };
    let serial = text("serial", &raw.serial, "0000001", MAX_ID_FIELD);
    let model = text("model", &raw.model, "HAPPINESS-1", MAX_ID_FIELD);
    let location = text("location", &raw.location, "", MAX_LOCATION);
    let asset = text("asset", &raw.asset, "", MAX_ID_FIELD);
    if serial.is_empty() {
        issue("serial", "must not be empty".into());
    }
    // A symbol that names no one currency is no error (a machine description that was valid
    // before the audit existed stays valid): the audit file then states two decimal places and
    // no currency code, until `audit.currency` says which.
    let currency = match raw.currency.as_deref() {
        Some(code) => IsoCurrency::from_code(code).or_else(|| {
            issues.push((
                "audit.currency".into(),
                format!(
                    "`{code}` is not a currency the audit knows (ISO 4217 code: {})",
                    IsoCurrency::known()
                ),
            ));
            None
        }),
        None => IsoCurrency::from_symbol(symbol),
    };
    let identity = AuditIdentity {
        manufacturer: manufacturer.to_string(),
        serial,
        model,
        location,
        asset,
        currency,
    };
    (identity, issues)
}

/// Whether `c` can stand in a field of the audit file: printable ASCII, not the field
/// separator `*`.
pub fn fits_a_field(c: char) -> bool {
    (' '..='~').contains(&c) && c != '*'
}

/// A text field of the audit file: at most `max` characters, each [`fits_a_field`].
pub fn audit_text(value: &str, max: usize) -> Result<(), String> {
    if value.chars().count() > max {
        return Err(format!("at most {max} characters"));
    }
    match value.chars().find(|c| !fits_a_field(*c)) {
        Some(bad) => Err(format!(
            "`{}` cannot be written in the audit file (plain ASCII letters, digits and \
             punctuation other than `*`)",
            bad.escape_default()
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(toml: &str, symbol: &str) -> (AuditIdentity, Vec<(String, String)>) {
        let raw: RawAudit = toml::from_str(toml).expect("parses");
        audit(&raw, symbol)
    }

    #[test]
    fn defaults_follow_the_display_symbol() {
        let (id, issues) = checked("", "€");
        assert!(issues.is_empty(), "{issues:?}");
        let eur = id.currency.expect("EUR");
        assert_eq!(eur.alpha, "EUR");
        assert_eq!((eur.numeric, eur.decimals), (978, 2));
        assert_eq!(id.communication_id(), "HMK0000001");
        let (id, _) = checked("", "¥");
        let yen = id.currency.expect("JPY");
        assert_eq!((yen.alpha, yen.decimals), ("JPY", 0));
    }

    #[test]
    fn the_communication_id_takes_the_serials_last_seven_letters_or_digits() {
        let (id, issues) = checked(
            "manufacturer = \"ABC\"\nserial = \"hm-2026-000123\"\ncurrency = \"usd\"",
            "?",
        );
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(id.communication_id(), "ABC6000123");
        assert_eq!(id.currency.map(|c| c.alpha), Some("USD"));
        let (id, _) = checked("serial = \"42\"", "€");
        assert_eq!(id.communication_id(), "HMK0000042");
    }

    #[test]
    fn every_bad_field_is_named() {
        let (_, issues) = checked(
            "manufacturer = \"ab\"\nserial = \"a*b\"\nmodel = \"Über\"\n\
             location = \"0123456789012345678901234567890\"\ncurrency = \"XYZ\"",
            "€",
        );
        let fields: Vec<&str> = issues.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "audit.manufacturer",
                "audit.serial",
                "audit.model",
                "audit.location",
                "audit.currency"
            ]
        );
        // A symbol naming no one currency leaves it unstated, and is no error.
        let (id, issues) = checked("", "kr");
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(id.currency, None);
        let (_, issues) = checked("serial = \"  \"", "€");
        assert_eq!(
            issues[0],
            ("audit.serial".into(), "must not be empty".into())
        );
    }
}
