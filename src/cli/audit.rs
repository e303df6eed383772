//! `happiness audit`: the EVA-DTS audit file from the books, each read recorded; beside a
//! running kiosk, a look that is not recorded (a reset goes through the kiosk's API then).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use happiness::config::{MachineConfig, MACHINE_FILE};
use happiness::files::Output;
use happiness::journal::{AuditRequest, Journal, JournalError, JOURNAL_FILE};
use happiness::localtime::LocalTime;

use super::unreadable;

/// What `happiness audit` was asked.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Directory holding journal.db (default: /var/lib/happiness, else
    /// ~/.local/share/happiness).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Directory holding machine.toml: the machine's names and columns in the file (default:
    /// ./config, else /etc/happiness).
    #[arg(long)]
    config: Option<PathBuf>,
    /// A read with reset (at cash collection): the interim counters start again from zero.
    #[arg(long)]
    reset: bool,
    /// Write the file here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Who reads, as recorded and written in the file (plain ASCII, up to 30 characters).
    #[arg(long, default_value = "cli")]
    reader: String,
    /// The books' seal key (default: seal.key in the config directory).
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
}

/// Run `happiness audit`.
pub fn audit(args: AuditArgs) -> ExitCode {
    let dir = args
        .data
        .clone()
        .unwrap_or_else(|| super::default_data_dir(false));
    let machine = match MachineConfig::load_dir(&super::config_dir(args.config.clone())) {
        Ok(m) => m,
        Err(e) => {
            tell!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Err(why) = happiness::audit::check_reader(&args.reader) {
        tell!("error: --reader: {why}");
        return ExitCode::from(2);
    }
    // Opening for writing would start new books where there are none: an audit never does.
    if !dir.join(JOURNAL_FILE).is_file() {
        return unreadable(&JournalError::Missing { path: dir });
    }
    let config = super::config_dir(args.config.clone());
    let key = match super::seal_key(args.key.clone(), &config) {
        Ok(key) => key,
        Err(code) => return code,
    };
    // An audit never makes a key: books without one are read as they are.
    let options = happiness::journal::OpenOptions {
        key: key.clone(),
        ..Default::default()
    };
    let (mut journal, record) = match Journal::open_dir_with(&dir, &options) {
        Ok(j) => (j, true),
        Err(JournalError::InUse { pid, .. }) => {
            let pid = pid.map_or_else(|| "pid unknown".into(), |p| format!("pid {p}"));
            if args.reset {
                tell!(
                    "error: the kiosk is running on these books ({pid}): a read with reset goes \
                     through it, `POST /api/audit/reset` with the operator token"
                );
                return ExitCode::from(3);
            }
            tell!(
                "warning: the kiosk is running on these books ({pid}): this read is not \
                 recorded (GET /api/audit.dex records it)"
            );
            match Journal::open_read_only_with(&dir, key) {
                Ok(j) => (j, false),
                Err(e) => return unreadable(&e),
            }
        }
        Err(e) => return unreadable(&e),
    };
    // The file is made before the read is recorded: a read with reset never happens for a
    // file that could not be written.
    // Never over the books, their companions, or a config in use; through a symlink to its
    // target; to a FIFO or a device as it is.
    let mut protected = happiness::journal::book_files(&dir);
    protected.push((
        config.join(happiness::journal::KEY_FILE),
        "the books' seal key".to_string(),
    ));
    for name in [MACHINE_FILE, happiness::surprise::config::SURPRISES_FILE] {
        protected.push((config.join(name), "a config file in use".to_string()));
    }
    let out = match args
        .out
        .as_deref()
        .map(|path| Output::open(path, &protected))
        .transpose()
    {
        Ok(out) => out,
        Err(e) => {
            tell!("error: --out: {e}");
            return ExitCode::from(2);
        }
    };
    let request = AuditRequest {
        identity: &machine.audit,
        version: env!("CARGO_PKG_VERSION"),
        columns: &machine.columns,
        at: LocalTime::now(),
        reset: args.reset,
        reader: &args.reader,
    };
    let text = match journal.audit(&request, record) {
        Ok(text) => text,
        Err(e) => return unreadable(&e),
    };
    match out {
        Some(part) => {
            if let Err(e) = part.finish(text.as_bytes()) {
                tell!(
                    "error: {e} (the read is recorded; `happiness audit` shows the counters \
                     again)"
                );
                return ExitCode::from(2);
            }
        }
        // A closed pipe (`| head`) ends the output quietly.
        None => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    }
    ExitCode::SUCCESS
}
