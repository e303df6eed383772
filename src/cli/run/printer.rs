//! `run`'s printer: the trace on stdout in time order, in the format asked for, above the
//! prompt at a terminal; a closed stdout is no reason to stop the machine.

use std::io::Write;

use happiness::trace::{customer_text, InOrder, TraceRecord};
use tokio::sync::mpsc;

use super::super::terminal;
use super::EventsFormat;

/// Print the trace in `format`, in time order: records are held until nothing earlier can still
/// come (100 ms of trace time later, or 50 ms of quiet). At a terminal the lines go above the
/// prompt through `printer`.
pub async fn print_trace(
    mut rx: mpsc::UnboundedReceiver<TraceRecord>,
    format: EventsFormat,
    currency: String,
    mut printer: Option<terminal::Printer>,
) {
    const WINDOW_MS: f64 = 100.0;
    const QUIET: std::time::Duration = std::time::Duration::from_millis(50);
    let mut order = InOrder::default();
    let mut open = true;
    while open || !order.is_empty() {
        let ready = if !open {
            order.drain()
        } else {
            // With nothing held back there is nothing to flush on a quiet spell: wait for the
            // next record without a timer, so that an idle kiosk does not wake up.
            let next = if order.is_empty() {
                Ok(rx.recv().await)
            } else {
                tokio::time::timeout(QUIET, rx.recv()).await
            };
            match next {
                Ok(Some(record)) => {
                    order.push(record);
                    order.ready(WINDOW_MS)
                }
                Ok(None) => {
                    open = false;
                    order.drain()
                }
                Err(_) => order.drain(),
            }
        };
        for record in ready {
            let line = match format {
                EventsFormat::Json => record.to_json(),
                EventsFormat::Text => record.to_text(&currency),
                EventsFormat::Customer => match customer_text(&record, &currency) {
                    Some(line) => line,
                    None => continue,
                },
                EventsFormat::None => continue,
            };
            print_line(line, &mut printer);
        }
    }
}

fn print_line(line: String, printer: &mut Option<terminal::Printer>) {
    if let Some(p) = printer {
        if p.print(format!("{line}\n")).is_ok() {
            return;
        }
    }
    let mut out = std::io::stdout().lock();
    // stdout gone (closed pipe) is not a reason to stop the machine.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
