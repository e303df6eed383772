//! `happiness check-config`: validate a config directory.

use std::path::Path;
use std::process::ExitCode;

use happiness::config::MACHINE_FILE;
use happiness::surprise::config::SURPRISES_FILE;

use super::load_configs;

pub fn check_config(dir: &Path) -> ExitCode {
    let (cfg, surprises) = match load_configs(dir) {
        Ok(both) => both,
        Err(code) => return code,
    };
    say!(
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
        say!(
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
        say!("{}: not present: no surprises", surprises_file.display());
    }
    ExitCode::SUCCESS
}
