//! What the display shows, as data, and its English text.

use serde::Serialize;

use crate::money::Cents;

/// What the display shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "screen", rename_all = "snake_case")]
pub enum Screen {
    /// Idle, ready to sell.
    Welcome {
        /// Credit held.
        credit: Cents,
        /// Free vend mode.
        free: bool,
    },
    /// Credit changed.
    Credit {
        /// Credit held.
        credit: Cents,
    },
    /// Not enough credit for the selection.
    InsertMore {
        /// Product chosen.
        product: String,
        /// Its price.
        price: Cents,
        /// Credit held.
        credit: Cents,
    },
    /// Selection is empty.
    SoldOut {
        /// Product chosen.
        product: String,
    },
    /// Selection cannot be vended now.
    OutOfOrder {
        /// Product chosen.
        product: String,
    },
    /// Vend in progress.
    Vending {
        /// Product coming.
        product: String,
    },
    /// Please wait: a vend is already running.
    PleaseWait,
    /// A surprise! Shown after the paid item is delivered.
    Surprise {
        /// The surprise's name.
        name: String,
        /// Its message.
        message: String,
    },
    /// Item delivered.
    Enjoy {
        /// Product delivered.
        product: String,
    },
    /// Vend failed; money returned to credit.
    Refunded {
        /// Product that could not be delivered.
        product: String,
        /// Amount returned to credit.
        amount: Cents,
        /// Credit now held.
        credit: Cents,
    },
    /// A coin was not recognised.
    CoinNotRecognised,
    /// Coins are being paid back.
    PayingOut {
        /// Amount being paid.
        amount: Cents,
    },
    /// There is no way to pay out coins: credit stays for the next purchase.
    CreditKept {
        /// Credit held.
        credit: Cents,
    },
    /// The machine restarted after a power cut during a vend; the price is back in credit.
    PowerRestored {
        /// Returned to credit.
        refunded: Cents,
        /// Credit now.
        credit: Cents,
    },
    /// The service door is open.
    Service,
    /// Nothing can be sold right now.
    OutOfService {
        /// Credit held.
        credit: Cents,
    },
    /// The machine is starting: the books are being checked before anything is sold.
    StartingUp,
    /// The books' disk is full: nothing is sold, the credit is kept.
    StorageFull {
        /// Credit held.
        credit: Cents,
    },
}

impl Screen {
    /// The text for a display, with `currency` before amounts.
    pub fn text(&self, currency: &str) -> String {
        let m = |c: &Cents| c.with_symbol(currency);
        match self {
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
}
