//! Requests from outside the hardware: operator actions, config changes, questions about the
//! books. Handled between vend steps, one at a time, so a change is never half applied.

use serde::Serialize;
use tokio::sync::oneshot;

use super::config_files::{patch_policy, whole_config};
use super::{Controller, ControllerError, GiftRefusal, GiftWaiting};
use crate::config::ColumnEdit;
use crate::journal::{
    BooksCheck, BooksReport, BudgetRule, CommandSeen, ConfigVersion, Journal, JournalError,
    OutboxBacklog, OutboxEntry, Period, PeriodBooks, PeriodQuery, SaleLine,
};
use crate::surprise::config::SURPRISES_FILE;
use crate::vend::{ColumnId, Event};

/// How a config body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// TOML, as in the file.
    Toml,
    /// The same structure in JSON.
    Json,
}

/// Why a config change was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum ConfigRejection {
    /// The body is not well-formed TOML or JSON.
    Malformed {
        /// What the parser said.
        message: String,
    },
    /// Well-formed, but some values are invalid.
    Invalid {
        /// Every problem, with its field path.
        issues: Vec<IssueView>,
    },
    /// No such version.
    NoSuchVersion {
        /// The version asked for.
        version: i64,
    },
    /// The change would not apply to what is in force (the file on disk describes other
    /// columns than the machine runs).
    Conflict {
        /// Why, and what to do.
        message: String,
    },
    /// The change could not be saved.
    Storage {
        /// What went wrong.
        message: String,
    },
}

/// One validation problem, for API answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssueView {
    /// Field path, e.g. `policy.probability`.
    pub path: String,
    /// Line in the file, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// Why the books over a period could not be given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeriodError {
    /// The period asked for is not one (backwards, too long, both days and dates).
    Period(String),
    /// The books could not be read.
    Books(String),
}

/// A config version now in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// Its version number in the journal.
    pub version: i64,
    /// Whether it differs from what ran before.
    pub changed: bool,
}

/// Something asked of the controller from outside the hardware: operator actions, config
/// changes, questions about the books. Handled between vend steps, one at a time, so a change is
/// never half applied.
#[derive(Debug)]
pub enum Request {
    /// An event for the vend core (the script's restock, tests).
    Event(Event),
    /// An operator's change for the vend core (restock, reset or disable a column), booked
    /// with who asked.
    Operator {
        /// The change.
        event: Event,
        /// Who asks (for the journal): `api from 10.0.0.5`, `fleet`.
        source: String,
    },
    /// Change a column's product, price or low-stock level while the machine runs.
    EditColumn {
        /// The column.
        column: ColumnId,
        /// What to change.
        edit: ColumnEdit,
        /// Who asks (for the journal).
        source: String,
        /// The answer.
        reply: oneshot::Sender<Result<(), ConfigRejection>>,
    },
    /// Replace the surprise config.
    ApplySurprises {
        /// The new file's text.
        text: String,
        /// TOML or JSON.
        format: BodyFormat,
        /// Who asks (for the journal).
        source: String,
        /// The answer.
        reply: oneshot::Sender<Result<Applied, ConfigRejection>>,
    },
    /// Change some of the surprise policy's fields, keeping the rest of the file (its surprises,
    /// comments and layout) as it is.
    PatchSurprisePolicy {
        /// The fields: `probability = 0.5` (TOML) or `{"probability": 0.5}` (JSON).
        text: String,
        /// TOML or JSON.
        format: BodyFormat,
        /// Who asks (for the journal).
        source: String,
        /// The answer.
        reply: oneshot::Sender<Result<Applied, ConfigRejection>>,
    },
    /// Go back to an earlier surprise config version.
    RollbackSurprises {
        /// The version.
        version: i64,
        /// Who asks (for the journal).
        source: String,
        /// The answer.
        reply: oneshot::Sender<Result<Applied, ConfigRejection>>,
    },
    /// The surprise config in force: its text and version.
    CurrentSurprises {
        /// The answer.
        reply: oneshot::Sender<(String, Option<i64>)>,
    },
    /// The recorded versions of the surprise config.
    SurpriseVersions {
        /// The answer.
        reply: oneshot::Sender<Result<Vec<ConfigVersion>, String>>,
    },
    /// Give a surprise to the next paying customer ("make their day").
    Gift {
        /// The surprise's name.
        surprise: String,
        /// Give it even beyond the caps and budgets.
        override_caps: bool,
        /// Who asks (for the journal).
        source: String,
        /// The answer: the gift waiting, or why not.
        reply: oneshot::Sender<Result<GiftWaiting, GiftRefusal>>,
    },
    /// Cancel the gift waiting, if any.
    CancelGift {
        /// Who asks (for the journal).
        source: String,
        /// The answer: what was waiting.
        reply: oneshot::Sender<Option<GiftWaiting>>,
    },
    /// Pause or resume every surprise.
    PauseSurprises {
        /// True to pause.
        paused: bool,
        /// Who asks (for the journal).
        source: String,
    },
    /// A customer's answer to "how was it?".
    Feedback {
        /// Happy or not.
        happy: bool,
        /// The answer: refused when no finished vend is waiting for one (one answer per vend).
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Run a column through sure-vend without payment: an operator's service test.
    TestVend {
        /// The column.
        column: ColumnId,
        /// Who asks (for the journal).
        source: String,
        /// The answer: once the test is over, or at once when refused.
        reply: super::TestVendReply,
    },
    /// The EVA-DTS audit file, the read recorded (with reset: the interim counters start again).
    Audit {
        /// A read with reset.
        reset: bool,
        /// Who reads (checked by the caller: plain ASCII without `*`).
        reader: String,
        /// The file, or why there is none.
        reply: oneshot::Sender<Result<super::AuditRead, super::AuditError>>,
    },
    /// The books.
    Books {
        /// The answer.
        reply: oneshot::Sender<Result<BooksReport, String>>,
    },
    /// The books over a period (for the dashboard).
    PeriodBooks {
        /// The period asked for.
        query: PeriodQuery,
        /// The answer, or why the period or the books could not be read.
        reply: oneshot::Sender<Result<PeriodBooks, PeriodError>>,
    },
    /// Every paid vend in a period (for the sales export).
    Sales {
        /// The period asked for.
        query: PeriodQuery,
        /// The answer.
        reply: oneshot::Sender<Result<Vec<SaleLine>, PeriodError>>,
    },
    /// The config files changed on disk (or SIGHUP): reload what changed.
    ReloadFromDisk,
    /// Copies of records waiting for the fleet's broker, after a sequence number.
    Outbox {
        /// Only those after this (0: from the first).
        after: u64,
        /// At most this many.
        limit: usize,
        /// The answer: the copies, and how many wait in all.
        reply: oneshot::Sender<Result<(Vec<OutboxEntry>, OutboxBacklog), String>>,
    },
    /// The broker has every copy up to `upto`: they may go.
    OutboxDelivered {
        /// The last sequence number the broker acknowledged, with all before it.
        upto: u64,
    },
    /// A fleet command arrived with this id: whether the books know it (and if not, it is now
    /// recorded as started), so that it is carried out at most once across restarts.
    FleetCommand {
        /// The command's id.
        id: String,
        /// The answer.
        reply: oneshot::Sender<Result<CommandSeen, String>>,
    },
    /// A fleet command was carried out and got this reply (JSON): kept for a copy that comes
    /// again.
    FleetCommandDone {
        /// The command's id.
        id: String,
        /// Its reply.
        reply: String,
    },
    /// Carry out the request, publish the status it leads to, then answer: whoever waits for the
    /// answer reads a status that already shows the request's effect.
    Then(Box<Request>, oneshot::Sender<()>),
    /// Everything the customer and the operator see is up: say so in the trace (`ready`).
    Announce,
    /// The books' checks are done (or, `None`, are to be run by the controller itself): start
    /// selling if they passed. Every other request waits until then.
    OpenBooks {
        /// What the checks found, or why they could not run.
        checked: Option<Result<BooksCheck, JournalError>>,
    },
    /// A payment device on the MDB bus said something (from the bus thread).
    Mdb(crate::mdb::master::MdbEvent),
}

impl Controller {
    /// Handle one request from outside the hardware (operator API, config watcher, script).
    pub fn on_request(&mut self, request: Request) -> Result<(), ControllerError> {
        let Some(request) = self.hold_request(request) else {
            return Ok(());
        };
        if self.halted.is_some() {
            // Stopped: the asker's reply channel closes unanswered ("the controller has stopped").
            return Ok(());
        }
        let now = self.clock.now();
        self.sync_local_time(now);
        match request {
            Request::Event(event) => return self.feed(now, event),
            Request::Operator { event, source } => return self.operator_event(event, source),
            request @ (Request::Gift { .. } | Request::CancelGift { .. }) => {
                self.on_gift_request(request)?;
            }
            Request::EditColumn {
                column,
                edit,
                source,
                reply,
            } => {
                let _ = reply.send(self.edit_column(column, &edit, &source));
            }
            request @ (Request::ApplySurprises { .. }
            | Request::PatchSurprisePolicy { .. }
            | Request::RollbackSurprises { .. }
            | Request::CurrentSurprises { .. }
            | Request::SurpriseVersions { .. }) => self.on_config_request(request),
            Request::PauseSurprises { paused, source } => self.pause_surprises(paused, &source)?,
            Request::Feedback { happy, reply } => {
                let answer = self.feedback(happy)?;
                let _ = reply.send(answer);
            }
            request @ (Request::TestVend { .. } | Request::Audit { .. }) => {
                self.on_service_request(request)?;
            }
            Request::Books { reply } => {
                let _ = reply.send(self.journal.report().map_err(|e| e.to_string()));
            }
            Request::PeriodBooks { query, reply } => {
                let rule = self.budget_rule();
                let now = self.local;
                let _ = reply.send(self.over_period(&query, |j, p| j.period_books(p, rule, now)));
            }
            Request::Sales { query, reply } => {
                let _ = reply.send(self.over_period(&query, Journal::sales_lines));
            }
            Request::ReloadFromDisk => self.reload_from_disk(),
            request @ (Request::Outbox { .. }
            | Request::OutboxDelivered { .. }
            | Request::FleetCommand { .. }
            | Request::FleetCommandDone { .. }) => {
                self.on_outbox_request(request);
            }
            Request::OpenBooks { checked } => self.open_books(checked)?,
            Request::Mdb(event) => self.on_mdb(event)?,
            Request::Announce => self.announce(),
            Request::Then(request, reply) => {
                self.on_request(*request)?;
                self.publish();
                let _ = reply.send(());
            }
        }
        Ok(())
    }

    /// A change to the surprise config, or a question about it.
    fn on_config_request(&mut self, request: Request) {
        match request {
            Request::ApplySurprises {
                text,
                format,
                source,
                reply,
            } => {
                let result = whole_config(&text, format)
                    .and_then(|()| self.apply_surprises_text(&text, format, &source, true));
                let _ = reply.send(result);
            }
            Request::PatchSurprisePolicy {
                text,
                format,
                source,
                reply,
            } => {
                let result = patch_policy(&self.files.surprises_text, &text, format)
                    .and_then(|t| self.apply_surprises_text(&t, BodyFormat::Toml, &source, true));
                let _ = reply.send(result);
            }
            Request::RollbackSurprises {
                version,
                source,
                reply,
            } => {
                let _ = reply.send(self.rollback_surprises(version, &source));
            }
            Request::CurrentSurprises { reply } => {
                let _ = reply.send((
                    self.files.surprises_text.clone(),
                    self.files.surprise_version,
                ));
            }
            Request::SurpriseVersions { reply } => {
                let _ = reply.send(
                    self.journal
                        .config_versions(SURPRISES_FILE)
                        .map_err(|e| e.to_string()),
                );
            }
            _ => {}
        }
    }

    /// An operator's change for the core, booked with who asked.
    pub(super) fn operator_event(
        &mut self,
        event: Event,
        source: String,
    ) -> Result<(), ControllerError> {
        let now = self.clock.now();
        self.journal.set_acting(Some(source));
        let fed = self.feed(now, event);
        self.journal.set_acting(None);
        fed
    }

    /// The fleet link reads the outbox, says what the broker has, or looks a command id up.
    fn on_outbox_request(&mut self, request: Request) {
        match request {
            Request::Outbox {
                after,
                limit,
                reply,
            } => {
                let read = self
                    .journal
                    .outbox_after(after, limit)
                    .and_then(|entries| Ok((entries, self.journal.outbox_backlog()?)));
                let _ = reply.send(read.map_err(|e| e.to_string()));
            }
            Request::FleetCommand { id, reply } => {
                let local = self.local;
                let seen = self.journal.command_arrived(local, &id);
                let _ = reply.send(seen.map_err(|e| e.to_string()));
            }
            Request::FleetCommandDone { id, reply } => {
                // Without the reply kept, a copy of the command that comes again is told its
                // outcome is not known; it is never carried out twice either way.
                if let Err(e) = self.journal.command_answered(&id, &reply) {
                    tracing::warn!(id = %id, "a fleet command's reply was not kept: {e}");
                }
            }
            Request::OutboxDelivered { upto } => {
                // Copies the broker has are only a queue's: on a full disk they stay until
                // there is room, and nothing is lost either way.
                if let Err(e) = self.journal.outbox_delivered(upto) {
                    tracing::warn!("delivered fleet events not yet cleared from the outbox: {e}");
                }
            }
            _ => {}
        }
    }

    /// A question about the books over the period `query` names, at the machine's time.
    fn over_period<T>(
        &self,
        query: &PeriodQuery,
        read: impl FnOnce(&Journal, &Period) -> Result<T, JournalError>,
    ) -> Result<T, PeriodError> {
        let period = query.resolve(self.local).map_err(PeriodError::Period)?;
        read(&self.journal, &period).map_err(|e| PeriodError::Books(e.to_string()))
    }

    /// The surprise budget rule in force, for measuring spend against it.
    pub(super) fn budget_rule(&self) -> BudgetRule {
        let policy = &self.core.surprises().config().policy;
        BudgetRule {
            percent: policy.budget_percent,
            window_hours: policy.budget_window_hours,
        }
    }

    /// Put an earlier surprise config version back in force (written to the file too).
    fn rollback_surprises(
        &mut self,
        version: i64,
        source: &str,
    ) -> Result<Applied, ConfigRejection> {
        match self.journal.config_text(SURPRISES_FILE, version) {
            Ok(Some(text)) => self.apply_surprises_text(
                &text,
                BodyFormat::Toml,
                &format!("rollback to version {version} ({source})"),
                true,
            ),
            Ok(None) => Err(ConfigRejection::NoSuchVersion { version }),
            Err(e) => Err(ConfigRejection::Storage {
                message: e.to_string(),
            }),
        }
    }

    /// Pause or resume every surprise. Recorded first: an operator action the books cannot
    /// hold is not taken.
    fn pause_surprises(&mut self, paused: bool, source: &str) -> Result<(), ControllerError> {
        if self.core.surprises().paused() == paused {
            return Ok(());
        }
        let kind = if paused {
            "surprises_paused"
        } else {
            "surprises_resumed"
        };
        match self.journal.record_event(self.local, kind, source) {
            Ok(()) => self.core.surprises_mut().set_paused(paused),
            Err(e) if e.is_storage_full() => tracing::warn!("surprises not {kind}: {e}"),
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    /// A customer's answer to "how was it?": one per finished paid vend, so that a page (or a
    /// script on the network) cannot pile answers into the books.
    fn feedback(&mut self, happy: bool) -> Result<Result<(), String>, ControllerError> {
        if !self.feedback_open {
            return Ok(Err(
                "no finished vend is waiting for an answer: one answer per vend".into(),
            ));
        }
        self.feedback_open = false;
        match self.journal.record_feedback(self.local, happy) {
            Ok(()) => {
                if let Some(m) = &self.metrics {
                    m.feedback(happy);
                }
            }
            // A customer's answer is not worth stopping the machine for, and on a full disk the
            // room left belongs to money.
            Err(e) if e.is_storage_full() => tracing::warn!("feedback not recorded: {e}"),
            Err(e) => return Err(e.into()),
        }
        if !happy {
            // The core decides whether an unhappy answer is made right (the policy, once per
            // vend, only shortly after it).
            let now = self.clock.now();
            self.feed(now, Event::Unhappy)?;
        }
        Ok(Ok(()))
    }
}
