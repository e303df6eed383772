//! Problems in config files: each with its field path, its line when known, and what is wrong;
//! and strict TOML parsing that reports the first problem that way. Shared by `machine.toml` and
//! `surprises.toml`.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem found in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Field path, e.g. `columns[2].motor_pin` (empty for syntax errors).
    pub path: String,
    /// Line in the file, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// A config file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file was read but is not a valid machine description.
    #[error("{}", render_issues(file, issues))]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Every problem found.
        issues: Vec<Issue>,
    },
}

impl ConfigError {
    /// The problems found (empty for a read error).
    pub fn issues(&self) -> &[Issue] {
        match self {
            ConfigError::Read { .. } => &[],
            ConfigError::Invalid { issues, .. } => issues,
        }
    }
}

fn render_issues(file: &Path, issues: &[Issue]) -> String {
    issues
        .iter()
        .map(|i| format!("{}: {i}", file.display()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Give each issue without a line the line of its field in `text` (or of the nearest table
/// above it that is there: a missing field is reported on its table's line), so that an editor
/// can point at it.
pub(crate) fn locate(text: &str, mut issues: Vec<Issue>) -> Vec<Issue> {
    let Ok(doc) = toml_edit::Document::parse(text) else {
        return issues;
    };
    for issue in issues.iter_mut().filter(|i| i.line.is_none()) {
        let mut item = doc.as_item();
        let mut found = None;
        for step in path_steps(&issue.path) {
            let next = match step {
                Step::Key(key) => item.get(key),
                Step::Index(i) => item.get(i),
            };
            let Some(next) = next else { break };
            item = next;
            found = item.span().or(found);
        }
        issue.line = found.map(|span| line_of(text, span.start));
    }
    issues
}

enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// `surprises[3].when.days[0]` as keys and indexes.
fn path_steps(path: &str) -> Vec<Step<'_>> {
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            steps.push(Step::Key(key));
        }
        while let Some((index, after)) = rest.split_once(']') {
            match index.parse() {
                Ok(i) => steps.push(Step::Index(i)),
                Err(_) => return steps,
            }
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    steps
}

/// Parse TOML text into `T`, reporting the first problem with its field path and line.
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Issue> {
    let de = toml::de::Deserializer::parse(text).map_err(|e| Issue {
        path: String::new(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner();
        let message = inner.message().trim().to_string();
        let line = inner.span().map(|s| line_of(text, s.start));
        // serde reports a missing field at its parent; name the field itself.
        let (path, message) = match message
            .strip_prefix("missing field `")
            .and_then(|m| m.strip_suffix('`'))
        {
            Some(field) if path == "." || path.is_empty() => {
                (field.to_string(), "is required but missing".to_string())
            }
            Some(field) => (
                format!("{path}.{field}"),
                "is required but missing".to_string(),
            ),
            None if path == "." => (String::new(), message),
            None => (path, message),
        };
        Issue {
            path,
            line,
            message,
        }
    })
}
