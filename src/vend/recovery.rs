//! Making it right: after a failed paid vend (or an unhappy answer), the offer the engine allows
//! is made to the customer: a free choice among the columns it covers, open until it lapses, or
//! an apology. The refund always comes first on the display; a free item goes through the same
//! sure-vend path as a surprise item, and nothing else is offered meanwhile.

use std::time::Duration;

use super::*;
use crate::surprise::{OfferKind, RecoveryTrigger};

/// The name a free item given to make things right is booked under.
pub const RECOVERY_NAME: &str = "Make it right";

/// How long after a paid vend an unhappy answer still counts as being about it.
pub const UNHAPPY_WINDOW: Duration = Duration::from_secs(120);

/// A free choice open to the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Offer {
    /// The columns it covers (bit per column index).
    pub(super) columns: u64,
    /// When it lapses.
    pub(super) until: Timestamp,
    /// What went wrong, for the display.
    pub(super) product: String,
    /// What went back to credit (zero after an unhappy answer), or was left uncharged on
    /// the card.
    pub(super) refunded: Cents,
    /// How the vend that went wrong was paid.
    pub(super) tender: Tender,
}

/// The last paid vend to finish: when, and whether something was already offered for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LastPaid {
    pub(super) column: ColumnId,
    pub(super) at: Timestamp,
    pub(super) made_right: bool,
}

/// A free choice as the pages see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfferView {
    /// The columns the customer may choose from, free.
    pub columns: Vec<ColumnId>,
    /// When the offer lapses.
    pub until: Timestamp,
}

/// Why an offer ended without an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lapse {
    /// Its time ran out.
    Expired,
    /// The customer asked for their credit back.
    CreditReturned,
    /// The service door was opened.
    DoorOpened,
}

impl Lapse {
    /// The name used in the books and the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Lapse::Expired => "expired",
            Lapse::CreditReturned => "credit_returned",
            Lapse::DoorOpened => "door_opened",
        }
    }
}

impl VendCore {
    /// The free choice open now, if any.
    pub fn offer(&self) -> Option<OfferView> {
        self.offer.as_ref().map(|o| OfferView {
            columns: (0..self.columns.len().min(64))
                .filter(|i| o.columns & (1u64 << i) != 0)
                .filter_map(ColumnId::from_index)
                .collect(),
            until: o.until,
        })
    }

    /// A paid vend finished (delivered, or failed and refunded).
    pub(super) fn paid_vend_finished(&mut self, column: ColumnId) {
        self.last_paid = Some(LastPaid {
            column,
            at: self.now,
            made_right: false,
        });
    }

    /// After a failed paid vend: make an offer if the policy allows one. Returns whether it did
    /// (and so showed the refund with it); otherwise the caller shows the refund alone.
    pub(super) fn make_it_right_after_failure(
        &mut self,
        v: Vend,
        reason: FailReason,
        out: &mut Vec<Command>,
    ) -> bool {
        let blame_column = matches!(reason, FailReason::NoDrop | FailReason::Jammed);
        if !blame_column || v.price == Cents::ZERO || self.door_open || self.storage_full {
            return false;
        }
        self.make_it_right(
            v.column,
            (v.price, v.tender),
            RecoveryTrigger::FailedVend,
            out,
        )
    }

    /// "Not happy" on the feedback tap: the same offer, once per paid vend, shortly after it.
    pub(super) fn unhappy(&mut self, out: &mut Vec<Command>) {
        let busy = self.vend.is_some()
            || self.payout.is_some()
            || self.offer.is_some()
            || self.door_open
            || self.storage_full
            || self.payment != PaymentMode::Coin;
        let Some(last) = self.last_paid.filter(|l| !l.made_right) else {
            return;
        };
        if busy || self.now.saturating_since(last.at) > UNHAPPY_WINDOW {
            return;
        }
        self.make_it_right(
            last.column,
            (Cents::ZERO, Tender::Cash),
            RecoveryTrigger::Unhappy,
            out,
        );
    }

    fn make_it_right(
        &mut self,
        column: ColumnId,
        (refunded, tender): (Cents, Tender),
        trigger: RecoveryTrigger,
        out: &mut Vec<Command>,
    ) -> bool {
        let Ok(allowed) = self.engine.offer_recovery(self.local, self.steady, trigger) else {
            return false;
        };
        if let Some(last) = self.last_paid.as_mut() {
            last.made_right = true;
        }
        let mut mask = 0u64;
        if allowed.kind == OfferKind::FreeItem {
            for (i, c) in self.columns.iter().enumerate().take(64) {
                if self.available(c) && c.spec.price <= allowed.allowance {
                    mask |= 1u64 << i;
                }
            }
        }
        let kind = if mask == 0 {
            OfferKind::Message
        } else {
            OfferKind::FreeItem
        };
        let product = self.product(column);
        let until = self.now + allowed.expires;
        // The operator's words fit the offer they chose; an apology in place of a free item
        // (no room in the budget, nothing available) takes the catalogue's.
        let (message, translations) = if kind == self.engine.recovery().offer {
            let (m, t) = self.engine.recovery_messages();
            (Some(m), t)
        } else {
            (None, Vec::new())
        };
        out.push(Command::Notice(Notice::RecoveryOffered {
            column,
            trigger,
            offer: kind,
            columns: (0..64)
                .filter(|i| mask & (1u64 << i) != 0)
                .filter_map(ColumnId::from_index)
                .collect(),
            allowance: if kind == OfferKind::FreeItem {
                allowed.allowance
            } else {
                Cents::ZERO
            },
            expires_s: if kind == OfferKind::FreeItem {
                u32::try_from(allowed.expires.as_secs()).unwrap_or(u32::MAX)
            } else {
                0
            },
        }));
        let credit = self.credit;
        self.show(
            Screen::MakeItRight {
                product: product.clone(),
                refunded,
                tender,
                credit,
                free: kind == OfferKind::FreeItem,
                message,
                translations,
            },
            out,
        );
        if kind == OfferKind::FreeItem {
            self.offer = Some(Offer {
                columns: mask,
                until,
                product,
                refunded,
                tender,
            });
            self.screen_until = Some(until);
        }
        true
    }

    /// The screen while an offer is open (after a coin or a message took the display).
    pub(super) fn offer_screen(&self) -> Option<Screen> {
        let o = self.offer.as_ref()?;
        let (message, translations) = self.engine.recovery_messages();
        Some(Screen::MakeItRight {
            product: o.product.clone(),
            refunded: o.refunded,
            tender: o.tender,
            credit: self.credit,
            free: true,
            message: Some(message),
            translations,
        })
    }

    /// A press while an offer is open: a column it covers is dispensed free; any other is
    /// refused (the customer may still take their money back and buy as usual).
    pub(super) fn select_in_offer(&mut self, column: ColumnId, out: &mut Vec<Command>) {
        let Some(offer) = self.offer.as_ref() else {
            return;
        };
        let covered = column.index() < 64 && offer.columns & (1u64 << column.index()) != 0;
        let Some(col) = self.columns.get(column.index()) else {
            return;
        };
        let product = col.spec.product.clone();
        let value = col.spec.price;
        if !covered {
            return self.refuse(
                column,
                Refusal::NotInOffer,
                Screen::NotInOffer { product },
                out,
            );
        }
        if col.stock == 0 {
            return self.refuse(column, Refusal::SoldOut, Screen::SoldOut { product }, out);
        }
        if !self.can_dispense(col) {
            return self.refuse(
                column,
                Refusal::OutOfOrder,
                Screen::OutOfOrder { product },
                out,
            );
        }
        self.offer = None;
        self.engine.record_recovery(self.local, self.steady, value);
        out.push(Command::Notice(Notice::RecoveryTaken {
            column,
            product: product.clone(),
            value,
        }));
        self.surprise = Some(ActiveSurprise {
            name: RECOVERY_NAME.to_string(),
            planned: 1,
            delivered: 0,
            pending: VecDeque::new(),
        });
        out.push(Command::Display(Screen::Vending { product }));
        self.screen_until = None;
        self.vend = Some(Vend::starting(
            VendKind::Surprise,
            column,
            Cents::ZERO,
            self.now,
        ));
        self.run_motor(out);
    }

    /// End an open offer without an item.
    pub(super) fn lapse_offer(&mut self, why: Lapse, out: &mut Vec<Command>) {
        if self.offer.take().is_some() {
            out.push(Command::Notice(Notice::RecoveryLapsed { why }));
        }
    }
}
