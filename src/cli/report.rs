//! `happiness report`: the books, with the same exit codes for text and JSON.

use std::path::Path;
use std::process::ExitCode;

use std::io::Write as _;

use happiness::journal::{Journal, PeriodQuery, SealKey};
use happiness::localtime::{parse_bound, LocalTime};
use happiness::surprise::{Campaign, CampaignSpend};

use super::unreadable;

/// `happiness report --csv`: one row per paid vend in the period, with the books' verdict as the
/// exit code (the rows are printed either way; a warning says when they cannot be vouched for).
pub fn sales_csv(
    dir: &Path,
    key: Option<SealKey>,
    from: Option<&str>,
    to: Option<&str>,
    days: Option<u32>,
) -> ExitCode {
    let bound = |name: &str, v: Option<&str>, end: bool| {
        v.map(|s| parse_bound(s, end).map_err(|e| format!("--{name}: {e}")))
            .transpose()
    };
    let query = match (bound("from", from, false), bound("to", to, true)) {
        (Ok(from), Ok(to)) => PeriodQuery {
            from,
            to,
            days,
            bucket: None,
        },
        (Err(e), _) | (_, Err(e)) => {
            tell!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let period = match query.resolve(LocalTime::now()) {
        Ok(p) => p,
        Err(e) => {
            tell!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let journal = match Journal::open_read_only_with(dir, key) {
        Ok(j) => j,
        Err(e) => return unreadable(&e),
    };
    let (lines, verdict) = match (journal.sales_lines(&period), journal.report()) {
        (Ok(lines), Ok(report)) => (lines, report.exit_code()),
        (Err(e), _) | (_, Err(e)) => return unreadable(&e),
    };
    if verdict != 0 {
        tell!(
            "warning: the books do not check out (run `happiness report`): these rows cannot be \
             vouched for"
        );
    }
    let text = happiness::journal::sales_csv(&lines);
    // A closed pipe (`| head`) ends the output quietly.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    ExitCode::from(verdict)
}

/// The campaigns of the surprise config in `dir`, if it has a valid one (the report is about the
/// books: a config that cannot be read only leaves the campaigns out, with a warning).
pub fn campaigns_from(dir: &Path) -> Vec<Campaign> {
    if !dir.join(happiness::config::MACHINE_FILE).exists() {
        return Vec::new();
    }
    match super::load_configs(dir) {
        Ok((_, surprises)) => surprises.campaigns,
        Err(_) => {
            tell!(
                "warning: campaigns left out: the config in {} is not valid",
                dir.display()
            );
            Vec::new()
        }
    }
}

pub fn report(
    dir: &Path,
    key: Option<SealKey>,
    json: bool,
    currency: &str,
    campaigns: &[Campaign],
) -> ExitCode {
    let (report, campaigns) = match Journal::open_read_only_with(dir, key).and_then(|j| {
        let report = j.report()?;
        let mut out = Vec::new();
        for c in campaigns {
            let (awards, cost) = j.awards_of(&c.surprises, c.start, c.end)?;
            let spent = CampaignSpend {
                awards: u32::try_from(awards).unwrap_or(u32::MAX),
                cost,
            };
            out.push(c.report(spent, LocalTime::now()));
        }
        Ok((report, out))
    }) {
        Ok(both) => both,
        // A file that is there but damaged is not "no journal": say which it is.
        Err(e) => return unreadable(&e),
    };
    if json {
        let mut value = match serde_json::to_value(&report) {
            Ok(v) => v,
            Err(e) => {
                tell!("error: cannot encode the report: {e}");
                return ExitCode::FAILURE;
            }
        };
        if let (Some(map), Ok(list)) = (value.as_object_mut(), serde_json::to_value(&campaigns)) {
            map.insert("campaigns".into(), list);
        }
        match serde_json::to_string_pretty(&value) {
            Ok(text) => say!("{text}"),
            Err(e) => {
                tell!("error: cannot encode the report: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        let mut text = report.to_text(currency);
        if !campaigns.is_empty() {
            text.push_str("\nCampaigns\n");
            for c in &campaigns {
                text.push_str(&c.to_text(currency));
                text.push('\n');
            }
        }
        say!("{text}");
    }
    // The same verdict whatever the format: a script reading JSON must not be told "fine" about
    // books that do not balance.
    ExitCode::from(report.exit_code())
}
