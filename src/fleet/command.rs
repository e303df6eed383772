//! Carrying out a fleet command through the operator's actions: the same checks, requests and
//! journal records as the HTTP API, with `fleet` as the source.

use serde_json::{json, Value};

use super::protocol::{reply_err, reply_ok, Action, Command};
use crate::config::ColumnEdit;
use crate::controller::BodyFormat;
use crate::operator::actions::{ActionError, Actions};

/// Who the books say asked.
pub(super) const SOURCE: &str = "fleet";

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
