//! Carrying out a fleet command through the operator's actions: the same checks, requests and
//! journal records as the HTTP API, with `fleet` as the source.

use serde_json::{json, Value};

use super::protocol::{reply_err, reply_ok, Action, Command};
use crate::config::ColumnEdit;
use crate::controller::{BodyFormat, Request};
use crate::journal::CommandSeen;
use crate::operator::actions::{ActionError, Actions};

/// Who the books say asked.
pub(super) const SOURCE: &str = "fleet";

/// Carry a command out at most once, across restarts too: the books are asked first whether its
/// id was seen within a day (and record it if not), and keep its reply for a copy that comes
/// again.
pub(super) async fn at_most_once(actions: &Actions, command: Command) -> Value {
    let id = command.id.clone();
    let seen = actions
        .ask(|reply| Request::FleetCommand {
            id: id.clone(),
            reply,
        })
        .await
        .map_err(|e| e.message())
        .and_then(|r| r);
    match seen {
        Ok(CommandSeen::New) => {}
        Ok(CommandSeen::Answered(text)) => {
            return serde_json::from_str(&text).unwrap_or_else(|_| {
                reply_err(Some(&id), "this command was carried out already", None)
            })
        }
        Ok(CommandSeen::Unfinished) => {
            return reply_err(
                Some(&id),
                "this command arrived before a restart and its outcome is not known: it is not \
                 carried out again (read the status to see whether it took effect)",
                None,
            )
        }
        Err(why) => {
            return reply_err(
                Some(&id),
                &format!("not carried out: the command could not be recorded ({why})"),
                None,
            )
        }
    }
    let reply = carry_out(actions, command).await;
    let _ = actions.send(Request::FleetCommandDone {
        id,
        reply: reply.to_string(),
    });
    reply
}

/// Carry out `command` and give the reply to publish.
pub(super) async fn carry_out(actions: &Actions, command: Command) -> Value {
    match act(actions, command.action).await {
        Ok(result) => reply_ok(&command.id, result),
        Err(e) => reply_err(Some(&command.id), &e.message(), Some(e.to_json())),
    }
}

fn value<T: serde::Serialize>(v: T) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}

async fn act(actions: &Actions, action: Action) -> Result<Value, ActionError> {
    let column_action = |column: String, what: &'static str, count: Option<u32>| async move {
        let c = actions.column(&column)?;
        actions
            .column_action(c, what, count, SOURCE)
            .await
            .map(value)
    };
    match action {
        Action::Status => Ok(value(actions.status())),
        Action::Restock { column, count } => column_action(column, "restock", count).await,
        Action::Enable { column } => column_action(column, "enable", None).await,
        Action::Disable { column } => column_action(column, "disable", None).await,
        Action::TestVend { column } => {
            let c = actions.column(&column)?;
            let (outcome, view) = actions.test_vend(c, SOURCE).await?;
            let mut result = value(outcome);
            result["column"] = value(view);
            Ok(result)
        }
        Action::Pause | Action::Resume => {
            let paused = actions.set_paused(action == Action::Pause, SOURCE).await?;
            Ok(json!({ "surprises_paused": paused }))
        }
        Action::SetPrice {
            column,
            price_cents,
        } => {
            let c = actions.column(&column)?;
            let edit = ColumnEdit {
                price_cents: Some(price_cents),
                ..ColumnEdit::default()
            };
            actions.edit_column(c, edit, SOURCE).await.map(value)
        }
        Action::PutSurprises { text } => {
            let applied = actions
                .apply_surprises(text, BodyFormat::Toml, SOURCE)
                .await?;
            Ok(json!({ "version": applied.version, "changed": applied.changed }))
        }
        Action::Rollback { version } => {
            let applied = actions.rollback(version, SOURCE).await?;
            Ok(json!({ "version": applied.version, "changed": applied.changed }))
        }
    }
}
