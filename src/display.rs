//! The words on the customer's display: each [`Screen`] the vend core shows, in any shipped
//! language, from the message catalogues.
//!
//! The core decides *what* the display shows as data; this module owns how it reads, so that a
//! translation (or a kiosk page with its own wording) changes nothing in the vend rules. It must
//! not decide anything or hold state.

use crate::i18n::{catalogue, Arg, Language};
use crate::money::Cents;
use crate::vend::{Screen, Tender};

/// The English text for `screen`, with `currency` before amounts (the trace's language).
pub fn text(screen: &Screen, currency: &str) -> String {
    text_in(Language::English, screen, currency)
}

/// The text for `screen` in `lang`, amounts in `currency` as that language writes them.
pub fn text_in(lang: Language, screen: &Screen, currency: &str) -> String {
    let cat = catalogue();
    let m = |c: &Cents| cat.money(lang, *c, currency);
    let t = |id: &str, args: &[(&str, Arg<'_>)]| cat.text(lang, id, args);
    match screen {
        Screen::Welcome { free: true, .. } => t("welcome-free", &[]),
        Screen::Welcome { credit, .. } if *credit == Cents::ZERO => t("welcome", &[]),
        Screen::Welcome { credit, .. } | Screen::Credit { credit } => {
            t("credit", &[("credit", Arg::Text(&m(credit)))])
        }
        Screen::InsertMore {
            product,
            price,
            credit,
        } => t(
            "insert-more",
            &[
                ("product", Arg::Text(product)),
                ("price", Arg::Text(&m(price))),
                ("missing", Arg::Text(&m(&price.saturating_sub(*credit)))),
            ],
        ),
        Screen::SoldOut { product } => t("sold-out", &[("product", Arg::Text(product))]),
        Screen::OutOfOrder { product } => t("out-of-order", &[("product", Arg::Text(product))]),
        Screen::Vending { product } => t("vending", &[("product", Arg::Text(product))]),
        Screen::Retrying {
            product,
            attempt,
            of,
        } => t(
            "retrying",
            &[
                ("product", Arg::Text(product)),
                ("attempt", Arg::Count(u64::from(*attempt))),
                ("of", Arg::Count(u64::from(*of))),
            ],
        ),
        Screen::PleaseWait => t("please-wait", &[]),
        Screen::Enjoy { product } => t("enjoy", &[("product", Arg::Text(product))]),
        Screen::Surprise {
            message,
            translations,
            ..
        } => translations
            .iter()
            .find(|(l, _)| *l == lang)
            .map_or_else(|| message.clone(), |(_, text)| text.clone()),
        Screen::Refunded {
            product,
            tender: Tender::Card,
            ..
        } => t("refunded-card", &[("product", Arg::Text(product))]),
        Screen::Refunded {
            product, amount, ..
        } => t(
            "refunded",
            &[
                ("product", Arg::Text(product)),
                ("amount", Arg::Text(&m(amount))),
            ],
        ),
        Screen::MakeItRight {
            product,
            refunded,
            tender,
            message,
            translations,
            ..
        } => make_it_right(
            lang,
            product,
            (*refunded, *tender),
            message.as_deref(),
            translations,
            currency,
        ),
        Screen::NotInOffer { product } => t("not-in-offer", &[("product", Arg::Text(product))]),
        Screen::CoinNotRecognised => t("coin-not-recognised", &[]),
        Screen::PayingOut { amount } => t("paying-out", &[("amount", Arg::Text(&m(amount)))]),
        Screen::CreditKept { credit } => t("credit-kept", &[("credit", Arg::Text(&m(credit)))]),
        Screen::PowerRestored { refunded, credit } => t(
            "power-restored",
            &[
                ("refunded", Arg::Text(&m(refunded))),
                ("credit", Arg::Text(&m(credit))),
            ],
        ),
        Screen::Service => t("service", &[]),
        Screen::OutOfService { credit } if *credit == Cents::ZERO => t("out-of-service", &[]),
        Screen::OutOfService { credit } => t(
            "out-of-service-credit",
            &[("credit", Arg::Text(&m(credit)))],
        ),
        Screen::StartingUp => t("starting-up", &[]),
        Screen::StorageFull { credit } if *credit == Cents::ZERO => t("storage-full", &[]),
        Screen::StorageFull { credit } => {
            t("storage-full-credit", &[("credit", Arg::Text(&m(credit)))])
        }
        Screen::TapOrInsert { credit } if *credit == Cents::ZERO => t("tap-or-insert", &[]),
        Screen::TapOrInsert { credit } => t("credit", &[("credit", Arg::Text(&m(credit)))]),
        Screen::TapCard {
            product,
            price,
            credit,
        } => t(
            "tap-card",
            &[
                ("product", Arg::Text(product)),
                ("price", Arg::Text(&m(price))),
                ("missing", Arg::Text(&m(&price.saturating_sub(*credit)))),
            ],
        ),
        Screen::CardReady { funds: None } => t("card-ready", &[]),
        Screen::CardReady { funds: Some(f) } => {
            t("card-ready-funds", &[("funds", Arg::Text(&m(f)))])
        }
        Screen::CardWaiting { product, price } => t(
            "card-waiting",
            &[
                ("product", Arg::Text(product)),
                ("price", Arg::Text(&m(price))),
            ],
        ),
        Screen::CardDeclined { .. } => t("card-declined", &[]),
        Screen::CardTimedOut { .. } => t("card-timed-out", &[]),
    }
}

/// The money first, in a sentence of its own, then the offer: the operator's words in `lang`
/// if they wrote them, else in the machine's language, else the catalogue's apology.
fn make_it_right(
    lang: Language,
    product: &str,
    (refunded, tender): (Cents, Tender),
    message: Option<&str>,
    translations: &[(Language, String)],
    currency: &str,
) -> String {
    let cat = catalogue();
    let first = if refunded > Cents::ZERO && tender == Tender::Card {
        cat.text(
            lang,
            "recovery-refunded-card",
            &[("product", Arg::Text(product))],
        )
    } else if refunded > Cents::ZERO {
        let amount = cat.money(lang, refunded, currency);
        cat.text(
            lang,
            "recovery-refunded",
            &[
                ("product", Arg::Text(product)),
                ("amount", Arg::Text(&amount)),
            ],
        )
    } else {
        cat.text(lang, "recovery-unhappy", &[])
    };
    let offer = translations
        .iter()
        .find(|(l, _)| *l == lang)
        .map(|(_, text)| text.clone())
        .or_else(|| message.map(str::to_string))
        .unwrap_or_else(|| cat.text(lang, "recovery-message", &[]));
    let stop = if first.ends_with(['.', '。', '!', '！']) {
        ""
    } else if lang == Language::Japanese {
        "。"
    } else {
        "."
    };
    format!("{first}{stop} {offer}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surprise::KindName;
    use crate::vend::Reveal;

    #[test]
    fn english_screens_read_as_they_always_did() {
        let refunded = Screen::Refunded {
            tender: crate::vend::Tender::Cash,
            product: "Cola".into(),
            amount: Cents::new(150),
            credit: Cents::new(200),
        };
        assert_eq!(
            text(&refunded, "€"),
            "Sorry, Cola could not be delivered: €1.50 is back in your credit"
        );
        let credit = Screen::Credit {
            credit: Cents::new(50),
        };
        assert_eq!(text(&credit, "$"), "Credit $0.50: choose a drink");
        assert_eq!(
            text_in(Language::German, &credit, "€"),
            "Guthaben 0,50\u{a0}€: bitte wählen"
        );
        let retry = Screen::Retrying {
            product: "Cola".into(),
            attempt: 2,
            of: 3,
        };
        assert_eq!(
            text(&retry, "€"),
            "Your Cola is stuck: trying again (2 of 3)..."
        );
    }

    #[test]
    fn a_surprise_speaks_the_language_its_operator_wrote_it_in_or_the_machines() {
        let surprise = Screen::Surprise {
            name: "One to share".into(),
            message: "A second Cola!".into(),
            translations: vec![(Language::German, "Noch einmal Cola!".into())],
            reveal: Reveal {
                kind: KindName::ExtraItem,
                items: Vec::new(),
                show: None,
                duration_ms: 4000,
            },
        };
        assert_eq!(
            text_in(Language::German, &surprise, "€"),
            "Noch einmal Cola!"
        );
        assert_eq!(text_in(Language::French, &surprise, "€"), "A second Cola!");
    }

    #[test]
    fn making_it_right_tells_of_the_money_first_then_the_offer() {
        let screen = Screen::MakeItRight {
            tender: crate::vend::Tender::Cash,
            product: "Cola".into(),
            refunded: Cents::new(150),
            credit: Cents::new(200),
            free: true,
            message: Some("Sorry! Choose any drink on us".into()),
            translations: vec![(Language::German, "Wählen Sie ein Getränk!".into())],
        };
        assert_eq!(
            text(&screen, "€"),
            "Cola could not be delivered: €1.50 is back in your credit. Sorry! Choose any drink on us"
        );
        assert!(text_in(Language::German, &screen, "€").ends_with(". Wählen Sie ein Getränk!"));
        let apology = Screen::MakeItRight {
            tender: crate::vend::Tender::Cash,
            product: "Cola".into(),
            refunded: Cents::ZERO,
            credit: Cents::ZERO,
            free: false,
            message: None,
            translations: Vec::new(),
        };
        assert_eq!(
            text(&apology, "€"),
            "Sorry it was not right. We are sorry. Thank you for your patience."
        );
    }
}
