//! Prometheus metrics: counters fed from the vend core's notices, exposed by `GET /metrics` in the
//! OpenMetrics text format (which Prometheus scrapes natively).
//!
//! Only counting lives here; the controller calls [`Metrics::observe`] for every notice it books.

use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::surprise::KindName;
use crate::vend::{Notice, Refusal};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Fault {
    column: String,
    kind: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Kind {
    kind: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Answer {
    answer: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Offer {
    trigger: String,
    offer: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: String,
}

/// The machine's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    paid: Counter,
    outcomes: Family<Outcome, Counter>,
    test_vends: Family<Outcome, Counter>,
    refused: Family<Reason, Counter>,
    faults: Family<Fault, Counter>,
    surprises: Family<Kind, Counter>,
    surprise_value: Counter,
    recovery_offers: Family<Offer, Counter>,
    recovery_items: Counter,
    recovery_value: Counter,
    sales: Counter,
    card_sales: Counter,
    promise_kept: Gauge<f64, AtomicU64>,
    reload_errors: Counter,
    fleet_dropped: Counter,
    feedback: Family<Answer, Counter>,
    credit: Gauge,
    storage_free: Gauge,
    storage_full: Gauge,
    out_of_service: Gauge,
    alerts: Family<Kind, Gauge>,
    delivered: AtomicU64,
    started: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn kind_label(kind: KindName) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl Metrics {
    /// Metrics registered under the `happiness_` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("happiness");
        let m = Metrics {
            registry: Registry::default(),
            paid: Counter::default(),
            outcomes: Family::default(),
            test_vends: Family::default(),
            refused: Family::default(),
            faults: Family::default(),
            surprises: Family::default(),
            surprise_value: Counter::default(),
            recovery_offers: Family::default(),
            recovery_items: Counter::default(),
            recovery_value: Counter::default(),
            sales: Counter::default(),
            card_sales: Counter::default(),
            promise_kept: Gauge::default(),
            reload_errors: Counter::default(),
            fleet_dropped: Counter::default(),
            feedback: Family::default(),
            credit: Gauge::default(),
            storage_free: Gauge::default(),
            storage_full: Gauge::default(),
            out_of_service: Gauge::default(),
            alerts: Family::default(),
            delivered: AtomicU64::new(0),
            started: AtomicU64::new(0),
        };
        m.register_sales(&mut registry);
        m.register_machine(&mut registry);
        Metrics { registry, ..m }
    }

    /// Sales, refusals, surprises and what customers said.
    fn register_sales(&self, registry: &mut Registry) {
        registry.register("paid_vends", "Paid vends started", self.paid.clone());
        registry.register(
            "vends",
            "Paid vends by outcome (delivered, refunded)",
            self.outcomes.clone(),
        );
        registry.register(
            "test_vends",
            "Service test vends by outcome (delivered, failed): never sales",
            self.test_vends.clone(),
        );
        registry.register(
            "refusals",
            "Selections refused, by reason",
            self.refused.clone(),
        );
        registry.register(
            "surprises",
            "Surprises awarded, by kind",
            self.surprises.clone(),
        );
        registry.register(
            "surprise_value_cents",
            "Operator cost of surprises awarded, in cents",
            self.surprise_value.clone(),
        );
        registry.register(
            "recovery_offers",
            "Offers to make a failure right, by what went wrong and what was offered",
            self.recovery_offers.clone(),
        );
        registry.register(
            "recovery_items",
            "Free items given to make a failure right (not surprises)",
            self.recovery_items.clone(),
        );
        registry.register(
            "recovery_value_cents",
            "Value (price) of the free items given to make failures right, in cents",
            self.recovery_value.clone(),
        );
        registry.register(
            "sales_cents",
            "Sales of delivered paid items, in cents",
            self.sales.clone(),
        );
        registry.register(
            "card_sales_cents",
            "Sales of delivered paid items charged to cards (part of sales_cents), in cents",
            self.card_sales.clone(),
        );
        registry.register(
            "promise_kept_ratio",
            "Delivered paid vends divided by paid vends started",
            self.promise_kept.clone(),
        );
        registry.register(
            "feedback",
            "Answers to \"how was it?\" on the kiosk page",
            self.feedback.clone(),
        );
    }

    /// Faults, config errors, credit held, the books' disk and service state.
    fn register_machine(&self, registry: &mut Registry) {
        registry.register("faults", "Faults by column and kind", self.faults.clone());
        registry.register(
            "config_reload_errors",
            "Config changes refused because they were invalid",
            self.reload_errors.clone(),
        );
        registry.register(
            "fleet_messages_dropped",
            "Messages from the fleet's broker dropped unread because they were too large",
            self.fleet_dropped.clone(),
        );
        registry.register(
            "credit_cents",
            "Credit held for the customer, in cents",
            self.credit.clone(),
        );
        registry.register(
            "storage_free_bytes",
            "Free space on the disk holding the books (-1 for books in memory)",
            self.storage_free.clone(),
        );
        registry.register(
            "storage_full",
            "1 while the books' disk is under its free-space floor: no money taken, no vend started",
            self.storage_full.clone(),
        );
        registry.register(
            "out_of_service",
            "1 while the machine sells nothing (stopped, storage full, starting up)",
            self.out_of_service.clone(),
        );
        registry.register(
            "alerts",
            "Alerts open for the operator, by kind (low_stock, sold_out, column_fault, ...)",
            self.alerts.clone(),
        );
    }

    /// The books' disk now: free bytes (none in memory) and whether it is under the floor.
    pub fn set_storage(&self, free: Option<u64>, full: bool) {
        self.storage_free
            .set(free.map_or(-1, |f| i64::try_from(f).unwrap_or(i64::MAX)));
        self.storage_full.set(i64::from(full));
    }

    /// The alerts open now, by kind: each kind seen is set to its count (0 once cleared).
    pub fn set_alerts<'a>(&self, kinds: impl Iterator<Item = &'a str>) {
        let mut counts: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
        for k in kinds {
            *counts.entry(k).or_default() += 1;
        }
        for kind in crate::alerts::KINDS {
            let n = counts.get(kind).copied().unwrap_or(0);
            self.alerts
                .get_or_create(&Kind {
                    kind: (*kind).to_string(),
                })
                .set(n);
        }
    }

    /// Whether the machine sells nothing right now.
    pub fn set_out_of_service(&self, out: bool) {
        self.out_of_service.set(i64::from(out));
    }

    fn update_ratio(&self) {
        let started = self.started.load(Ordering::Relaxed);
        let delivered = self.delivered.load(Ordering::Relaxed);
        let ratio = if started == 0 {
            1.0
        } else {
            #[allow(clippy::cast_precision_loss)]
            let r = delivered as f64 / started as f64;
            r
        };
        self.promise_kept.set(ratio);
    }

    /// Count a notice of the vend core.
    pub fn observe(&self, notice: &Notice) {
        let outcome = |o: &str| {
            self.outcomes
                .get_or_create(&Outcome {
                    outcome: o.to_string(),
                })
                .inc();
        };
        match notice {
            Notice::VendStarted { .. } => {
                self.paid.inc();
                self.started.fetch_add(1, Ordering::Relaxed);
                self.update_ratio();
            }
            Notice::VendDelivered { price, tender, .. } => {
                outcome("delivered");
                self.sales.inc_by(price.get());
                if *tender == crate::vend::Tender::Card {
                    self.card_sales.inc_by(price.get());
                }
                self.delivered.fetch_add(1, Ordering::Relaxed);
                self.update_ratio();
            }
            Notice::VendFailed { .. } => outcome("refunded"),
            Notice::TestVendDelivered { .. } | Notice::TestVendFailed { .. } => {
                let o = if matches!(notice, Notice::TestVendDelivered { .. }) {
                    "delivered"
                } else {
                    "failed"
                };
                self.test_vends
                    .get_or_create(&Outcome {
                        outcome: o.to_string(),
                    })
                    .inc();
            }
            Notice::Refused { reason, .. } => {
                let reason = match reason {
                    Refusal::SoldOut => "sold_out",
                    Refusal::InsufficientCredit => "insufficient_credit",
                    Refusal::OutOfOrder => "out_of_order",
                    Refusal::DoorOpen => "door_open",
                    Refusal::Busy => "busy",
                    Refusal::NotForSale => "not_for_sale",
                    Refusal::StorageFull => "storage_full",
                    Refusal::NotInOffer => "not_in_offer",
                    Refusal::CardDeclined => "card_declined",
                };
                self.refused
                    .get_or_create(&Reason {
                        reason: reason.into(),
                    })
                    .inc();
            }
            Notice::ColumnFaulted { column, reason } => {
                let kind = serde_json::to_value(reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                self.faults
                    .get_or_create(&Fault {
                        column: column.to_string(),
                        kind,
                    })
                    .inc();
            }
            Notice::SensorFault { stuck: true, .. } => {
                self.fault("-", "sensor_stuck");
            }
            Notice::UnexpectedDrop { .. } => self.fault("-", "unexpected_drop"),
            Notice::UnknownCoin { .. } => self.fault("-", "unknown_coin"),
            Notice::SurpriseAwarded { kind, cost, .. } => {
                self.surprises
                    .get_or_create(&Kind {
                        kind: kind_label(*kind),
                    })
                    .inc();
                self.surprise_value.inc_by(cost.get());
            }
            Notice::RecoveryOffered { .. } | Notice::RecoveryTaken { .. } => {
                self.observe_recovery(notice);
            }
            Notice::CreditIn { credit, .. } | Notice::CoinPaidOut { credit, .. } => {
                self.credit
                    .set(i64::try_from(credit.get()).unwrap_or(i64::MAX));
            }
            _ => {}
        }
    }

    /// An offer to make a failure right, or the free item taken.
    fn observe_recovery(&self, notice: &Notice) {
        match notice {
            Notice::RecoveryOffered { trigger, offer, .. } => {
                self.recovery_offers
                    .get_or_create(&Offer {
                        trigger: trigger.as_str().into(),
                        offer: offer.as_str().into(),
                    })
                    .inc();
            }
            Notice::RecoveryTaken { value, .. } => {
                self.recovery_items.inc();
                self.recovery_value.inc_by(value.get());
            }
            _ => {}
        }
    }

    fn fault(&self, column: &str, kind: &str) {
        self.faults
            .get_or_create(&Fault {
                column: column.into(),
                kind: kind.into(),
            })
            .inc();
    }

    /// The credit now (the controller reports it after every step).
    pub fn set_credit(&self, cents: u64) {
        self.credit.set(i64::try_from(cents).unwrap_or(i64::MAX));
    }

    /// Count a refused config change.
    pub fn config_error(&self) {
        self.reload_errors.inc();
    }

    /// Count a message from the broker dropped for its size.
    pub fn fleet_message_dropped(&self) {
        self.fleet_dropped.inc();
    }

    /// Count an answer to "how was it?".
    pub fn feedback(&self, happy: bool) {
        self.feedback
            .get_or_create(&Answer {
                answer: if happy { "happy" } else { "not_happy" }.into(),
            })
            .inc();
    }

    /// The exposition text.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ColumnId;
    use crate::money::Cents;

    #[test]
    fn counts_vends_and_computes_the_promise_kept_ratio() {
        let m = Metrics::new();
        let column = ColumnId::from_number(1).expect("column");
        m.observe(&Notice::VendStarted {
            tender: crate::vend::Tender::Cash,
            column,
            product: "Cola".into(),
            price: Cents::new(150),
        });
        m.observe(&Notice::VendDelivered {
            tender: crate::vend::Tender::Cash,
            column,
            product: "Cola".into(),
            price: Cents::new(150),
        });
        m.observe(&Notice::VendStarted {
            tender: crate::vend::Tender::Cash,
            column,
            product: "Cola".into(),
            price: Cents::new(150),
        });
        m.observe(&Notice::VendFailed {
            tender: crate::vend::Tender::Cash,
            column,
            product: "Cola".into(),
            refunded: Cents::new(150),
            reason: crate::vend::FailReason::Jammed,
        });
        m.feedback(true);
        let text = m.encode();
        assert!(text.contains("happiness_paid_vends_total 2"), "{text}");
        assert!(
            text.contains("happiness_vends_total{outcome=\"delivered\"} 1"),
            "{text}"
        );
        assert!(text.contains("happiness_promise_kept_ratio 0.5"), "{text}");
        assert!(text.contains("happiness_sales_cents_total 150"), "{text}");
        assert!(
            text.contains("happiness_feedback_total{answer=\"happy\"} 1"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }
}
