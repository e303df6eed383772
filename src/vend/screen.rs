//! What the display shows, as data. The words for each screen are the display's business
//! (the `display` module), so that the core stays the same in every language.

use serde::Serialize;

use crate::i18n::Language;
use crate::model::{ShowPattern, Tender};
use crate::money::Cents;
use crate::surprise::KindName;

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
    /// The item did not drop: the motor is about to try again.
    Retrying {
        /// Product coming.
        product: String,
        /// The attempt about to start (2 for the first retry).
        attempt: u32,
        /// Attempts there will be at most.
        of: u32,
    },
    /// Please wait: a vend is already running.
    PleaseWait,
    /// A surprise! Shown after the paid item is delivered.
    Surprise {
        /// The surprise's name.
        name: String,
        /// Its message.
        message: String,
        /// Its message in the other languages the operator wrote it in.
        translations: Vec<(Language, String)>,
        /// What the customer gets, for a display that shows each kind its own way.
        reveal: Reveal,
    },
    /// Item delivered.
    Enjoy {
        /// Product delivered.
        product: String,
    },
    /// Vend failed; money returned to credit (or, paid by card, the card not charged).
    Refunded {
        /// Product that could not be delivered.
        product: String,
        /// Amount returned to credit, or left uncharged on the card.
        amount: Cents,
        /// Credit now held.
        credit: Cents,
        /// How the vend was paid.
        tender: Tender,
    },
    /// Something went wrong and the machine makes it right: the refund first, then the offer.
    MakeItRight {
        /// The product that went wrong.
        product: String,
        /// What went back to credit or was left uncharged on the card (zero after an unhappy
        /// answer).
        refunded: Cents,
        /// How the vend that went wrong was paid.
        tender: Tender,
        /// Credit now held.
        credit: Cents,
        /// A free choice is open (otherwise an apology).
        free: bool,
        /// The operator's words for the offer (none: the catalogue's apology).
        message: Option<String>,
        /// Those words in the other languages the operator wrote them in.
        translations: Vec<(Language, String)>,
    },
    /// A free choice is open and does not cover the column pressed.
    NotInOffer {
        /// Product chosen.
        product: String,
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
    /// Idle with the card reader up: pay by card or with coins.
    TapOrInsert {
        /// Credit held.
        credit: Cents,
    },
    /// A product was chosen with too little credit and no card yet: tap a card or add coins.
    TapCard {
        /// Product chosen.
        product: String,
        /// Its price.
        price: Cents,
        /// Credit held.
        credit: Cents,
    },
    /// A card is presented: choose a product.
    CardReady {
        /// What the card can spend, when the reader says.
        funds: Option<Cents>,
    },
    /// The reader is asked to approve the price.
    CardWaiting {
        /// Product chosen.
        product: String,
        /// Its price.
        price: Cents,
    },
    /// The reader declined the card: try another card or pay with coins.
    CardDeclined {
        /// Product chosen.
        product: String,
    },
    /// The reader did not answer in time: nothing was charged.
    CardTimedOut {
        /// Product chosen.
        product: String,
    },
}

/// What a surprise gives, for the page's reveal: items to look for in the tray, a show to play.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reveal {
    /// The kind of surprise.
    pub kind: KindName,
    /// Items coming, by product, in the order they are dispensed.
    pub items: Vec<RevealItem>,
    /// The light show's pattern, for a show.
    pub show: Option<ShowPattern>,
    /// How long the reveal lasts: the show's length, or the message time.
    pub duration_ms: u64,
}

/// Items of one product a surprise hands out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevealItem {
    /// The product.
    pub product: String,
    /// How many.
    pub count: u32,
}
