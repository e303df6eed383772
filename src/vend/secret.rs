//! A yes to a crazy request: secret sequences pressed with no credit held (every press then is
//! refused for want of money, so no press of a sequence ever starts a vend), and an operator's
//! gift waiting for the next paying customer.

use super::*;
use crate::surprise::{Award, KindName, SecretGift};

/// The most presses kept: the longest secret.
const KEPT_PRESSES: usize = 8;

impl VendCore {
    /// Queue `index` of the catalogue as a gift for the next paying customer (after their
    /// delivery), within the caps unless `override_caps`. One at a time: `false` if one waits.
    pub fn queue_gift(&mut self, index: usize, override_caps: bool) -> bool {
        if self.gift.is_some() {
            return false;
        }
        self.gift = Some((index, override_caps));
        true
    }

    /// Drop the waiting gift, if any; returns it.
    pub fn cancel_gift(&mut self) -> Option<(usize, bool)> {
        self.gift.take()
    }

    /// The gift waiting for the next paying customer: catalogue index, overriding the caps.
    pub fn gift_waiting(&self) -> Option<(usize, bool)> {
        self.gift
    }

    /// A press refused for want of credit, with none held: part of a secret? Returns whether it
    /// completed one that was answered (the answer is then on the display).
    pub(super) fn secret_press(&mut self, column: ColumnId, out: &mut Vec<Command>) -> bool {
        if self.engine.secrets().is_empty() {
            return false;
        }
        let at = self.now.as_millis();
        if self.presses.len() == KEPT_PRESSES {
            self.presses.pop_front();
        }
        self.presses.push_back((at, column));
        let presses: Vec<(u64, ColumnId)> = self.presses.iter().copied().collect();
        let Some(k) = self.engine.match_secret(&presses) else {
            return false;
        };
        self.presses.clear();
        // Never while the machine cannot keep every promise, or something is under way.
        if self.door_open || self.faulted() || self.offer.is_some() || self.vend.is_some() {
            return false;
        }
        let stock = self.dispensable_stock();
        let facts = VendFacts {
            now: self.local,
            steady: self.steady,
            column,
            price: Cents::ZERO,
            stock: &stock,
        };
        let Some(gift) = self.engine.open_secret(k, &facts) else {
            return false;
        };
        let (award, message, translations) = match gift {
            SecretGift::Award(award) => {
                let (m, t) = self.engine.messages_for(&award, |c| self.product(c));
                (award, m, t)
            }
            SecretGift::Message {
                name,
                text,
                translations,
            } => (
                Award {
                    index: usize::MAX,
                    name,
                    kind: KindName::Message,
                    cost: Cents::ZERO,
                    items: Vec::new(),
                    show: None,
                },
                text,
                translations,
            ),
        };
        self.present(
            column,
            award,
            message,
            translations,
            AwardOrigin::Secret,
            out,
        );
        // No paid vend to follow: the first item (or the end of a show or message) starts now.
        self.end_vend(out);
        true
    }

    /// A press with credit held (or a coin): the sequence so far no longer counts.
    pub(super) fn forget_presses(&mut self) {
        self.presses.clear();
    }

    /// Items each column can hand out now (zero where it cannot).
    pub(super) fn dispensable_stock(&self) -> Vec<u32> {
        self.columns
            .iter()
            .map(|c| if self.can_dispense(c) { c.stock } else { 0 })
            .collect()
    }
}
