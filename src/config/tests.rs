use super::*;

const GOOD: &str = include_str!("../../config/machine.toml");

fn check(text: &str) -> Result<MachineConfig, ConfigError> {
    MachineConfig::from_toml(Path::new("config/machine.toml"), text)
}

fn issues(text: &str) -> Vec<Issue> {
    match check(text) {
        Ok(_) => panic!("config was accepted:\n{text}"),
        Err(e) => e.issues().to_vec(),
    }
}

/// Asserts that `text` is rejected with an issue at `path` whose message contains `fragment`.
fn rejects(text: &str, path: &str, fragment: &str) {
    let found = issues(text);
    assert!(
        found
            .iter()
            .any(|i| i.path == path && i.message.contains(fragment)),
        "expected `{path}: ...{fragment}...`, got {found:#?}"
    );
}

#[test]
fn the_shipped_config_is_valid() {
    let cfg = check(GOOD).expect("config/machine.toml is valid");
    assert!(cfg.columns.len() >= 3);
    assert_eq!(cfg.buttons.len(), 4);
    assert!(!cfg.columns[4].for_sale);
    assert_eq!(cfg.wiring.motors.len(), cfg.columns.len());
    assert!(cfg.coin_for_pulses(5).is_some());
}

#[test]
fn unknown_field_names_the_field() {
    let text = GOOD.replacen(
        "product = \"Cola\"",
        "product = \"Cola\"\ncolour = \"red\"",
        1,
    );
    rejects(&text, "columns[0].colour", "unknown field `colour`");
}

#[test]
fn duplicate_pin_names_both_users() {
    let first_button_pin = {
        let cfg = check(GOOD).expect("valid");
        cfg.wiring.buttons[0].pin.number()
    };
    let text = GOOD.replacen(
        "motor_pin = 22",
        &format!("motor_pin = {first_button_pin}"),
        1,
    );
    rejects(
        &text,
        "columns[0].motor_pin",
        &format!("pin {first_button_pin} is already used by buttons[0].pin"),
    );
}

#[test]
fn negative_price_is_rejected() {
    let text = GOOD.replacen("price_cents = 150", "price_cents = -150", 1);
    rejects(&text, "columns[0].price_cents", "-150 must not be negative");
}

#[test]
fn missing_motor_pin_names_the_field() {
    let text = GOOD.replacen("motor_pin = 22\n", "", 1);
    rejects(&text, "columns[0].motor_pin", "required");
}

#[test]
fn wrong_type_names_the_field_and_line() {
    let text = GOOD.replacen("price_cents = 150", "price_cents = \"1.50\"", 1);
    let found = issues(&text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, "columns[0].price_cents");
    assert!(found[0].message.contains("invalid type"), "{found:?}");
    let line = GOOD
        .lines()
        .position(|l| l.contains("price_cents = 150"))
        .map(|i| i + 1);
    assert_eq!(found[0].line, line);
}

#[test]
fn syntax_error_gives_a_line() {
    let found = issues("[machine\nname = 1\n");
    assert_eq!(found[0].line, Some(1));
    assert!(found[0].path.is_empty());
}

#[test]
fn error_display_names_the_file_path_and_problem() {
    let text = GOOD.replacen("price_cents = 150", "price_cents = -1", 1);
    let err = check(&text).expect_err("invalid");
    let line = text
        .lines()
        .position(|l| l.starts_with("price_cents = -1"))
        .map_or(0, |i| i + 1);
    assert_eq!(
        err.to_string(),
        format!(
            "config/machine.toml: line {line}: columns[0].price_cents: -1 must not be negative"
        )
    );
}

#[test]
fn corpus_of_bad_values_each_name_their_field() {
    let cases: &[(&str, &str, &str, &str)] = &[
        // Values that would wedge the machine or overflow its money.
        (
            "language = \"en\"",
            "language = \"klingon\"",
            "machine.language",
            "no language `klingon`: it speaks en, de, fr, ja",
        ),
        (
            "language = \"en\"",
            "language = \"de-DE\"",
            "machine.language",
            "no language `de-DE`",
        ),
        (
            "drop_window_ms = 1500",
            "drop_window_ms = 18446744073709551615",
            "timings.drop_window_ms",
            "outside 1 to 10000 ms",
        ),
        (
            "nudge_pause_ms = 250",
            "nudge_pause_ms = 18446744073709551615",
            "timings.nudge_pause_ms",
            "outside 0 to 5000 ms",
        ),
        (
            "{ pulses = 1, cents = 10 }",
            "{ pulses = 1, cents = 9223372036854775807 }",
            "coin_acceptor.coins[0].cents",
            "1 to 100000 cents",
        ),
        (
            "price_cents = 150",
            "price_cents = 100001",
            "columns[0].price_cents",
            "at most 100000",
        ),
        (
            "max_credit_cents = 2000",
            "max_credit_cents = 100",
            "machine.max_credit_cents",
            "could never be bought",
        ),
        (
            "motor_pin = 22",
            "motor_pin = 40",
            "columns[0].motor_pin",
            "does not exist",
        ),
        (
            "motor_pin = 22",
            "motor_pin = 1",
            "columns[0].motor_pin",
            "HAT ID EEPROM",
        ),
        ("stock = 6", "stock = 60", "columns[0].stock", "capacity"),
        (
            "capacity = 8",
            "capacity = 0",
            "columns[0].capacity",
            "capacity from 1",
        ),
        (
            "product = \"Cola\"",
            "product = \"  \"",
            "columns[0].product",
            "empty",
        ),
        (
            "column = 1",
            "column = 9",
            "buttons[0].column",
            "no column 9",
        ),
        (
            "drop_window_ms = 1500",
            "drop_window_ms = 0",
            "timings.drop_window_ms",
            "greater than 0",
        ),
        (
            "nudge_retries = 2",
            "nudge_retries = 50",
            "timings.nudge_retries",
            "0 to 5",
        ),
        (
            "payment = \"coin\"",
            "payment = \"cash\"",
            "machine.payment",
            "unknown variant",
        ),
        (
            "{ pulses = 3, cents = 50 }",
            "{ pulses = 3, cents = 0 }",
            "coin_acceptor.coins[2].cents",
            "use 1 to 100000 cents",
        ),
        (
            "{ pulses = 3, cents = 50 }",
            "{ pulses = 2, cents = 50 }",
            "coin_acceptor.coins[2].pulses",
            "already means",
        ),
        (
            "role = \"ready\"",
            "role = \"disco\"",
            "lamps[0].role",
            "unknown variant",
        ),
        (
            "turn_ms = 1200",
            "turn_ms = 5000",
            "simulator.turn_ms",
            "max_motor_on_ms",
        ),
        (
            "[[drop_sensors]]\npin = 4",
            "[[drop_sensors]]\npin = -4",
            "drop_sensors[0].pin",
            "does not exist",
        ),
    ];
    for (from, to, path, fragment) in cases {
        assert!(GOOD.contains(from), "fixture no longer contains {from:?}");
        rejects(&GOOD.replacen(from, to, 1), path, fragment);
    }
}

#[test]
fn coin_mode_without_an_acceptor_is_rejected() {
    let start = GOOD.find("[coin_acceptor]").expect("section");
    let end = GOOD[start..]
        .find("\n\n")
        .map(|e| start + e)
        .expect("section end");
    let text = format!("{}{}", &GOOD[..start], &GOOD[end..]);
    rejects(&text, "coin_acceptor", "required");
}

#[test]
fn all_validation_problems_are_reported_together() {
    let text = GOOD
        .replacen("price_cents = 150", "price_cents = -1", 1)
        .replacen("capacity = 8", "capacity = 0", 1);
    assert!(issues(&text).len() >= 2);
}

#[test]
fn missing_file_is_a_read_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = MachineConfig::load_dir(dir.path()).expect_err("no file");
    assert!(
        err.to_string().contains("machine.toml: cannot read"),
        "{err}"
    );
}

#[test]
fn garbage_never_panics() {
    for text in [
        "",
        "\u{0}\u{1}",
        "[[columns]]",
        "columns = 5",
        "[machine]\nname = \"\"",
        "[[buttons]]\npin = 99999999999\ncolumn = -1",
    ] {
        let _ = check(text);
    }
}

#[test]
fn names_are_one_bounded_line_of_plain_text_and_products_are_unique() {
    rejects(
        &GOOD.replacen("product = \"Cola\"", "product = \"Cola\\u202E05.1\"", 1),
        "columns[0].product",
        "U+202E",
    );
    rejects(
        &GOOD.replacen("product = \"Water\"", "product = \"Cola\"", 1),
        "columns[2].product",
        "also column 1's product",
    );
    let name = GOOD
        .lines()
        .find(|l| l.trim_start().starts_with("name = "))
        .expect("machine.name")
        .to_string();
    for (bad, fragment) in [
        ("name = \"Lobby\\nFree drinks\"", "U+000A"),
        ("name = \"Lobby\\u2028x\"", "U+2028"),
        ("name = \"Lobby\\u0000\"", "U+0000"),
    ] {
        rejects(&GOOD.replacen(&name, bad, 1), "machine.name", fragment);
    }
    let long = format!("name = \"{}\"", "x".repeat(5000));
    rejects(
        &GOOD.replacen(&name, &long, 1),
        "machine.name",
        "at most 60",
    );
}
