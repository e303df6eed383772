//! The line commands that drive a kiosk from a terminal or a script: `press 1`, `coin 200`,
//! `door open`, `jam 2`, `wait 3000`, `quit`, and a few more (`help` lists them).
//!
//! Parsing is pure; [`execute`] acts on a running [`Kiosk`], and on the simulator waits until the
//! physical action (a press, a burst of coin pulses) has been seen by the controller, so that a
//! script's next line happens after the previous one took effect.

use std::fmt::Write as _;
use std::time::Duration;

use happiness_hardware::sim::{Fault, SimHandle};
use happiness_hardware::Timestamp;

use crate::config::CoinDevice;
use crate::controller::{Request, TestVendOutcome};
use crate::kiosk::Kiosk;
use crate::money::Cents;
use crate::vend::{ColumnId, Event};

/// One parsed command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptCommand {
    /// Press selection button N (1-based).
    Press(usize),
    /// Insert a coin worth this much.
    Coin(Cents),
    /// Press the coin-return button.
    CoinReturn,
    /// Open (true) or close the service door.
    Door(bool),
    /// Inject a fault; column and sensor numbers inside are 0-based.
    Fault(Fault),
    /// Restock column N (1-based) with more items in the simulated machine.
    Load {
        /// Column number (1-based).
        column: usize,
        /// Items to add.
        count: u32,
    },
    /// The operator fills column N (1-based), or every column, to capacity.
    Restock(Option<usize>),
    /// The operator puts a faulted column N (1-based) back in service.
    Reset(usize),
    /// The operator runs column N (1-based) through a service test vend.
    TestVend(usize),
    /// Wait this long.
    Wait(Duration),
    /// Take the items out of the tray.
    Take,
    /// Show the machine's status.
    Status,
    /// List the commands.
    Help,
    /// Stop the kiosk.
    Quit,
    /// Something done at the card reader.
    Card(payments::CardAction),
    /// Feed a bill worth this much to the bill validator.
    Bill(Cents),
    /// Show what the changer's tubes hold.
    Tubes,
}

/// Help text for the command language.
pub const HELP: &str = "\
commands (one per line; a bare number presses that button):
  press N          press selection button N
  coin CENTS       insert a coin worth CENTS (e.g. coin 200)
  return           press the coin-return button
  door open|close  open or close the service door
  jam N            jam the spiral of column N
  miss N           items from column N fall past the drop beam unseen
  hang N           the next item of column N hangs on the spiral until the next turn
  double N         the next turn of column N drops two items
  dead N           the motor driver of column N stops answering (on or off, it stays)
  fix N            clear the jam, miss, hang, double and dead-driver faults of column N
  empty N          column N is physically empty
  load N COUNT     put COUNT more items into column N (the controller is not told)
  restock [N]      the operator fills column N (or every column) and tells the controller
  reset N          the operator puts faulted column N back in service
  test N           the operator test-vends column N (no payment; booked as a test vend)
  card CENTS       tap a card with CENTS to spend (MDB card reader)
  card deny        the next card vend is declined
  card away        the card is taken away (the session ends)
  bill CENTS       feed a bill worth CENTS (MDB bill validator)
  tubes            what the MDB coin changer's tubes hold
  stuck on|off     the drop beam reads blocked, or recovers
  bounce on|off    switches bounce on every change
  take             take the items out of the tray
  wait MS          wait MS milliseconds
  status           show display, credit, lamps, stock and tray
  quit             stop (every motor off)";

/// A line that is not a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} (type `help` for the commands)")]
pub struct ParseError(String);

fn number<T: std::str::FromStr>(word: Option<&str>, what: &str) -> Result<T, ParseError> {
    let word = word.ok_or_else(|| ParseError(format!("missing {what}")))?;
    word.parse()
        .map_err(|_| ParseError(format!("`{word}` is not a valid {what}")))
}

fn on_off(word: Option<&str>) -> Result<bool, ParseError> {
    match word {
        Some("on") => Ok(true),
        Some("off") => Ok(false),
        other => Err(ParseError(format!(
            "expected `on` or `off`, got `{}`",
            other.unwrap_or("")
        ))),
    }
}

/// Column numbers in fault commands are 1-based for people, 0-based for the simulator.
fn column_index(word: Option<&str>) -> Result<u8, ParseError> {
    let n: usize = number(word, "column number")?;
    n.checked_sub(1)
        .and_then(|i| u8::try_from(i).ok())
        .ok_or_else(|| ParseError(format!("there is no column {n}")))
}

/// Parse one line. Blank lines and `#` comments give `Ok(None)`.
pub fn parse(line: &str) -> Result<Option<ScriptCommand>, ParseError> {
    let line = line.split('#').next().unwrap_or("").trim();
    let mut words = line.split_whitespace();
    let Some(verb) = words.next() else {
        return Ok(None);
    };
    let arg = words.next();
    let verb = verb.to_ascii_lowercase();
    // A word after a command that takes none is a mistake to name, not to ignore: `quit now`
    // is not `quit`, and `1 2` is not a press of 1.
    let takes_none = matches!(
        verb.as_str(),
        "return"
            | "coin-return"
            | "take"
            | "status"
            | "tubes"
            | "s"
            | "help"
            | "h"
            | "?"
            | "quit"
            | "exit"
            | "q"
    ) || verb.chars().all(|c| c.is_ascii_digit());
    if let (true, Some(extra)) = (takes_none, arg) {
        return Err(ParseError(format!(
            "`{verb}` takes nothing after it (got `{extra}`)"
        )));
    }
    let cmd = match verb.as_str() {
        "press" | "p" => ScriptCommand::Press(number(arg, "button number")?),
        v if v.chars().all(|c| c.is_ascii_digit()) => {
            ScriptCommand::Press(number(Some(v), "button number")?)
        }
        "coin" | "c" => ScriptCommand::Coin(Cents::new(number(arg, "coin value in cents")?)),
        "return" | "coin-return" => ScriptCommand::CoinReturn,
        "door" => match arg {
            Some("open") => ScriptCommand::Door(true),
            Some("close" | "closed" | "shut") => ScriptCommand::Door(false),
            other => {
                return Err(ParseError(format!(
                    "expected `door open` or `door close`, got `door {}`",
                    other.unwrap_or("")
                )))
            }
        },
        "jam" => ScriptCommand::Fault(Fault::Jam {
            column: column_index(arg)?,
        }),
        "fix" | "unjam" => ScriptCommand::Fault(Fault::Fix {
            column: column_index(arg)?,
        }),
        "miss" => ScriptCommand::Fault(Fault::MissBeam {
            column: column_index(arg)?,
        }),
        "hang" => ScriptCommand::Fault(Fault::Hang {
            column: column_index(arg)?,
        }),
        "double" => ScriptCommand::Fault(Fault::DoubleDrop {
            column: column_index(arg)?,
        }),
        "empty" => ScriptCommand::Fault(Fault::Empty {
            column: column_index(arg)?,
        }),
        "stuck" => ScriptCommand::Fault(Fault::StuckBeam {
            sensor: 0,
            stuck: on_off(arg)?,
        }),
        "bounce" => ScriptCommand::Fault(Fault::Bounce { on: on_off(arg)? }),
        "dead" => ScriptCommand::Fault(Fault::DeadDriver {
            column: column_index(arg)?,
        }),
        "load" => ScriptCommand::Load {
            column: number(arg, "column number")?,
            count: number(words.next(), "item count")?,
        },
        "wait" | "sleep" => {
            let ms: u64 = number(arg, "number of milliseconds")?;
            if ms > 3_600_000 {
                return Err(ParseError("wait at most 3600000 ms (an hour)".into()));
            }
            ScriptCommand::Wait(Duration::from_millis(ms))
        }
        "restock" => match arg {
            Some(a) => ScriptCommand::Restock(Some(number(Some(a), "column number")?)),
            None => ScriptCommand::Restock(None),
        },
        "reset" => ScriptCommand::Reset(number(arg, "column number")?),
        "test" | "test-vend" => ScriptCommand::TestVend(number(arg, "column number")?),
        "take" => ScriptCommand::Take,
        "card" => ScriptCommand::Card(payments::card_action(arg)?),
        "bill" => ScriptCommand::Bill(Cents::new(number(arg, "bill value in cents")?)),
        "tubes" => ScriptCommand::Tubes,
        "status" | "s" => ScriptCommand::Status,
        "help" | "h" | "?" => ScriptCommand::Help,
        "quit" | "exit" | "q" => ScriptCommand::Quit,
        other => return Err(ParseError(format!("unknown command `{other}`"))),
    };
    if let Some(extra) = words.next() {
        return Err(ParseError(format!(
            "unexpected `{extra}` after the command"
        )));
    }
    Ok(Some(cmd))
}

/// What the caller should do after a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Carry on; print this text if not empty.
    Continue(String),
    /// Stop the kiosk.
    Quit,
}

fn sim(kiosk: &Kiosk) -> Result<&SimHandle, String> {
    kiosk.sim.as_ref().ok_or_else(|| {
        "this command drives the simulated machine; on real hardware use the machine itself".into()
    })
}

async fn settle(kiosk: &Kiosk, until: Timestamp) {
    tokio::time::sleep_until(kiosk.clock.instant_at(until)).await;
}

/// Carry out a command on `kiosk`. Errors are messages for the person or script.
pub async fn execute(kiosk: &Kiosk, cmd: ScriptCommand) -> Result<Outcome, String> {
    let timing = &kiosk.config.input_timing;
    let margin = Duration::from_millis(5);
    match cmd {
        ScriptCommand::Press(n) => {
            let end = sim(kiosk)?.press(n).map_err(|e| e.to_string())?;
            settle(kiosk, end + timing.button_debounce + margin).await;
        }
        ScriptCommand::Coin(value) if kiosk.config.payments.coins == CoinDevice::Mdb => {
            return payments::coin(kiosk, value).await.map(Outcome::Continue);
        }
        ScriptCommand::Card(action) => {
            return payments::card(kiosk, action).await.map(Outcome::Continue)
        }
        ScriptCommand::Bill(value) => {
            return payments::bill(kiosk, value).await.map(Outcome::Continue)
        }
        ScriptCommand::Tubes => return payments::tubes(kiosk).map(Outcome::Continue),
        ScriptCommand::Coin(value) => {
            let pulses = pulses_for(kiosk, value)?;
            let end = sim(kiosk)?.insert_coin(pulses).map_err(|e| e.to_string())?;
            settle(kiosk, end + timing.coin_gap + margin).await;
        }
        ScriptCommand::CoinReturn => {
            let end = sim(kiosk)?.press_coin_return().map_err(|e| e.to_string())?;
            settle(kiosk, end + timing.button_debounce + margin).await;
        }
        ScriptCommand::Door(open) => {
            let end = sim(kiosk)?.set_door(open).map_err(|e| e.to_string())?;
            settle(kiosk, end + timing.door_debounce + margin).await;
        }
        ScriptCommand::Fault(fault) => sim(kiosk)?.inject(fault).map_err(|e| e.to_string())?,
        ScriptCommand::Load { column, count } => {
            sim(kiosk)?.load(column, count).map_err(|e| e.to_string())?
        }
        ScriptCommand::Restock(column) => restock(kiosk, column).await?,
        ScriptCommand::Reset(n) => {
            let column = ColumnId::from_number(n)
                .filter(|c| c.index() < kiosk.config.columns.len())
                .ok_or_else(|| format!("there is no column {n}"))?;
            kiosk
                .request(Event::ResetColumn { column })
                .await
                .map_err(|e| e.to_string())?;
        }
        ScriptCommand::TestVend(n) => return test_vend(kiosk, n).await.map(Outcome::Continue),
        ScriptCommand::Wait(d) => tokio::time::sleep(d).await,
        ScriptCommand::Take => return Ok(Outcome::Continue(take(kiosk)?)),
        ScriptCommand::Status => return Ok(Outcome::Continue(status_text(kiosk))),
        ScriptCommand::Help => return Ok(Outcome::Continue(help_text(kiosk))),
        ScriptCommand::Quit => return Ok(Outcome::Quit),
    }
    Ok(Outcome::Continue(String::new()))
}

/// Test-vend column `n` and say how it went, once it is over.
async fn test_vend(kiosk: &Kiosk, n: usize) -> Result<String, String> {
    let column = ColumnId::from_number(n)
        .filter(|c| c.index() < kiosk.config.columns.len())
        .ok_or_else(|| format!("there is no column {n}"))?;
    let (reply, answer) = tokio::sync::oneshot::channel();
    kiosk
        .send(Request::TestVend {
            column,
            source: "console".into(),
            reply,
        })
        .map_err(|e| e.to_string())?;
    match answer.await {
        Ok(Ok(TestVendOutcome::Delivered {
            product,
            fault: None,
        })) => Ok(format!(
            "column {n} tested: {product} dropped into the tray"
        )),
        Ok(Ok(TestVendOutcome::Delivered {
            product,
            fault: Some(fault),
        })) => Ok(format!(
            "column {n} tested: {product} dropped, but then FAILED ({fault}); it is out of \
             service until reset"
        )),
        Ok(Ok(TestVendOutcome::Failed { reason })) => Ok(format!(
            "column {n} tested: FAILED ({reason}); it is out of service until reset"
        )),
        Ok(Err(why)) => Err(format!("column {n} was not tested: {why}")),
        Err(_) => Err("the controller has stopped".into()),
    }
}

/// The pulses of the coin worth `value`, or which coins the machine does take.
fn pulses_for(kiosk: &Kiosk, value: Cents) -> Result<u32, String> {
    kiosk.config.pulses_for_coin(value).ok_or_else(|| {
        let known: Vec<String> = kiosk
            .config
            .coins
            .iter()
            .map(|c| c.value.get().to_string())
            .collect();
        format!(
            "this machine takes no coin worth {} cents (it takes {})",
            value.get(),
            if known.is_empty() {
                "no coins".to_string()
            } else {
                known.join(", ")
            }
        )
    })
}

/// Fill one column (or all) to capacity, in the simulated world too, and tell the controller.
async fn restock(kiosk: &Kiosk, column: Option<usize>) -> Result<(), String> {
    let machine = &kiosk.config;
    let columns: Vec<usize> = match column {
        Some(n) if (1..=machine.columns.len()).contains(&n) => vec![n],
        Some(n) => {
            return Err(format!(
                "there is no column {n} (this machine has {})",
                machine.columns.len()
            ))
        }
        None => (1..=machine.columns.len()).collect(),
    };
    if let Some(sim) = &kiosk.sim {
        for &n in &columns {
            let capacity = machine.columns[n - 1].capacity;
            let have = sim.stock(n).unwrap_or(0);
            sim.load(n, capacity.saturating_sub(have))
                .map_err(|e| e.to_string())?;
        }
    }
    let column = column.and_then(ColumnId::from_number);
    kiosk
        .request(Event::Restock { column })
        .await
        .map_err(|e| e.to_string())
}

/// Take what is in the tray, and say what it was.
fn take(kiosk: &Kiosk) -> Result<String, String> {
    let items = sim(kiosk)?.take_tray();
    Ok(if items.is_empty() {
        "the tray is empty".to_string()
    } else {
        let names: Vec<&str> = items.iter().map(|i| i.product.as_str()).collect();
        format!("you take: {}", names.join(", "))
    })
}

/// The commands, and the coins this machine takes.
pub fn help_text(kiosk: &Kiosk) -> String {
    let cur = &kiosk.config.currency;
    let coins: Vec<String> = kiosk
        .config
        .coins
        .iter()
        .map(|c| format!("{} ({})", c.value.get(), c.value.with_symbol(cur)))
        .collect();
    let coins = if kiosk.config.payments.coins == CoinDevice::Mdb {
        "coins go into the MDB changer, in cents: 5, 10, 20, 50, 100, 200".to_string()
    } else if coins.is_empty() {
        "this machine takes no coins (free vend)".to_string()
    } else {
        format!("coins this machine takes, in cents: {}", coins.join(", "))
    };
    format!("{HELP}\n{coins}")
}

/// What a customer at the machine sees right now, on one line: the display, the credit, the
/// tray and the lamps that are lit, in words.
pub fn customer_status(kiosk: &Kiosk) -> String {
    let status = kiosk.status();
    let cur = &kiosk.config.currency;
    let tray: Vec<String> = kiosk
        .sim
        .as_ref()
        .map(|sim| sim.tray().into_iter().map(|i| i.product).collect())
        .unwrap_or_default();
    let lit: Vec<String> = kiosk
        .config
        .lamps
        .iter()
        .filter(|role| status.lamps_on.contains(role))
        .map(|role| format!("{role:?}").to_lowercase())
        .collect();
    format!(
        "  display \"{}\" | credit {} | tray: {} | lamps lit: {}",
        status.display,
        status.credit.with_symbol(cur),
        if tray.is_empty() {
            "empty".to_string()
        } else {
            tray.join(", ")
        },
        if lit.is_empty() {
            "none".to_string()
        } else {
            lit.join(", ")
        }
    )
}

/// A few lines describing the machine now: display, credit, lamps, columns, tray.
pub fn status_text(kiosk: &Kiosk) -> String {
    let status = kiosk.status();
    let cur = &kiosk.config.currency;
    let mut out = String::new();
    let _ = writeln!(out, "  display: \"{}\"", status.display);
    let lamps: Vec<String> = kiosk
        .config
        .lamps
        .iter()
        .map(|role| {
            let lit = status.lamps_on.contains(role);
            format!("{}{:?}", if lit { "(*)" } else { "( )" }, role)
        })
        .collect();
    let _ = writeln!(
        out,
        "  credit: {}   door: {}   lamps: {}",
        status.credit.with_symbol(cur),
        if status.door_open { "OPEN" } else { "closed" },
        lamps.join(" ")
    );
    for c in &status.columns {
        let state = match c.status {
            crate::vend::ColumnStatus::InService => "",
            crate::vend::ColumnStatus::Faulted(_) => "  OUT OF SERVICE",
            crate::vend::ColumnStatus::Disabled => "  DISABLED",
        };
        let motor = if status.motor_on == Some(c.column) {
            "  [motor on]"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  [{}] {:<16} {:>8}  stock {}{state}{motor}",
            c.column,
            c.product,
            c.price.with_symbol(cur),
            c.stock
        );
    }
    if let Some(sim) = &kiosk.sim {
        let tray: Vec<String> = sim.tray().into_iter().map(|i| i.product).collect();
        let _ = write!(
            out,
            "  tray: {}",
            if tray.is_empty() {
                "empty".to_string()
            } else {
                tray.join(", ")
            }
        );
    }
    out
}

mod payments;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_commands() {
        assert_eq!(parse("press 1"), Ok(Some(ScriptCommand::Press(1))));
        assert_eq!(parse("  3 "), Ok(Some(ScriptCommand::Press(3))));
        assert_eq!(
            parse("coin 200"),
            Ok(Some(ScriptCommand::Coin(Cents::new(200))))
        );
        assert_eq!(parse("door open"), Ok(Some(ScriptCommand::Door(true))));
        assert_eq!(parse("DOOR close"), Ok(Some(ScriptCommand::Door(false))));
        assert_eq!(
            parse("jam 2"),
            Ok(Some(ScriptCommand::Fault(Fault::Jam { column: 1 })))
        );
        assert_eq!(
            parse("wait 3000"),
            Ok(Some(ScriptCommand::Wait(Duration::from_secs(3))))
        );
        assert_eq!(parse("quit"), Ok(Some(ScriptCommand::Quit)));
        for line in ["quit now", "status please", "take 2", "3 4", "return all"] {
            assert!(parse(line).is_err(), "{line}");
        }
        assert_eq!(
            parse("card 500"),
            Ok(Some(ScriptCommand::Card(payments::CardAction::Tap(
                Cents::new(500)
            ))))
        );
        assert_eq!(
            parse("card deny"),
            Ok(Some(ScriptCommand::Card(payments::CardAction::Deny)))
        );
        assert_eq!(
            parse("bill 1000"),
            Ok(Some(ScriptCommand::Bill(Cents::new(1000))))
        );
        assert_eq!(parse("tubes"), Ok(Some(ScriptCommand::Tubes)));
        assert!(parse("tubes 3").is_err());
        assert!(parse("card").is_err());
        assert!(parse("card -1").is_err());
        assert_eq!(parse("# just a comment"), Ok(None));
        assert_eq!(parse(""), Ok(None));
        assert_eq!(
            parse("load 2 5"),
            Ok(Some(ScriptCommand::Load {
                column: 2,
                count: 5
            }))
        );
    }

    #[test]
    fn bad_lines_get_clear_errors() {
        for (line, fragment) in [
            ("press", "missing button number"),
            ("press x", "`x` is not a valid button number"),
            ("coin -5", "not a valid coin value"),
            ("door ajar", "expected `door open`"),
            ("jam 0", "no column 0"),
            ("stuck maybe", "expected `on` or `off`"),
            ("dance", "unknown command `dance`"),
            ("press 1 2", "unexpected `2`"),
            ("wait 99999999999", "at most"),
            ("99999999999999999999999", "not a valid button number"),
        ] {
            let err = parse(line).expect_err(line).to_string();
            assert!(err.contains(fragment), "{line}: {err}");
            assert!(err.contains("help"), "{err}");
        }
    }
}
