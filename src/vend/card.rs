//! Paying by card through the cashless reader: the reader's state as the core sees it, a vend
//! asked of it, its approval or refusal, and the rules the card holder depends on.
//!
//! - A card vend is dispensed only after the reader approved it, and only as the one vend
//!   under way; a late approval (after the core gave up waiting, or with nothing asked) is
//!   answered VEND FAILURE, so the card is never charged for it.
//! - The reader is told VEND SUCCESS only when the drop beam saw the item; every other end is
//!   VEND FAILURE (the reader refunds the card). Card money never becomes credit.
//! - A choice made before any card is presented waits a short while for one (select first,
//!   then tap), and cash credit that covers the price is always used first.
//!
//! The bus, the reader's own protocol and its time-outs are the payments module's business.

use std::time::Duration;

use super::*;

/// How long the core waits for the reader to approve or deny a vend before giving up (online
/// authorisation can take a while; the reader is told the session is over).
pub const CARD_WAIT: Duration = Duration::from_secs(60);

/// How long a choice made with too little credit waits for a card to be presented.
pub const CHOICE_WAIT: Duration = Duration::from_secs(30);

/// A vend asked of the reader, waiting for its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Asked {
    column: ColumnId,
    price: Cents,
    until: Timestamp,
}

/// The reader as the core sees it.
#[derive(Debug, Clone, Default)]
pub(super) struct CardState {
    /// The reader is up and takes cards.
    ready: bool,
    /// A card session is open, with the funds the reader said (if it said).
    session: Option<Option<Cents>>,
    /// A vend asked of the reader, not answered yet.
    asked: Option<Asked>,
    /// A column chosen before any card was presented, and until when it waits for one.
    chosen: Option<(ColumnId, Timestamp)>,
}

impl CardState {
    /// When the core next has to act for the card: an overdue answer, or a choice lapsing.
    pub(super) fn deadline(&self) -> Option<Timestamp> {
        let asked = self.asked.map(|a| a.until);
        let chosen = self.chosen.map(|(_, until)| until);
        match (asked, chosen) {
            (Some(a), Some(c)) => Some(a.min(c)),
            (a, c) => a.or(c),
        }
    }

    /// Whether a vend is waiting for the reader's answer.
    pub(super) fn is_asking(&self) -> bool {
        self.asked.is_some()
    }

    /// Whether the reader is up.
    pub(super) fn is_ready(&self) -> bool {
        self.ready
    }
}

impl VendCore {
    /// The cheapest price of anything a customer can buy now (`None`: nothing can be sold):
    /// what a bill in escrow is weighed against.
    pub fn cheapest_for_sale(&self) -> Option<Cents> {
        if self.door_open || self.storage_full {
            return None;
        }
        self.columns
            .iter()
            .filter(|c| self.available(c))
            .map(|c| c.spec.price)
            .min()
    }

    /// Whether a card session is open (for the pages).
    pub fn card_funds(&self) -> Option<Option<Cents>> {
        self.card.session
    }

    /// The idle screen while the reader is up (a card presented, or waiting for one).
    pub(super) fn card_idle_screen(&self) -> Option<Screen> {
        if !self.card.ready || self.payment != PaymentMode::Coin {
            return None;
        }
        Some(match self.card.session {
            Some(funds) => Screen::CardReady { funds },
            None => Screen::TapOrInsert {
                credit: self.credit,
            },
        })
    }

    pub(super) fn card_reader(&mut self, ready: bool, out: &mut Vec<Command>) {
        if self.card.ready == ready {
            return;
        }
        self.card.ready = ready;
        if !ready {
            // A reader lost takes its session with it; a vend asked of it was never approved.
            self.card.session = None;
            self.card.chosen = None;
            if let Some(a) = self.card.asked.take() {
                self.card_declined(a.column, out);
                return;
            }
        }
        self.refresh_idle(out);
    }

    pub(super) fn card_session(&mut self, funds: Option<Cents>, out: &mut Vec<Command>) {
        if self.payment != PaymentMode::Coin {
            // Nothing costs anything: the card has nothing to pay.
            out.push(Command::CardEndSession);
            return;
        }
        self.card.session = Some(funds);
        self.forget_presses();
        if let Some((column, _)) = self.card.chosen.take() {
            // Select first, then tap: the choice goes on with the card.
            self.select(column, out);
            return;
        }
        if self.vend.is_none() && self.payout.is_none() {
            self.show(Screen::CardReady { funds }, out);
            // The session lasts as long as the reader keeps it: the screen stays.
            self.screen_until = None;
        }
    }

    /// A selection that credit does not cover, with the reader up: ask the card, or wait for
    /// one. Every check that the column can sell was made by the caller.
    pub(super) fn card_select(
        &mut self,
        column: ColumnId,
        product: String,
        price: Cents,
        out: &mut Vec<Command>,
    ) {
        match self.card.session {
            Some(Some(funds)) if funds < price => self.card_declined(column, out),
            Some(_) => {
                self.card.asked = Some(Asked {
                    column,
                    price,
                    until: self.now + CARD_WAIT,
                });
                out.push(Command::CardVend { column, price });
                out.push(Command::Display(Screen::CardWaiting { product, price }));
                self.screen_until = None;
            }
            None => {
                self.card.chosen = Some((column, self.now + CHOICE_WAIT));
                let credit = self.credit;
                out.push(Command::Notice(Notice::Refused {
                    column,
                    reason: Refusal::InsufficientCredit,
                }));
                out.push(Command::Display(Screen::TapCard {
                    product,
                    price,
                    credit,
                }));
                self.screen_until = Some(self.now + CHOICE_WAIT);
            }
        }
    }

    pub(super) fn card_approved(&mut self, amount: Cents, out: &mut Vec<Command>) {
        if self.vend.is_some_and(|v| v.tender == Tender::Card) {
            // The reader approves one vend at a time and this one is under way: a repeated
            // approval changes nothing (its result goes out when the item drops or not).
            return;
        }
        let Some(a) = self.card.asked.take() else {
            // Nothing is waiting for this approval (the core gave up on it): the item is not
            // dispensed, so the card must not be charged.
            self.card_end(false, out);
            return;
        };
        let sellable = self.vend.is_none()
            && self.payout.is_none()
            && !self.door_open
            && !self.storage_full
            && self
                .columns
                .get(a.column.index())
                .is_some_and(|c| self.available(c));
        let product = self.product(a.column);
        if !sellable {
            // Something changed while the reader was deciding (the door, a fault, the disk).
            self.card_end(false, out);
            return self.refuse(
                a.column,
                Refusal::OutOfOrder,
                Screen::OutOfOrder { product },
                out,
            );
        }
        out.push(Command::Notice(Notice::VendStarted {
            column: a.column,
            product: product.clone(),
            price: amount,
            tender: Tender::Card,
        }));
        out.push(Command::Display(Screen::Vending { product }));
        self.screen_until = None;
        let mut vend = Vend::starting(VendKind::Paid, a.column, amount, self.now);
        vend.tender = Tender::Card;
        self.vend = Some(vend);
        self.run_motor(out);
    }

    pub(super) fn card_denied(&mut self, out: &mut Vec<Command>) {
        let Some(a) = self.card.asked.take() else {
            return;
        };
        // The session ends so that another card can be tried.
        self.card.session = None;
        out.push(Command::CardEndSession);
        self.card_declined(a.column, out);
    }

    pub(super) fn card_session_ended(&mut self, out: &mut Vec<Command>) {
        self.card.session = None;
        if let Some(a) = self.card.asked.take() {
            return self.card_declined(a.column, out);
        }
        self.refresh_idle(out);
    }

    /// The card's timer: an answer that never came, or a choice no card followed.
    pub(super) fn card_deadline(&mut self, out: &mut Vec<Command>) {
        if let Some(a) = self.card.asked.filter(|a| a.until <= self.now) {
            self.card.asked = None;
            self.card.session = None;
            out.push(Command::CardEndSession);
            let product = self.product(a.column);
            self.show(Screen::CardTimedOut { product }, out);
        }
        if self.card.chosen.is_some_and(|(_, until)| until <= self.now) {
            self.card.chosen = None;
        }
    }

    /// A card vend is over: tell the reader whether the item dropped, and end the session.
    pub(super) fn card_vend_over(&mut self, dropped: bool, out: &mut Vec<Command>) {
        self.card_end(dropped, out);
    }

    /// Tell the reader how the approved vend ended, and close the session.
    fn card_end(&mut self, dropped: bool, out: &mut Vec<Command>) {
        out.push(Command::CardVendResult { dropped });
        self.card.session = None;
        out.push(Command::CardEndSession);
    }

    /// The card is declined for `column` (by the reader, for its funds, or with no answer).
    fn card_declined(&mut self, column: ColumnId, out: &mut Vec<Command>) {
        let product = self.product(column);
        self.refuse(
            column,
            Refusal::CardDeclined,
            Screen::CardDeclined { product },
            out,
        );
    }

    /// A cash sale was delivered: the reader keeps its own audit of those too.
    pub(super) fn card_cash_sale(&self, column: ColumnId, price: Cents, out: &mut Vec<Command>) {
        if self.card.ready && price > Cents::ZERO {
            out.push(Command::CardCashSale { column, price });
        }
    }
}
