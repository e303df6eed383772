//! The fleet protocol as data: topics, the command grammar, the state summary and the event
//! envelope. Pure: no connection, no clock.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::config::MachineId;
use crate::controller::Status;

/// The first level of every topic.
pub const ROOT: &str = "happiness";

/// The largest command accepted (a whole `surprises.toml` fits; the HTTP API's body limit).
pub const MAX_COMMAND_BYTES: usize = crate::operator::BODY_LIMIT + 1024;

/// The topics of one machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    /// Retained summary.
    pub state: String,
    /// One message per record of the books.
    pub events: String,
    /// Commands to the machine.
    pub cmd: String,
    /// Its answers.
    pub reply: String,
}

impl Topics {
    /// The topics of machine `id`.
    pub fn of(id: &MachineId) -> Topics {
        let t = |leaf: &str| format!("{ROOT}/{id}/{leaf}");
        Topics {
            state: t("state"),
            events: t("events"),
            cmd: t("cmd"),
            reply: t("reply"),
        }
    }
}

/// The machine a topic is about and its last level (`state`, `events`, ...), if it is one of
/// ours.
pub fn split_topic(topic: &str) -> Option<(MachineId, &str)> {
    let mut parts = topic.split('/');
    let (root, id, leaf) = (parts.next()?, parts.next()?, parts.next()?);
    if root != ROOT || parts.next().is_some() {
        return None;
    }
    Some((MachineId::parse(id).ok()?, leaf))
}

/// What the machine is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The full status, as `GET /api/status` gives it.
    Status,
    /// Load items into a column (none: fill it).
    Restock {
        /// The column's number.
        column: String,
        /// Items loaded.
        count: Option<u32>,
    },
    /// Put a column back in service.
    Enable {
        /// The column's number.
        column: String,
    },
    /// Take a column out of service.
    Disable {
        /// The column's number.
        column: String,
    },
    /// Run a column through a service test vend (answered once it is over).
    TestVend {
        /// The column's number.
        column: String,
    },
    /// Pause every surprise.
    Pause,
    /// Resume them.
    Resume,
    /// Change a column's price.
    SetPrice {
        /// The column's number.
        column: String,
        /// The new price in the currency's minor unit.
        price_cents: i64,
    },
    /// Replace the surprise config with a whole `surprises.toml`.
    PutSurprises {
        /// The file's text.
        text: String,
    },
    /// Go back to an earlier surprise config version.
    Rollback {
        /// The version.
        version: i64,
    },
}

/// A command: its id (echoed in the reply) and the action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The sender's id for it.
    pub id: String,
    /// What to do.
    pub action: Action,
}

/// Why a command cannot be carried out, with its id when it could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadCommand {
    /// The command's id, if any.
    pub id: Option<String>,
    /// What is wrong.
    pub error: String,
}

/// The actions and what each takes, for error messages.
pub const ACTIONS: &str = "status, restock {column, count?}, enable {column}, disable {column}, \
                           test_vend {column}, pause, resume, set_price {column, price_cents}, put_surprises {text}, \
                           rollback {version}";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    id: Value,
    action: String,
    #[serde(default)]
    args: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnArgs {
    column: Value,
    #[serde(default)]
    count: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceArgs {
    column: Value,
    price_cents: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextArgs {
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionArgs {
    version: i64,
}

/// A column as a number or a string of one (the HTTP API has it in the path).
fn column_text(v: &Value) -> Result<String, String> {
    match v {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) => Ok(s.chars().take(20).collect()),
        _ => Err("args.column: a column number".into()),
    }
}

fn args<T: serde::de::DeserializeOwned>(action: &str, v: Value) -> Result<T, String> {
    let v = if v.is_null() { json!({}) } else { v };
    serde_json::from_value(v).map_err(|e| format!("args of {action}: {e}"))
}

/// Read a command. Anything else is a [`BadCommand`] that says what is wrong (and carries the
/// id, when there was one, for the reply).
pub fn parse_command(payload: &[u8]) -> Result<Command, BadCommand> {
    let bad = |id: Option<String>, error: String| BadCommand { id, error };
    if payload.len() > MAX_COMMAND_BYTES {
        // The id, if it can be found, so that the sender sees this refusal as the answer to
        // its command rather than waiting for one (the link drops anything far larger unread).
        #[derive(Deserialize)]
        struct IdOnly {
            #[serde(default)]
            id: Value,
        }
        let id = serde_json::from_slice::<IdOnly>(payload)
            .ok()
            .and_then(|c| id_text(&c.id));
        return Err(bad(
            id,
            format!(
                "the command is {} bytes; at most {MAX_COMMAND_BYTES}",
                payload.len()
            ),
        ));
    }
    let env: Envelope = serde_json::from_slice(payload).map_err(|e| {
        bad(
            None,
            format!("not a command {{\"id\", \"action\", \"args\"}}: {e}"),
        )
    })?;
    let Some(id) = id_text(&env.id) else {
        return Err(bad(
            None,
            "id: a string of 1 to 128 characters, echoed in the reply".into(),
        ));
    };
    let action = action_of(&env).map_err(|e| bad(Some(id.clone()), e))?;
    Ok(Command { id, action })
}

/// A command's id as its reply echoes it: a string of 1 to 128 bytes, or a number.
fn id_text(id: &Value) -> Option<String> {
    match id {
        Value::String(s) if !s.is_empty() && s.len() <= 128 => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The action a well-formed command asks for, with its arguments checked.
fn action_of(env: &Envelope) -> Result<Action, String> {
    let no_args = |a: Action| {
        if env.args.is_null() || env.args == json!({}) {
            Ok(a)
        } else {
            Err(format!("{} takes no args", env.action))
        }
    };
    Ok(match env.action.as_str() {
        "status" => no_args(Action::Status)?,
        "pause" => no_args(Action::Pause)?,
        "resume" => no_args(Action::Resume)?,
        "restock" => {
            let a: ColumnArgs = args("restock", env.args.clone())?;
            Action::Restock {
                column: column_text(&a.column)?,
                count: a.count,
            }
        }
        "enable" | "disable" | "test_vend" => {
            let a: ColumnArgs = args(&env.action, env.args.clone())?;
            if a.count.is_some() {
                return Err(format!("args of {}: count is for restock", env.action));
            }
            let column = column_text(&a.column)?;
            match env.action.as_str() {
                "enable" => Action::Enable { column },
                "disable" => Action::Disable { column },
                _ => Action::TestVend { column },
            }
        }
        "set_price" => {
            let a: PriceArgs = args("set_price", env.args.clone())?;
            Action::SetPrice {
                column: column_text(&a.column)?,
                price_cents: a.price_cents,
            }
        }
        "put_surprises" => {
            let a: TextArgs = args("put_surprises", env.args.clone())?;
            Action::PutSurprises { text: a.text }
        }
        "rollback" => {
            let a: VersionArgs = args("rollback", env.args.clone())?;
            Action::Rollback { version: a.version }
        }
        other => {
            return Err(format!(
                "unknown action `{}` (one of: {ACTIONS})",
                other.chars().take(40).collect::<String>()
            ))
        }
    })
}

/// A successful reply.
pub fn reply_ok(id: &str, result: Value) -> Value {
    json!({ "id": id, "ok": true, "result": result })
}

/// A refusal: `error` in words, and `detail` (the fields named, the column as it stands) when
/// there is more to say.
pub fn reply_err(id: Option<&str>, error: &str, detail: Option<Value>) -> Value {
    let mut reply = json!({ "id": id, "ok": false, "error": error });
    if let (Some(Value::Object(extra)), Value::Object(map)) = (detail, &mut reply) {
        for (k, v) in extra {
            if k != "error" {
                map.insert(k, v);
            }
        }
    }
    reply
}

/// One outbox copy as published: the record with its sequence number and the machine's id.
pub fn event_message(id: &MachineId, seq: u64, payload: &str) -> Vec<u8> {
    let mut map = match serde_json::from_str::<Value>(payload) {
        Ok(Value::Object(map)) => map,
        // The triggers write objects; anything else is passed on as it is, never dropped.
        Ok(other) => Map::from_iter([("record".to_string(), other)]),
        Err(_) => Map::from_iter([("raw".to_string(), Value::String(payload.to_string()))]),
    };
    map.insert("seq".into(), json!(seq));
    map.insert("machine".into(), json!(id.as_str()));
    serde_json::to_vec(&Value::Object(map)).unwrap_or_default()
}

/// The retained state of a machine that went away (the last will, and a clean stop).
pub fn offline_state(id: &MachineId) -> Vec<u8> {
    serde_json::to_vec(&json!({ "id": id.as_str(), "online": false })).unwrap_or_default()
}

/// One column in the state summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnState {
    /// Its number.
    pub column: usize,
    /// Product.
    pub product: String,
    /// Price in the minor unit.
    pub price: u64,
    /// Items left.
    pub stock: u32,
    /// Items it holds when full.
    pub capacity: u32,
    /// `in_service`, `faulted` or `disabled`.
    pub status: String,
    /// Why it is faulted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An alert in the state summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertState {
    /// `low_stock`, `column_fault`, ...
    pub kind: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    /// What is wrong.
    pub text: String,
}

/// Today's figures in the state summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TodayState {
    /// Paid items delivered.
    pub sales: u64,
    /// Their value, minor unit.
    pub sales_value: u64,
    /// Surprises given.
    pub surprises: u64,
    /// Their cost, minor unit.
    pub surprise_cost: u64,
    /// The last sale, local time.
    pub last_sale: Option<String>,
}

/// The retained summary of one machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineState {
    /// Its fleet id.
    pub id: String,
    /// Connected to the broker (false: the last will, or a clean stop).
    pub online: bool,
    /// Its name from `machine.toml`.
    #[serde(default)]
    pub name: String,
    /// Currency symbol.
    #[serde(default)]
    pub currency: String,
    /// What the customer's display shows.
    #[serde(default)]
    pub display: String,
    /// Credit held, minor unit.
    #[serde(default)]
    pub credit: u64,
    /// Every column.
    #[serde(default)]
    pub columns: Vec<ColumnState>,
    /// The columns that are faulted, by number.
    #[serde(default)]
    pub faults: Vec<usize>,
    /// What needs the operator now.
    #[serde(default)]
    pub alerts: Vec<AlertState>,
    /// The surprise config version in force.
    #[serde(default)]
    pub surprise_version: Option<i64>,
    /// Surprises paused by an operator.
    #[serde(default)]
    pub paused: bool,
    /// Why it is not selling, when it is not.
    #[serde(default)]
    pub out_of_service: Option<String>,
    /// Whether the service door is open.
    #[serde(default)]
    pub door_open: bool,
    /// Today's figures.
    #[serde(default)]
    pub today: TodayState,
    /// Records of the books not yet acknowledged by the broker.
    #[serde(default)]
    pub outbox: u64,
}

impl MachineState {
    /// The summary of `status` for machine `id`.
    pub fn of(id: &MachineId, status: &Status, outbox: u64) -> MachineState {
        let columns: Vec<ColumnState> = status
            .columns
            .iter()
            .map(|c| {
                let (state, reason) = match c.status {
                    crate::vend::ColumnStatus::InService => ("in_service", None),
                    crate::vend::ColumnStatus::Disabled => ("disabled", None),
                    crate::vend::ColumnStatus::Faulted(r) => {
                        ("faulted", Some(format!("{r:?}").to_lowercase()))
                    }
                };
                ColumnState {
                    column: c.column.number(),
                    product: c.product.clone(),
                    price: c.price.get(),
                    stock: c.stock,
                    capacity: c.capacity,
                    status: state.into(),
                    reason,
                }
            })
            .collect();
        MachineState {
            id: id.to_string(),
            online: true,
            name: status.machine.clone(),
            currency: status.currency.clone(),
            display: status.display.clone(),
            credit: status.credit.get(),
            faults: (columns.iter())
                .filter(|c| c.status == "faulted")
                .map(|c| c.column)
                .collect(),
            columns,
            alerts: (status.alerts.iter())
                .map(|a| AlertState {
                    kind: a.kind.to_string(),
                    severity: serde_json::to_value(a.severity)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    text: a.text.clone(),
                })
                .collect(),
            surprise_version: status.surprise_version,
            paused: status.surprises_paused,
            out_of_service: status.out_of_service.clone(),
            door_open: status.door_open,
            today: TodayState {
                sales: status.today.sales,
                sales_value: status.today.sales_value.get(),
                surprises: status.today.surprises,
                surprise_cost: status.today.surprise_cost.get(),
                last_sale: status.today.last_sale.clone(),
            },
            outbox,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> MachineId {
        MachineId::parse("lobby-1").expect("id")
    }

    #[test]
    fn topics_are_the_machines_own() {
        let t = Topics::of(&id());
        assert_eq!(t.cmd, "happiness/lobby-1/cmd");
        assert_eq!(
            split_topic(&t.state).map(|(i, l)| (i.to_string(), l)),
            Some(("lobby-1".into(), "state"))
        );
        assert_eq!(split_topic("happiness/a/b/c"), None);
        assert_eq!(split_topic("other/a/state"), None);
        assert_eq!(split_topic("happiness/+/state"), None);
    }

    #[test]
    fn commands_are_read_strictly() {
        let c = parse_command(
            br#"{"id": "7", "action": "restock", "args": {"column": 2, "count": 3}}"#,
        )
        .expect("restock");
        assert_eq!(
            c.action,
            Action::Restock {
                column: "2".into(),
                count: Some(3)
            }
        );
        let c = parse_command(br#"{"id": "8", "action": "status"}"#).expect("status");
        assert_eq!(c.action, Action::Status);
        let c = parse_command(br#"{"id": "9", "action": "test_vend", "args": {"column": "3"}}"#)
            .expect("test_vend");
        assert_eq!(c.action, Action::TestVend { column: "3".into() });
        let bad = parse_command(
            br#"{"id": "10", "action": "test_vend", "args": {"column": 3, "count": 1}}"#,
        )
        .expect_err("no count");
        assert!(bad.error.contains("count is for restock"), "{}", bad.error);
        let cases: &[(&[u8], Option<&str>, &str)] = &[
            (b"not json", None, "not a command"),
            (br#"{"action": "status"}"#, None, "missing field `id`"),
            (br#"{"id": "", "action": "status"}"#, None, "id:"),
            (
                br#"{"id": "1", "action": "explode"}"#,
                Some("1"),
                "unknown action `explode`",
            ),
            (
                br#"{"id": "2", "action": "restock", "args": {"column": 1, "count": -1}}"#,
                Some("2"),
                "args of restock",
            ),
            (
                br#"{"id": "3", "action": "set_price", "args": {"column": 1}}"#,
                Some("3"),
                "price_cents",
            ),
            (
                br#"{"id": "4", "action": "pause", "args": {"x": 1}}"#,
                Some("4"),
                "takes no args",
            ),
            (
                br#"{"id": "5", "action": "status", "extra": 1}"#,
                None,
                "unknown field `extra`",
            ),
            (
                br#"{"id": "6", "action": "enable", "args": {"column": [1]}}"#,
                Some("6"),
                "args.column",
            ),
        ];
        for (payload, want_id, want) in cases {
            let e = parse_command(payload).expect_err(want);
            assert_eq!(e.id.as_deref(), *want_id, "{want}");
            assert!(e.error.contains(want), "{} should say {want}", e.error);
        }
        let huge = vec![b' '; MAX_COMMAND_BYTES + 1];
        assert!(parse_command(&huge)
            .expect_err("huge")
            .error
            .contains("at most"));
        // Too large, but its id is echoed so the sender knows which command was refused.
        let text = "x".repeat(MAX_COMMAND_BYTES);
        let large = json!({"id": "big-1", "action": "put_surprises", "args": {"text": text}});
        let refused =
            parse_command(&serde_json::to_vec(&large).unwrap_or_default()).expect_err("too large");
        assert_eq!(refused.id.as_deref(), Some("big-1"));
        assert!(refused.error.contains("at most"), "{}", refused.error);
    }

    #[test]
    fn events_carry_their_number_and_machine() {
        let m = event_message(&id(), 42, r#"{"type": "coin", "amount": 100}"#);
        let v: Value = serde_json::from_slice(&m).expect("json");
        assert_eq!(
            (v["seq"].as_u64(), v["machine"].as_str()),
            (Some(42), Some("lobby-1"))
        );
        assert_eq!(v["amount"], 100);
        let v: Value = serde_json::from_slice(&event_message(&id(), 1, "garbage")).expect("json");
        assert_eq!(v["raw"], "garbage");
    }

    #[test]
    fn replies_say_ok_or_why_not() {
        let r = reply_err(Some("9"), "bad", Some(json!({"error": "x", "issues": [1]})));
        assert_eq!(
            r,
            json!({"id": "9", "ok": false, "error": "bad", "issues": [1]})
        );
        assert_eq!(
            reply_ok("1", json!(2)),
            json!({"id": "1", "ok": true, "result": 2})
        );
    }
}
