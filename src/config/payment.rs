//! `[payment]` in `machine.toml`: which devices take the customers' money. Coins come from the
//! pulse acceptor on GPIO (with the hopper for change) or from an MDB coin changer (which pays
//! change from its tubes); bills and cards only over MDB. Plain data and its checks; the bus
//! itself is the payments module's.

use serde::{Deserialize, Serialize};

use crate::model::PaymentMode;

/// Where coins come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CoinDevice {
    /// The pulse acceptor on GPIO (`[coin_acceptor]`), with the hopper (`[payout]`).
    #[default]
    Pulse,
    /// An MDB coin changer: coins in, change from its tubes.
    Mdb,
}

/// The payment devices, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentDevices {
    /// Where coins come from.
    pub coins: CoinDevice,
    /// An MDB bill validator is fitted.
    pub bills: bool,
    /// An MDB cashless (card) reader is fitted.
    pub cashless: bool,
    /// The MDB bus's port as written (`sim`, `uart:/dev/serial0`, `tcp:HOST:PORT`,
    /// `unix:PATH`); checked to name one.
    pub port: String,
}

impl Default for PaymentDevices {
    fn default() -> Self {
        PaymentDevices {
            coins: CoinDevice::Pulse,
            bills: false,
            cashless: false,
            port: "sim".into(),
        }
    }
}

impl PaymentDevices {
    /// Whether any device is on the MDB bus.
    pub fn uses_mdb(&self) -> bool {
        self.coins == CoinDevice::Mdb || self.bills || self.cashless
    }
}

/// `[payment]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPayment {
    coins: Option<String>,
    bills: Option<String>,
    cashless: Option<String>,
    port: Option<String>,
}

impl RawPayment {
    /// Whether the file says coins come from the MDB changer (for the checks of
    /// `[coin_acceptor]` and `[payout]`).
    pub(super) fn mdb_coins(&self) -> bool {
        self.coins.as_deref().map(str::trim) == Some("mdb")
    }
}

/// `[payment]`, checked against the rest of the file: the devices, and each problem as (field
/// path, message). `mode` is `machine.payment`; `acceptor` and `hopper` say whether
/// `[coin_acceptor]` and `[payout]` are there.
pub(super) fn payment(
    raw: &RawPayment,
    mode: PaymentMode,
    acceptor: bool,
    hopper: bool,
) -> (PaymentDevices, Vec<(String, String)>) {
    let mut issues = Vec::new();
    let mut issue = |field: &str, message: String| {
        issues.push((format!("payment.{field}"), message));
    };
    let mut choice = |field: &str, value: &Option<String>, choices: &[&str]| -> bool {
        let Some(value) = value.as_deref().map(str::trim) else {
            return false;
        };
        match choices.iter().position(|c| *c == value) {
            Some(i) => i > 0,
            None => {
                issue(
                    field,
                    format!(
                        "`{}` is not one of {}",
                        value.chars().take(40).collect::<String>(),
                        choices
                            .iter()
                            .map(|c| format!("\"{c}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                false
            }
        }
    };
    let coins = if choice("coins", &raw.coins, &["pulse", "mdb"]) {
        CoinDevice::Mdb
    } else {
        CoinDevice::Pulse
    };
    let bills = choice("bills", &raw.bills, &["none", "mdb"]);
    let cashless = choice("cashless", &raw.cashless, &["none", "mdb"]);
    let port = raw.port.as_deref().unwrap_or("sim").trim().to_string();
    if let Err(e) = port.parse::<crate::payments::PortName>() {
        issue("port", e.to_string());
    }
    let devices = PaymentDevices {
        coins,
        bills,
        cashless,
        port,
    };
    if coins == CoinDevice::Mdb && acceptor {
        issue(
            "coins",
            "is \"mdb\": the changer takes the coins, so remove [coin_acceptor] (one coin \
             mechanism at a time)"
                .into(),
        );
    }
    if coins == CoinDevice::Mdb && hopper {
        issue(
            "coins",
            "is \"mdb\": the changer pays change from its tubes, so remove [payout]".into(),
        );
    }
    if mode == PaymentMode::Free && devices.uses_mdb() {
        issues.push((
            "payment".into(),
            "names MDB devices, but machine.payment = \"free\" takes no money: set \
             machine.payment = \"coin\" or remove them"
                .into(),
        ));
    }
    (devices, issues)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(toml: &str, acceptor: bool, hopper: bool) -> (PaymentDevices, Vec<String>) {
        let raw: RawPayment = toml::from_str(toml).expect("parses");
        let (d, issues) = payment(&raw, PaymentMode::Coin, acceptor, hopper);
        (
            d,
            issues
                .into_iter()
                .map(|(p, m)| format!("{p}: {m}"))
                .collect(),
        )
    }

    #[test]
    fn nothing_written_is_the_pulse_acceptor_alone() {
        let (d, issues) = checked("", true, false);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(d, PaymentDevices::default());
        assert!(!d.uses_mdb());
    }

    #[test]
    fn every_mdb_device_on_one_port() {
        let (d, issues) = checked(
            "coins = \"mdb\"\nbills = \"mdb\"\ncashless = \"mdb\"\nport = \"uart:/dev/serial0\"",
            false,
            false,
        );
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(
            (d.coins, d.bills, d.cashless, d.port.as_str()),
            (CoinDevice::Mdb, true, true, "uart:/dev/serial0")
        );
        assert!(d.uses_mdb());
    }

    #[test]
    fn each_bad_value_names_its_field() {
        let (_, issues) = checked(
            "coins = \"mbd\"\nbills = \"yes\"\ncashless = \"nfc\"\nport = \"com1\"",
            true,
            false,
        );
        assert_eq!(issues.len(), 4, "{issues:?}");
        assert!(issues[0].starts_with("payment.coins: `mbd` is not one of \"pulse\", \"mdb\""));
        assert!(issues[1].starts_with("payment.bills:"));
        assert!(issues[2].starts_with("payment.cashless:"));
        assert!(issues[3].starts_with("payment.port: `com1` names no MDB port"));
    }

    #[test]
    fn one_coin_mechanism_at_a_time() {
        let (_, issues) = checked("coins = \"mdb\"", true, true);
        assert_eq!(issues.len(), 2, "{issues:?}");
        assert!(issues[0].contains("remove [coin_acceptor]"));
        assert!(issues[1].contains("remove [payout]"));
    }

    #[test]
    fn a_free_machine_takes_no_money() {
        let raw: RawPayment = toml::from_str("cashless = \"mdb\"").expect("parses");
        let (_, issues) = payment(&raw, PaymentMode::Free, false, false);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].0, "payment");
    }
}
