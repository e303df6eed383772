//! The script's payment commands, for the simulated MDB devices: `card 500` taps a card with
//! €5.00 to spend, `card deny` declines the next card vend, `card away` takes the card away,
//! `bill 500` feeds a bill, `coin 200` drops a coin into the changer (when coins come from
//! one), `tubes` shows what the changer holds.
//!
//! Each waits until the controller has seen what it did (a session, a credit, a bill handed
//! back), bounded: devices on a bus answer within a few poll cycles.

use std::time::{Duration, Instant};

use super::ParseError;
use crate::controller::Status;
use crate::kiosk::Kiosk;
use crate::mdb::sim::{SimBus, SimChanger, SimValidator};
use crate::money::Cents;

/// Something done at the card reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardAction {
    /// A card with this much to spend is tapped.
    Tap(Cents),
    /// The next card vend is declined.
    Deny,
    /// The card is taken away.
    Away,
}

/// The longest a command waits for the controller to see what it did.
const PATIENCE: Duration = Duration::from_secs(5);

/// `card CENTS`, `card deny`, `card away`.
pub(super) fn card_action(word: Option<&str>) -> Result<CardAction, ParseError> {
    match word {
        Some("deny" | "decline") => Ok(CardAction::Deny),
        Some("away" | "remove") => Ok(CardAction::Away),
        Some(n) => n
            .parse::<u64>()
            .ok()
            .filter(|c| *c <= 1_000_000)
            .map(|c| CardAction::Tap(Cents::new(c)))
            .ok_or_else(|| {
                ParseError(format!(
                    "`{n}` is not a card action: write `card CENTS` (up to 1000000), `card deny` \
                     or `card away`"
                ))
            }),
        None => Err(ParseError(
            "missing what to do: `card CENTS`, `card deny` or `card away`".into(),
        )),
    }
}

fn bus(kiosk: &Kiosk) -> Result<&std::sync::Mutex<SimBus>, String> {
    kiosk.mdb.as_deref().ok_or_else(|| {
        "this command drives the simulated MDB devices: set [payment] port = \"sim\" and the \
         device in machine.toml"
            .into()
    })
}

fn with_bus<T>(kiosk: &Kiosk, f: impl FnOnce(&mut SimBus) -> T) -> Result<T, String> {
    let bus = bus(kiosk)?;
    let mut guard = bus
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok(f(&mut guard))
}

/// Wait until `done` says the controller has seen the action (checked at each status change,
/// and at least every 10 ms for what only the simulated devices show).
async fn until(
    kiosk: &Kiosk,
    what: &str,
    mut done: impl FnMut(&Status, &mut SimBus) -> Option<String>,
) -> Result<String, String> {
    let mut status = kiosk.status.clone();
    let start = Instant::now();
    loop {
        let now = status.borrow_and_update().clone();
        if let Some(said) = with_bus(kiosk, |b| done(&now, b))? {
            return Ok(said);
        }
        if start.elapsed() > PATIENCE {
            return Err(format!(
                "{what}: nothing happened within {} s",
                PATIENCE.as_secs()
            ));
        }
        tokio::select! {
            _ = status.changed() => {}
            () = tokio::time::sleep(Duration::from_millis(10)) => {}
        }
    }
}

/// Tap, decline or take away a card.
pub(super) async fn card(kiosk: &Kiosk, action: CardAction) -> Result<String, String> {
    let no_reader = || "no card reader is fitted ([payment] cashless = \"mdb\")".to_string();
    match action {
        CardAction::Tap(funds) => {
            let tapped = with_bus(kiosk, |b| b.card.as_mut().map(|c| c.tap(funds.get())))?
                .ok_or_else(no_reader)?;
            if !tapped {
                return Err("the reader takes no card now (not up yet, or a card is there)".into());
            }
            until(kiosk, "card", |s, _| {
                s.card_session
                    .then(|| format!("card presented ({} to spend)", funds))
            })
            .await
        }
        CardAction::Deny => {
            with_bus(kiosk, |b| b.card.as_mut().map(|c| c.deny_next = true))?
                .ok_or_else(no_reader)?;
            Ok("the next card vend will be declined".into())
        }
        CardAction::Away => {
            with_bus(kiosk, |b| {
                b.card.as_mut().map(crate::mdb::sim::SimCard::walk_away)
            })?
            .ok_or_else(no_reader)?;
            until(kiosk, "card away", |s, _| {
                (!s.card_session).then(|| "the card is taken away".to_string())
            })
            .await
        }
    }
}

/// Feed a bill: it ends as credit, or handed back.
pub(super) async fn bill(kiosk: &Kiosk, value: Cents) -> Result<String, String> {
    let kind = SimValidator::kind_of(value.get())
        .ok_or_else(|| "the validator takes bills of 500, 1000, 2000 and 5000 cents".to_string())?;
    let credit = kiosk.status().credit;
    let (fed, returned) = with_bus(kiosk, |b| {
        b.validator
            .as_mut()
            .map(|v| (v.insert(kind), v.returned_value))
    })?
    .ok_or_else(|| "no bill validator is fitted ([payment] bills = \"mdb\")".to_string())?;
    if !fed {
        return Ok("the validator pushed the bill straight back (not taking bills now)".into());
    }
    until(kiosk, "bill", |s, b| {
        let back = b
            .validator
            .as_ref()
            .is_some_and(|v| v.returned_value > returned);
        if s.credit >= credit.saturating_add(value) {
            Some(format!("bill {value} taken: credit {}", s.credit))
        } else {
            back.then(|| format!("the bill {value} was handed back"))
        }
    })
    .await
}

/// Drop a coin into the changer.
pub(super) async fn coin(kiosk: &Kiosk, value: Cents) -> Result<String, String> {
    let kind = SimChanger::kind_of(value.get())
        .ok_or_else(|| "the changer takes coins of 5, 10, 20, 50, 100 and 200 cents".to_string())?;
    let credit = kiosk.status().credit;
    let taken = with_bus(kiosk, |b| b.changer.as_mut().map(|c| c.insert(kind)))?
        .ok_or_else(|| "no coin changer is fitted ([payment] coins = \"mdb\")".to_string())?;
    if !taken {
        return Ok("the coin fell through to the return cup (not taking coins now)".into());
    }
    until(kiosk, "coin", |s, _| {
        (s.credit >= credit.saturating_add(value)).then(String::new)
    })
    .await
}

/// What the changer's tubes hold.
pub(super) fn tubes(kiosk: &Kiosk) -> Result<String, String> {
    let cur = &kiosk.config.currency;
    with_bus(kiosk, |b| {
        b.changer.as_ref().map(|c| {
            format!(
                "tubes hold {} (paid out {}, taken {})",
                Cents::new(c.tube_value()).with_symbol(cur),
                Cents::new(c.paid_out).with_symbol(cur),
                Cents::new(c.taken).with_symbol(cur)
            )
        })
    })?
    .ok_or_else(|| "no coin changer is fitted ([payment] coins = \"mdb\")".to_string())
}
