//! "Make their day": an operator's gift of a catalogue surprise to the next paying customer,
//! queued in the vend core and booked with who asked for it.

use serde::Serialize;

use super::*;

/// Why a gift was not queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum GiftRefusal {
    /// No surprise has that name.
    #[error("surprise: no surprise is called \"{name}\" (the catalogue has: {known})")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The catalogue's names.
        known: String,
    },
    /// A gift already waits for the next customer.
    #[error("\"{waiting}\" already waits for the next paying customer: cancel it first")]
    Waiting {
        /// The gift waiting.
        waiting: String,
    },
    /// The books could not record it (a full disk): nothing was queued.
    #[error("the books could not record the gift: {message}")]
    Storage {
        /// Why.
        message: String,
    },
}

/// A gift waiting for the next paying customer, as the status shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GiftWaiting {
    /// The surprise.
    pub surprise: String,
    /// Given even beyond the caps and budgets.
    pub override_caps: bool,
}

impl Controller {
    /// The gift waiting, if any.
    pub(super) fn gift_waiting(&self) -> Option<GiftWaiting> {
        let (index, override_caps) = self.core.gift_waiting()?;
        let surprise = self
            .core
            .surprises()
            .config()
            .catalogue
            .get(index)?
            .name
            .clone();
        Some(GiftWaiting {
            surprise,
            override_caps,
        })
    }

    /// A gift asked for or cancelled: answered once applied.
    pub(super) fn on_gift_request(&mut self, request: Request) -> Result<(), ControllerError> {
        match request {
            Request::Gift {
                surprise,
                override_caps,
                source,
                reply,
            } => {
                let answer = self.queue_gift(&surprise, override_caps, &source)?;
                let _ = reply.send(answer);
            }
            Request::CancelGift { source, reply } => {
                let _ = reply.send(self.cancel_gift(&source)?);
            }
            _ => {}
        }
        Ok(())
    }

    /// Queue the surprise called `name` for the next paying customer, journaled with `source`.
    pub(super) fn queue_gift(
        &mut self,
        name: &str,
        override_caps: bool,
        source: &str,
    ) -> Result<Result<GiftWaiting, GiftRefusal>, ControllerError> {
        let engine = self.core.surprises();
        let Some(index) = engine.surprise_named(name) else {
            let known: Vec<&str> = engine
                .config()
                .catalogue
                .iter()
                .map(|s| s.name.as_str())
                .collect();
            return Ok(Err(GiftRefusal::Unknown {
                name: name.chars().take(60).collect(),
                known: known.join(", "),
            }));
        };
        if let Some(waiting) = self.gift_waiting() {
            return Ok(Err(GiftRefusal::Waiting {
                waiting: waiting.surprise,
            }));
        }
        let surprise = engine.config().catalogue[index].name.clone();
        let detail = serde_json::json!({
            "surprise": surprise,
            "override_caps": override_caps,
            "by": source,
        });
        match self
            .journal
            .record_event(self.local, "gift_queued", &detail.to_string())
        {
            Ok(()) => {}
            Err(e) if e.is_storage_full() => {
                return Ok(Err(GiftRefusal::Storage {
                    message: e.to_string(),
                }))
            }
            Err(e) => return Err(e.into()),
        }
        self.core.queue_gift(index, override_caps);
        let now = self.clock.now();
        self.record(
            now,
            TraceEntry::Operator {
                action: format!(
                    "gift \"{surprise}\" for the next paying customer{} ({source})",
                    if override_caps {
                        ", beyond the caps"
                    } else {
                        ""
                    }
                ),
            },
        );
        self.publish();
        Ok(Ok(GiftWaiting {
            surprise,
            override_caps,
        }))
    }

    /// A new surprise config is in force: the waiting gift names the same surprise in it (its
    /// place in the catalogue may have changed), or is dropped, with a word in the books and
    /// the log, when the catalogue no longer has it.
    pub(super) fn carry_gift_over(&mut self, gift: &GiftWaiting) {
        self.core.cancel_gift();
        match self.core.surprises().surprise_named(&gift.surprise) {
            Some(index) => {
                self.core.queue_gift(index, gift.override_caps);
            }
            None => {
                tracing::warn!(
                    "the gift \"{}\" is dropped: the new surprise config has no such surprise",
                    gift.surprise
                );
                let detail = serde_json::json!({
                    "surprise": gift.surprise,
                    "by": "config change: no longer in the catalogue",
                });
                if let Err(e) =
                    self.journal
                        .record_event(self.local, "gift_cancelled", &detail.to_string())
                {
                    tracing::warn!("gift drop not recorded: {e}");
                }
            }
        }
    }

    /// Cancel the waiting gift; returns what was waiting.
    pub(super) fn cancel_gift(
        &mut self,
        source: &str,
    ) -> Result<Option<GiftWaiting>, ControllerError> {
        let Some(waiting) = self.gift_waiting() else {
            return Ok(None);
        };
        let detail = serde_json::json!({ "surprise": waiting.surprise, "by": source });
        match self
            .journal
            .record_event(self.local, "gift_cancelled", &detail.to_string())
        {
            Ok(()) => {}
            Err(e) if e.is_storage_full() => tracing::warn!("gift cancel not recorded: {e}"),
            Err(e) => return Err(e.into()),
        }
        self.core.cancel_gift();
        self.publish();
        Ok(Some(waiting))
    }
}
