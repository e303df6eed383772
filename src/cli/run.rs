//! `happiness run`: the kiosk, on a Pi or the simulator, with its pages, the script on stdin and
//! the event stream on stdout.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::ValueEnum;
use happiness::config::{BrokerUrl, FleetConfig, FleetParts, MachineId};
use happiness::controller::{LocalClock, TraceSink};
use happiness::fleet::mqtt::CredentialFiles;
use happiness::fleet::{Credentials, FleetLink};
use happiness::journal::KEY_FILE;
use happiness::journal::{OpenOptions, StorageLimits};
use happiness::kiosk::{is_raspberry_pi, Backend, JournalLocation, Kiosk, KioskConfig};
use happiness::metrics::Metrics;
use happiness::operator::actions::Actions;
use happiness::operator::{self, Console, Reach, Token};
use happiness::script::{self, Outcome};
use happiness::surprise::config::SURPRISES_FILE;
use happiness::trace::TraceRecord;
use tokio::sync::mpsc;

use super::{config_dir, default_data_dir, load_configs, terminal};

mod printer;

pub use printer::print_trace;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HardwareChoice {
    /// The Raspberry Pi's GPIO on a Pi, the simulator anywhere else.
    Auto,
    /// The simulated machine.
    Sim,
    /// The Raspberry Pi's GPIO.
    Rpi,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventsFormat {
    /// What a customer at the machine notices: the display, the tray, money, surprises.
    Customer,
    /// One readable line per event and command (the full trace).
    Text,
    /// One JSON object per event and command.
    Json,
    /// Nothing (logs still go to stderr).
    None,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
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
    /// What to print on stdout about events and commands (default: `customer` for a person at
    /// a terminal, `text` otherwise).
    #[arg(long, value_enum)]
    events: Option<EventsFormat>,
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
    /// A DNS name the pages and API may be reached by (repeatable). IP addresses, `localhost`,
    /// this machine's host name and `<host name>.local` always work; requests naming any other
    /// host are refused, which keeps web pages that point their own names at the kiosk (DNS
    /// rebinding) out.
    #[arg(long = "host-name", value_name = "NAME")]
    host_names: Vec<String>,
    /// An address (besides the machine's own screen on loopback) whose screen may press the
    /// touchscreen's buttons, return coins and answer "How was it?" without the operator token
    /// (repeatable): a second screen on the LAN, say.
    #[arg(long = "touchscreen", value_name = "ADDR")]
    touchscreens: Vec<std::net::IpAddr>,
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
    /// The seal key of the books (default: seal.key in the config directory, made there at the
    /// first start, mode 0600). Keep it apart from the books and in the backups of the config.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// The fleet's MQTT broker, `mqtt://host:port` or `mqtts://host:port` (wins over
    /// `[fleet] broker` in machine.toml). Without either, the machine is in no fleet.
    #[arg(long, value_name = "URL")]
    mqtt: Option<String>,
    /// This machine's id in the fleet (wins over `[fleet] id`).
    #[arg(long, value_name = "ID")]
    machine_id: Option<String>,
}

/// Exit code of `run` when the books need an operator (damaged, altered, emptied or missing):
/// the service manager does not restart the kiosk for it, since a restart fails the same way.
pub const BOOKS_NEED_OPERATOR: u8 = 5;

/// A size like `16MiB`, `512KiB`, `1GiB` or a number of bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
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

/// What `run` starts with, once its arguments made sense.
struct Plan {
    dir: PathBuf,
    token: Option<Token>,
    host_names: Vec<String>,
    touchscreens: Vec<std::net::IpAddr>,
    listen: Option<SocketAddr>,
    backend: Backend,
    setup: KioskConfig,
    events: Option<EventsFormat>,
    fleet: Option<(FleetConfig, Credentials)>,
}

/// The names the console answers to: those given, and this machine's host name (plain and
/// `.local`, as mDNS announces it).
fn host_names(given: Vec<String>) -> Vec<String> {
    let mut names = given;
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let host = host.trim().to_ascii_lowercase();
        if !host.is_empty() {
            names.push(format!("{host}.local"));
            names.push(host);
        }
    }
    names
}

/// Read the config and turn the arguments into a plan; a problem is printed and becomes exit
/// code 2.
fn plan(args: RunArgs) -> Result<Plan, ExitCode> {
    let refuse = |message: String| {
        tell!("{message}");
        ExitCode::from(2)
    };
    let dir = config_dir(args.config);
    let (machine, surprises) = load_configs(&dir)?;
    let token = Token::load(
        std::env::var("HAPPINESS_TOKEN").ok(),
        args.token_file.as_deref(),
    )
    .map_err(|e| refuse(format!("error: {e}")))?;
    let listen = operator::listen_address(&args.listen, token.is_some())
        .map_err(|e| refuse(format!("error: {e}")))?;
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
    log_time_zone();
    let journal = journal_location(args.data, backend);
    let fleet = fleet_link(
        &machine,
        args.mqtt.as_deref(),
        args.machine_id.as_deref(),
        &dir,
    )
    .map_err(|e| refuse(format!("error: {e}")))?;
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
    let setup = KioskConfig {
        machine: Arc::new(machine),
        surprises,
        seed,
        local_clock: LocalClock::System,
        journal,
        config_dir: Some(dir.clone()),
        machine_text: read(happiness::config::MACHINE_FILE),
        surprises_text: read(SURPRISES_FILE),
        metrics: Some(Arc::new(Metrics::new())),
        journal_options: OpenOptions {
            new_books: args.new_books,
            limits: StorageLimits {
                min_free: args.min_free,
                reserve: args.reserve,
            },
            key: None,
            key_file: Some(args.key.clone().unwrap_or_else(|| dir.join(KEY_FILE))),
        },
        outbox: fleet.is_some(),
    };
    Ok(Plan {
        host_names: host_names(args.host_names),
        touchscreens: args.touchscreens,
        dir,
        token,
        listen,
        backend,
        setup,
        events: args.events,
        fleet,
    })
}

/// Say which time zone the books' times are in, or what is wrong with it.
fn log_time_zone() {
    let tz = std::env::var("TZ").ok();
    match happiness::localtime::time_zone_problem(
        tz.as_deref(),
        std::path::Path::new("/usr/share/zoneinfo"),
    ) {
        Some(problem) => tracing::warn!("{problem}"),
        None => tracing::info!(
            offset = %chrono::Local::now().offset(),
            tz = tz.as_deref().unwrap_or("(system)"),
            "local time zone"
        ),
    }
}

/// Where the books are: `--data`, else on a Pi the default data directory, else (the
/// simulator) in memory.
fn journal_location(data: Option<PathBuf>, backend: Backend) -> JournalLocation {
    let journal = match (data, backend) {
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
    journal
}

/// The fleet link from `[fleet]` and the flags (which win), with its credentials read; none
/// when neither names a broker.
fn fleet_link(
    machine: &happiness::config::MachineConfig,
    mqtt: Option<&str>,
    machine_id: Option<&str>,
    dir: &std::path::Path,
) -> Result<Option<(FleetConfig, Credentials)>, String> {
    let broker = mqtt
        .map(BrokerUrl::parse)
        .transpose()
        .map_err(|e| format!("--mqtt: {e}"))?;
    let id = machine_id
        .map(MachineId::parse)
        .transpose()
        .map_err(|e| format!("--machine-id: {e}"))?;
    let Some(config) = FleetParts::resolve(machine.fleet.as_ref(), broker, id)? else {
        return Ok(None);
    };
    let credentials = CredentialFiles::of(&config)
        .load(&config.broker, dir)
        .map_err(|e| format!("[fleet]: {e}"))?;
    Ok(Some((config, credentials)))
}

/// Start the fleet link, if the machine is in a fleet.
fn start_fleet(
    kiosk: &Kiosk,
    fleet: Option<(FleetConfig, Credentials)>,
    metrics: &Arc<Metrics>,
) -> Option<FleetLink> {
    let (config, credentials) = fleet?;
    tracing::info!(id = %config.id, broker = %config.broker, "fleet link starting");
    let actions = Actions::new(
        kiosk.requests(),
        kiosk.status.clone(),
        Arc::clone(&kiosk.config),
        kiosk.sim.clone(),
    );
    Some(FleetLink::start(
        config,
        credentials,
        actions,
        Some(Arc::clone(metrics)),
    ))
}

/// Run the kiosk until the script ends (on the simulator), a signal, or the controller stops.
pub async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let plan = match plan(args) {
        Ok(plan) => plan,
        Err(code) => return Ok(code),
    };
    let config = Arc::clone(&plan.setup.machine);
    let metrics = plan.setup.metrics.clone().unwrap_or_default();
    let mut sink = TraceSink::new();
    let trace_rx = sink.subscribe();
    // Enough for a live viewer to ride out a hiccup; one that falls further behind is told so.
    let live_events = sink.broadcast(256);
    let backend = plan.backend;
    let kiosk = match Kiosk::start(plan.setup, backend, sink) {
        Ok(kiosk) => kiosk,
        Err(e) if e.books_need_operator() => {
            tell!("error: cannot start the kiosk: {e}");
            return Ok(ExitCode::from(BOOKS_NEED_OPERATOR));
        }
        Err(e) => {
            return Err(anyhow::Error::new(e))
                .with_context(|| format!("cannot start the kiosk on {} hardware", backend.name()))
        }
    };
    // From here on a panic on any thread (the script's, a server's) stops the machine safely
    // before it unwinds: motors off, acceptor inhibited, out of service.
    kiosk.stop_on_any_panic();
    let console = match plan.listen {
        Some(addr) => {
            let console = (plan.token, plan.host_names, plan.touchscreens);
            start_console(
                &kiosk,
                addr,
                console,
                Arc::clone(&metrics),
                live_events,
                &plan.dir,
            )
            .await
        }
        None => None,
    };
    let fleet = start_fleet(&kiosk, plan.fleet, &metrics);
    // The display, the pages and the API answer now, whatever the books' size: the checks that
    // grow with it are still running, and selling waits for them.
    kiosk.announce();
    let _watcher = if console.is_none() {
        operator::watch::watch_config(plan.dir.clone(), kiosk.requests()).ok()
    } else {
        None
    };
    reload_on_sighup(&kiosk)?;
    // A person at a terminal on the simulator gets a prompt with line editing and history.
    let at_terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let prompt = (at_terminal && kiosk.sim.is_some())
        .then(|| terminal::Prompt::start(terminal::history_path()))
        .flatten();
    let (prompt, out) = match prompt {
        Some((prompt, printer)) => (Some(prompt), Some(printer)),
        None => (None, None),
    };
    let events = plan.events.unwrap_or(if at_terminal {
        EventsFormat::Customer
    } else {
        EventsFormat::Text
    });
    let printer = tokio::spawn(print_trace(trace_rx, events, config.currency.clone(), out));

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    let shutdown = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("interrupted: stopping"),
            _ = sigterm.recv() => tracing::info!("terminated: stopping"),
        }
    };
    let failed = follow_script(&kiosk, &config.name, prompt, shutdown).await;

    let result = stop_everything(kiosk, printer, fleet, console).await?;
    match result {
        Err(e) if e.books_need_operator() => {
            tell!("error: the controller stopped: {e}");
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

/// Stop in order: the fleet hears that the machine goes, the kiosk stops (every motor off, the
/// acceptor inhibited), the trace drains, the web server goes. Bounded: a kiosk that does not
/// stop within 20 s (a vend under way ends first) is an error.
async fn stop_everything(
    kiosk: Kiosk,
    printer: tokio::task::JoinHandle<()>,
    fleet: Option<FleetLink>,
    console: Option<Console>,
) -> anyhow::Result<Result<(), happiness::kiosk::KioskError>> {
    // The fleet hears that the machine goes (its state turns offline) while it still can.
    if let Some(link) = fleet {
        link.stop().await;
    }
    // Stopping switches every motor off first and inhibits the coin acceptor; nothing after that
    // may keep the process alive.
    let stopping = async {
        let result = kiosk.stop().await;
        // The controller has dropped its trace senders, so the printer drains and ends.
        let _ = printer.await;
        result
    };
    // A vend under way is let end first (at most 12 s): 20 s in all.
    let result = match tokio::time::timeout(std::time::Duration::from_secs(20), stopping).await {
        Ok(result) => result,
        Err(_) => anyhow::bail!("the kiosk did not stop within 20 s"),
    };
    // The pages have shown "out of service" by now. Open event streams would hold a graceful
    // shutdown forever, so the web server gets a moment to finish requests, then goes.
    if let Some(c) = console {
        let _ = tokio::time::timeout(std::time::Duration::from_millis(300), c.stop()).await;
    }
    Ok(result)
}

/// Serve the pages and the API on `addr`. Vending does not depend on them: a failure is logged
/// and the kiosk carries on without.
async fn start_console(
    kiosk: &Kiosk,
    addr: SocketAddr,
    (token, host_names, touchscreens): (Option<Token>, Vec<String>, Vec<std::net::IpAddr>),
    metrics: Arc<Metrics>,
    live_events: tokio::sync::broadcast::Sender<TraceRecord>,
    dir: &std::path::Path,
) -> Option<Console> {
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!("cannot listen on {addr}: {e}; running without the web pages and API");
            return None;
        }
    };
    let has_token = token.is_some();
    match Console::start(
        kiosk,
        listener,
        token,
        metrics,
        live_events,
        Some(dir.to_path_buf()),
        Reach {
            host_names,
            touchscreens,
        },
    ) {
        Ok(c) => {
            tracing::info!(
                "kiosk page: http://{0}/kiosk   operator console: http://{0}/operator{1}",
                c.addr,
                if has_token {
                    ""
                } else {
                    " (operator API off: no token)"
                }
            );
            Some(c)
        }
        Err(e) => {
            tracing::error!("cannot start the web server: {e}");
            None
        }
    }
}

/// SIGHUP reloads the config files, as a change to them does.
fn reload_on_sighup(kiosk: &Kiosk) -> anyhow::Result<()> {
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
    Ok(())
}

/// Carry out the lines on stdin until the input ends (on the simulator), `quit`, `shutdown`, or
/// the controller stops by itself. Returns whether a piped script had a bad line.
async fn follow_script(
    kiosk: &Kiosk,
    machine: &str,
    prompt: Option<terminal::Prompt>,
    shutdown: impl std::future::Future<Output = ()>,
) -> bool {
    tokio::pin!(shutdown);
    let interactive = std::io::stdin().is_terminal();
    let mut lines = Input::new(prompt);
    if interactive && kiosk.sim.is_some() {
        say!(
            "{machine} (simulated). Type `help` for commands and the coins it takes, `quit` to \
             stop.\n{}",
            script::customer_status(kiosk)
        );
    }
    let mut stdin_open = true;
    let mut failed = false;
    // A script acts on a machine that sells: its first line waits until the books have passed
    // their checks (at once for books in memory). (`shutdown` must not be polled again once it
    // has completed.)
    tokio::select! {
        () = &mut shutdown => return failed,
        () = kiosk.opened() => {}
    }
    loop {
        let line = tokio::select! {
            () = &mut shutdown => break,
            // A controller that stopped by itself (the books, the hardware, a bug) ends the
            // process at once, whatever stdin does: under systemd stdin is empty for good, and
            // only an exit lets the service manager restart the kiosk.
            () = kiosk.finished() => break,
            line = lines.next(), if stdin_open => line,
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
        let line = match line {
            Ok(line) => line,
            Err(skipped) => {
                report_script_error(&skipped, interactive, &mut failed);
                continue;
            }
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
            outcome = script::execute(kiosk, cmd) => outcome,
        };
        match outcome {
            Ok(Outcome::Quit) => break,
            Ok(Outcome::Continue(text)) if !text.is_empty() => say!("{text}"),
            Ok(Outcome::Continue(_)) => {
                if interactive && kiosk.sim.is_some() {
                    say!("{}", script::customer_status(kiosk));
                }
            }
            Err(message) => report_script_error(&message, interactive, &mut failed),
        }
    }
    failed
}

/// A bad line in a script is an error the script's author must see; at a terminal it is just a
/// typo. The message is cut at [`ECHO_LIMIT`] characters: it may quote the line, and a line can
/// be megabytes long.
pub fn report_script_error(message: &str, interactive: bool, failed: &mut bool) {
    tell!("error: {}", cut(message, ECHO_LIMIT));
    if !interactive {
        *failed = true;
    }
}

/// The most of a bad line's message that is echoed.
pub const ECHO_LIMIT: usize = 200;

/// `text` cut at `limit` characters, saying how much was left out.
pub fn cut(text: &str, limit: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(limit) {
        None => text.into(),
        Some((end, _)) => format!(
            "{}... ({} more characters)",
            &text[..end],
            text[end..].chars().count()
        )
        .into(),
    }
}

/// Where the lines come from: the prompt at a terminal, or stdin as it comes.
enum Input {
    Prompt(terminal::Prompt),
    Piped(mpsc::UnboundedReceiver<Result<String, String>>),
}

impl Input {
    fn new(prompt: Option<terminal::Prompt>) -> Input {
        match prompt {
            Some(prompt) => Input::Prompt(prompt),
            None => Input::Piped(stdin_lines()),
        }
    }

    /// The next line, or `None` at the end of the input. (Safe to cancel: a line is never
    /// lost.)
    async fn next(&mut self) -> Option<Result<String, String>> {
        match self {
            Input::Prompt(prompt) => prompt.next().await,
            Input::Piped(lines) => lines.recv().await,
        }
    }
}

/// Lines from stdin, read on a plain thread: a blocked read must not hold up the runtime's
/// shutdown. A line that is not UTF-8 text comes as an error naming it, and the lines after it
/// still come.
pub fn stdin_lines() -> mpsc::UnboundedReceiver<Result<String, String>> {
    use std::io::BufRead as _;
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        for (n, bytes) in stdin.lock().split(b'\n').enumerate() {
            let Ok(mut bytes) = bytes else { break };
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
            let line = String::from_utf8(bytes)
                .map_err(|_| format!("line {} is not UTF-8 text: skipped", n + 1));
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}
