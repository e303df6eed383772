//! The core's timers as a table: each with its deadline, the earliest handled first, ties in the
//! table's order (a vend's step before the hopper, before the light show, before the screen).

use super::*;

/// What a deadline belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Timer {
    /// The vend's phase: the motor's limit, the drop window, the pause before a nudge.
    Vend,
    /// The payout hopper's pulse.
    Payout,
    /// A free choice offered to make things right lapses.
    Offer,
    /// The card reader's answer is overdue, or a choice waiting for a card lapses.
    Card,
    /// The surprise light show (and its lamp).
    Show,
    /// The surprise lamp's next step in the show's pattern.
    Blink,
    /// A message on the display, before the idle screen returns.
    Screen,
}

impl VendCore {
    /// Every running timer with its deadline.
    fn timers(&self) -> [(Timer, Option<Timestamp>); 7] {
        [
            (Timer::Vend, self.vend.map(|v| self.phase_deadline(&v))),
            (Timer::Payout, self.payout.map(|p| p.deadline())),
            (Timer::Offer, self.offer.as_ref().map(|o| o.until)),
            (Timer::Card, self.card.deadline()),
            (Timer::Show, self.show_until),
            (Timer::Blink, self.blink_at),
            (Timer::Screen, self.screen_until),
        ]
    }

    /// The timer that falls due first, and when (ties in table order).
    pub(super) fn next_timer(&self) -> Option<(Timestamp, Timer)> {
        self.timers()
            .into_iter()
            .filter_map(|(timer, at)| at.map(|at| (at, timer)))
            .min()
    }
}
