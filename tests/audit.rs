//! The EVA-DTS audit file of a whole session: a paid vend with a surprise, a jam refunded and
//! made right with a free drink, a service test vend, the door opened, coins paid back. The
//! figures are checked against `happiness report`, the envelope (`SE`, `G85`) independently, and
//! a read with reset against the reads before and after it; all through the real binary.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{config_with, Harness};
use happiness::kiosk::JournalLocation;
use happiness::localtime::LocalTime;
use happiness::money::Cents;

fn happiness() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_happiness"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// `happiness audit` on the books in `dir/data` with the config in `dir/config`.
fn audit(dir: &Path, extra: &[&str]) -> Output {
    happiness()
        .arg("audit")
        .arg("--data")
        .arg(dir.join("data"))
        .arg("--config")
        .arg(dir.join("config"))
        .args(extra)
        .output()
        .expect("happiness audit")
}

/// The segments of an audit file, each split into its fields.
fn segments(text: &str) -> Vec<Vec<String>> {
    text.split_terminator("\r\n")
        .map(|l| l.split('*').map(str::to_string).collect())
        .collect()
}

/// The fields of the (first) segment `id`, as numbers where they are.
fn seg(text: &str, id: &str) -> Vec<String> {
    segments(text)
        .into_iter()
        .find(|s| s[0] == id)
        .unwrap_or_else(|| panic!("no {id} in\n{text}"))
}

fn num(fields: &[String], i: usize) -> u64 {
    fields
        .get(i)
        .and_then(|f| f.parse().ok())
        .unwrap_or_else(|| panic!("field {i} of {fields:?} is not a number"))
}

/// The `PA1`..`PA4` group of column `n`.
fn column(text: &str, n: u64) -> Vec<Vec<String>> {
    let all = segments(text);
    let at = all
        .iter()
        .position(|s| s[0] == "PA1" && s[1] == n.to_string())
        .unwrap_or_else(|| panic!("no PA1 for column {n}"));
    all[at..at + 4].to_vec()
}

/// CRC-16/ARC written out from its definition (reflected 0x8005, initial 0, no final xor),
/// independently of the program's.
fn crc16_arc(bytes: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in bytes {
        for bit in 0..8 {
            let mix = ((crc ^ u16::from(b >> bit)) & 1) == 1;
            crc >>= 1;
            if mix {
                crc ^= 0xA001;
            }
        }
    }
    crc
}

/// The file's grammar and envelope: one CRLF segment per line, no trailing `*`, `SE` counting
/// `ST` through `SE`, and `G85` the CRC of every byte from `ST` through the CRLF before it.
fn assert_well_formed(text: &str) {
    assert!(
        text.ends_with("\r\n") && !text.contains("\r\n\r\n"),
        "{text}"
    );
    assert!(text.is_ascii(), "{text}");
    for line in text.split_terminator("\r\n") {
        assert!(!line.contains(['\r', '\n']), "{line:?}");
        assert!(!line.ends_with('*'), "{line}");
    }
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert!(lines[0].starts_with("DXS*"), "{text}");
    assert_eq!(lines[1], "ST*001*0001");
    assert_eq!(lines[lines.len() - 1], "DXE*1*1");
    let se = &lines[lines.len() - 2];
    assert_eq!(*se, format!("SE*{}*0001", lines.len() - 2));
    assert_eq!(crc16_arc(b"123456789"), 0xBB3D);
    let from = text.find("\r\nST*").expect("ST") + 2;
    let to = text.find("\r\nG85*").expect("G85") + 2;
    let crc = crc16_arc(&text.as_bytes()[from..to]);
    assert_eq!(lines[lines.len() - 3], format!("G85*{crc:04X}"));
}

/// The shipped recovery: a failed paid vend is made right with a free drink of the customer's
/// choice; and "One to share" on every paid vend.
fn surprises() -> String {
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/surprises.toml"),
    )
    .expect("surprises.toml");
    let at = shipped.find("[recovery]").expect("[recovery]");
    let end = shipped[at..].find("\n# ").map_or(shipped.len(), |e| at + e);
    format!("{}\n{}\n", common::ALWAYS_ONE_TO_SHARE, &shipped[at..end])
}

/// The session, on books in `dir/data`, with the config written to `dir/config`.
async fn session(dir: &Path) -> Harness {
    let config = dir.join("config");
    std::fs::create_dir_all(&config).expect("config dir");
    std::fs::write(config.join("machine.toml"), common::shipped_config_text()).expect("machine");
    let mut setup = common::with_surprises(config_with(&[]), &surprises(), 5);
    setup.journal = JournalLocation::Dir(dir.join("data"));
    let mut h = Harness::start_with(setup);
    // Books on disk are checked before the machine sells: no coin is taken until then.
    h.kiosk.opened().await;
    h.run(
        "coin 200\npress 1\nwait 6000\ntake\n\
         jam 2\ncoin 200\npress 2\nwait 15000\n\
         press 3\nwait 4000\ntake\n\
         test 4\ntake\n\
         door open\nwait 120000\ndoor close\n\
         return\nwait 4000",
    )
    .await;
    h
}

#[tokio::test(start_paused = true)]
async fn the_audit_file_of_a_session_agrees_with_the_report_and_resets_as_route_drivers_expect() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = session(dir.path()).await;
    let s = h.kiosk.status();
    assert_eq!(s.credit.get(), 0, "every coin paid back: {s:?}");
    assert!(!s.vending);

    // Beside the running kiosk: printed but not recorded, and no reset.
    let look = audit(dir.path(), &[]);
    assert!(look.status.success(), "{look:?}");
    let stderr = String::from_utf8_lossy(&look.stderr);
    assert!(stderr.contains("not recorded"), "{stderr}");
    let refused = audit(dir.path(), &["--reset"]);
    assert_eq!(refused.status.code(), Some(3), "{refused:?}");
    assert!(refused.stdout.is_empty());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("POST /api/audit/reset"));
    h.stop().await;

    let report = happiness()
        .args(["report", "--json", "--data"])
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(dir.path().join("config"))
        .output()
        .expect("report");
    assert!(report.status.success(), "{report:?}");
    let books: serde_json::Value = serde_json::from_slice(&report.stdout).expect("json");
    let n = |v: &serde_json::Value| v.as_u64().expect("a number");

    let out = audit(dir.path(), &[]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).expect("ascii");
    assert_well_formed(&text);

    // Paid sales: the report's money spent and its sales.
    let sold: u64 = books["sales"]
        .as_array()
        .expect("sales")
        .iter()
        .map(|s| n(&s["count"]))
        .sum();
    let va1 = seg(&text, "VA1");
    assert_eq!(
        (num(&va1, 1), num(&va1, 2)),
        (n(&books["money"]["spent"]), sold)
    );
    assert_eq!((num(&va1, 1), num(&va1, 2)), (150, 1), "{text}");
    assert_eq!(seg(&text, "CA2")[1..], va1[1..]);
    // Cash in is every coin inserted; cash out every coin the hopper paid back.
    let ca3 = seg(&text, "CA3");
    assert_eq!(num(&ca3, 5), n(&books["money"]["inserted"]));
    assert_eq!(num(&ca3, 5), 400);
    let ca4 = seg(&text, "CA4");
    assert_eq!(num(&ca4, 3), n(&books["money"]["paid_out"]));
    assert_eq!(num(&ca4, 3), 400 - 150);
    // Free vends: the surprise's second Cola and the free Water that made the jam right.
    let free_items = books["surprises"]
        .as_array()
        .expect("surprises")
        .iter()
        .map(|s| n(&s["items"]))
        .sum::<u64>()
        + n(&books["recovery"]["delivered"]);
    let va3 = seg(&text, "VA3");
    assert_eq!(num(&va3, 2), free_items);
    assert_eq!(num(&va3, 2), 2, "{text}");
    assert_eq!(num(&va3, 1), 150 + n(&books["recovery"]["value"]));
    // The test vend: worth the Chocolate bar's price, in column 4's PA3, never a sale.
    assert_eq!(seg(&text, "VA2")[1..3], ["120", "1"]);
    let c4 = column(&text, 4);
    assert_eq!(c4[2], ["PA3", "1", "120", "1", "120"]);
    assert_eq!(c4[1], ["PA2", "0", "0", "0", "0"]);
    assert_eq!(num(&c4[0], 8), 1, "one Chocolate bar left");
    // The jammed column is out of service (PA107 2) and its fault is an event.
    let c2 = column(&text, 2);
    assert_eq!(num(&c2[0], 7), 2, "{text}");
    assert_eq!(
        c2[1],
        ["PA2", "0", "0", "0", "0"],
        "the failed vend is no sale"
    );
    assert!(
        segments(&text)
            .iter()
            .any(|s| s[0] == "EA1" && s[1].starts_with('E') && s[1].ends_with("_2")),
        "{text}"
    );
    // The door was open two minutes.
    let door = segments(&text)
        .into_iter()
        .find(|s| s[0] == "EA1" && s[1] == "EGS")
        .expect("the door opening");
    assert_eq!(door[4], "2", "{door:?}");
    let c1 = column(&text, 1);
    assert_eq!(c1[1], ["PA2", "1", "150", "1", "150"]);
    assert_eq!(c1[3], ["PA4", "1", "150", "1", "150"]);
    // This is the first recorded read: no reset yet.
    let ea3 = seg(&text, "EA3");
    assert_eq!((num(&ea3, 1), num(&ea3, 9), num(&ea3, 10)), (0, 1, 0));
    assert_eq!(ea3[4], "cli");

    // --out writes the same file (the read recorded like any other).
    let file = dir.path().join("audit.dex");
    let out = audit(
        dir.path(),
        &[
            "--out",
            file.to_str().expect("utf-8"),
            "--reader",
            "route-7",
        ],
    );
    assert!(out.status.success() && out.stdout.is_empty(), "{out:?}");
    let written = std::fs::read_to_string(&file).expect("written");
    assert_well_formed(&written);
    assert_eq!(seg(&written, "VA1"), va1);
    let ea3 = seg(&written, "EA3");
    assert_eq!(
        (ea3[4].as_str(), ea3[7].as_str()),
        ("route-7", "cli"),
        "{written}"
    );

    // A file that cannot be written: no read is recorded, no reset happens.
    let nowhere = dir.path().join("no such dir").join("audit.dex");
    let lost = audit(
        dir.path(),
        &["--reset", "--out", nowhere.to_str().expect("utf-8")],
    );
    assert_eq!(lost.status.code(), Some(2), "{lost:?}");

    // The cash collection: a read with reset, then a read after it.
    let reset = audit(dir.path(), &["--reset"]);
    assert!(reset.status.success(), "{reset:?}");
    let at_reset = String::from_utf8(reset.stdout).expect("ascii");
    assert_eq!(num(&seg(&at_reset, "EA3"), 1), 1, "{at_reset}");
    // The read with reset still shows what it collects.
    assert_eq!(seg(&at_reset, "VA1")[3..], ["150", "1"]);
    let after = String::from_utf8(audit(dir.path(), &[]).stdout).expect("ascii");
    assert_well_formed(&after);
    assert_eq!(seg(&after, "VA1")[1..], ["150", "1", "0", "0"]);
    assert_eq!(seg(&after, "VA2")[1..], ["120", "1", "0", "0"]);
    assert_eq!(seg(&after, "VA3")[1..], ["250", "2", "0", "0"]);
    assert_eq!(
        seg(&after, "CA3")[1..],
        ["0", "0", "0", "0", "400", "400", "0", "0"]
    );
    assert_eq!(column(&after, 1)[1], ["PA2", "1", "150", "0", "0"]);
    assert!(
        !after.contains("\r\nEA1*"),
        "no events since the reset:\n{after}"
    );
    let ea3 = seg(&after, "EA3");
    assert_eq!(
        (num(&ea3, 1), num(&ea3, 9), num(&ea3, 10)),
        (1, 4, 1),
        "{after}"
    );
}

#[test]
fn no_audit_from_books_that_are_missing_or_do_not_balance() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config");
    std::fs::create_dir_all(&config).expect("config dir");
    std::fs::write(config.join("machine.toml"), common::shipped_config_text()).expect("machine");
    let missing = audit(dir.path(), &[]);
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
    assert!(missing.stdout.is_empty());
    assert!(
        !dir.path().join("data").join("journal.db").exists(),
        "an audit never starts books"
    );

    // Books whose recorded credit disagrees with the money: exit 4, no figures, no read.
    let data = dir.path().join("data");
    let mut journal = happiness::journal::Journal::open_dir(&data).expect("books");
    let machine = happiness::config::MachineConfig::load_dir(&config).expect("machine");
    journal
        .recover(&machine, LocalTime::from_secs(0), 168)
        .expect("recover");
    // A coin booked with a credit that does not follow from it.
    let coin = happiness::vend::Notice::CreditIn {
        amount: Cents::new(100),
        credit: Cents::new(500),
    };
    journal
        .record(LocalTime::from_secs(60), &[&coin], Cents::new(500))
        .expect("record");
    drop(journal);
    let unbalanced = audit(dir.path(), &["--reset"]);
    assert_eq!(unbalanced.status.code(), Some(4), "{unbalanced:?}");
    assert!(unbalanced.stdout.is_empty());
    assert!(String::from_utf8_lossy(&unbalanced.stderr).contains("does not balance"));
    let db = rusqlite::Connection::open(data.join("journal.db")).expect("db");
    let reads: i64 = db
        .query_row("SELECT count(*) FROM audit_reads", [], |r| r.get(0))
        .expect("count");
    assert_eq!(reads, 0);
    // A reader name that would break the file is refused before anything is read.
    let bad = audit(dir.path(), &["--reader", "a*b"]);
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
}

#[test]
fn the_readme_sample_is_a_well_formed_audit_file() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let section = &readme[readme.find("## Audit (EVA-DTS)").expect("the section")..];
    let start = section.find("```\nDXS*").expect("the sample") + 4;
    let end = start + section[start..].find("```").expect("its end");
    let sample = section[start..end].replace('\n', "\r\n");
    assert_well_formed(&sample);
    for id in [
        "ID1", "ID4", "CB1", "VA1", "VA2", "VA3", "CA2", "CA3", "CA4", "PA1", "PA2", "PA3", "PA4",
        "EA1", "EA2", "EA3",
    ] {
        seg(&sample, id);
        assert!(
            section.contains(&format!("`{id}")),
            "the README explains {id}"
        );
    }
}

/// `--out` writes what the operator asked and never over the books: the journal, its log, lock
/// and mark, and the config in use are refused by any name (a symlink too), with nothing written;
/// a symlink elsewhere is written through, a FIFO and a device are written to and stay what they
/// are, and a file is replaced keeping its mode.
#[test]
fn out_never_writes_over_the_books_and_writes_through_what_it_is_given() {
    use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config");
    std::fs::create_dir_all(&config).expect("config dir");
    std::fs::write(config.join("machine.toml"), common::shipped_config_text()).expect("machine");
    let data = dir.path().join("data");
    let mut journal = happiness::journal::Journal::open_dir(&data).expect("books");
    let machine = happiness::config::MachineConfig::load_dir(&config).expect("machine");
    journal
        .recover(&machine, LocalTime::from_secs(0), 168)
        .expect("recover");
    drop(journal);
    let books = std::fs::read(data.join("journal.db")).expect("books");
    let machine_text = std::fs::read(config.join("machine.toml")).expect("config");
    let link = dir.path().join("innocent.dex");
    std::os::unix::fs::symlink(data.join("journal.db"), &link).expect("symlink");
    for target in [
        data.join("journal.db"),
        data.join("journal.lock"),
        data.join("journal.mark"),
        data.join("../data/journal.db"),
        config.join("machine.toml"),
        link,
    ] {
        let out = audit(dir.path(), &["--out", target.to_str().expect("utf-8")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", target.display());
        assert!(err.contains("never written over"), "{err}");
    }
    assert_eq!(
        std::fs::read(data.join("journal.db")).expect("books"),
        books
    );
    assert_eq!(
        std::fs::read(config.join("machine.toml")).expect("config"),
        machine_text
    );

    // A device is written to, and stays a device.
    let out = audit(dir.path(), &["--out", "/dev/null"]);
    assert!(out.status.success(), "{out:?}");
    assert!(std::fs::metadata("/dev/null")
        .expect("meta")
        .file_type()
        .is_char_device());
    // A FIFO gets the file and stays a FIFO.
    let fifo = dir.path().join("pipe");
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .expect("mkfifo");
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).expect("read"))
    };
    let out = audit(dir.path(), &["--out", fifo.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{out:?}");
    assert!(reader.join().expect("reader").starts_with("DXS*"));
    assert!(std::fs::metadata(&fifo)
        .expect("meta")
        .file_type()
        .is_fifo());
    // A file is replaced, keeping its mode; a symlink to it is written through.
    let file = dir.path().join("audit.dex");
    std::fs::write(&file, "old").expect("old");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).expect("mode");
    let to_file = dir.path().join("latest.dex");
    std::os::unix::fs::symlink(&file, &to_file).expect("symlink");
    let out = audit(dir.path(), &["--out", to_file.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{out:?}");
    assert!(std::fs::read_to_string(&file)
        .expect("read")
        .starts_with("DXS*"));
    assert_eq!(
        std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777,
        0o640
    );
    assert!(std::fs::symlink_metadata(&to_file)
        .expect("meta")
        .file_type()
        .is_symlink());
}
