//! The `happiness` command line: parse arguments and hand each subcommand to its module in
//! `cli/`. Everything worth testing lives in the library.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `println!` that never panics: a reader that went away (`| head`, a viewer that quit) closes
/// stdout, and that must not take a kiosk down mid-vend.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, $($arg)*);
        let _ = out.flush();
    }};
}

/// `eprintln!` that never panics on a closed stderr.
macro_rules! tell {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

mod cli;

use cli::run::RunArgs;
use cli::simulate::SimulateArgs;
use cli::torture::TortureArgs;

/// Controller for a Raspberry Pi vending kiosk: every customer gets what they paid for, and now
/// and then a surprise.
#[derive(Debug, Parser)]
#[command(name = "happiness", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the kiosk (on a Raspberry Pi's GPIO, or on the simulated machine).
    ///
    /// On the simulator, type commands (`help` lists them) or pipe a script, one command per
    /// line; the end of the input stops the simulated kiosk.
    Run(RunArgs),
    /// Check a config directory (default: ./config, else /etc/happiness) and exit.
    CheckConfig {
        /// Directory holding machine.toml (and surprises.toml).
        dir: Option<PathBuf>,
    },
    /// Monte Carlo report of the surprise policy: rate, cost, caps that bind, stock used.
    Simulate(SimulateArgs),
    /// Fault campaign: the whole machine in virtual time, one seed per run, invariants checked
    /// after every step. Exits non-zero on any violation.
    Torture(TortureArgs),
    /// The fleet over MQTT: every machine's state in one table (live at a terminal), commands
    /// to one machine (`send`), a surprise config to many (`push-surprises`), and the fleet
    /// page (`serve`).
    Fleet(cli::fleet::FleetArgs),
    /// The EVA-DTS audit file (the "DEX file" route drivers and telemetry read) from the books.
    ///
    /// Every read is recorded; `--reset` is the read with reset of a cash collection. Beside a
    /// running kiosk the file is printed without recording the read, and a reset is refused
    /// (exit 3: use the kiosk's `POST /api/audit/reset`). Exit 2 without books, 4 when they do
    /// not balance, 5 when they are damaged or altered: no figures are printed then.
    Audit(cli::audit::AuditArgs),
    /// The MDB bus on its own: bring up the coin changer, bill validator and card reader on a
    /// port and print what each says, to wire a machine and check its payment devices. Takes
    /// no money (coins and bills refused unless --accept, bills handed back, card sessions
    /// ended). Exit 3 when a device never came up within --for, 2 when the port cannot be used.
    Mdb(cli::mdb::MdbArgs),
    /// The books: sales, refunds, surprises, faults, interrupted vends, and the money balance.
    Report {
        /// Directory holding journal.db (default: /var/lib/happiness, else
        /// ~/.local/share/happiness).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Currency symbol for the text report.
        #[arg(long, default_value = "€")]
        currency: String,
        /// Directory holding surprises.toml, for each campaign's awards against its budget and
        /// planned sales (default: ./config, else /etc/happiness; left out if there is none).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Print one CSV row per paid vend in the period instead (time, column, product, price,
        /// outcome, reason, surprise, surprise cost).
        #[arg(long, conflicts_with = "json")]
        csv: bool,
        /// With --csv: the period's start (2026-11-01, 2026-11-01T08:00 or RFC 3339).
        #[arg(long, requires = "csv")]
        from: Option<String>,
        /// With --csv: the period's end (a date includes that whole day; default: now).
        #[arg(long, requires = "csv")]
        to: Option<String>,
        /// With --csv: the last N days, today included (without it, --from or --to: the last seven
        /// days to now).
        #[arg(long, requires = "csv", conflicts_with_all = ["from", "to"])]
        days: Option<u32>,
        /// The books' seal key (default: seal.key in the config directory): books sealed with a
        /// key are checked with it, and cannot be checked without it (a copy of the books
        /// elsewhere needs `--key` with the machine's key).
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A fault campaign provokes thousands of warnings and errors on purpose; its report is what
    // matters.
    let default_level = if matches!(cli.command, Cmd::Torture(_)) {
        "off"
    } else {
        "info"
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .init();
    match cli.command {
        Cmd::CheckConfig { dir } => cli::check::check_config(&cli::config_dir(dir)),
        Cmd::Audit(args) => cli::audit::audit(args),
        Cmd::Mdb(args) => cli::mdb::mdb(args),
        Cmd::Simulate(args) => cli::simulate::run_simulation(args),
        Cmd::Torture(args) => cli::torture::torture(args),
        Cmd::Report {
            data,
            json,
            currency,
            config,
            csv,
            from,
            to,
            days,
            key,
        } => {
            let dir = data.unwrap_or_else(|| cli::default_data_dir(false));
            let config = cli::config_dir(config);
            let key = match cli::seal_key(key, &config) {
                Ok(key) => key,
                Err(code) => return code,
            };
            if csv {
                cli::report::sales_csv(&dir, key, from.as_deref(), to.as_deref(), days)
            } else {
                let campaigns = cli::report::campaigns_from(&config);
                cli::report::report(&dir, key, json, &currency, &campaigns)
            }
        }
        Cmd::Fleet(args) => match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(cli::fleet::fleet(args)),
            Err(e) => {
                tell!("error: cannot start the runtime: {e}");
                ExitCode::FAILURE
            }
        },
        Cmd::Run(args) => {
            // One thread runs the controller and everything around it: no hand-offs between
            // worker threads on the path from a button to a motor, and nothing to wake when idle.
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tell!("error: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(cli::run::run(args)) {
                Ok(code) => code,
                Err(e) => {
                    tell!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
