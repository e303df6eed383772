//! Money as a type: whole cents, never floating point, never negative.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount of money in the machine's currency, in cents.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Cents(u64);

impl Cents {
    /// Nothing.
    pub const ZERO: Cents = Cents(0);

    /// `n` cents.
    pub const fn new(n: u64) -> Self {
        Cents(n)
    }

    /// The amount in cents.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// Sum, or `None` on overflow.
    pub fn checked_add(self, other: Cents) -> Option<Cents> {
        self.0.checked_add(other.0).map(Cents)
    }

    /// Difference, or `None` if `other` is larger.
    pub fn checked_sub(self, other: Cents) -> Option<Cents> {
        self.0.checked_sub(other.0).map(Cents)
    }

    /// Sum, saturating at the largest amount.
    pub fn saturating_add(self, other: Cents) -> Cents {
        Cents(self.0.saturating_add(other.0))
    }

    /// Difference, saturating at zero.
    pub fn saturating_sub(self, other: Cents) -> Cents {
        Cents(self.0.saturating_sub(other.0))
    }

    /// This amount written with a currency symbol, e.g. `€1.50`.
    pub fn with_symbol(self, symbol: &str) -> String {
        format!("{symbol}{self}")
    }
}

impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl std::iter::Sum for Cents {
    fn sum<I: Iterator<Item = Cents>>(iter: I) -> Cents {
        iter.fold(Cents::ZERO, Cents::saturating_add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_units_and_cents() {
        assert_eq!(Cents::new(150).to_string(), "1.50");
        assert_eq!(Cents::new(5).with_symbol("€"), "€0.05");
        assert_eq!(Cents::new(12345).to_string(), "123.45");
    }

    #[test]
    fn arithmetic_never_goes_negative_or_wraps() {
        assert_eq!(Cents::new(1).checked_sub(Cents::new(2)), None);
        assert_eq!(Cents::new(1).saturating_sub(Cents::new(2)), Cents::ZERO);
        assert_eq!(Cents::new(u64::MAX).checked_add(Cents::new(1)), None);
        assert_eq!(
            [Cents::new(1), Cents::new(2)].into_iter().sum::<Cents>(),
            Cents::new(3)
        );
    }
}
