//! The subcommands of `happiness`, one module each; what more than one needs lives here.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use happiness::config::{MachineConfig, MACHINE_FILE};
use happiness::surprise::SurpriseConfig;

pub mod audit;
pub mod check;
pub mod fleet;
pub mod mdb;
pub mod report;
pub mod run;
pub mod simulate;
pub mod terminal;
pub mod torture;

/// The default data directory: /var/lib/happiness where it exists or can be made, else the
/// user's data directory.
pub fn default_data_dir(create: bool) -> PathBuf {
    let system = PathBuf::from("/var/lib/happiness");
    if system.is_dir() || (create && std::fs::create_dir_all(&system).is_ok()) {
        return system;
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("happiness")
}

pub fn config_dir(given: Option<PathBuf>) -> PathBuf {
    given.unwrap_or_else(|| {
        let local = PathBuf::from("config");
        if local.join(MACHINE_FILE).exists() {
            local
        } else {
            PathBuf::from("/etc/happiness")
        }
    })
}

/// Say why the books gave no answer, and the exit code `report` and `audit` share: 4 when they
/// do not balance, 5 when the file is damaged or a record altered, 2 otherwise (none there).
pub fn unreadable(e: &happiness::journal::JournalError) -> ExitCode {
    use happiness::journal::JournalError;
    tell!("error: {e}");
    ExitCode::from(match e {
        JournalError::Unvouched { code, .. } => *code,
        JournalError::Damaged { .. }
        | JournalError::Altered { .. }
        | JournalError::NotOurBooks { .. }
        | JournalError::Key { .. }
        | JournalError::KeyRefused { .. } => 5,
        _ => 2,
    })
}

/// The machine's seal key for reading its books: `given` (which must be there), or `seal.key` in
/// `config` if there is one. A key that cannot be read is exit 5, as books that cannot be
/// vouched for; a `--key` that names nothing is exit 2.
pub fn seal_key(
    given: Option<PathBuf>,
    config: &Path,
) -> Result<Option<happiness::journal::SealKey>, ExitCode> {
    use happiness::journal::{SealKey, KEY_FILE};
    let path = match given {
        Some(path) if !path.exists() => {
            tell!("error: --key: {} does not exist", path.display());
            return Err(ExitCode::from(2));
        }
        Some(path) => path,
        None => config.join(KEY_FILE),
    };
    if !path.exists() {
        return Ok(None);
    }
    SealKey::load(&path).map(Some).map_err(|e| {
        tell!("error: {e}");
        ExitCode::from(5)
    })
}

/// Both config files of a directory; or every problem found printed, and exit code 2 (an
/// invalid config) for the caller to return.
pub fn load_configs(dir: &Path) -> Result<(MachineConfig, SurpriseConfig), ExitCode> {
    let load = || -> Result<_, String> {
        let machine = MachineConfig::load_dir(dir).map_err(|e| e.to_string())?;
        let surprises =
            SurpriseConfig::load_dir(dir, &machine.columns).map_err(|e| e.to_string())?;
        Ok((machine, surprises))
    };
    load().map_err(|message| {
        tell!("{message}");
        ExitCode::from(2)
    })
}
