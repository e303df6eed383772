//! The record of what the machine saw and did, one entry per event, command or simulator notice,
//! rendered as JSON lines (for scripts and tests) or as text (for people).
//!
//! This module only formats; the controller decides what is traced and the binary decides where
//! it goes.

use happiness_hardware::{InputEvent, Timestamp};
use serde::Serialize;

use crate::surprise::OfferKind;
use crate::vend::{ColumnId, Command, Event, Notice, Tender};

mod customer;
mod order;

pub use customer::customer_text;
pub use order::InOrder;

/// One entry of the trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TraceEntry {
    /// The controller is running.
    Ready {
        /// Machine name.
        machine: String,
        /// "sim" or "rpi".
        hardware: String,
    },
    /// The books passed their checks and the machine sells.
    Selling {
        /// Records whose seals were checked.
        records: u64,
        /// How long the checks took, in milliseconds.
        checked_ms: u64,
    },
    /// An event fed to the vend core.
    Event {
        /// The event.
        event: Event,
    },
    /// A hardware input that is not a vend event (e.g. a rejected coin pulse).
    Input {
        /// The input.
        input: InputEvent,
    },
    /// A command from the vend core.
    Command {
        /// The command.
        command: Command,
        /// For display commands, the text shown.
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    /// Something the simulated world did.
    Sim {
        /// What.
        notice: SimReport,
    },
    /// An operator changed something outside the vend core (a column's product or price, a
    /// config version): what, and who asked.
    Operator {
        /// What was done, in words.
        action: String,
    },
    /// An alert for the operator was raised or cleared.
    Alert {
        /// Raised (true) or cleared.
        raised: bool,
        /// The alert.
        alert: crate::alerts::Alert,
    },
    /// A hardware or script problem.
    Error {
        /// What went wrong.
        message: String,
    },
    /// What happened but could not be booked: the journal refused the step's record and the
    /// controller stopped. An operator sets the books right by hand from this.
    Unrecorded {
        /// The step's notices.
        notices: Vec<Notice>,
    },
    /// The controller stopped: every motor off, unless `motors_still_on` says otherwise.
    Stopped {
        /// Motors that were still running and were switched off by the stop.
        motors_stopped: Vec<ColumnId>,
        /// Motors that refused to switch off (their power must be cut by hand).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        motors_still_on: Vec<ColumnId>,
    },
}

/// Something the simulated world did, with columns numbered as people number them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SimReport {
    /// An item landed in the delivery tray.
    ItemInTray {
        /// The column it came from.
        column: ColumnId,
        /// Product name.
        product: String,
    },
    /// A motor turned on a jammed spiral.
    MotorStalled {
        /// The column.
        column: ColumnId,
    },
    /// The hopper dropped a coin into the return cup.
    CoinPaidOut,
    /// The inhibited acceptor handed a coin back.
    CoinReturnedByAcceptor {
        /// Its pulses (what it is worth).
        pulses: u32,
    },
}

/// A trace entry with its time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceRecord {
    /// Milliseconds since the controller started (with microsecond precision).
    pub t_ms: f64,
    /// The entry.
    #[serde(flatten)]
    pub entry: TraceEntry,
}

/// An alert raised (with what to do) or cleared, for the log.
fn alert_text(raised: bool, alert: &crate::alerts::Alert) -> String {
    if raised {
        format!("alert   {} {}", alert.text, alert.action)
    } else {
        format!("alert   cleared: {}", alert.text)
    }
}

impl TraceRecord {
    /// A record of `entry` at `at`.
    pub fn new(at: Timestamp, entry: TraceEntry) -> Self {
        // Precision loss only beyond 2^53 microseconds (285 years of uptime).
        #[allow(clippy::cast_precision_loss)]
        let t_ms = at.as_micros() as f64 / 1000.0;
        TraceRecord { t_ms, entry }
    }

    /// One JSON object, no newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!("{{\"type\":\"error\",\"message\":\"cannot encode trace: {e}\"}}")
        })
    }

    /// One line for people; `currency` goes before amounts.
    pub fn to_text(&self, currency: &str) -> String {
        let body = match &self.entry {
            TraceEntry::Ready { machine, hardware } => {
                format!("ready: {machine} on {hardware} hardware")
            }
            TraceEntry::Selling {
                records,
                checked_ms,
            } => format!(
                "selling: the books passed their checks ({records} records in {checked_ms} ms)"
            ),
            TraceEntry::Event { event } => format!("event   {}", describe_event(event, currency)),
            TraceEntry::Input { input } => format!("input   {input:?}"),
            TraceEntry::Command { command, text } => match (command, text) {
                (Command::Display(_), Some(text)) => format!("display \"{text}\""),
                (Command::Motor { column, on }, _) => {
                    format!("motor   column {column} {}", if *on { "ON" } else { "off" })
                }
                (Command::Lamp { role, on }, _) => {
                    format!("lamp    {role:?} {}", if *on { "on" } else { "off" })
                }
                (Command::Notice(n), _) => format!("notice  {}", describe_notice(n, currency)),
                (Command::CoinInhibit { on }, _) => {
                    format!(
                        "coins   {}",
                        if *on {
                            "REFUSED (acceptor inhibited)"
                        } else {
                            "accepted"
                        }
                    )
                }
                (Command::Payout { on }, _) => {
                    format!("payout  {}", if *on { "pulse" } else { "end of pulse" })
                }
                (
                    Command::Show {
                        pattern,
                        duration_ms,
                    },
                    _,
                ) => format!("show    \"{pattern}\" for {duration_ms} ms"),
                (other, _) => format!("{other:?}"),
            },
            TraceEntry::Sim { notice } => match notice {
                SimReport::ItemInTray { column, product } => {
                    format!("tray    {product} (column {column}) is in the tray")
                }
                SimReport::MotorStalled { column } => {
                    format!("sim     column {column} spiral is jammed")
                }
                SimReport::CoinPaidOut => "cup     a coin drops into the return cup".into(),
                SimReport::CoinReturnedByAcceptor { pulses } => {
                    format!("cup     the inhibited acceptor hands a coin back ({pulses} pulses)")
                }
            },
            TraceEntry::Operator { action } => format!("operator {action}"),
            TraceEntry::Alert { raised, alert } => alert_text(*raised, alert),
            TraceEntry::Error { message } => format!("error   {message}"),
            TraceEntry::Unrecorded { notices } => {
                let list: Vec<String> = notices
                    .iter()
                    .map(|n| describe_notice(n, currency))
                    .collect();
                format!(
                    "NOT RECORDED (the books could not be written): {}",
                    list.join("; ")
                )
            }
            TraceEntry::Stopped {
                motors_still_on, ..
            } if !motors_still_on.is_empty() => {
                let list: Vec<String> = motors_still_on.iter().map(ToString::to_string).collect();
                format!(
                    "stopped: the motor of column {} did NOT switch off: cut the machine's power",
                    list.join(", ")
                )
            }
            TraceEntry::Stopped { motors_stopped, .. } if motors_stopped.is_empty() => {
                "stopped: every motor is off".into()
            }
            TraceEntry::Stopped { motors_stopped, .. } => {
                let list: Vec<String> = motors_stopped.iter().map(ToString::to_string).collect();
                format!(
                    "stopped: every motor is off (switched off column {})",
                    list.join(", ")
                )
            }
        };
        format!("[{:>9.3}s] {body}", self.t_ms / 1000.0)
    }
}

fn describe_event(event: &Event, currency: &str) -> String {
    match event {
        Event::Select { column } => format!("customer selects column {column}"),
        Event::Coin { value } => format!("coin {}", value.with_symbol(currency)),
        Event::UnknownCoin { pulses } => format!("unknown coin ({pulses} pulses)"),
        Event::CoinReturn => "coin return pressed".into(),
        Event::Drop { sensor } => format!("drop sensor {} sees an item", sensor + 1),
        Event::SensorStuck { sensor } => format!("drop sensor {} is stuck", sensor + 1),
        Event::SensorCleared { sensor } => format!("drop sensor {} is clear", sensor + 1),
        Event::Home { column } => format!("column {column} is home"),
        Event::Door { open: true } => "service door opened".into(),
        Event::Door { open: false } => "service door closed".into(),
        Event::Restock { column: Some(c) } => format!("operator restocks column {c}"),
        Event::Restock { column: None } => "operator restocks every column".into(),
        Event::Load { column, count } => format!("operator loads {count} into column {column}"),
        Event::ResetColumn { column } => format!("operator puts column {column} back in service"),
        Event::DisableColumn { column } => format!("operator takes column {column} out of service"),
        Event::Storage { full: true } => "the books' disk is full".into(),
        Event::Storage { full: false } => "the books' disk has room again".into(),
        Event::TestVend { column } => format!("operator tests column {column}"),
        Event::Unhappy => "customer answers: not happy".into(),
        Event::CardReader { ready: true } => "the card reader is up".into(),
        Event::CardReader { ready: false } => "the card reader is down".into(),
        Event::CardSession { funds: Some(f) } => {
            format!(
                "a card is presented ({} available)",
                f.with_symbol(currency)
            )
        }
        Event::CardSession { funds: None } => "a card is presented".into(),
        Event::CardApproved { amount } => {
            format!("the reader approves {}", amount.with_symbol(currency))
        }
        Event::CardDenied => "the reader declines the card".into(),
        Event::CardSessionEnded => "the card session ends".into(),
        Event::Changer { ready: true } => "the coin changer is up".into(),
        Event::Changer { ready: false } => "the coin changer is down".into(),
        Event::ChangePaid { paid, owed } if *owed == crate::money::Cents::ZERO => {
            format!("the changer paid {}", paid.with_symbol(currency))
        }
        Event::ChangePaid { paid, owed } => format!(
            "the changer paid {} and could not pay {}",
            paid.with_symbol(currency),
            owed.with_symbol(currency)
        ),
    }
}

fn describe_notice(notice: &Notice, currency: &str) -> String {
    let m = |c: &crate::money::Cents| c.with_symbol(currency);
    match notice {
        Notice::CreditIn { amount, credit } => {
            format!("credit +{} = {}", m(amount), m(credit))
        }
        Notice::Storage { full: true } => {
            "STORAGE FULL: no money taken, no vend started, credit kept".into()
        }
        Notice::Storage { full: false } => "storage has room again: selling".into(),
        Notice::VendStarted {
            column,
            product,
            price,
            tender,
        } => format!(
            "vend started: {product} from column {column} for {} ({})",
            m(price),
            tender.name()
        ),
        Notice::VendDelivered {
            column, product, ..
        } => format!("DELIVERED {product} from column {column}"),
        Notice::VendFailed {
            column,
            product,
            refunded,
            reason,
            tender: Tender::Cash,
        } => format!(
            "vend FAILED: {product} from column {column} ({reason}); {} back to credit",
            m(refunded)
        ),
        Notice::VendFailed {
            column,
            product,
            refunded,
            reason,
            tender: Tender::Card,
        } => format!(
            "vend FAILED: {product} from column {column} ({reason}); the card is not charged {}",
            m(refunded)
        ),
        Notice::ColumnFaulted { column, reason } => {
            format!("column {column} out of service: {reason}")
        }
        Notice::MotorRun { column, attempt: 1 } => format!("motor run on column {column}"),
        Notice::MotorRun { column, attempt } => {
            format!("nudge {} on column {column}", attempt - 1)
        }
        Notice::UnknownCoin { pulses } => {
            format!("UNKNOWN COIN ({pulses} pulses): money in the cash box but not in any credit")
        }
        Notice::Refused { column, reason } => format!("column {column} refused: {reason:?}"),
        Notice::SensorFault {
            sensor,
            stuck: true,
        } => {
            format!(
                "drop sensor {} is STUCK: its columns stop selling",
                sensor + 1
            )
        }
        Notice::SensorFault {
            sensor,
            stuck: false,
        } => format!("drop sensor {} works again", sensor + 1),
        Notice::UnexpectedDrop { sensor } => {
            format!("drop sensor {} saw an item nobody paid for", sensor + 1)
        }
        Notice::Door { open } => format!("door {}", if *open { "open" } else { "closed" }),
        Notice::CreditKept { credit } => format!("credit {} kept (no payout device)", m(credit)),
        Notice::PayoutStarted { coins, amount } => {
            format!("paying back {} in {coins} coins", m(amount))
        }
        Notice::CoinPaidOut { amount, credit } => {
            format!("paid out {}; credit {}", m(amount), m(credit))
        }
        Notice::PayoutFinished { coins, credit } => {
            format!("payout done: {coins} coins; credit {}", m(credit))
        }
        Notice::Restocked { column, stock } => format!("column {column} restocked to {stock}"),
        Notice::ColumnReset { column } => format!("column {column} back in service"),
        Notice::ColumnDisabled { column } => format!("column {column} taken out of service"),
        Notice::SurpriseItemStarted { column, product } => {
            format!("surprise item: {product} from column {column}")
        }
        Notice::SurpriseAwarded {
            name, cost, items, ..
        } => {
            let count: u32 = items.iter().map(|(_, n)| n).sum();
            format!("SURPRISE \"{name}\" ({count} items, costs {})", m(cost))
        }
        Notice::SurpriseItemDelivered { column, product } => {
            format!("surprise item delivered: {product} from column {column}")
        }
        Notice::TestVendStarted {
            column, product, ..
        } => format!("TEST vend started: {product} from column {column}, nothing paid"),
        Notice::TestVendDelivered { column, product } => {
            format!("TEST vend delivered {product} from column {column}")
        }
        Notice::TestVendFailed { column, reason } => {
            format!("TEST vend from column {column} FAILED ({reason})")
        }
        Notice::SurpriseItemFailed { column, reason } => {
            format!("surprise item from column {column} FAILED ({reason})")
        }
        Notice::SurpriseCompleted {
            name,
            planned,
            delivered,
            partial,
        } => format!(
            "surprise \"{name}\" done: {delivered} of {planned} items{}",
            if *partial { " (PARTIAL)" } else { "" }
        ),
        Notice::RecoveryOffered { .. }
        | Notice::RecoveryTaken { .. }
        | Notice::RecoveryLapsed { .. } => describe_recovery(notice, currency),
    }
}

/// The log's words for making a failure right.
fn describe_recovery(notice: &Notice, currency: &str) -> String {
    match notice {
        Notice::RecoveryOffered {
            column,
            trigger,
            offer: OfferKind::FreeItem,
            columns,
            allowance,
            expires_s,
        } => {
            let list: Vec<String> = columns.iter().map(ToString::to_string).collect();
            format!(
                "MAKE IT RIGHT ({}, column {column}): free choice of column {} (up to {}) for {expires_s} s",
                trigger.as_str(),
                list.join(", "),
                allowance.with_symbol(currency)
            )
        }
        Notice::RecoveryOffered {
            column, trigger, ..
        } => format!(
            "MAKE IT RIGHT ({}, column {column}): an apology",
            trigger.as_str()
        ),
        Notice::RecoveryTaken {
            column,
            product,
            value,
        } => format!(
            "free {product} from column {column} to make it right (worth {})",
            value.with_symbol(currency)
        ),
        Notice::RecoveryLapsed { why } => format!("the free choice lapsed ({})", why.as_str()),
        _ => String::new(),
    }
}

/// The display text of a command, if it is a display command.
pub fn display_text(command: &Command, currency: &str) -> Option<String> {
    match command {
        Command::Display(screen) => Some(crate::display::text(screen, currency)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Cents;
    use crate::vend::Screen;

    #[test]
    fn json_lines_carry_type_time_and_payload() {
        let record = TraceRecord::new(
            Timestamp::from_micros(1_500_250),
            TraceEntry::Command {
                command: Command::Display(Screen::Enjoy {
                    product: "Cola".into(),
                }),
                text: Some("Enjoy your Cola!".into()),
            },
        );
        let v: serde_json::Value = serde_json::from_str(&record.to_json()).expect("json");
        assert_eq!(v["type"], "command");
        assert_eq!(v["t_ms"], 1500.25);
        assert_eq!(v["command"]["command"], "display");
        assert_eq!(v["command"]["screen"], "enjoy");
        assert_eq!(v["text"], "Enjoy your Cola!");

        let column = ColumnId::from_number(2).expect("column");
        let record = TraceRecord::new(
            Timestamp::ZERO,
            TraceEntry::Command {
                command: Command::Notice(Notice::VendDelivered {
                    tender: crate::vend::Tender::Cash,
                    column,
                    product: "Cola".into(),
                    price: Cents::new(150),
                }),
                text: None,
            },
        );
        let v: serde_json::Value = serde_json::from_str(&record.to_json()).expect("json");
        assert_eq!(v["command"]["notice"], "vend_delivered");
        assert_eq!(v["command"]["column"], 2);
        assert_eq!(v["command"]["price"], 150);
        assert!(record.to_text("€").contains("DELIVERED Cola from column 2"));
    }
}
