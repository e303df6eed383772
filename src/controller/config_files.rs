//! The config service: the operator's files (`machine.toml`, `surprises.toml`) as the running
//! machine knows them, reading changes from disk, writing accepted edits back, and turning
//! bodies and refusals into the API's terms.
//!
//! [`ConfigFiles`] does the file I/O and keeps the texts in force; it decides nothing about the
//! machine. The `impl Controller` block below is the glue: it validates a change against the
//! machine, books it, and swaps it into the surprise engine between vend steps.

use std::path::{Path, PathBuf};

use super::requests::{Applied, BodyFormat, ConfigRejection, IssueView};
use super::Controller;
use crate::config::{ConfigError, MachineConfig, MACHINE_FILE};
use crate::surprise::config::SURPRISES_FILE;
use crate::surprise::SurpriseConfig;
use crate::trace::TraceEntry;

/// The config files as the running machine knows them.
#[derive(Debug, Default)]
pub(super) struct ConfigFiles {
    /// Where the files live; without one, accepted changes live only in the books.
    dir: Option<PathBuf>,
    /// `machine.toml` as the machine started with it (or as last seen changed on disk).
    pub(super) machine_text: String,
    /// `surprises.toml` in force (empty without the file).
    pub(super) surprises_text: String,
    /// Its version in the books.
    pub(super) surprise_version: Option<i64>,
    /// Why the last change was refused, until one is accepted.
    pub(super) last_error: Option<String>,
    /// `machine.toml` changed on disk in a way that takes effect at the next start.
    pub(super) restart_needed: bool,
}

/// A file changed on disk, as read.
pub(super) enum Changed {
    /// `surprises.toml` has new text.
    Surprises(String),
    /// `machine.toml` has new text, valid (takes effect at the next start) or not.
    Machine(Result<(), ConfigError>),
    /// A file could not be read.
    Unreadable(ConfigError),
}

impl ConfigFiles {
    /// The files in `dir` (if any), starting with these texts.
    pub(super) fn new(dir: Option<PathBuf>, machine_text: String, surprises_text: String) -> Self {
        ConfigFiles {
            dir,
            machine_text,
            surprises_text,
            ..ConfigFiles::default()
        }
    }

    /// Where `surprises.toml` is (just its name without a directory, for messages).
    pub(super) fn surprises_path(&self) -> PathBuf {
        self.dir
            .as_ref()
            .map_or_else(|| PathBuf::from(SURPRISES_FILE), |d| d.join(SURPRISES_FILE))
    }

    /// Where `machine.toml` is (just its name without a directory, for messages).
    pub(super) fn machine_path(&self) -> PathBuf {
        self.dir
            .as_ref()
            .map_or_else(|| PathBuf::from(MACHINE_FILE), |d| d.join(MACHINE_FILE))
    }

    /// `machine.toml` as it is on disk now, if the machine has a config directory and the file
    /// can be read.
    pub(super) fn read_machine(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.as_ref()?.join(MACHINE_FILE)).ok()
    }

    /// Write an edited `machine.toml`, if the machine has a config directory.
    pub(super) fn write_machine(&self, text: &str) -> Result<(), ConfigRejection> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let file = dir.join(MACHINE_FILE);
        write_atomically(&file, text).map_err(|e| ConfigRejection::Storage {
            message: format!("cannot write {}: {e}", file.display()),
        })
    }

    /// Write accepted surprise text to its file, if the machine has a config directory.
    pub(super) fn write_surprises(&self, text: &str) -> Result<(), ConfigRejection> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let file = dir.join(SURPRISES_FILE);
        write_atomically(&file, text).map_err(|e| ConfigRejection::Storage {
            message: format!("cannot write {}: {e}", file.display()),
        })
    }

    /// Read both files and say what changed since last seen. A new `machine.toml` is
    /// remembered as seen (so that it is reported once), valid or not.
    pub(super) fn changes_on_disk(&mut self) -> Vec<Changed> {
        let Some(dir) = self.dir.clone() else {
            return Vec::new();
        };
        let mut changes = Vec::new();
        let surprises_file = dir.join(SURPRISES_FILE);
        match std::fs::read_to_string(&surprises_file) {
            Ok(text) if text != self.surprises_text => changes.push(Changed::Surprises(text)),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => changes.push(Changed::Unreadable(ConfigError::Read {
                file: surprises_file,
                source,
            })),
        }
        let machine_file = dir.join(MACHINE_FILE);
        match std::fs::read_to_string(&machine_file) {
            Ok(text) if text != self.machine_text => {
                let checked = MachineConfig::from_toml(&machine_file, &text).map(|_| ());
                self.machine_text = text;
                changes.push(Changed::Machine(checked));
            }
            Ok(_) => {}
            Err(source) => changes.push(Changed::Unreadable(ConfigError::Read {
                file: machine_file,
                source,
            })),
        }
        changes
    }
}

impl Controller {
    /// Validate a surprise config exactly like the file, then put it in force: write it back to
    /// the file (when `write_back`), record the version with a diff, and swap it into the engine
    /// (whose memory of caps and budgets is kept).
    pub(super) fn apply_surprises_text(
        &mut self,
        body: &str,
        format: BodyFormat,
        source: &str,
        write_back: bool,
    ) -> Result<Applied, ConfigRejection> {
        let text = match format {
            BodyFormat::Toml => body.to_string(),
            BodyFormat::Json => json_to_toml(body)?,
        };
        let file = self.files.surprises_path();
        let config = match SurpriseConfig::from_toml(&file, &text, &self.config.columns) {
            Ok(c) => c,
            Err(e) => {
                self.config_refused(&e);
                return Err(rejection(&e));
            }
        };
        if write_back {
            self.files.write_surprises(&text)?;
        }
        let (version, changed) = self
            .journal
            .record_config(self.local, SURPRISES_FILE, &text, source)
            .map_err(|e| ConfigRejection::Storage {
                message: e.to_string(),
            })?;
        let gift = self.gift_waiting();
        self.core.surprises_mut().set_config(config);
        self.refresh_campaigns();
        if let Some(gift) = gift {
            self.carry_gift_over(&gift);
        }
        self.files.surprises_text = text;
        self.files.surprise_version = Some(version);
        self.files.last_error = None;
        tracing::info!(version, source, "surprise config in force");
        // The status says so before the asker hears back: a page that reads it on the answer
        // sees the new config (and what moved with it, such as a waiting gift).
        self.publish();
        Ok(Applied { version, changed })
    }

    /// Give the engine what each campaign has awarded so far, from the books (at start, and
    /// when a config adds or changes campaigns). If the books cannot say, the engine keeps its
    /// own count.
    pub(super) fn refresh_campaigns(&mut self) {
        let campaigns = self.core.surprises().config().campaigns.clone();
        let mut spent = Vec::with_capacity(campaigns.len());
        for c in &campaigns {
            match self.journal.awards_of(&c.surprises, c.start, c.end) {
                Ok((awards, cost)) => spent.push((
                    c.name.clone(),
                    crate::surprise::CampaignSpend {
                        awards: u32::try_from(awards).unwrap_or(u32::MAX),
                        cost,
                    },
                )),
                Err(e) => {
                    tracing::warn!("campaign {} not read from the books: {e}", c.name);
                    return;
                }
            }
        }
        self.core.surprises_mut().set_campaign_spend(&spent);
    }

    /// A config change was refused: keep running on the current one, and say why.
    fn config_refused(&mut self, error: &ConfigError) {
        let message = error.to_string();
        tracing::warn!("config change refused, keeping the running config: {message}");
        let now = self.clock.now();
        self.record(
            now,
            TraceEntry::Error {
                message: format!("config change refused, keeping the running config: {message}"),
            },
        );
        if let Some(m) = &self.metrics {
            m.config_error();
        }
        self.files.last_error = Some(message);
    }

    /// Pick up config files changed on disk. A valid `surprises.toml` is put in force at once; a
    /// valid new `machine.toml` waits for the next start (pins and columns cannot change under a
    /// running machine); anything invalid is refused and reported.
    pub(super) fn reload_from_disk(&mut self) {
        for change in self.files.changes_on_disk() {
            match change {
                Changed::Surprises(text) => {
                    // Refusals are already recorded by apply.
                    let _ = self.apply_surprises_text(&text, BodyFormat::Toml, "file", false);
                }
                Changed::Machine(Ok(())) => {
                    tracing::warn!("machine.toml changed: it takes effect when the kiosk restarts");
                    self.files.restart_needed = true;
                }
                Changed::Machine(Err(e)) | Changed::Unreadable(e) => self.config_refused(&e),
            }
        }
    }

    /// Put a new surprise configuration in force without a file (the fault campaign's reloads).
    pub fn apply_surprises(
        &mut self,
        text: &str,
        source: &str,
    ) -> Result<Applied, ConfigRejection> {
        if self.halted.is_some() {
            return Err(ConfigRejection::Storage {
                message: "the controller has stopped".into(),
            });
        }
        let now = self.clock.now();
        self.sync_local_time(now);
        self.apply_surprises_text(text, BodyFormat::Toml, source, false)
    }
}

/// A PUT replaces the whole surprise config: a body that does not list its surprises would
/// silently drop every one of them, so it must say `surprises = []` to mean none.
pub(super) fn whole_config(body: &str, format: BodyFormat) -> Result<(), ConfigRejection> {
    let text = match format {
        BodyFormat::Toml => body.to_string(),
        BodyFormat::Json => json_to_toml(body)?,
    };
    // Text that is not TOML at all is reported by the validator, with its line.
    match text.parse::<toml::Table>() {
        Ok(table) if !table.contains_key("surprises") => Err(ConfigRejection::Invalid {
            issues: vec![IssueView {
                path: "surprises".into(),
                line: None,
                message: "is missing: a PUT replaces the whole config, so list the surprises \
                          (or write `surprises = []` for none); to change policy fields alone, \
                          PATCH /api/config/surprises/policy"
                    .into(),
            }],
        }),
        _ => Ok(()),
    }
}

/// The surprise config `current` with the policy fields of `patch` set, and everything else
/// (the surprises, the comments, the layout) kept as written. `patch` holds the fields
/// themselves (`probability = 0.5`), or a `policy` table of them.
pub(super) fn patch_policy(
    current: &str,
    patch: &str,
    format: BodyFormat,
) -> Result<String, ConfigRejection> {
    let patch = match format {
        BodyFormat::Toml => patch.to_string(),
        BodyFormat::Json => json_to_toml(patch)?,
    };
    let malformed = |message: String| ConfigRejection::Malformed { message };
    let mut fields: toml::Table = patch
        .parse()
        .map_err(|e| malformed(format!("the policy fields are not valid TOML: {e}")))?;
    if fields.len() == 1 {
        if let Some(toml::Value::Table(inner)) = fields.get("policy") {
            fields = inner.clone();
        }
    }
    if fields.is_empty() {
        return Err(malformed("no policy field to change".into()));
    }
    let mut doc: toml_edit::DocumentMut = current
        .parse()
        .map_err(|e| malformed(format!("the config in force cannot be edited: {e}")))?;
    if !doc.contains_key("policy") {
        doc["policy"] = toml_edit::table();
    }
    for (key, value) in fields {
        let value: toml_edit::Value = value
            .to_string()
            .parse()
            .map_err(|e| malformed(format!("policy.{key}: {e}")))?;
        doc["policy"][key.as_str()] = toml_edit::Item::Value(value);
    }
    Ok(doc.to_string())
}

/// A refused config in the API's terms.
pub(crate) fn rejection(error: &ConfigError) -> ConfigRejection {
    let issues = error.issues();
    // A problem without a field path is a syntax error: the body is not well-formed at all.
    if issues.is_empty() || issues.iter().all(|i| i.path.is_empty()) {
        return ConfigRejection::Malformed {
            message: error.to_string(),
        };
    }
    ConfigRejection::Invalid {
        issues: issues
            .iter()
            .map(|i| IssueView {
                path: i.path.clone(),
                line: i.line,
                message: i.message.clone(),
            })
            .collect(),
    }
}

/// A JSON body becomes the equivalent TOML text, so it is validated and stored exactly like the
/// file.
fn json_to_toml(body: &str) -> Result<String, ConfigRejection> {
    let value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| ConfigRejection::Malformed {
            message: format!("not valid JSON: {e}"),
        })?;
    let value = toml::Value::try_from(value).map_err(|e| ConfigRejection::Malformed {
        message: format!("cannot be written as TOML: {e}"),
    })?;
    toml::to_string(&value).map_err(|e| ConfigRejection::Malformed {
        message: format!("cannot be written as TOML: {e}"),
    })
}

/// Write a config file so that a crash leaves either the old or the new text, never half of
/// one; its mode and owner are kept, a symlinked config's target is written (the link stays),
/// and a failed write (a full disk) leaves no temporary behind.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    crate::files::write(path, text.as_bytes(), &[]).map_err(|e| match e {
        crate::files::WriteError::Io { source, .. } => source,
        other => std::io::Error::other(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_patch_keeps_the_rest_and_writes_every_kind_of_value() {
        let current = "# The policy.\n[policy]\nprobability = 0.2 # the odds\nenabled = true\n\n[[surprises]]\nname = \"note\"\n";
        let patch =
            r#"{"enabled": false, "pacing": {"daily_budget_cents": 500, "hours": "08:00-20:00"}}"#;
        let text = patch_policy(current, patch, BodyFormat::Json).expect("patched");
        let table: toml::Table = text.parse().expect("still TOML");
        let policy = table["policy"].as_table().expect("policy");
        assert_eq!(policy["enabled"].as_bool(), Some(false));
        assert_eq!(policy["probability"].as_float(), Some(0.2));
        assert_eq!(policy["pacing"]["hours"].as_str(), Some("08:00-20:00"));
        assert_eq!(
            policy["pacing"]["daily_budget_cents"].as_integer(),
            Some(500)
        );
        assert!(
            text.contains("# The policy.") && text.contains("# the odds"),
            "{text}"
        );
        assert!(text.contains("[[surprises]]\nname = \"note\""), "{text}");
        // A file without a policy table gets one.
        let text = patch_policy("", "probability = 0.5", BodyFormat::Toml).expect("patched");
        assert!(text.contains("probability = 0.5"), "{text}");
        assert!(matches!(
            patch_policy(current, "{}", BodyFormat::Json),
            Err(ConfigRejection::Malformed { .. })
        ));
    }

    #[test]
    fn a_put_must_list_its_surprises() {
        assert!(whole_config("surprises = []\n", BodyFormat::Toml).is_ok());
        assert!(whole_config(r#"{"surprises": []}"#, BodyFormat::Json).is_ok());
        assert!(matches!(
            whole_config("[policy]\nprobability = 0.5\n", BodyFormat::Toml),
            Err(ConfigRejection::Invalid { .. })
        ));
        // Not TOML at all: the validator reports it, with its line.
        assert!(whole_config("[policy", BodyFormat::Toml).is_ok());
    }
}
