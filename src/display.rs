//! The words on the customer's display: each [`Screen`] the vend core shows, in English.
//!
//! The core decides *what* the display shows as data; this module owns how it reads, so that a
//! translation (or a kiosk page with its own wording) changes nothing in the vend rules. It must
//! not decide anything or hold state.

use crate::money::Cents;
use crate::vend::Screen;

/// The English text for `screen`, with `currency` before amounts.
pub fn text(screen: &Screen, currency: &str) -> String {
    let m = |c: &Cents| c.with_symbol(currency);
    match screen {
        Screen::Welcome { free: true, .. } => "Free vend today: choose a drink!".into(),
        Screen::Welcome { credit, .. } if *credit == Cents::ZERO => {
            "Insert coins, then choose".into()
        }
        Screen::Welcome { credit, .. } | Screen::Credit { credit } => {
            format!("Credit {}: choose a drink", m(credit))
        }
        Screen::InsertMore {
            product,
            price,
            credit,
        } => format!(
            "{product} costs {}: insert {} more",
            m(price),
            m(&price.saturating_sub(*credit))
        ),
        Screen::SoldOut { product } => format!("Sorry, {product} is sold out"),
        Screen::OutOfOrder { product } => {
            format!("Sorry, {product} is out of order: choose another")
        }
        Screen::Vending { product } => format!("Here comes your {product}..."),
        Screen::PleaseWait => "Please wait: your item is on its way".into(),
        Screen::Enjoy { product } => format!("Enjoy your {product}!"),
        Screen::Surprise { message, .. } => message.clone(),
        Screen::Refunded {
            product, amount, ..
        } => format!(
            "Sorry, {product} could not be delivered: {} is back in your credit",
            m(amount)
        ),
        Screen::CoinNotRecognised => "Coin not recognised: please call the operator".into(),
        Screen::PayingOut { amount } => format!("Returning {}: take your coins", m(amount)),
        Screen::CreditKept { credit } => {
            format!("Credit {} is kept for your next choice", m(credit))
        }
        Screen::PowerRestored { refunded, credit } => format!(
            "Sorry, the power went out during your purchase: {} is back in your credit ({} in all)",
            m(refunded),
            m(credit)
        ),
        Screen::Service => "Service in progress: vending paused".into(),
        Screen::OutOfService { credit } if *credit == Cents::ZERO => {
            "Out of service: sorry!".into()
        }
        Screen::OutOfService { credit } => {
            format!("Out of service: your credit {} is safe", m(credit))
        }
        Screen::StartingUp => "Starting up: one moment please".into(),
        Screen::StorageFull { credit } if *credit == Cents::ZERO => {
            "Out of service: storage full".into()
        }
        Screen::StorageFull { credit } => format!(
            "Out of service: storage full. Your credit {} is safe",
            m(credit)
        ),
    }
}
