//! An operator's service test vend, answered once it is over (delivered or failed) or at once
//! when refused; and the audit file, read from the books between vend steps.

use serde::Serialize;
use tokio::sync::oneshot;

use super::{Controller, ControllerError, Request};
use crate::journal::{AuditRequest, JournalError};
use crate::vend::{ColumnId, Command, Event, FailReason, Notice, Refusal};

/// How a test vend ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TestVendOutcome {
    /// The drop sensor saw the item.
    Delivered {
        /// Product.
        product: String,
        /// A fault the run revealed all the same (the spiral jammed after the item fell): the
        /// column is out of service.
        #[serde(skip_serializing_if = "Option::is_none")]
        fault: Option<FailReason>,
    },
    /// The item was not seen after every nudge: the column is taken out of service.
    Failed {
        /// Why.
        reason: FailReason,
    },
}

/// Why a test vend was not started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TestVendRefusal {
    /// The vend core refused it (busy, door open, empty, sensor stuck, disk full).
    Refused(Refusal),
    /// The core took no step for it (the machine is stopping).
    NotStarted,
}

impl std::fmt::Display for TestVendRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TestVendRefusal::Refused(r) => write!(
                f,
                "{}",
                match r {
                    Refusal::Busy => "a vend, a payout or a free choice is under way: try again when it is over",
                    Refusal::DoorOpen => "the service door is open: close it first (the item must fall into the tray)",
                    Refusal::StorageFull => "the disk is full: the books cannot record a test vend",
                    Refusal::OutOfOrder => "the column's drop sensor is stuck: nothing could be seen falling",
                    Refusal::SoldOut => "the column is empty: load it first",
                    _ => "refused by the vend core",
                }
            ),
            TestVendRefusal::NotStarted => f.write_str("the machine did not start the test vend"),
        }
    }
}

/// The answer to a test vend.
pub type TestVendReply = oneshot::Sender<TestVendAnswer>;

/// An audit file as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRead {
    /// The file.
    pub text: String,
    /// Whether the read is recorded (not when the books' disk is full: a plain read is still
    /// given then, a read with reset is not).
    pub recorded: bool,
}

/// Why no audit file was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditError {
    /// The books do not check out (unbalanced, damaged or altered): no figures from them.
    Unvouched(String),
    /// The books could not be read or the read not recorded (a full disk).
    Books(String),
}

impl std::fmt::Display for AuditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditError::Unvouched(m) | AuditError::Books(m) => f.write_str(m),
        }
    }
}

/// The answer to a test vend.
type TestVendAnswer = Result<TestVendOutcome, TestVendRefusal>;

/// A test vend under way and who waits for its outcome. The answer goes out with the status
/// after the step that decided it, so whoever reads the status next sees the column as it is.
#[derive(Debug)]
pub(super) struct PendingTest {
    reply: TestVendReply,
    column: ColumnId,
    started: bool,
    /// The product, once the drop sensor saw it.
    delivered: Option<String>,
    /// Why the column was taken out of service during the test.
    fault: Option<FailReason>,
    answer: Option<TestVendAnswer>,
}

impl Controller {
    /// A test vend or an audit.
    pub(super) fn on_service_request(&mut self, request: Request) -> Result<(), ControllerError> {
        match request {
            Request::TestVend {
                column,
                source,
                reply,
            } => {
                if self.test_vend.is_some() {
                    let _ = reply.send(Err(TestVendRefusal::Refused(Refusal::Busy)));
                    return Ok(());
                }
                self.test_vend = Some(PendingTest {
                    reply,
                    column,
                    started: false,
                    delivered: None,
                    fault: None,
                    answer: None,
                });
                let fed = self.operator_event(Event::TestVend { column }, source);
                // Not taken at all: the answer is given with this step's status.
                if let Some(p) = self.test_vend.as_mut() {
                    if !p.started && p.answer.is_none() {
                        p.answer = Some(Err(TestVendRefusal::NotStarted));
                    }
                }
                fed?;
            }
            Request::Audit {
                reset,
                reader,
                reply,
            } => {
                let request = AuditRequest {
                    identity: &self.config.audit,
                    version: env!("CARGO_PKG_VERSION"),
                    columns: &self.config.columns,
                    at: self.local,
                    reset,
                    reader: &reader,
                };
                let read = |journal: &mut crate::journal::Journal, record| {
                    journal.audit(&request, record).map(|text| AuditRead {
                        text,
                        recorded: record,
                    })
                };
                // On a full disk the figures can still be read, only not the read recorded.
                let answer = match read(&mut self.journal, true) {
                    Err(e) if e.is_storage_full() && !reset => {
                        tracing::warn!("audit read not recorded: {e}");
                        read(&mut self.journal, false)
                    }
                    other => other,
                }
                .map_err(|e| match e {
                    JournalError::Unvouched { .. } => AuditError::Unvouched(e.to_string()),
                    e => AuditError::Books(e.to_string()),
                });
                let _ = reply.send(answer);
            }
            _ => {}
        }
        Ok(())
    }

    /// Note what the core's commands say about the test vend under way; it is decided once
    /// the vend is over (the spiral parked, a jam found), for
    /// [`Controller::send_test_vend_answer`].
    pub(super) fn answer_test_vend(&mut self, cmds: &[Command]) {
        let vending = self.core.is_vending();
        let Some(p) = self.test_vend.as_mut() else {
            return;
        };
        if p.answer.is_some() {
            return;
        }
        for c in cmds {
            match c {
                Command::Notice(Notice::TestVendStarted { .. }) => p.started = true,
                Command::Notice(Notice::Refused { reason, .. }) if !p.started => {
                    p.answer = Some(Err(TestVendRefusal::Refused(*reason)));
                    return;
                }
                Command::Notice(Notice::TestVendDelivered { product, .. }) => {
                    p.delivered = Some(product.clone());
                }
                Command::Notice(Notice::TestVendFailed { reason, .. }) => {
                    p.fault.get_or_insert(*reason);
                }
                Command::Notice(Notice::ColumnFaulted { column, reason })
                    if p.started && *column == p.column =>
                {
                    p.fault = Some(*reason);
                }
                _ => {}
            }
        }
        if p.started && !vending {
            p.answer = Some(Ok(match p.delivered.take() {
                Some(product) => TestVendOutcome::Delivered {
                    product,
                    fault: p.fault,
                },
                None => TestVendOutcome::Failed {
                    reason: p.fault.unwrap_or(FailReason::NoDrop),
                },
            }));
        }
    }

    /// Once the status is published: answer whoever waits for a test vend that is decided. A
    /// stopped machine drops the wait (the asker hears that the controller has stopped).
    pub(super) fn send_test_vend_answer(&mut self) {
        let halted = self.halted.is_some();
        if let Some(p) = self.test_vend.take_if(|p| p.answer.is_some() || halted) {
            if let Some(answer) = p.answer {
                let _ = p.reply.send(answer);
            }
        }
    }
}
