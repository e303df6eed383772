//! `happiness simulate`: the Monte Carlo report of a surprise policy.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use happiness::localtime::LocalTime;
use happiness::simulate::{simulate, Restock, SimulateOptions, TrafficProfile};

use super::{config_dir, load_configs};

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
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
    /// Average customers per weekday (1 to 1,000,000).
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
    /// The machine's time zone (an IANA name such as Europe/Paris), so that daylight-saving
    /// days are simulated as the kiosk lives them. Without it, local time has no such changes.
    #[arg(long)]
    tz: Option<String>,
    /// The share of paid vends that fail (0 to 1), to see what `[recovery]` costs.
    #[arg(long, default_value_t = happiness::simulate::DEFAULT_FAILURE_RATE)]
    failure_rate: f64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run_simulation(args: SimulateArgs) -> ExitCode {
    if !(0.0..=1.0).contains(&args.failure_rate) {
        tell!(
            "error: --failure-rate {} is not a share between 0 and 1 (0.005: one vend in 200)",
            args.failure_rate
        );
        return ExitCode::from(2);
    }
    if !(1..=happiness::simulate::MAX_PER_DAY).contains(&args.per_day) {
        tell!(
            "error: --per-day {} is not a number of customers a day from 1 to {}",
            args.per_day,
            happiness::simulate::MAX_PER_DAY
        );
        return ExitCode::from(2);
    }
    if args.failure_rate.is_nan() {
        tell!("error: --failure-rate is not a number");
        return ExitCode::from(2);
    }
    let dir = config_dir(args.config);
    let (machine, surprises) = match load_configs(&dir) {
        Ok(both) => both,
        Err(code) => return code,
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
        tell!(
            "error: --start: `{}` is not a date like 2026-01-05",
            args.start
        );
        return ExitCode::from(2);
    };
    let zone = match args.tz.as_deref().map(jiff::tz::TimeZone::get).transpose() {
        Ok(zone) => zone,
        Err(e) => {
            tell!(
                "error: --tz: `{}` is not a time zone this system knows: {e}",
                args.tz.unwrap_or_default()
            );
            return ExitCode::from(2);
        }
    };
    let options = SimulateOptions {
        zone,
        vends: args.vends,
        seed: args.seed,
        per_day: args.per_day,
        profile: args.profile,
        restock: args.restock,
        start,
        failure_rate: args.failure_rate,
    };
    let report = simulate(&machine, &surprises, &options);
    let text = if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(json) => json,
            Err(e) => {
                tell!("error: cannot encode the report: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        report.to_text(&machine.currency)
    };
    // A reader that stops early (`| head`) closes the pipe: the rest is not wanted, and that
    // is no error.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
    ExitCode::SUCCESS
}
