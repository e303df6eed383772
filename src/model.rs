//! The machine's vocabulary: column numbers, what a column holds and costs, vend timings, how
//! customers pay, what lamps mean, the payout hopper. Plain data that every other module may use;
//! this module uses nothing of the program but money.
//!
//! It must not import any other module of the program (except `money`): it is the leaf that keeps
//! the rest free of import loops.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::money::Cents;

/// A column of the machine: 0-based inside the program, shown to people as 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ColumnId(u8);

impl ColumnId {
    /// The column at 0-based `index`, if it fits.
    pub fn from_index(index: usize) -> Option<Self> {
        u8::try_from(index).ok().map(ColumnId)
    }

    /// The column people call `number` (1-based).
    pub fn from_number(number: usize) -> Option<Self> {
        number.checked_sub(1).and_then(Self::from_index)
    }

    /// 0-based index.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// 1-based number, as printed on the machine.
    pub fn number(self) -> usize {
        self.index() + 1
    }
}

impl fmt::Display for ColumnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

impl Serialize for ColumnId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.number() as u64)
    }
}

/// How customers pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMode {
    /// Every selection is free (events, promotions).
    Free,
    /// Items cost their price, paid with credit from the coin acceptor.
    Coin,
}

/// How a sale was paid: from the customer's cash credit (coins and bills), or by a card
/// (or phone) through the cashless reader. Card money never becomes credit: a card sale that
/// fails is refunded by the reader (the card is not charged), never into coin return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tender {
    /// Coins or bills, taken from credit.
    #[default]
    Cash,
    /// A card or phone, approved by the reader.
    Card,
}

impl Tender {
    /// The word the books and the reports use.
    pub fn name(self) -> &'static str {
        match self {
            Tender::Cash => "cash",
            Tender::Card => "card",
        }
    }
}

/// What a lamp shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LampRole {
    /// Lit when a customer can buy something.
    Ready,
    /// Lit while a vend is in progress.
    Vending,
    /// Lit while any column or sensor is faulted.
    Fault,
    /// Lit while a surprise is being announced.
    Surprise,
}

impl LampRole {
    /// Every role, in a fixed order.
    pub const ALL: [LampRole; 4] = [
        LampRole::Ready,
        LampRole::Vending,
        LampRole::Fault,
        LampRole::Surprise,
    ];
}

/// A column as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnSpec {
    /// Product name.
    pub product: String,
    /// Price per item.
    pub price: Cents,
    /// Items the column holds when full.
    pub capacity: u32,
    /// Items loaded now.
    pub stock: u32,
    /// Drop beam (0-based) its items fall through.
    pub sensor: u8,
    /// Whether the column has a home switch (otherwise the motor runs for a fixed time).
    pub has_home: bool,
    /// Whether customers can buy from it (a gift column holds surprises only).
    pub for_sale: bool,
    /// Stock at or below which the operator is told to restock (0: only when sold out).
    pub low_stock: u32,
}

/// Timing rules for vends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VendTimings {
    /// After the motor stops, how long to wait for the item to reach the beam.
    pub drop_window: Duration,
    /// Hard limit on one motor run.
    pub max_motor_on: Duration,
    /// Motor run time for columns without a home switch.
    pub timed_turn: Duration,
    /// Extra motor runs after a miss before giving up.
    pub nudge_retries: u32,
    /// Pause between a miss and the nudge.
    pub nudge_pause: Duration,
    /// How long a message stays on the display before the idle screen returns.
    pub message: Duration,
}

impl Default for VendTimings {
    fn default() -> Self {
        VendTimings {
            drop_window: Duration::from_millis(1500),
            max_motor_on: Duration::from_millis(3000),
            timed_turn: Duration::from_millis(1300),
            nudge_retries: 2,
            nudge_pause: Duration::from_millis(250),
            message: Duration::from_millis(4000),
        }
    }
}

/// A payout hopper that pays coins of one value back to customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PayoutSpec {
    /// Value of each coin it pays.
    pub coin: Cents,
    /// Width of the drive pulse for one coin.
    pub pulse: Duration,
    /// Pause between two coins.
    pub gap: Duration,
}

/// A surprise light show's pattern: how the kiosk page animates it and how the `surprise` lamp
/// blinks while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShowPattern {
    /// Colours sweep across the page; the lamp breathes slowly (600 ms on, 400 ms off).
    Rainbow,
    /// Twinkling sparks; the lamp flickers quickly and unevenly.
    Sparkle,
    /// A warm glow that swells and fades; the lamp pulses once a second.
    Pulse,
    /// Lights running round the frame; the lamp blinks fast and evenly.
    Chase,
}

impl ShowPattern {
    /// Every pattern, in a fixed order.
    pub const ALL: [ShowPattern; 4] = [
        ShowPattern::Rainbow,
        ShowPattern::Sparkle,
        ShowPattern::Pulse,
        ShowPattern::Chase,
    ];

    /// The name used in `surprises.toml`.
    pub fn name(self) -> &'static str {
        match self {
            ShowPattern::Rainbow => "rainbow",
            ShowPattern::Sparkle => "sparkle",
            ShowPattern::Pulse => "pulse",
            ShowPattern::Chase => "chase",
        }
    }

    /// The pattern called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<ShowPattern> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The lamp's steps: alternating on and off times in milliseconds, starting with on, repeated
    /// for as long as the show runs.
    pub fn lamp_steps(self) -> &'static [u64] {
        match self {
            ShowPattern::Rainbow => &[600, 400],
            ShowPattern::Sparkle => &[80, 120, 60, 240, 100, 80, 60, 300],
            ShowPattern::Pulse => &[500, 500],
            ShowPattern::Chase => &[150, 150],
        }
    }

    /// Whether the lamp is lit `elapsed_ms` into the show, and for how many more milliseconds it
    /// stays that way.
    pub fn lamp_at(self, elapsed_ms: u64) -> (bool, u64) {
        let steps = self.lamp_steps();
        let cycle: u64 = steps.iter().sum();
        let mut t = elapsed_ms % cycle.max(1);
        for (i, &step) in steps.iter().enumerate() {
            if t < step {
                return (i % 2 == 0, step - t);
            }
            t -= step;
        }
        (true, 1)
    }
}

impl fmt::Display for ShowPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_patterns_have_names_and_a_lamp_rhythm() {
        for p in ShowPattern::ALL {
            assert_eq!(ShowPattern::from_name(p.name()), Some(p));
            assert_eq!(p.lamp_steps().len() % 2, 0, "{p}: on and off in pairs");
            assert!(p.lamp_steps().iter().all(|&s| s > 0), "{p}: no empty steps");
        }
        assert_eq!(ShowPattern::from_name("disco"), None);
        assert_eq!(ShowPattern::Pulse.lamp_at(0), (true, 500));
        assert_eq!(ShowPattern::Pulse.lamp_at(499), (true, 1));
        assert_eq!(ShowPattern::Pulse.lamp_at(500), (false, 500));
        assert_eq!(ShowPattern::Pulse.lamp_at(1250), (true, 250));
        assert_eq!(ShowPattern::Sparkle.lamp_at(80), (false, 120));
    }
}
