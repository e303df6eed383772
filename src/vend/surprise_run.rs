//! Running a surprise: asking the engine after a confirmed paid delivery, then dispensing its
//! items one by one through the same sure-vend path.

use super::*;

impl VendCore {
    /// Ask the surprise engine about a delivered paid vend, and set up what it awards.
    pub(super) fn maybe_surprise(
        &mut self,
        column: ColumnId,
        price: Cents,
        out: &mut Vec<Command>,
    ) {
        // Never while the machine cannot keep every promise.
        if self.door_open || self.faulted() {
            return;
        }
        let stock = self.dispensable_stock();
        let facts = VendFacts {
            now: self.local,
            steady: self.steady,
            column,
            price,
            stock: &stock,
        };
        let (decision, gift_given) = self.engine.decide_with_gift(&facts, self.gift);
        let Some(award) = decision.award else {
            return;
        };
        let origin = if gift_given {
            self.gift = None;
            AwardOrigin::Gift
        } else {
            AwardOrigin::Chance
        };
        let (message, translations) = self.engine.messages_for(&award, |c| self.product(c));
        self.present(column, award, message, translations, origin, out);
    }

    /// Announce an award (its notice, the display, the show, the lamp) and line up its items.
    pub(super) fn present(
        &mut self,
        column: ColumnId,
        award: crate::surprise::Award,
        message: String,
        translations: Vec<(crate::i18n::Language, String)>,
        origin: AwardOrigin,
        out: &mut Vec<Command>,
    ) {
        out.push(Command::Notice(Notice::SurpriseAwarded {
            column,
            name: award.name.clone(),
            kind: award.kind,
            cost: award.cost,
            items: award.items.clone(),
            message: message.clone(),
            origin,
        }));
        // The surprise lamp stays lit for the show, or for as long as the message is shown.
        let lit_for = award.show.map_or(self.timings.message, |(_, d)| d);
        let reveal = Reveal {
            kind: award.kind,
            items: award
                .items
                .iter()
                .map(|&(c, count)| RevealItem {
                    product: self.product(c),
                    count,
                })
                .collect(),
            show: award.show.map(|(p, _)| p),
            duration_ms: u64::try_from(lit_for.as_millis()).unwrap_or(u64::MAX),
        };
        self.show(
            Screen::Surprise {
                name: award.name.clone(),
                message,
                translations,
                reveal,
            },
            out,
        );
        self.show = award.show.map(|(pattern, _)| (pattern, self.now));
        if let Some((pattern, duration)) = award.show {
            out.push(Command::Show {
                pattern,
                duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            });
        }
        self.show_until = Some(self.now + lit_for);
        let pending: VecDeque<ColumnId> = award
            .items
            .iter()
            .flat_map(|&(c, n)| std::iter::repeat_n(c, n as usize))
            .collect();
        self.surprise = Some(ActiveSurprise {
            name: award.name,
            planned: u32::try_from(pending.len()).unwrap_or(u32::MAX),
            delivered: 0,
            pending,
        });
    }

    /// A vend is over: start the next surprise item, or close the surprise.
    pub(super) fn end_vend(&mut self, out: &mut Vec<Command>) {
        self.vend = None;
        loop {
            let next = self.surprise.as_mut().and_then(|a| a.pending.pop_front());
            let Some(column) = next else {
                break;
            };
            let ready = !self.door_open
                && self
                    .columns
                    .get(column.index())
                    .is_some_and(|c| self.can_dispense(c));
            if ready {
                // A short pause lets the customer read the surprise before the motor runs.
                self.vend = Some(Vend::starting(
                    VendKind::Surprise,
                    column,
                    Cents::ZERO,
                    self.now + self.timings.nudge_pause,
                ));
                return;
            }
        }
        if let Some(active) = self.surprise.take() {
            out.push(Command::Notice(Notice::SurpriseCompleted {
                name: active.name,
                planned: active.planned,
                delivered: active.delivered,
                partial: active.delivered < active.planned,
            }));
        }
    }
}
