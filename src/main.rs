//! The `happiness` command line: parse arguments, load the config, pick the hardware, run.
//! Everything else lives in the library.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use happiness::config::{MachineConfig, MACHINE_FILE};
use happiness::controller::{LocalClock, TraceSink};
use happiness::journal::{Journal, OpenOptions, StorageLimits};
use happiness::kiosk::{is_raspberry_pi, Backend, JournalLocation, Kiosk, KioskConfig};
use happiness::localtime::LocalTime;
use happiness::metrics::Metrics;
use happiness::operator::{self, Console, Token};
use happiness::script::{self, Outcome};
use happiness::simulate::{simulate, Restock, SimulateOptions, TrafficProfile};
use happiness::surprise::config::SURPRISES_FILE;
use happiness::surprise::SurpriseConfig;
use happiness::torture::{run_campaign, run_seed, Campaign, FaultRates};
use happiness::trace::TraceRecord;
#[cfg(feature = "inject-bugs")]
use happiness::vend::InjectedBug;
use std::net::SocketAddr;
use tokio::sync::mpsc;

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
    },
}

/// The default data directory: /var/lib/happiness where it exists or can be made, else the
/// user's data directory.
fn default_data_dir(create: bool) -> PathBuf {
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

#[derive(Debug, clap::Args)]
struct TortureArgs {
    /// Directory holding machine.toml and surprises.toml (default: ./config, else
    /// /etc/happiness).
    #[arg(long)]
    config: Option<PathBuf>,
    /// How many seeds to run.
    #[arg(long, default_value_t = 1000)]
    seeds: u64,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    start: u64,
    /// Replay this one seed (with --verbose, step by step).
    #[arg(long)]
    seed: Option<u64>,
    /// Paid vends per seed.
    #[arg(long, default_value_t = 50)]
    vends: u32,
    /// Fault profile: none, light or heavy.
    #[arg(long, default_value = "heavy")]
    faults: String,
    /// Print every step of a replayed seed.
    #[arg(long)]
    verbose: bool,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Run a deliberately broken controller, to see the checks fail (skip-refund, skip-stock).
    /// Only in test builds (the `inject-bugs` feature).
    #[cfg(feature = "inject-bugs")]
    #[arg(long, hide = true)]
    inject_bug: Option<String>,
}

#[derive(Debug, clap::Args)]
struct SimulateArgs {
    /// Directory holding machine.toml and surprises.toml (default: ./config, else
    /// /etc/happiness).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Paid vends to simulate.
    #[arg(long, default_value_t = 1_000_000)]
    vends: u64,
    /// Seed: the same seed gives the same report.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Average customers per weekday.
    #[arg(long, default_value_t = 30)]
    per_day: u32,
    /// When customers come: office, station or flat.
    #[arg(long, default_value = "office")]
    profile: TrafficProfile,
    /// Restocking: daily or never.
    #[arg(long, default_value = "daily")]
    restock: Restock,
    /// First simulated day, YYYY-MM-DD.
    #[arg(long, default_value = "2026-01-05")]
    start: String,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum HardwareChoice {
    /// The Raspberry Pi's GPIO on a Pi, the simulator anywhere else.
    Auto,
    /// The simulated machine.
    Sim,
    /// The Raspberry Pi's GPIO.
    Rpi,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EventsFormat {
    /// One readable line per event and command.
    Text,
    /// One JSON object per event and command.
    Json,
    /// Nothing (logs still go to stderr).
    None,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Directory holding machine.toml (default: ./config, else /etc/happiness).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Which hardware to drive.
    #[arg(long, value_enum, default_value_t = HardwareChoice::Auto)]
    hardware: HardwareChoice,
    /// Seed for the simulator's and the surprise engine's randomness (default: from the clock,
    /// and logged).
    #[arg(long)]
    seed: Option<u64>,
    /// What to print on stdout about events and commands.
    #[arg(long, value_enum, default_value_t = EventsFormat::Text)]
    events: EventsFormat,
    /// Directory for the journal (the books). Default on a Raspberry Pi: /var/lib/happiness
    /// (or ~/.local/share/happiness when that is not writable); on the simulator the books are
    /// kept in memory unless this is given.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Where the web pages and the operator API listen, or `off`. Without an operator token
    /// only loopback addresses are allowed.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// File holding the operator token, readable by its owner only (HAPPINESS_TOKEN takes
    /// precedence). Without a token the operator API is off.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Start new books in a data directory that holds other files but no journal, or in place
    /// of an empty journal file (kept aside). Existing books are never replaced.
    #[arg(long)]
    new_books: bool,
    /// Free space below which the machine takes no money and starts no vend (bytes, or with
    /// KiB, MiB or GiB).
    #[arg(long, default_value = "16MiB", value_parser = parse_size)]
    min_free: u64,
    /// Space kept in reserve beside the journal, released to finish what is under way when the
    /// disk fills up (bytes, or with KiB, MiB or GiB).
    #[arg(long, default_value = "4MiB", value_parser = parse_size)]
    reserve: u64,
}

/// Exit code of `run` when the books need an operator (damaged, altered, emptied or missing):
/// the service manager does not restart the kiosk for it, since a restart fails the same way.
const BOOKS_NEED_OPERATOR: u8 = 5;

/// A size like `16MiB`, `512KiB`, `1GiB` or a number of bytes.
fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size like 16MiB or 4096"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        other => return Err(format!("unknown size unit `{other}` (use KiB, MiB or GiB)")),
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
}

fn config_dir(given: Option<PathBuf>) -> PathBuf {
    given.unwrap_or_else(|| {
        let local = PathBuf::from("config");
        if local.join(MACHINE_FILE).exists() {
            local
        } else {
            PathBuf::from("/etc/happiness")
        }
    })
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
        Cmd::CheckConfig { dir } => check_config(&config_dir(dir)),
        Cmd::Simulate(args) => run_simulation(args),
        Cmd::Torture(args) => torture(args),
        Cmd::Report {
            data,
            json,
            currency,
        } => report(
            &data.unwrap_or_else(|| default_data_dir(false)),
            json,
            &currency,
        ),
        Cmd::Run(args) => {
            // One thread runs the controller and everything around it: no hand-offs between
            // worker threads on the path from a button to a motor, and nothing to wake when idle.
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("error: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(run(args)) {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn check_config(dir: &Path) -> ExitCode {
    let (cfg, surprises) = match load_configs(dir) {
        Ok(both) => both,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    println!(
        "{}: OK: \"{}\", {} columns, {} buttons, {} coins, {:?} payment",
        dir.join(MACHINE_FILE).display(),
        cfg.name,
        cfg.columns.len(),
        cfg.buttons.len(),
        cfg.coins.len(),
        cfg.payment
    );
    let surprises_file = dir.join(SURPRISES_FILE);
    if surprises_file.exists() {
        println!(
            "{}: OK: {} surprises, probability {}, {}",
            surprises_file.display(),
            surprises.catalogue.len(),
            surprises.policy.probability,
            if surprises.policy.enabled {
                "enabled"
            } else {
                "disabled"
            }
        );
    } else {
        println!("{}: not present: no surprises", surprises_file.display());
    }
    ExitCode::SUCCESS
}

fn report(dir: &Path, json: bool, currency: &str) -> ExitCode {
    let report = match Journal::open_read_only(dir).and_then(|j| j.report()) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("error: {e}");
            // A file that is there but damaged is not "no journal": say which it is.
            let damaged = matches!(e, happiness::journal::JournalError::Damaged { .. });
            return ExitCode::from(if damaged { 5 } else { 2 });
        }
    };
    if json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("error: cannot encode the report: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        println!("{}", report.to_text(currency));
    }
    // The same verdict whatever the format: a script reading JSON must not be told "fine" about
    // books that do not balance.
    ExitCode::from(report.exit_code())
}

fn torture(args: TortureArgs) -> ExitCode {
    let dir = config_dir(args.config);
    let (machine, surprises) = match load_configs(&dir) {
        Ok(both) => both,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let faults = match FaultRates::profile(&args.faults) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: --faults: {e}");
            return ExitCode::from(2);
        }
    };
    #[cfg(feature = "inject-bugs")]
    let inject_bug = match args.inject_bug.as_deref() {
        None => None,
        Some("skip-refund") => Some(InjectedBug::SkipRefund),
        Some("skip-stock") => Some(InjectedBug::SkipStock),
        Some(other) => {
            eprintln!("error: --inject-bug: unknown bug `{other}` (skip-refund, skip-stock)");
            return ExitCode::from(2);
        }
    };
    #[cfg(not(feature = "inject-bugs"))]
    let inject_bug = None;
    let surprises_text = std::fs::read_to_string(dir.join(SURPRISES_FILE)).unwrap_or_default();
    let campaign = Campaign {
        machine: Arc::new(machine),
        surprises,
        surprises_text,
        vends: args.vends,
        faults,
        inject_bug,
        keep_trace: args.verbose,
    };
    if let Some(seed) = args.seed {
        let outcome = run_seed(&campaign, seed);
        if args.verbose {
            for line in &outcome.trace {
                println!("{line}");
            }
        }
        if args.json {
            match serde_json::to_string_pretty(&outcome) {
                Ok(j) => println!("{j}"),
                Err(e) => eprintln!("error: {e}"),
            }
        } else {
            println!(
                "seed {seed}: {} paid vends ({} delivered), {} steps, {:.1} virtual minutes, faults {:?}",
                outcome.vends,
                outcome.delivered,
                outcome.steps,
                outcome.virtual_secs / 60.0,
                outcome.faults
            );
        }
        return match outcome.violation {
            Some(v) => {
                eprintln!("VIOLATION: {v}");
                ExitCode::FAILURE
            }
            None => {
                println!("no violations");
                ExitCode::SUCCESS
            }
        };
    }
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(std::num::NonZeroUsize::get)
            .unwrap_or(1)
    });
    let report = run_campaign(&campaign, args.start, args.seeds, threads);
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(j) => println!("{j}"),
            Err(e) => eprintln!("error: {e}"),
        }
    } else {
        println!("{}", report.to_text());
    }
    if report.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn run_simulation(args: SimulateArgs) -> ExitCode {
    let dir = config_dir(args.config);
    let (machine, surprises) = match load_configs(&dir) {
        Ok(both) => both,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let start = args
        .start
        .split('-')
        .map(str::parse::<u32>)
        .collect::<Result<Vec<_>, _>>()
        .ok()
        .and_then(|p| match p.as_slice() {
            [y, m, d] => LocalTime::from_ymd_hm(i32::try_from(*y).ok()?, *m, *d, 0, 0),
            _ => None,
        });
    let Some(start) = start else {
        eprintln!(
            "error: --start: `{}` is not a date like 2026-01-05",
            args.start
        );
        return ExitCode::from(2);
    };
    let options = SimulateOptions {
        vends: args.vends,
        seed: args.seed,
        per_day: args.per_day,
        profile: args.profile,
        restock: args.restock,
        start,
    };
    let report = simulate(&machine, &surprises, &options);
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(e) => {
                eprintln!("error: cannot encode the report: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        println!("{}", report.to_text(&machine.currency));
    }
    ExitCode::SUCCESS
}

/// Both config files of a directory, or every problem found, ready to print.
fn load_configs(dir: &Path) -> Result<(MachineConfig, SurpriseConfig), String> {
    let machine = MachineConfig::load_dir(dir).map_err(|e| e.to_string())?;
    let surprises = SurpriseConfig::load_dir(dir, &machine).map_err(|e| e.to_string())?;
    Ok((machine, surprises))
}

async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let dir = config_dir(args.config);
    let (machine, surprises) = match load_configs(&dir) {
        Ok(both) => both,
        Err(message) => {
            eprintln!("{message}");
            return Ok(ExitCode::from(2));
        }
    };
    let config = Arc::new(machine);
    let token = match Token::load(
        std::env::var("HAPPINESS_TOKEN").ok(),
        args.token_file.as_deref(),
    ) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let listen: Option<SocketAddr> = match args.listen.as_str() {
        "off" | "none" => None,
        text => match text.parse::<SocketAddr>() {
            Ok(addr) => Some(addr),
            Err(_) => {
                eprintln!(
                    "error: --listen: `{text}` is not an address like 127.0.0.1:8080 (or off)"
                );
                return Ok(ExitCode::from(2));
            }
        },
    };
    if let Some(addr) = listen {
        if !addr.ip().is_loopback() && token.is_none() {
            eprintln!(
                "error: refusing to listen on {addr} without an operator token: set HAPPINESS_TOKEN \
                 (or --token-file), or listen on 127.0.0.1"
            );
            return Ok(ExitCode::from(2));
        }
    }
    let backend = match args.hardware {
        HardwareChoice::Sim => Backend::Sim,
        HardwareChoice::Rpi => Backend::Rpi,
        HardwareChoice::Auto if is_raspberry_pi() => Backend::Rpi,
        HardwareChoice::Auto => {
            tracing::info!(
                "not running on a Raspberry Pi: using the simulated machine (--hardware sim)"
            );
            Backend::Sim
        }
    };
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    });
    tracing::info!(seed, "random seed (replay with --seed)");

    let journal = match (args.data, backend) {
        (Some(dir), _) => JournalLocation::Dir(dir),
        (None, Backend::Rpi) => JournalLocation::Dir(default_data_dir(true)),
        (None, Backend::Sim) => {
            tracing::info!("the simulator keeps its books in memory: pass --data DIR to keep them");
            JournalLocation::Memory
        }
    };
    if let JournalLocation::Dir(dir) = &journal {
        tracing::info!(dir = %dir.display(), "journal");
    }
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
    let machine_text = read(happiness::config::MACHINE_FILE);
    let surprises_text = read(SURPRISES_FILE);

    let mut sink = TraceSink::new();
    let trace_rx = sink.subscribe();
    // Enough for a live viewer to ride out a hiccup; one that falls further behind is told so.
    let live_events = sink.broadcast(256);
    let metrics = Arc::new(Metrics::new());
    let setup = KioskConfig {
        machine: Arc::clone(&config),
        surprises,
        seed,
        local_clock: LocalClock::System,
        journal,
        config_dir: Some(dir.clone()),
        machine_text,
        surprises_text,
        metrics: Some(Arc::clone(&metrics)),
        journal_options: OpenOptions {
            new_books: args.new_books,
            limits: StorageLimits {
                min_free: args.min_free,
                reserve: args.reserve,
            },
        },
    };
    let kiosk = match Kiosk::start(setup, backend, sink) {
        Ok(kiosk) => kiosk,
        Err(e) if e.books_need_operator() => {
            eprintln!("error: cannot start the kiosk: {e}");
            return Ok(ExitCode::from(BOOKS_NEED_OPERATOR));
        }
        Err(e) => {
            return Err(anyhow::Error::new(e))
                .with_context(|| format!("cannot start the kiosk on {} hardware", backend.name()))
        }
    };
    let mut console = None;
    if let Some(addr) = listen {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => match Console::start(
                &kiosk,
                listener,
                token.clone(),
                Arc::clone(&metrics),
                live_events,
                Some(dir.clone()),
            ) {
                Ok(c) => {
                    tracing::info!(
                        "kiosk page: http://{0}/kiosk   operator console: http://{0}/operator{1}",
                        c.addr,
                        if token.is_some() {
                            ""
                        } else {
                            " (operator API off: no token)"
                        }
                    );
                    console = Some(c);
                }
                Err(e) => tracing::error!("cannot start the web server: {e}"),
            },
            // Vending does not depend on the web pages: carry on without them.
            Err(e) => tracing::error!(
                "cannot listen on {addr}: {e}; running without the web pages and API"
            ),
        }
    }
    // The display, the pages and the API answer now, whatever the books' size: the checks that
    // grow with it are still running, and selling waits for them.
    kiosk.announce();
    let _watcher = if console.is_none() {
        operator::watch::watch_config(dir.clone(), kiosk.requests()).ok()
    } else {
        None
    };
    let reload = kiosk.requests();
    let mut sighup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .context("cannot listen for SIGHUP")?;
    tokio::spawn(async move {
        while sighup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading the config");
            if reload
                .send(happiness::controller::Request::ReloadFromDisk)
                .is_err()
            {
                return;
            }
        }
    });
    let currency = config.currency.clone();
    let printer = tokio::spawn(print_trace(trace_rx, args.events, currency));

    let interactive = std::io::stdin().is_terminal();
    let mut lines = stdin_lines();
    if interactive && kiosk.sim.is_some() {
        println!(
            "{} (simulated). Type `help` for commands, `quit` to stop.\n{}",
            config.name,
            script::status_text(&kiosk)
        );
    }

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    let shutdown = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("interrupted: stopping"),
            _ = sigterm.recv() => tracing::info!("terminated: stopping"),
        }
    };
    tokio::pin!(shutdown);
    let mut stdin_open = true;
    let mut failed = false;
    // A script acts on a machine that sells: its first line waits until the books have passed
    // their checks (at once for books in memory).
    let stop_requested = tokio::select! {
        () = &mut shutdown => true,
        () = kiosk.opened() => false,
    };
    // (`shutdown` must not be polled again once it has completed.)
    if !stop_requested {
        loop {
            let line = tokio::select! {
                () = &mut shutdown => break,
                // A controller that stopped by itself (the books, the hardware, a bug) ends the
                // process at once, whatever stdin does: under systemd stdin is empty for good, and
                // only an exit lets the service manager restart the kiosk.
                () = kiosk.finished() => break,
                line = lines.recv(), if stdin_open => line,
            };
            let Some(line) = line else {
                stdin_open = false;
                // A simulated session ends with its input; on real hardware the kiosk keeps running
                // (under systemd stdin is empty from the start).
                if kiosk.sim.is_some() {
                    break;
                }
                continue;
            };
            let cmd = match script::parse(&line) {
                Ok(Some(cmd)) => cmd,
                Ok(None) => continue,
                Err(e) => {
                    report_script_error(&e.to_string(), interactive, &mut failed);
                    continue;
                }
            };
            // A long `wait` must not delay a stop request or a failed controller.
            let outcome = tokio::select! {
                () = &mut shutdown => break,
                () = kiosk.finished() => break,
                outcome = script::execute(&kiosk, cmd) => outcome,
            };
            match outcome {
                Ok(Outcome::Quit) => break,
                Ok(Outcome::Continue(text)) if !text.is_empty() => println!("{text}"),
                Ok(Outcome::Continue(_)) => {
                    if interactive && kiosk.sim.is_some() {
                        println!("{}", script::status_text(&kiosk));
                    }
                }
                Err(message) => report_script_error(&message, interactive, &mut failed),
            }
        }
    }
    // Stopping switches every motor off first and inhibits the coin acceptor; nothing after that
    // may keep the process alive.
    let stopping = async {
        let result = kiosk.stop().await;
        // The controller has dropped its trace senders, so the printer drains and ends.
        let _ = printer.await;
        result
    };
    let result = match tokio::time::timeout(std::time::Duration::from_secs(10), stopping).await {
        Ok(result) => result,
        Err(_) => anyhow::bail!("the kiosk did not stop within 10 s"),
    };
    // The pages have shown "out of service" by now. Open event streams would hold a graceful
    // shutdown forever, so the web server gets a moment to finish requests, then goes.
    if let Some(c) = console {
        let _ = tokio::time::timeout(std::time::Duration::from_millis(300), c.stop()).await;
    }
    match result {
        Err(e) if e.books_need_operator() => {
            eprintln!("error: the controller stopped: {e}");
            return Ok(ExitCode::from(BOOKS_NEED_OPERATOR));
        }
        other => other.context("the controller stopped with an error")?,
    }
    Ok(if failed {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

/// A bad line in a script is an error the script's author must see; at a terminal it is just a
/// typo.
fn report_script_error(message: &str, interactive: bool, failed: &mut bool) {
    eprintln!("error: {message}");
    if !interactive {
        *failed = true;
    }
}

/// Lines from stdin, read on a plain thread: a blocked read must not hold up the runtime's
/// shutdown.
fn stdin_lines() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

async fn print_trace(
    mut rx: mpsc::UnboundedReceiver<TraceRecord>,
    format: EventsFormat,
    currency: String,
) {
    while let Some(record) = rx.recv().await {
        let line = match format {
            EventsFormat::Json => record.to_json(),
            EventsFormat::Text => record.to_text(&currency),
            EventsFormat::None => continue,
        };
        let mut out = std::io::stdout().lock();
        // stdout gone (closed pipe) is not a reason to stop the machine.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}
