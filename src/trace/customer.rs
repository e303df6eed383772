//! The trace as a customer at the machine would tell it: what the display says, what lands in
//! the tray, money coming and going, surprises. Motors, lamps and sensors stay out of it (the
//! full trace has them).

use super::{SimReport, TraceEntry, TraceRecord};
use crate::vend::{Command, Notice};

/// The line a customer would notice for `record`, if any; `currency` goes before amounts.
pub fn customer_text(record: &TraceRecord, currency: &str) -> Option<String> {
    let m = |c: &crate::money::Cents| c.with_symbol(currency);
    let body = match &record.entry {
        TraceEntry::Ready { machine, .. } => format!("{machine} is ready"),
        TraceEntry::Command {
            command: Command::Display(_),
            text: Some(text),
        } => format!("display: {text}"),
        TraceEntry::Command {
            command: Command::Notice(notice),
            ..
        } => match notice {
            Notice::CreditIn { amount, credit } => {
                format!("coin {} accepted: credit {}", m(amount), m(credit))
            }
            Notice::VendFailed {
                product, refunded, ..
            } => format!(
                "{product} was not delivered: {} back in credit",
                m(refunded)
            ),
            Notice::ColumnFaulted { column, .. } => format!("column {column} is out of order"),
            Notice::SurpriseAwarded { name, .. } => format!("SURPRISE: {name}!"),
            Notice::PayoutStarted { amount, .. } => format!("returning {}", m(amount)),
            Notice::CreditKept { credit } => {
                format!("credit {} kept for the next choice", m(credit))
            }
            Notice::Door { open } => {
                format!("service door {}", if *open { "opened" } else { "closed" })
            }
            _ => return None,
        },
        TraceEntry::Sim {
            notice: SimReport::ItemInTray { product, .. },
        } => format!("tray: a {product} drops into the tray"),
        TraceEntry::Sim {
            notice: SimReport::CoinPaidOut,
        } => "cup: a coin drops into the return cup".into(),
        TraceEntry::Sim {
            notice: SimReport::CoinReturnedByAcceptor { .. },
        } => "cup: the acceptor hands the coin back".into(),
        TraceEntry::Error { message } => format!("error: {message}"),
        TraceEntry::Stopped { .. } => "the machine has stopped".into(),
        _ => return None,
    };
    Some(format!("[{:>7.1}s] {body}", record.t_ms / 1000.0))
}
