//! `[coin_acceptor]` and `[payout]`: what coins are worth, how their pulses look, and the hopper
//! that pays change back.

use std::collections::HashMap;
use std::time::Duration;

use happiness_hardware::input::PulseTiming;
use happiness_hardware::{OutputSpec, Wiring};

use super::super::raw::{
    default_coin_gap, default_glitch, default_pulse_max, default_pulse_min, RawCoinAcceptor,
    RawFile, RawInput,
};
use super::{polarity, Validator, MAX_AMOUNT_CENTS};
use crate::config::CoinValue;
use crate::model::{PaymentMode, PayoutSpec};
use crate::money::Cents;

/// How the acceptor's pulses look: their widths, and the quiet that ends a coin.
pub(super) struct CoinTiming {
    pub(super) pulse: PulseTiming,
    pub(super) gap: Duration,
}

impl CoinTiming {
    fn of(pulse_min_ms: u64, pulse_max_ms: u64, glitch_ms: u64, gap_ms: u64) -> Self {
        CoinTiming {
            pulse: PulseTiming {
                min_width: Duration::from_millis(pulse_min_ms),
                max_width: Duration::from_millis(pulse_max_ms),
                glitch: Duration::from_millis(glitch_ms),
            },
            gap: Duration::from_millis(gap_ms),
        }
    }
}

/// `[coin_acceptor]`: its pins, pulse timing and coins (required for coin payment).
pub(super) fn acceptor(
    v: &mut Validator,
    raw: &RawFile,
    wiring: &mut Wiring,
) -> (Vec<CoinValue>, CoinTiming) {
    let Some(ca) = &raw.coin_acceptor else {
        if raw.machine.payment == PaymentMode::Coin && !raw.payment.mdb_coins() {
            v.issue(
                "coin_acceptor",
                "is required when machine.payment = \"coin\" (or set machine.payment = \"free\", \
                 or take coins with an MDB changer: [payment] coins = \"mdb\")",
            );
        }
        let timing = CoinTiming::of(
            default_pulse_min(),
            default_pulse_max(),
            default_glitch(),
            default_coin_gap(),
        );
        return (Vec::new(), timing);
    };
    let input = RawInput {
        pin: ca.pin,
        active_low: ca.active_low,
        pull: ca.pull,
    };
    wiring.coin = v.input("coin_acceptor", &input, true);
    if let Some(n) = ca.inhibit_pin {
        wiring.coin_inhibit = v.pin("coin_acceptor.inhibit_pin", n).map(|pin| OutputSpec {
            pin,
            polarity: polarity(ca.inhibit_active_low.unwrap_or(false)),
        });
    }
    v.ms("coin_acceptor.pulse_min_ms", ca.pulse_min_ms, 1..=1_000);
    v.ms("coin_acceptor.pulse_max_ms", ca.pulse_max_ms, 1..=1_000);
    v.ms("coin_acceptor.glitch_ms", ca.glitch_ms, 0..=100);
    v.ms("coin_acceptor.coin_gap_ms", ca.coin_gap_ms, 1..=5_000);
    pulse_timing(v, ca);
    let timing = CoinTiming::of(
        ca.pulse_min_ms,
        ca.pulse_max_ms,
        ca.glitch_ms,
        ca.coin_gap_ms,
    );
    (coins(v, ca), timing)
}

fn pulse_timing(v: &mut Validator, ca: &RawCoinAcceptor) {
    if ca.pulse_min_ms == 0 || ca.pulse_min_ms >= ca.pulse_max_ms {
        v.issue(
            "coin_acceptor.pulse_min_ms",
            format!(
                "must be greater than 0 and less than coin_acceptor.pulse_max_ms ({})",
                ca.pulse_max_ms
            ),
        );
    }
    if ca.glitch_ms >= ca.pulse_min_ms {
        v.issue(
            "coin_acceptor.glitch_ms",
            "must be shorter than coin_acceptor.pulse_min_ms",
        );
    }
    if ca.coin_gap_ms <= ca.glitch_ms {
        v.issue(
            "coin_acceptor.coin_gap_ms",
            "must be longer than coin_acceptor.glitch_ms",
        );
    }
}

/// `coin_acceptor.coins`: each coin its own pulse count and a value above zero.
fn coins(v: &mut Validator, ca: &RawCoinAcceptor) -> Vec<CoinValue> {
    let mut coins = Vec::new();
    let mut seen_pulses = HashMap::new();
    for (i, c) in ca.coins.iter().enumerate() {
        let path = format!("coin_acceptor.coins[{i}]");
        let pulses = match u32::try_from(c.pulses) {
            Ok(p @ 1..=100) => p,
            _ => {
                v.issue(
                    format!("{path}.pulses"),
                    format!("{} is not a pulse count from 1 to 100", c.pulses),
                );
                continue;
            }
        };
        if let Some(other) = seen_pulses.insert(pulses, i) {
            v.issue(
                format!("{path}.pulses"),
                format!(
                    "{pulses} pulses already means coin_acceptor.coins[{other}]: each coin needs its own count"
                ),
            );
        }
        match u64::try_from(c.cents) {
            Ok(cents @ 1..=MAX_AMOUNT_CENTS) => coins.push(CoinValue {
                pulses,
                value: Cents::new(cents),
            }),
            _ => v.issue(
                format!("{path}.cents"),
                format!(
                    "{} is not a coin value: use 1 to {MAX_AMOUNT_CENTS} cents",
                    c.cents
                ),
            ),
        }
    }
    if ca.coins.is_empty() {
        v.issue(
            "coin_acceptor.coins",
            "list at least one coin, e.g. { pulses = 1, cents = 10 }",
        );
    }
    coins
}

/// `[payout]`: the hopper, if fitted.
pub(super) fn payout(v: &mut Validator, raw: &RawFile, wiring: &mut Wiring) -> Option<PayoutSpec> {
    let p = raw.payout.as_ref()?;
    let pin = v.pin("payout.pin", p.pin);
    let coin = match u64::try_from(p.coin_cents) {
        Ok(c @ 1..=MAX_AMOUNT_CENTS) => Cents::new(c),
        _ => {
            v.issue(
                "payout.coin_cents",
                format!(
                    "{} is not a coin value: use 1 to {MAX_AMOUNT_CENTS} cents",
                    p.coin_cents
                ),
            );
            Cents::ZERO
        }
    };
    let pulse = v.ms("payout.pulse_ms", p.pulse_ms, 1..=5_000);
    let gap = v.ms("payout.gap_ms", p.gap_ms, 1..=5_000);
    let pin = pin?;
    wiring.payout = Some(OutputSpec {
        pin,
        polarity: polarity(p.active_low.unwrap_or(raw.outputs.active_low)),
    });
    Some(PayoutSpec { coin, pulse, gap })
}
