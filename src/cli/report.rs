//! `happiness report`: the books, with the same exit codes for text and JSON.

use std::path::Path;
use std::process::ExitCode;

use happiness::journal::Journal;

pub fn report(dir: &Path, json: bool, currency: &str) -> ExitCode {
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
