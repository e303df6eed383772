//! The fleet table: every machine seen on the broker, from its retained state and its events.
//! Pure: fed messages, asked for rows, text or JSON.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::protocol::{split_topic, MachineState};
use crate::money::Cents;

/// One machine as the fleet sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Fleet id.
    pub id: String,
    /// Connected now (its last state said so, and no last will came since).
    pub online: bool,
    /// Its name.
    pub name: String,
    /// Currency symbol.
    pub currency: String,
    /// The last paid sale, local time.
    pub last_sale: Option<String>,
    /// Paid items today.
    pub sales_today: u64,
    /// Their value, minor unit.
    pub sales_value_today: u64,
    /// Surprises today.
    pub surprises_today: u64,
    /// Their cost, minor unit.
    pub surprise_cost_today: u64,
    /// Open alerts.
    pub alerts: Vec<String>,
    /// Faulted columns: `2 (jammed)`.
    pub faults: Vec<String>,
    /// Why it does not sell, if it does not.
    pub out_of_service: Option<String>,
    /// The surprise config version in force.
    pub surprise_version: Option<i64>,
    /// Events received from it (this view's count).
    pub events: u64,
    /// The last event's sequence number.
    pub last_seq: Option<u64>,
    /// Records it has not yet had acknowledged.
    pub outbox: u64,
}

/// Every machine seen.
#[derive(Debug, Default)]
pub struct FleetView {
    machines: BTreeMap<String, (Option<MachineState>, u64, Option<u64>)>,
    dropped: u64,
}

impl FleetView {
    /// A new, empty table.
    pub fn new() -> FleetView {
        FleetView::default()
    }

    /// Take in one message from the broker. Returns whether the table changed.
    pub fn on_message(&mut self, topic: &str, payload: &[u8]) -> bool {
        // Dropped before it is parsed or makes a row: every other machine's row stays.
        if super::mqtt::too_large(topic, payload.len()) {
            self.dropped += 1;
            return false;
        }
        let Some((id, leaf)) = split_topic(topic) else {
            return false;
        };
        let entry = self
            .machines
            .entry(id.to_string())
            .or_insert((None, 0, None));
        match leaf {
            "state" => {
                // A state that cannot be read is the machine's problem, not the table's: the
                // last good one stays.
                let Ok(state) = serde_json::from_slice::<MachineState>(payload) else {
                    return false;
                };
                entry.0 = Some(state);
                true
            }
            "events" => {
                let seq = serde_json::from_slice::<Value>(payload)
                    .ok()
                    .and_then(|v| v["seq"].as_u64());
                entry.1 += 1;
                if seq.is_some() {
                    entry.2 = entry.2.max(seq);
                }
                true
            }
            _ => false,
        }
    }

    /// Messages dropped unread for their size.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The ids of every machine seen, and whether each is online.
    pub fn machines(&self) -> Vec<(String, bool)> {
        self.rows().into_iter().map(|r| (r.id, r.online)).collect()
    }

    /// The table's rows, by id.
    pub fn rows(&self) -> Vec<Row> {
        self.machines
            .iter()
            .map(|(id, (state, events, last_seq))| {
                let s = state.as_ref();
                Row {
                    id: id.clone(),
                    online: s.is_some_and(|s| s.online),
                    name: s.map(|s| s.name.clone()).unwrap_or_default(),
                    currency: s.map(|s| s.currency.clone()).unwrap_or_default(),
                    last_sale: s.and_then(|s| s.today.last_sale.clone()),
                    sales_today: s.map_or(0, |s| s.today.sales),
                    sales_value_today: s.map_or(0, |s| s.today.sales_value),
                    surprises_today: s.map_or(0, |s| s.today.surprises),
                    surprise_cost_today: s.map_or(0, |s| s.today.surprise_cost),
                    alerts: s.map_or_else(Vec::new, |s| {
                        s.alerts.iter().map(|a| a.text.clone()).collect()
                    }),
                    faults: s.map_or_else(Vec::new, |s| {
                        (s.columns.iter())
                            .filter(|c| c.status == "faulted")
                            .map(|c| match &c.reason {
                                Some(r) => format!("{} ({r})", c.column),
                                None => c.column.to_string(),
                            })
                            .collect()
                    }),
                    out_of_service: s.and_then(|s| s.out_of_service.clone()),
                    surprise_version: s.and_then(|s| s.surprise_version),
                    events: *events,
                    last_seq: *last_seq,
                    outbox: s.map_or(0, |s| s.outbox),
                }
            })
            .collect()
    }

    /// The table as text, one line per machine.
    pub fn to_text(&self) -> String {
        let head = [
            "MACHINE",
            "ONLINE",
            "LAST SALE",
            "SALES TODAY",
            "SURPRISES TODAY",
            "ALERTS",
            "FAULTS",
        ];
        let rows: Vec<[String; 7]> = self
            .rows()
            .into_iter()
            .map(|r| {
                let money = |v: u64| Cents::new(v).with_symbol(&r.currency);
                // A machine known only by its last will has no figures to show.
                let known = !r.name.is_empty() || r.sales_today > 0;
                let figure = |n: u64, v: u64| {
                    if known {
                        format!("{n} {}", money(v))
                    } else {
                        "-".to_string()
                    }
                };
                [
                    r.id.clone(),
                    if r.online { "yes" } else { "no" }.to_string(),
                    r.last_sale.clone().unwrap_or_else(|| "-".into()),
                    figure(r.sales_today, r.sales_value_today),
                    figure(r.surprises_today, r.surprise_cost_today),
                    r.alerts.len().to_string(),
                    if r.faults.is_empty() {
                        "-".to_string()
                    } else {
                        r.faults.join(", ")
                    },
                ]
            })
            .collect();
        let mut widths = head.map(|h| h.chars().count());
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: Vec<&str>| {
            let mut out = String::new();
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if i + 1 == cells.len() {
                    out.push_str(cell);
                } else {
                    out.push_str(&format!("{cell:<w$}  "));
                }
            }
            out.trim_end().to_string() + "\n"
        };
        let mut text = line(head.to_vec());
        for row in &rows {
            text.push_str(&line(row.iter().map(String::as_str).collect()));
        }
        if rows.is_empty() {
            text.push_str("(no machine has reported yet)\n");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(id: &str, online: bool, sales: u64) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "id": id, "online": online, "name": "Lobby", "currency": "€",
            "columns": [{"column": 2, "product": "Cola", "price": 150, "stock": 0,
                         "capacity": 8, "status": "faulted", "reason": "jammed"}],
            "alerts": [{"kind": "column_fault", "severity": "critical", "text": "Column 2 jammed"}],
            "today": {"sales": sales, "sales_value": sales * 150, "surprises": 1,
                      "surprise_cost": 90, "last_sale": "2026-11-28 09:15:00"},
        }))
        .expect("json")
    }

    #[test]
    fn the_table_follows_states_and_last_wills() {
        let mut v = FleetView::new();
        assert!(v.on_message("happiness/b/state", &state("b", true, 3)));
        assert!(v.on_message("happiness/a/state", &state("a", true, 1)));
        assert!(v.on_message("happiness/a/events", br#"{"seq": 7}"#));
        assert!(
            !v.on_message("happiness/a/state", b"garbage"),
            "a bad state is ignored"
        );
        assert!(!v.on_message("elsewhere/a/state", &state("a", true, 1)));
        let rows = v.rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].id.as_str(), rows[0].events, rows[0].last_seq),
            ("a", 1, Some(7))
        );
        assert_eq!(rows[1].faults, ["2 (jammed)"]);
        assert!(v.on_message("happiness/b/state", br#"{"id": "b", "online": false}"#));
        assert_eq!(
            v.machines(),
            [("a".to_string(), true), ("b".to_string(), false)]
        );
        let text = v.to_text();
        assert!(text.starts_with("MACHINE"), "{text}");
        assert!(text.contains("1 €1.50"), "{text}");
        assert!(
            text.lines()
                .nth(2)
                .is_some_and(|l| l.starts_with("b ") && l.contains(" no ")),
            "{text}"
        );
        assert!(v.on_message("happiness/c/state", br#"{"id": "c", "online": false}"#));
        let c = v.to_text().lines().nth(3).unwrap_or_default().to_string();
        assert!(
            c.starts_with("c ") && !c.contains("0.00"),
            "only a last will: no figures: {c}"
        );
    }
}
