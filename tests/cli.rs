//! The compiled `happiness` binary, driven the way scripts and operators drive it.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn happiness() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_happiness"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn run_script(args: &[&str], script: &str) -> Output {
    run_script_bytes(args, script.as_bytes())
}

fn run_script_bytes(args: &[&str], script: &[u8]) -> Output {
    let mut child = happiness()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn happiness");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script)
        .expect("write script");
    child.wait_with_output().expect("wait")
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

#[test]
fn scripted_paid_vend_through_stdin_prints_the_vend_and_the_delivered_item() {
    let out = run_script(
        &[
            "run",
            "--hardware",
            "sim",
            "--seed",
            "7",
            "--events",
            "json",
        ],
        "coin 200\npress 1\nwait 2500\nquit\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    let has = |pred: &dyn Fn(&serde_json::Value) -> bool| lines.iter().any(pred);
    assert!(has(&|v| v["type"] == "ready" && v["hardware"] == "sim"));
    assert!(has(
        &|v| v["event"]["kind"] == "coin" && v["event"]["value"] == 200
    ));
    assert!(has(&|v| v["command"]["command"] == "motor"
        && v["command"]["column"] == 1
        && v["command"]["on"] == true));
    assert!(has(&|v| v["command"]["notice"] == "vend_delivered"
        && v["command"]["product"] == "Cola"
        && v["command"]["price"] == 150));
    assert!(has(&|v| v["type"] == "sim"
        && v["notice"]["kind"] == "item_in_tray"
        && v["notice"]["column"] == 1));
    assert_eq!(
        lines.last().map(|v| v["type"].clone()),
        Some("stopped".into())
    );
    // Every motor that went on went off again.
    let motors: Vec<bool> = lines
        .iter()
        .filter(|v| v["command"]["command"] == "motor")
        .map(|v| v["command"]["on"] == true)
        .collect();
    assert_eq!(motors, vec![true, false]);
}

#[test]
fn sigterm_mid_vend_lets_the_vend_end_and_leaves_every_motor_off() {
    use std::io::BufRead as _;
    let mut child = happiness()
        .args(["run", "--hardware", "sim", "--events", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn happiness");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(b"coin 200\npress 1\nwait 600000\n")
        .expect("write script");
    // A long wait and an open stdin: only the signal can stop it. It comes while the motor
    // turns.
    let mut lines = Vec::new();
    let mut reader = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        line.clear();
        let motor_on = v["command"]["command"] == "motor" && v["command"]["on"] == true;
        lines.push(v);
        if motor_on {
            break;
        }
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    for rest in reader.lines().map_while(Result::ok) {
        lines.push(serde_json::from_str(&rest).unwrap_or_default());
    }
    let out = child.wait_with_output().expect("wait");
    drop(stdin);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        lines
            .iter()
            .any(|v| v["command"]["notice"] == "vend_delivered"),
        "the vend under way ends first: {lines:?}"
    );
    let motors: Vec<bool> = lines
        .iter()
        .filter(|v| v["command"]["command"] == "motor")
        .filter_map(|v| v["command"]["on"].as_bool())
        .collect();
    assert_eq!(motors.last(), Some(&false), "{lines:?}");
    let last = lines.last().expect("output");
    assert_eq!(last["type"], "stopped", "{last}");
    assert_eq!(last["motors_stopped"], serde_json::json!([]), "{last}");
}

#[test]
fn end_of_input_stops_the_simulated_kiosk_cleanly() {
    let out = run_script(
        &["run", "--hardware", "sim", "--events", "text"],
        "status\n",
    );
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Cola"), "{stdout}");
    assert!(stdout.contains("stopped: every motor is off"), "{stdout}");
}

#[test]
fn a_bad_script_line_is_reported_and_fails_the_run() {
    let out = run_script(
        &["run", "--hardware", "sim", "--events", "none"],
        "press 9\ncoin 150\nfly away\nquit\n",
    );
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("there is no button 9"), "{stderr}");
    assert!(stderr.contains("no coin worth 150 cents"), "{stderr}");
    assert!(stderr.contains("unknown command `fly`"), "{stderr}");
}

/// A line that is not UTF-8 is reported and skipped, and the lines after it still run; a huge
/// bad line is echoed in part, not whole.
#[test]
fn non_utf8_and_huge_script_lines_are_reported_skipped_and_cut() {
    let mut script = b"coin 200\n\xff\xfe press 1\n".to_vec();
    script.extend_from_slice(b"press 1\nwait 3000\n");
    script.extend_from_slice(b"fly");
    script.extend(std::iter::repeat_n(b'x', 10_000_000));
    script.extend_from_slice(b"\nquit\n");
    let out = run_script_bytes(&["run", "--hardware", "sim", "--events", "json"], &script);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 2 is not UTF-8 text: skipped"),
        "{stderr}"
    );
    assert!(stderr.contains("more characters)"), "cut");
    assert!(
        stderr.len() < 10_000,
        "the 10 MB line was echoed whole: {} bytes",
        stderr.len()
    );
    // The lines after the bad one ran: the coin bought the drink.
    let delivered = json_lines(&out)
        .iter()
        .any(|l| l["command"]["notice"] == "vend_delivered" && l["command"]["product"] == "Cola");
    assert!(delivered, "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn simulate_takes_a_time_zone_and_refuses_an_unknown_one() {
    let out = happiness()
        .args(["simulate", "--vends", "5000", "--tz", "Europe/Paris"])
        .output()
        .expect("simulate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("time zone Europe/Paris"));
    let out = happiness()
        .args(["simulate", "--vends", "10", "--tz", "Mars/Olympus"])
        .output()
        .expect("simulate");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tz: `Mars/Olympus`"));
}

#[test]
fn rpi_backend_off_a_pi_fails_with_advice_to_use_the_simulator() {
    if Path::new("/proc/device-tree/model").exists() {
        return;
    }
    // Books and key of the test's own: the system's data directory and the shipped config are
    // not this test's to write.
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let key = dir.path().join("seal.key");
    let out = run_script(
        &[
            "run",
            "--hardware",
            "rpi",
            "--data",
            data.to_str().expect("utf-8"),
            "--key",
            key.to_str().expect("utf-8"),
        ],
        "",
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--hardware sim"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn check_config_accepts_the_shipped_config() {
    let out = happiness()
        .args(["check-config", "config"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK"));
}

/// Writes an edited copy of the shipped config into a temp dir.
fn bad_config(from: &str, to: &str) -> tempfile::TempDir {
    let text = common::shipped_config_text();
    assert!(text.contains(from), "fixture lacks {from:?}");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("machine.toml"), text.replacen(from, to, 1)).expect("write");
    dir
}

#[test]
fn malformed_configs_are_rejected_naming_the_field() {
    let cases = [
        (
            "product = \"Cola\"",
            "product = \"Cola\"\nflavour = \"x\"",
            "columns[0].flavour",
        ),
        (
            "motor_pin = 22",
            "motor_pin = 5",
            "columns[0].motor_pin: pin 5 is already used by buttons[0].pin",
        ),
        (
            "price_cents = 150",
            "price_cents = -150",
            "columns[0].price_cents: -150 must not be negative",
        ),
        (
            "motor_pin = 22\n",
            "",
            "columns[0].motor_pin: is required but missing",
        ),
        (
            "capacity = 8",
            "capacity = \"eight\"",
            "columns[0].capacity",
        ),
    ];
    for (from, to, expected) in cases {
        let dir = bad_config(from, to);
        for args in [
            vec!["check-config".to_string(), dir.path().display().to_string()],
            vec![
                "run".into(),
                "--hardware".into(),
                "sim".into(),
                "--config".into(),
                dir.path().display().to_string(),
            ],
        ] {
            let out = happiness()
                .args(&args)
                .stdin(Stdio::null())
                .output()
                .expect("run");
            assert_eq!(out.status.code(), Some(2), "{args:?} with {to:?}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains("machine.toml"), "{stderr}");
            assert!(
                stderr.contains(expected),
                "expected {expected:?} in {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{stderr}");
        }
    }
}

#[test]
fn missing_config_directory_is_a_clear_error() {
    let out = happiness()
        .args(["check-config", "/nonexistent/happiness"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

#[test]
fn simulate_prints_a_report_consistent_with_the_shipped_policy() {
    let out = happiness()
        .args(["simulate", "--vends", "200000", "--seed", "42", "--json"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["vends"], 200_000);
    assert_eq!(report["configured_probability"], 0.2);
    let rate = report["surprise_rate"].as_f64().expect("rate");
    assert!(rate > 0.1 && rate <= 0.2 + 0.01, "rate {rate}");
    let percent = report["value_percent_of_sales"].as_f64().expect("percent");
    assert!(
        percent <= 2.0,
        "value {percent}% of sales exceeds the 2% budget"
    );
    let names: Vec<&str> = report["per_surprise"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(
        names,
        vec![
            "Thank-you note",
            "Light show",
            "One to share",
            "A flower",
            "Afternoon treats"
        ]
    );
    // Same seed, same report.
    let again = happiness()
        .args(["simulate", "--vends", "200000", "--seed", "42", "--json"])
        .output()
        .expect("run");
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).expect("json");
    assert_eq!(report["surprises"], again["surprises"]);
}

#[test]
fn simulate_speaks_to_operators_and_stops_quietly_on_a_closed_pipe() {
    let out = happiness()
        .args(["simulate", "--vends", "50000", "--seed", "42"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    // Per day and per week, in the file's own names.
    assert!(text.contains("In short: about "), "{text}");
    assert!(
        text.contains(" a day; about ") && text.contains(" a week."),
        "{text}"
    );
    assert!(text.contains("against probability = 0.2 (20.0%)"), "{text}");
    assert!(
        text.contains("budget_percent ("),
        "the cap's setting named: {text}"
    );
    assert!(
        text.contains("extra_item") && !text.contains("ExtraItem"),
        "{text}"
    );
    assert!(
        text.contains("max_per_hour") && !text.contains("PerHour"),
        "{text}"
    );
    // The office traffic empties the drinks before the daily restock: said.
    assert!(
        text.contains("warning: column 1 (Cola) was found empty"),
        "{text}"
    );
    // A reader that stops after one line: no panic, no error.
    let mut child = happiness()
        .args(["simulate", "--vends", "20000", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    drop(stdout);
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{stderr}");
}

#[test]
fn simulate_and_check_config_reject_a_bad_surprise_file_naming_the_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("machine.toml"),
        common::shipped_config_text(),
    )
    .expect("write");
    let surprises = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/surprises.toml"),
    )
    .expect("read");
    std::fs::write(
        dir.path().join("surprises.toml"),
        surprises.replacen("probability = 0.2", "probability = 2.0", 1),
    )
    .expect("write");
    let path = dir.path().display().to_string();
    for args in [
        vec!["check-config", path.as_str()],
        vec!["simulate", "--config", path.as_str()],
    ] {
        let out = happiness().args(&args).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("surprises.toml") && stderr.contains("policy.probability"),
            "{stderr}"
        );
    }
    let out = happiness()
        .args(["simulate", "--profile", "beach"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown traffic profile"));
}

#[test]
fn torture_finds_an_injected_bug_names_the_seed_and_replays_it() {
    let out = happiness()
        .args([
            "torture",
            "--seeds",
            "20",
            "--vends",
            "15",
            "--inject-bug",
            "skip-refund",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.contains("credit-conserved"))
        .unwrap_or_else(|| panic!("no violation reported: {stdout}"));
    let seed: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no seed in {line}"));
    let replay = happiness()
        .args([
            "torture",
            "--vends",
            "15",
            "--inject-bug",
            "skip-refund",
            "--verbose",
            "--seed",
        ])
        .arg(seed.to_string())
        .output()
        .expect("replay");
    assert_eq!(replay.status.code(), Some(1));
    let steps = String::from_utf8_lossy(&replay.stdout);
    assert!(steps.lines().count() > 50, "step by step: {steps}");
    assert!(String::from_utf8_lossy(&replay.stderr).contains("credit-conserved"));

    let clean = happiness()
        .args(["torture", "--seeds", "10", "--vends", "10"])
        .output()
        .expect("run");
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
    assert!(String::from_utf8_lossy(&clean.stdout).contains("Violations: 0"));
}

#[test]
fn run_refuses_a_public_address_without_an_operator_token() {
    let out = happiness()
        .args(["run", "--hardware", "sim", "--listen", "0.0.0.0:0"])
        .env_remove("HAPPINESS_TOKEN")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("without an operator token"), "{stderr}");
    let out = happiness()
        .args(["run", "--hardware", "sim", "--listen", "0.0.0.0:0"])
        .env("HAPPINESS_TOKEN", "short")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 16 characters"));
    // A token no header can carry as typed would start a server nobody can use.
    let out = happiness()
        .args(["run", "--hardware", "sim", "--listen", "127.0.0.1:0"])
        .env("HAPPINESS_TOKEN", "geheimes-passwört-für-alle")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("only visible ASCII"), "{stderr}");
    assert!(stderr.contains("character 15"), "{stderr}");
}

#[test]
fn a_stopped_controller_inhibits_the_acceptor_and_ends_the_process_whatever_stdin_does() {
    use std::io::BufRead;
    let mut child = happiness()
        .args([
            "run",
            "--hardware",
            "sim",
            "--events",
            "json",
            "--listen",
            "off",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn happiness");
    // The driver of column 1's motor dies while the motor runs: it cannot be switched off. stdin
    // stays open and silent afterwards, as under systemd.
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(b"coin 200\npress 1\nwait 300\ndead 1\n")
        .expect("write script");
    let stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut lines = Vec::new();
    for line in stdout.lines() {
        let line = line.expect("stdout line");
        let value: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}"));
        let stopped = value["type"] == "stopped";
        lines.push(value);
        if stopped {
            break;
        }
    }
    let seen_stop = std::time::Instant::now();
    // The process ends by itself: no quit, no end of input, no signal.
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            seen_stop.elapsed() < std::time::Duration::from_secs(3),
            "the process is still alive after its controller stopped"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    drop(stdin);
    assert_eq!(status.code(), Some(1), "a failed controller exits non-zero");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("stderr");
    assert!(stderr.contains("the driver does not answer"), "{stderr}");
    let after_error = lines
        .iter()
        .position(|v| {
            v["type"] == "error"
                && v["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("out of service"))
        })
        .map(|i| &lines[i..])
        .unwrap_or_else(|| panic!("no out-of-service line in {lines:?}"));
    let has = |pred: &dyn Fn(&serde_json::Value) -> bool| after_error.iter().any(pred);
    assert!(
        has(&|v| v["command"]["command"] == "coin_inhibit" && v["command"]["on"] == true),
        "the acceptor is inhibited: {after_error:?}"
    );
    assert!(
        has(&|v| v["command"]["command"] == "lamp"
            && v["command"]["role"] == "fault"
            && v["command"]["on"] == true),
        "the fault lamp is lit: {after_error:?}"
    );
    assert!(
        has(&|v| v["command"]["screen"] == "out_of_service"),
        "the display says out of service: {after_error:?}"
    );
    let last = lines.last().expect("lines");
    assert_eq!(
        last["motors_still_on"],
        serde_json::json!([1]),
        "the stop names the motor that would not switch off: {last}"
    );
}

#[test]
fn the_customer_view_tells_what_a_customer_notices_and_help_lists_the_coins() {
    let out = run_script(
        &[
            "run",
            "--hardware",
            "sim",
            "--seed",
            "7",
            "--listen",
            "off",
            "--events",
            "customer",
        ],
        "coin 200\npress 1\nwait 2500\nhelp\nquit\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    for line in [
        "Happiness Machine is ready",
        "coin €2.00 accepted: credit €2.00",
        "display: Here comes your Cola...",
        "display: Enjoy your Cola!",
        "tray: a Cola drops into the tray",
        "coins this machine takes, in cents: 10 (€0.10), 20 (€0.20), 50 (€0.50), 100 (€1.00), 200 (€2.00)",
        "the machine has stopped",
    ] {
        assert!(stdout.contains(line), "no `{line}` in:\n{stdout}");
    }
    // The machinery stays out of a customer's view (the help text speaks of motors).
    let trace: Vec<&str> = stdout.lines().filter(|l| l.starts_with('[')).collect();
    assert!(trace.len() >= 7, "{stdout}");
    for word in ["motor", "lamp", "drop sensor", "notice", "event "] {
        assert!(
            trace.iter().all(|l| !l.contains(word)),
            "`{word}` in:\n{stdout}"
        );
    }
}

#[test]
fn the_trace_comes_out_in_time_order() {
    for seed in ["3", "7", "11"] {
        let out = run_script(
            &[
                "run",
                "--hardware",
                "sim",
                "--seed",
                seed,
                "--listen",
                "off",
                "--events",
                "json",
            ],
            "coin 200\npress 1\nwait 2500\ncoin 100\npress 3\nwait 2500\nquit\n",
        );
        assert!(out.status.success());
        let lines = json_lines(&out);
        // The tray's news (the simulated world) is not printed before the drop beam's edge
        // that the controller records a moment later with an earlier time.
        let times: Vec<f64> = lines.iter().filter_map(|v| v["t_ms"].as_f64()).collect();
        assert!(times.len() > 20);
        for pair in times.windows(2) {
            assert!(
                pair[0] <= pair[1],
                "seed {seed}: {} before {}",
                pair[0],
                pair[1]
            );
        }
        assert!(lines.iter().any(|v| v["notice"]["kind"] == "item_in_tray"));
    }
}

#[test]
fn report_csv_exports_one_row_per_paid_vend_with_its_surprise() {
    let data = tempfile::tempdir().expect("tempdir");
    let data_arg = data.path().to_str().expect("utf-8 path").to_string();
    // The books' seal key in a directory of the test's own, not in the shipped config.
    let keys = tempfile::tempdir().expect("tempdir");
    let key = keys.path().join("seal.key");
    let key_arg = key.to_str().expect("utf-8 path").to_string();
    let out = run_script(
        &[
            "run",
            "--hardware",
            "sim",
            "--events",
            "none",
            "--listen",
            "off",
            "--data",
            &data_arg,
            "--key",
            &key_arg,
        ],
        "coin 200\npress 1\nwait 4000\ncoin 100\ncoin 20\npress 4\nwait 4000\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = happiness()
        .args(["report", "--csv", "--days", "1", "--data", &data_arg])
        .args(["--key", &key_arg])
        .output()
        .expect("report");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        rows[0],
        "time,column,product,price,outcome,reason,surprise,surprise_cost,made_right,made_right_value"
    );
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(rows[1].contains(",1,Cola,1.50,delivered,"), "{csv}");
    assert!(
        rows[2].contains(",4,Chocolate bar,1.20,delivered,"),
        "{csv}"
    );
    // Bad periods are refused with the option named; --csv and --json do not mix.
    for (args, says) in [
        (vec!["--from", "tomorrowish"], "--from"),
        (vec!["--days", "0"], "days must be 1"),
        (
            vec!["--from", "2026-01-01", "--to", "2025-01-01"],
            "before it starts",
        ),
    ] {
        let out = happiness()
            .args(["report", "--csv", "--data", &data_arg])
            .args(["--key", &key_arg])
            .args(&args)
            .output()
            .expect("report");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}"
        );
    }
    let out = happiness()
        .args(["report", "--csv", "--json", "--data", &data_arg])
        .args(["--key", &key_arg])
        .output()
        .expect("report");
    assert_eq!(out.status.code(), Some(2));
}

/// Runs `happiness` with `args`, killing it if it has not ended within two minutes (a run that
/// never ends is the failure looked for): its exit code, stdout and stderr.
fn bounded(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = happiness()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("`happiness {}` did not end", args.join(" "));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn simulate_always_ends_and_refuses_meaningless_rates() {
    for per_day in ["0", "4294967295", "1000001"] {
        let (code, _, err) = bounded(&["simulate", "--vends", "1000", "--per-day", per_day]);
        assert_eq!(code, Some(2), "--per-day {per_day}: {err}");
        assert!(
            err.contains(&format!("--per-day {per_day}")) && err.contains("from 1 to 1000000"),
            "{err}"
        );
    }
    for rate in ["1.5", "-0.1", "NaN"] {
        let flag = format!("--failure-rate={rate}");
        let (code, _, err) = bounded(&["simulate", "--vends", "10", &flag]);
        assert_eq!(code, Some(2), "--failure-rate {rate}: {err}");
        assert!(err.contains("--failure-rate"), "{err}");
    }
    // Every vend fails: the run ends after as many customers as vends were asked for.
    let (code, out, err) = bounded(&[
        "simulate",
        "--vends",
        "2000",
        "--failure-rate",
        "1",
        "--json",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(report["recovery"]["failed"], 2000, "{report}");
    // The largest rate allowed is bounded by the work asked, not by the rate.
    let (code, _, err) = bounded(&["simulate", "--vends", "100", "--per-day", "1000000"]);
    assert_eq!(code, Some(0), "{err}");
}
