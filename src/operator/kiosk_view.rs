//! What the customer's page shows: the view of the status in the customer's language, with
//! each selection's state, the surprise to reveal and the feedback question. Pure: it reads the
//! status and the machine's config and must not send the controller anything.

use happiness_hardware::sim::SimHandle;
use serde::Serialize;

use crate::controller::{ColumnView, Status};
use crate::display;
use crate::i18n::{catalogue, Arg, Language};
use crate::money::Cents;
use crate::surprise::KindName;
use crate::vend::{ColumnId, ColumnStatus, LampRole, Reveal, Screen};

use super::ApiState;

/// Everything the customer's page shows, republished on every change.
#[derive(Debug, Clone, Serialize)]
pub(super) struct KioskView {
    /// The language every text below is in.
    lang: Language,
    /// The disclosed odds in words ("1 in 5 purchases gets a surprise today: ..."), when the
    /// policy discloses them and nothing has gone wrong.
    odds: Option<String>,
    machine: String,
    currency: String,
    hardware: String,
    display: String,
    screen: Option<Screen>,
    /// How the display should look: see [`Tone`].
    tone: Tone,
    credit: Cents,
    credit_text: String,
    vending: bool,
    door_open: bool,
    lamps_on: Vec<LampRole>,
    /// The lamps this machine has, in order, with whether each is lit.
    lamps: Vec<LampView>,
    selections: Vec<Selection>,
    /// The surprise being announced, with what the customer gets.
    surprise: Option<SurpriseView>,
    /// Whether the page should ask "how was it?" now.
    ask_feedback: bool,
    /// Which finished vend the question is about: the page asks once per value.
    feedback_vend: u64,
    /// The simulator's front (fields at the top level of the JSON).
    #[serde(flatten)]
    front: FrontView,
    out_of_service: Option<String>,
}

/// The simulator's virtual front: the coins it takes, the tray, the coins paid back.
#[derive(Debug, Clone, Serialize)]
struct FrontView {
    simulated: bool,
    tray: Vec<String>,
    coins: Vec<CoinView>,
    coins_returned: u32,
    coins_returned_text: String,
}

fn front_view(state: &ApiState, words: &Words<'_>) -> FrontView {
    let coins_returned = state.sim.as_ref().map_or(0, SimHandle::coins_paid_out);
    FrontView {
        simulated: state.sim.is_some(),
        tray: state
            .sim
            .as_ref()
            .map(|sim| sim.tray().into_iter().map(|i| i.product).collect())
            .unwrap_or_default(),
        coins: state
            .machine
            .coins
            .iter()
            .map(|c| {
                let text = words.money(c.value);
                CoinView {
                    value: c.value,
                    label: words.text("insert-coin", &[("coin", Arg::Text(&text))]),
                    text,
                }
            })
            .collect(),
        coins_returned,
        coins_returned_text: if coins_returned == 0 {
            String::new()
        } else {
            words.text(
                "coins-returned",
                &[("count", Arg::Count(u64::from(coins_returned)))],
            )
        },
    }
}

/// The surprise on the display, if one is, with its reveal in words; `message` is the display's
/// text (the surprise's message in the page's language).
fn surprise_view(s: &Status, words: &Words<'_>, message: &str) -> Option<SurpriseView> {
    let Some(Screen::Surprise { name, reveal, .. }) = s.screen.as_ref() else {
        return None;
    };
    let (title, detail) = reveal_words(reveal, words);
    Some(SurpriseView {
        name: name.clone(),
        message: message.to_string(),
        reveal: reveal.clone(),
        title,
        detail,
    })
}

/// The mood of the display: the page styles each differently, so that a failure never looks
/// like a success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Tone {
    /// Waiting for a customer.
    Idle,
    /// Telling the customer something (credit, a price).
    Info,
    /// A vend is under way.
    Progress,
    /// The item is out.
    Success,
    /// Something went wrong; the message says what happened to the money.
    Failure,
    /// A surprise!
    Surprise,
    /// Something went wrong and is being made right: the refund, then the offer.
    MakeItRight,
    /// Not selling.
    OutOfService,
}

fn tone(screen: Option<&Screen>, out_of_service: bool) -> Tone {
    if out_of_service {
        return Tone::OutOfService;
    }
    match screen {
        None | Some(Screen::Welcome { .. } | Screen::TapOrInsert { .. }) => Tone::Idle,
        Some(Screen::CardReady { .. } | Screen::TapCard { .. }) => Tone::Info,
        Some(Screen::CardWaiting { .. }) => Tone::Progress,
        Some(Screen::Credit { .. } | Screen::InsertMore { .. } | Screen::PayingOut { .. })
        | Some(Screen::CreditKept { .. } | Screen::NotInOffer { .. }) => Tone::Info,
        Some(Screen::MakeItRight { .. }) => Tone::MakeItRight,
        Some(Screen::Vending { .. } | Screen::Retrying { .. } | Screen::PleaseWait) => {
            Tone::Progress
        }
        Some(Screen::Enjoy { .. }) => Tone::Success,
        Some(Screen::Surprise { .. }) => Tone::Surprise,
        Some(
            Screen::SoldOut { .. }
            | Screen::OutOfOrder { .. }
            | Screen::Refunded { .. }
            | Screen::CoinNotRecognised
            | Screen::PowerRestored { .. }
            | Screen::CardDeclined { .. }
            | Screen::CardTimedOut { .. },
        ) => Tone::Failure,
        Some(
            Screen::Service
            | Screen::OutOfService { .. }
            | Screen::StartingUp
            | Screen::StorageFull { .. },
        ) => Tone::OutOfService,
    }
}

/// One of the machine's lamps.
#[derive(Debug, Clone, Serialize)]
pub(super) struct LampView {
    role: LampRole,
    on: bool,
}

/// A coin the simulated acceptor takes.
#[derive(Debug, Clone, Serialize)]
pub(super) struct CoinView {
    value: Cents,
    text: String,
    /// What the button does, for screen readers ("Insert €2.00").
    label: String,
}

/// A surprise as the page reveals it.
#[derive(Debug, Clone, Serialize)]
pub(super) struct SurpriseView {
    name: String,
    message: String,
    reveal: Reveal,
    /// The reveal's headline ("Look in the tray!").
    title: String,
    /// What it is ("A second Cola to share").
    detail: String,
}

/// One button the customer can press.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Selection {
    button: usize,
    column: ColumnId,
    product: String,
    price: Cents,
    price_text: String,
    available: bool,
    sold_out: bool,
    /// Why it cannot be bought, when it cannot.
    reason: Option<Unbuyable>,
    /// The reason in words.
    reason_text: Option<String>,
    /// What the button does, for screen readers ("Choose Cola, €1.50").
    label: String,
    /// Free now: a failure is being made right and the customer may choose it on the house.
    free: bool,
}

/// Why a selection cannot be bought.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Unbuyable {
    /// None left.
    SoldOut,
    /// The column failed a vend and waits for the operator.
    OutOfOrder,
    /// The operator took it out of service.
    Disabled,
    /// The whole machine is not selling.
    OutOfService,
}

impl Unbuyable {
    fn message_id(self) -> &'static str {
        match self {
            Unbuyable::SoldOut => "reason-sold-out",
            Unbuyable::OutOfOrder => "reason-out-of-order",
            Unbuyable::Disabled => "reason-unavailable",
            Unbuyable::OutOfService => "reason-out-of-service",
        }
    }
}

fn selection(
    button: usize,
    c: &ColumnView,
    machine_down: bool,
    free: bool,
    words: &Words<'_>,
) -> Selection {
    let reason = if machine_down {
        Some(Unbuyable::OutOfService)
    } else if c.stock == 0 {
        Some(Unbuyable::SoldOut)
    } else {
        match c.status {
            ColumnStatus::InService => None,
            ColumnStatus::Faulted(_) => Some(Unbuyable::OutOfOrder),
            ColumnStatus::Disabled => Some(Unbuyable::Disabled),
        }
    };
    let price_text = if free {
        words.text("page-free", &[])
    } else {
        words.money(c.price)
    };
    let reason_text = reason.map(|r| words.text(r.message_id(), &[]));
    let product = Arg::Text(&c.product);
    let label = match &reason_text {
        Some(why) => words.text(
            "cannot-choose",
            &[("product", product), ("reason", Arg::Text(why))],
        ),
        None => words.text(
            "choose",
            &[("product", product), ("price", Arg::Text(&price_text))],
        ),
    };
    Selection {
        button,
        column: c.column,
        product: c.product.clone(),
        price: c.price,
        price_text,
        available: reason.is_none(),
        sold_out: c.stock == 0,
        reason,
        reason_text,
        label,
        free,
    }
}

/// The catalogue in one language, with the machine's currency.
struct Words<'a> {
    lang: Language,
    currency: &'a str,
}

impl Words<'_> {
    fn text(&self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        catalogue().text(self.lang, id, args)
    }

    fn money(&self, amount: Cents) -> String {
        catalogue().money(self.lang, amount, self.currency)
    }
}

/// The reveal's headline and what the customer gets, in words.
fn reveal_words(reveal: &Reveal, words: &Words<'_>) -> (String, String) {
    let first = reveal.items.first();
    let product = Arg::Text(first.map_or("", |i| i.product.as_str()));
    let count = Arg::Count(reveal.items.iter().map(|i| u64::from(i.count)).sum());
    let look = || words.text("reveal-look", &[]);
    match reveal.kind {
        KindName::ExtraItem => (
            look(),
            words.text("reveal-extra-item", &[("product", product)]),
        ),
        KindName::SharePack => (
            look(),
            words.text(
                "reveal-share-pack",
                &[("product", product), ("count", count)],
            ),
        ),
        KindName::Gift => (words.text("reveal-gift", &[("product", product)]), look()),
        KindName::Show => (words.text("reveal-show", &[]), String::new()),
        KindName::Message => (words.text("reveal-message", &[]), String::new()),
    }
}

pub(super) fn kiosk_view(state: &ApiState, s: &Status, lang: Language) -> KioskView {
    let words = Words {
        lang,
        currency: &s.currency,
    };
    let down = s.out_of_service.is_some() || s.door_open;
    let selections = state
        .machine
        .buttons
        .iter()
        .enumerate()
        .filter_map(|(i, column)| {
            let c = s.columns.get(column.index())?;
            let free = s.offer_columns.contains(&c.column);
            Some(selection(i + 1, c, down, free, &words))
        })
        .collect();
    let display_text = s.screen.as_ref().map_or_else(
        || s.display.clone(),
        |screen| display::text_in(lang, screen, &s.currency),
    );
    let odds = s.odds.as_ref().map(|o| {
        words.text(
            "odds",
            &[
                ("n", Arg::Count(u64::from(o.one_in))),
                ("prizes", Arg::Text(&o.prizes.join(", "))),
            ],
        )
    });
    KioskView {
        lang,
        odds,
        machine: s.machine.clone(),
        currency: s.currency.clone(),
        hardware: s.hardware.clone(),
        surprise: surprise_view(s, &words, &display_text),
        display: display_text,
        tone: tone(s.screen.as_ref(), s.out_of_service.is_some()),
        screen: s.screen.clone(),
        credit: s.credit,
        credit_text: words.money(s.credit),
        vending: s.vending,
        door_open: s.door_open,
        lamps_on: s.lamps_on.clone(),
        lamps: state
            .machine
            .lamps
            .iter()
            .map(|role| LampView {
                role: *role,
                on: s.lamps_on.contains(role),
            })
            .collect(),
        selections,
        // Asked after every finished paid vend, delivered or refunded, until answered or the
        // next vend starts; the page keeps the question up for a while, not for ever.
        ask_feedback: s.feedback_open && !s.vending && s.out_of_service.is_none(),
        feedback_vend: s.vends_finished,
        front: front_view(state, &words),
        out_of_service: s.out_of_service.clone(),
    }
}
