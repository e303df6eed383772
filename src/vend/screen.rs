//! What the display shows, as data. The words for each screen are the display's business
//! (the `display` module), so that the core stays the same in every language.

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
