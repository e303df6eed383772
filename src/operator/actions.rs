//! What an operator can do to a machine, whichever way the ask arrives (the HTTP API, a fleet
//! command): the same checks, the same requests to the controller, and the answer only once the
//! change is applied and the status shows it. The HTTP handlers and the fleet link only turn
//! their wire format into these calls and the [`ActionError`] back into theirs.

use serde_json::json;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::{oneshot, watch};

use crate::config::{ColumnEdit, MachineConfig};
use crate::controller::{
    Applied, AuditError, AuditRead, BodyFormat, ColumnView, ConfigRejection, Request, Status,
    TestVendOutcome,
};
use crate::vend::{ColumnId, ColumnStatus, Event};
use happiness_hardware::sim::SimHandle;
use std::sync::Arc;

/// Why an operator's action was not carried out.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionError {
    /// The ask is malformed.
    BadRequest(String),
    /// No such thing.
    NotFound(String),
    /// Well-formed, but it cannot be (an overfull restock, say).
    Unprocessable(String),
    /// It could not be carried out as things stand; the column as it is now.
    Conflict {
        /// Why.
        message: String,
        /// The column, as it stands instead.
        column: Option<ColumnView>,
    },
    /// The controller is not selling or has stopped.
    Unavailable(String),
    /// A config change refused (malformed, invalid with the fields named, no such version).
    Config(ConfigRejection),
}

impl ActionError {
    /// In words, for a reply that has room for one line.
    pub fn message(&self) -> String {
        match self {
            ActionError::BadRequest(m)
            | ActionError::NotFound(m)
            | ActionError::Unprocessable(m)
            | ActionError::Unavailable(m) => m.clone(),
            ActionError::Conflict { message, .. } => message.clone(),
            ActionError::Config(r) => match r {
                ConfigRejection::Malformed { message } => format!("malformed: {message}"),
                ConfigRejection::Invalid { issues } => issues
                    .iter()
                    .map(|i| format!("{}: {}", i.path, i.message))
                    .collect::<Vec<_>>()
                    .join("; "),
                ConfigRejection::NoSuchVersion { version } => {
                    format!("there is no surprise config version {version}")
                }
                ConfigRejection::Conflict { message } => message.clone(),
                ConfigRejection::Storage { message } => format!("not saved: {message}"),
            },
        }
    }

    /// The JSON body of an error answer: `{"error": ...}` and what else says why.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            ActionError::Conflict {
                message,
                column: Some(column),
            } => json!({ "error": message, "column": column }),
            ActionError::Config(r) => serde_json::to_value(r).unwrap_or_default(),
            other => json!({ "error": other.message() }),
        }
    }
}

fn stopped() -> ActionError {
    ActionError::Unavailable("the controller has stopped".into())
}

/// A handle for carrying out operators' actions on one running machine.
#[derive(Clone)]
pub struct Actions {
    requests: UnboundedSender<Request>,
    status: watch::Receiver<Status>,
    machine: Arc<MachineConfig>,
    sim: Option<SimHandle>,
}

impl Actions {
    /// Actions on the machine behind `requests` and `status`.
    pub fn new(
        requests: UnboundedSender<Request>,
        status: watch::Receiver<Status>,
        machine: Arc<MachineConfig>,
        sim: Option<SimHandle>,
    ) -> Self {
        Actions {
            requests,
            status,
            machine,
            sim,
        }
    }

    /// The status now.
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// The status as it changes.
    pub fn status_channel(&self) -> watch::Receiver<Status> {
        self.status.clone()
    }

    /// Hand the controller a request that needs no answer.
    pub fn send(&self, request: Request) -> Result<(), ActionError> {
        self.requests.send(request).map_err(|_| stopped())
    }

    /// Ask the controller and wait for its answer.
    pub async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Request,
    ) -> Result<T, ActionError> {
        let (tx, rx) = oneshot::channel();
        self.requests.send(make(tx)).map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())
    }

    /// Hand the controller a request and return once it is carried out and the status shows
    /// it, so that whoever reads the status next never sees the world from before the action.
    pub async fn tell(&self, request: Request) -> Result<(), ActionError> {
        self.ask(|reply| Request::Then(Box::new(request), reply))
            .await
    }

    /// A column by its number as text, or why there is none.
    pub fn column(&self, text: &str) -> Result<ColumnId, ActionError> {
        let count = self.machine.columns.len();
        text.trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=count).contains(n))
            .and_then(ColumnId::from_number)
            .ok_or_else(|| {
                ActionError::NotFound(format!(
                    "there is no column {} (this machine has {count})",
                    text.chars().take(20).collect::<String>()
                ))
            })
    }

    /// The column as the status shows it now.
    pub fn column_view(&self, column: ColumnId) -> Result<ColumnView, ActionError> {
        self.status
            .borrow()
            .columns
            .iter()
            .find(|c| c.column == column)
            .cloned()
            .ok_or_else(|| ActionError::Unavailable("the machine is not selling".into()))
    }

    /// Restock, enable (reset) or disable a column. A restock loads `count` items (refused when
    /// they would overfill it), or fills it without one.
    pub async fn column_action(
        &self,
        column: ColumnId,
        action: &str,
        count: Option<u32>,
        source: &str,
    ) -> Result<ColumnView, ActionError> {
        let before = self.column_view(column)?;
        let capacity = self
            .machine
            .columns
            .get(column.index())
            .map_or(0, |c| c.capacity);
        let (event, load) = match action {
            "restock" => {
                let load = restock_count(&before, capacity, count)?;
                (
                    Event::Load {
                        column,
                        count: load,
                    },
                    load,
                )
            }
            "enable" | "reset" => (Event::ResetColumn { column }, 0),
            "disable" => (Event::DisableColumn { column }, 0),
            other => {
                return Err(ActionError::NotFound(format!(
                    "unknown column action `{}` (restock, enable, disable, test-vend)",
                    other.chars().take(20).collect::<String>()
                )))
            }
        };
        let source = source.to_string();
        self.tell(Request::Operator { event, source }).await?;
        // The answer is the column as it is now; an action the machine could not carry out (the
        // books full, the machine out of service) is a conflict that says what stands instead.
        let view = self.column_view(column)?;
        let applied = match event {
            Event::Load { .. } => view.stock == before.stock + load,
            Event::ResetColumn { .. } => view.status == ColumnStatus::InService,
            _ => view.status == ColumnStatus::Disabled,
        };
        if !applied {
            let why = self
                .status
                .borrow()
                .out_of_service
                .clone()
                .unwrap_or_else(|| "the machine refused it".into());
            return Err(ActionError::Conflict {
                message: format!("column {column} could not be changed: {why}"),
                column: Some(view),
            });
        }
        // On the simulator the operator's hands are virtual: the items go into the simulated
        // column too, or it would run dry while the books say it is full.
        if let (Event::Load { .. }, Some(sim)) = (event, &self.sim) {
            let _ = sim.load(column.number(), load);
        }
        Ok(view)
    }

    /// Run a column through a service test vend (no payment, booked as a test vend): the
    /// outcome once the item has dropped or every nudge has missed, with the column as it is
    /// then; a conflict saying why when the machine refuses (busy, door open, empty...).
    pub async fn test_vend(
        &self,
        column: ColumnId,
        source: &str,
    ) -> Result<(TestVendOutcome, ColumnView), ActionError> {
        let source = source.to_string();
        let answer = self
            .ask(|reply| Request::TestVend {
                column,
                source,
                reply,
            })
            .await?;
        match answer {
            Ok(outcome) => Ok((outcome, self.column_view(column)?)),
            Err(why) => Err(ActionError::Conflict {
                message: format!("column {column} was not tested: {why}"),
                column: self.column_view(column).ok(),
            }),
        }
    }

    /// The EVA-DTS audit file, the read recorded as `reader`'s (with `reset`: the interim
    /// counters start again). A conflict when the books do not check out.
    pub async fn audit(&self, reset: bool, reader: &str) -> Result<AuditRead, ActionError> {
        crate::audit::check_own_reader(reader).map_err(ActionError::BadRequest)?;
        let reader = reader.to_string();
        self.ask(|reply| Request::Audit {
            reset,
            reader,
            reply,
        })
        .await?
        .map_err(|e| match e {
            AuditError::Unvouched(message) => ActionError::Conflict {
                message,
                column: None,
            },
            AuditError::Books(message) => ActionError::Unavailable(message),
        })
    }

    /// Change a column's product, price or low-stock level (in force from the next vend,
    /// written into `machine.toml`).
    pub async fn edit_column(
        &self,
        column: ColumnId,
        edit: ColumnEdit,
        source: &str,
    ) -> Result<ColumnView, ActionError> {
        let source = source.to_string();
        let (reply, answer) = oneshot::channel();
        self.tell(Request::EditColumn {
            column,
            edit,
            source,
            reply,
        })
        .await?;
        answer
            .await
            .map_err(|_| stopped())?
            .map_err(ActionError::Config)?;
        self.column_view(column)
    }

    /// Pause or resume every surprise; the state now in force, or why it could not change.
    pub async fn set_paused(&self, paused: bool, source: &str) -> Result<bool, ActionError> {
        let source = source.to_string();
        self.tell(Request::PauseSurprises { paused, source })
            .await?;
        let now = self.status.borrow().surprises_paused;
        if now != paused {
            return Err(ActionError::Unavailable(
                "not applied: the books could not record it (is the disk full?)".into(),
            ));
        }
        Ok(now)
    }

    /// Replace the whole surprise config.
    pub async fn apply_surprises(
        &self,
        text: String,
        format: BodyFormat,
        source: &str,
    ) -> Result<Applied, ActionError> {
        let source = source.to_string();
        self.ask(|reply| Request::ApplySurprises {
            text,
            format,
            source,
            reply,
        })
        .await?
        .map_err(ActionError::Config)
    }

    /// Go back to an earlier surprise config version.
    pub async fn rollback(&self, version: i64, source: &str) -> Result<Applied, ActionError> {
        let source = source.to_string();
        self.ask(|reply| Request::RollbackSurprises {
            version,
            source,
            reply,
        })
        .await?
        .map_err(ActionError::Config)
    }
}

/// How many items a restock loads: the count asked for (refused when it would overfill the
/// column), or what fills it.
fn restock_count(view: &ColumnView, capacity: u32, count: Option<u32>) -> Result<u32, ActionError> {
    let room = capacity.saturating_sub(view.stock);
    let Some(count) = count else {
        return Ok(room);
    };
    if count == 0 || count > room {
        return Err(ActionError::Unprocessable(format!(
            "count: {count} will not fit: column {} holds {} of {capacity}, so 1 to {room} more \
             fit",
            view.column, view.stock
        )));
    }
    Ok(count)
}
