//! `happiness report`: the books, with the same exit codes for text and JSON.

use std::path::Path;
use std::process::ExitCode;

use std::io::Write as _;

use happiness::journal::{Journal, JournalError, PeriodQuery};
use happiness::localtime::{parse_bound, LocalTime};

/// The exit code for books that cannot be read: 5 when the file is there but damaged, 2 when
/// there is none.
fn unreadable(e: &JournalError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(if matches!(e, JournalError::Damaged { .. }) {
        5
    } else {
        2
    })
}

/// `happiness report --csv`: one row per paid vend in the period, with the books' verdict as the
/// exit code (the rows are printed either way; a warning says when they cannot be vouched for).
pub fn sales_csv(dir: &Path, from: Option<&str>, to: Option<&str>, days: Option<u32>) -> ExitCode {
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
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let period = match query.resolve(LocalTime::now()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let journal = match Journal::open_read_only(dir) {
        Ok(j) => j,
        Err(e) => return unreadable(&e),
    };
    let (lines, verdict) = match (journal.sales_lines(&period), journal.report()) {
        (Ok(lines), Ok(report)) => (lines, report.exit_code()),
        (Err(e), _) | (_, Err(e)) => return unreadable(&e),
    };
    if verdict != 0 {
        eprintln!(
            "warning: the books do not check out (run `happiness report`): these rows cannot be \
             vouched for"
        );
    }
    let text = happiness::journal::sales_csv(&lines);
    // A closed pipe (`| head`) ends the output quietly.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    ExitCode::from(verdict)
}

pub fn report(dir: &Path, json: bool, currency: &str) -> ExitCode {
    let report = match Journal::open_read_only(dir).and_then(|j| j.report()) {
        Ok(report) => report,
        // A file that is there but damaged is not "no journal": say which it is.
        Err(e) => return unreadable(&e),
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
