//! `happiness fleet`: the operator's side of the fleet. The table of every machine (live, or
//! once as text or JSON), one command to one machine, a surprise config pushed to many, and the
//! fleet page.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use happiness::config::{BrokerUrl, MachineId};
use happiness::fleet::client::Broker;
use happiness::fleet::mqtt::CredentialFiles;
use happiness::fleet::protocol::MAX_COMMAND_BYTES;
use happiness::fleet::view::FleetView;
use happiness::operator::{self, Gate, Hosts, Token};
use serde_json::{json, Value};

/// How to reach the broker.
#[derive(Debug, clap::Args)]
pub struct BrokerArgs {
    /// The fleet's broker: `mqtt://host:port` or `mqtts://host:port`.
    #[arg(
        long,
        value_name = "URL",
        env = "HAPPINESS_MQTT",
        default_value = "mqtt://127.0.0.1:1883",
        global = true
    )]
    mqtt: String,
    /// User name at the broker.
    #[arg(long, global = true)]
    username: Option<String>,
    /// File holding the password.
    #[arg(long, global = true, requires = "username")]
    password_file: Option<PathBuf>,
    /// CA certificates (PEM) for `mqtts://` (default: the system's).
    #[arg(long, global = true)]
    ca_file: Option<PathBuf>,
    /// Client certificate (PEM).
    #[arg(long, global = true, requires = "key_file")]
    cert_file: Option<PathBuf>,
    /// Its key (PEM).
    #[arg(long, global = true, requires = "cert_file")]
    key_file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct FleetArgs {
    #[command(flatten)]
    broker: BrokerArgs,
    /// Print the table once as JSON and exit.
    #[arg(long)]
    json: bool,
    /// Print the table once as text and exit (the default at a terminal is a live table).
    #[arg(long)]
    once: bool,
    #[command(subcommand)]
    command: Option<FleetCommand>,
}

#[derive(Debug, clap::Subcommand)]
enum FleetCommand {
    /// Send one command to one machine, wait for its reply and print it; exit 0 when it says
    /// ok, 1 when it refused or did not answer.
    Send {
        /// The machine's id.
        id: String,
        /// status, restock, enable, disable, pause, resume, set_price, put_surprises, rollback.
        action: String,
        /// The action's arguments as JSON, e.g. '{"column": 2, "count": 4}'.
        args: Option<String>,
        /// Seconds to wait for the reply.
        #[arg(long, default_value_t = 10)]
        timeout: u64,
    },
    /// Push a surprise config (a whole surprises.toml) to machines and print each one's result:
    /// the version applied, or the validation error naming the field. Exit 1 unless every
    /// machine applied it.
    PushSurprises {
        /// The surprises.toml to push.
        file: PathBuf,
        /// A machine to push to (repeatable).
        #[arg(
            long = "to",
            value_name = "ID",
            required_unless_present = "all",
            conflicts_with = "all"
        )]
        to: Vec<String>,
        /// Every machine online now.
        #[arg(long)]
        all: bool,
        /// Seconds to wait for the replies.
        #[arg(long, default_value_t = 15)]
        timeout: u64,
    },
    /// Serve the fleet table as a live web page.
    Serve {
        /// Where the page listens. Without an operator token only loopback addresses are
        /// allowed.
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: String,
        /// File holding the operator token (HAPPINESS_TOKEN takes precedence).
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// A DNS name the page may be reached by (repeatable).
        #[arg(long = "host-name", value_name = "NAME")]
        host_names: Vec<String>,
    },
}

/// How long retained states keep arriving after the subscription is confirmed.
const SETTLE: Duration = Duration::from_millis(500);

fn broker(args: &BrokerArgs) -> Result<Broker, String> {
    let url = BrokerUrl::parse(&args.mqtt).map_err(|e| format!("--mqtt: {e}"))?;
    let files = CredentialFiles {
        username: args.username.clone(),
        password_file: args.password_file.clone(),
        ca_file: args.ca_file.clone(),
        cert_file: args.cert_file.clone(),
        key_file: args.key_file.clone(),
    };
    let credentials = files
        .load(&url, std::path::Path::new("."))
        .map_err(|e| e.to_string())?;
    Ok(Broker { url, credentials })
}

/// Run `happiness fleet`.
pub async fn fleet(args: FleetArgs) -> ExitCode {
    let outcome = async {
        let broker = broker(&args.broker)?;
        match args.command {
            None => table(&broker, args.json, args.once).await,
            Some(FleetCommand::Send {
                id,
                action,
                args,
                timeout,
            }) => send(&broker, &id, &action, args.as_deref(), timeout).await,
            Some(FleetCommand::PushSurprises {
                file,
                to,
                all,
                timeout,
            }) => push(&broker, &file, &to, all, timeout).await,
            Some(FleetCommand::Serve {
                listen,
                token_file,
                host_names,
            }) => serve(broker, &listen, token_file, host_names).await,
        }
    };
    match outcome.await {
        Ok(code) => code,
        Err(message) => {
            tell!("error: {message}");
            ExitCode::from(2)
        }
    }
}

async fn table(broker: &Broker, json: bool, once: bool) -> Result<ExitCode, String> {
    if json {
        let view = broker.snapshot(SETTLE).await?;
        let text = serde_json::to_string_pretty(&json!({ "machines": view.rows() }))
            .map_err(|e| e.to_string())?;
        say!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    if once || !std::io::stdout().is_terminal() {
        let text = broker.snapshot(SETTLE).await?.to_text();
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
        return Ok(ExitCode::SUCCESS);
    }
    // A busy fleet changes the table hundreds of times a second: it is drawn at most a few
    // times a second, always ending on the latest.
    let latest: std::cell::RefCell<Option<String>> = std::cell::RefCell::new(None);
    let note = |view: &FleetView| {
        *latest.borrow_mut() = Some(view.to_text());
    };
    let draw = async {
        let mut every = tokio::time::interval(REDRAW);
        loop {
            every.tick().await;
            if let Some(text) = latest.borrow_mut().take() {
                // Clear the screen and draw the table from the top left.
                let mut out = std::io::stdout().lock();
                let _ = write!(out, "\x1b[2J\x1b[H{text}");
                let _ = writeln!(out, "\n(live; Ctrl-C to stop)");
                let _ = out.flush();
            }
        }
    };
    tokio::select! {
        r = broker.watch(note) => r.map(|()| ExitCode::SUCCESS),
        () = draw => Ok(ExitCode::SUCCESS),
        _ = tokio::signal::ctrl_c() => Ok(ExitCode::SUCCESS),
    }
}

/// How often the live table is drawn again, at most.
const REDRAW: Duration = Duration::from_millis(250);

fn machine_id(text: &str) -> Result<MachineId, String> {
    MachineId::parse(text)
}

async fn send(
    broker: &Broker,
    id: &str,
    action: &str,
    args: Option<&str>,
    timeout: u64,
) -> Result<ExitCode, String> {
    let id = machine_id(id)?;
    let args: Value = match args {
        Some(text) => {
            serde_json::from_str(text).map_err(|e| format!("the arguments are not JSON: {e}"))?
        }
        None => json!({}),
    };
    let reply = broker
        .send(&id, action, &args, Duration::from_secs(timeout))
        .await;
    match reply {
        Ok(reply) => {
            say!(
                "{}",
                serde_json::to_string_pretty(&reply).unwrap_or_default()
            );
            Ok(if reply["ok"] == json!(true) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Err(e) => {
            tell!("{id}: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

async fn push(
    broker: &Broker,
    file: &std::path::Path,
    to: &[String],
    all: bool,
    timeout: u64,
) -> Result<ExitCode, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    // The machines refuse a command this large: say so before sending it to any.
    let size = serde_json::to_vec(
        &json!({ "id": "", "action": "put_surprises", "args": { "text": &text } }),
    )
    .map_or(usize::MAX, |body| body.len() + 64);
    if size > MAX_COMMAND_BYTES {
        return Err(format!(
            "{} is too large to push: as a command it is about {size} bytes, and a machine \
             takes at most {MAX_COMMAND_BYTES}",
            file.display()
        ));
    }
    let mut offline = Vec::new();
    let ids: Vec<MachineId> = if all {
        let mut online = Vec::new();
        for (id, up) in broker.snapshot(SETTLE).await?.machines() {
            let id = machine_id(&id)?;
            if up {
                online.push(id);
            } else {
                offline.push(id);
            }
        }
        online
    } else {
        to.iter().map(|t| machine_id(t)).collect::<Result<_, _>>()?
    };
    if ids.is_empty() {
        tell!("no machine is online to push to");
        return Ok(ExitCode::from(1));
    }
    let answers = broker
        .send_many(
            &ids,
            "put_surprises",
            &json!({ "text": text }),
            Duration::from_secs(timeout),
        )
        .await?;
    let mut all_ok = true;
    for (id, answer) in &answers {
        match answer {
            Ok(reply) if reply["ok"] == json!(true) => {
                let r = &reply["result"];
                let changed = if r["changed"] == json!(true) {
                    "applied"
                } else {
                    "already in force"
                };
                say!("{id}: version {} {changed}", r["version"]);
            }
            Ok(reply) => {
                all_ok = false;
                say!(
                    "{id}: refused: {}",
                    reply["error"].as_str().unwrap_or("no reason given")
                );
            }
            Err(e) => {
                all_ok = false;
                say!("{id}: {e}");
            }
        }
    }
    for id in offline {
        say!("{id}: offline, not sent");
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn serve(
    broker: Broker,
    listen: &str,
    token_file: Option<PathBuf>,
    host_names: Vec<String>,
) -> Result<ExitCode, String> {
    let token = Token::load(std::env::var("HAPPINESS_TOKEN").ok(), token_file.as_deref())
        .map_err(|e| e.to_string())?;
    let Some(addr) = operator::listen_address(listen, token.is_some())? else {
        return Err("--listen off: there is nothing to serve".into());
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(broker = %broker.url, "fleet page: http://{addr}/fleet");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    happiness::fleet::page::serve(
        listener,
        broker,
        Gate::new(token),
        Hosts::new(host_names),
        shutdown,
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}
