use std::path::Path;

use super::*;
use crate::config::MachineConfig;
use crate::vend::ColumnId;

fn machine() -> MachineConfig {
    MachineConfig::from_toml(
        Path::new("machine.toml"),
        include_str!("../../config/machine.toml"),
    )
    .expect("machine")
}

fn col(n: usize) -> ColumnId {
    ColumnId::from_number(n).expect("column")
}

fn t(secs: i64) -> LocalTime {
    LocalTime::from_ymd_hm(2026, 11, 25, 12, 0)
        .expect("date")
        .plus_secs(secs)
}

fn started(column: usize, price: u64) -> Notice {
    Notice::VendStarted {
        tender: crate::vend::Tender::Cash,
        column: col(column),
        product: "Cola".into(),
        price: Cents::new(price),
    }
}

fn delivered(column: usize, price: u64) -> Notice {
    Notice::VendDelivered {
        tender: crate::vend::Tender::Cash,
        column: col(column),
        product: "Cola".into(),
        price: Cents::new(price),
    }
}

/// "One to share" awarded after a Cola from column 1: one more Cola, costing 90 cents.
fn one_to_share() -> Notice {
    Notice::SurpriseAwarded {
        column: col(1),
        name: "One to share".into(),
        kind: crate::surprise::KindName::ExtraItem,
        cost: Cents::new(90),
        items: vec![(col(1), 1)],
        message: "A second Cola".into(),
        origin: crate::vend::AwardOrigin::Chance,
    }
}

fn coin(amount: u64, credit: u64) -> Notice {
    Notice::CreditIn {
        amount: Cents::new(amount),
        credit: Cents::new(credit),
    }
}

fn fresh() -> Journal {
    let mut j = Journal::open_in_memory().expect("journal");
    j.recover(&machine(), t(0), 168).expect("recover");
    j
}

#[test]
fn a_paid_vend_is_two_commits_and_balances() {
    let mut j = fresh();
    let before = j.stats().commits;
    j.record(t(1), &[&coin(200, 200)], Cents::new(200))
        .expect("coin");
    j.record(t(2), &[&started(1, 150)], Cents::new(50))
        .expect("intent");
    j.record(t(3), &[&delivered(1, 150)], Cents::new(50))
        .expect("outcome");
    assert_eq!(
        j.stats().commits - before,
        3,
        "one for the coin, two for the vend"
    );
    let r = j.report().expect("report");
    assert!(r.money.balanced, "{:?}", r.money);
    assert_eq!(r.money.inserted, Cents::new(200));
    assert_eq!(r.money.spent, Cents::new(150));
    assert_eq!(r.money.held, Cents::new(50));
    assert_eq!(r.sales[0].count, 1);
    assert_eq!(r.inventory[0].stock, 5);
    assert_eq!(r.integrity, "ok");
}

#[test]
fn steps_without_book_notices_write_nothing() {
    let mut j = fresh();
    let before = j.stats().commits;
    let refused = Notice::Refused {
        column: col(1),
        reason: crate::vend::Refusal::SoldOut,
    };
    j.record(t(1), &[&refused], Cents::ZERO).expect("record");
    j.record(t(1), &[], Cents::ZERO).expect("record");
    assert_eq!(j.stats().commits, before);
}

#[test]
fn credit_is_rewritten_only_when_it_changes_and_never_by_a_failed_step() {
    let mut j = fresh();
    let nudge = |attempt| Notice::MotorRun {
        column: col(1),
        attempt,
    };
    j.record(t(1), &[&coin(200, 200)], Cents::new(200))
        .expect("coin");
    j.record(t(2), &[&started(1, 150), &nudge(1)], Cents::new(50))
        .expect("intent");
    j.record(t(3), &[&nudge(2)], Cents::new(50)).expect("nudge");
    j.record(t(4), &[&delivered(1, 150)], Cents::new(50))
        .expect("outcome");
    let r = j.report().expect("report");
    assert_eq!(r.money.held, Cents::new(50));
    assert!(r.money.balanced, "{:?}", r.money);
    // A step that would change the credit but fails leaves the books, and what the journal
    // believes it wrote, as they were.
    assert!(j.record(t(5), &[&delivered(1, 150)], Cents::ZERO).is_err());
    assert_eq!(j.report().expect("report").money.held, Cents::new(50));
    // The same credit the failed step tried is written when a real step brings it.
    j.record(t(6), &[&started(2, 50)], Cents::ZERO)
        .expect("intent");
    let r = j.report().expect("report");
    assert_eq!(r.money.held, Cents::new(50), "credit 0 plus 50 in escrow");
    assert!(r.money.balanced, "{:?}", r.money);
}

#[test]
fn an_outcome_is_written_exactly_once() {
    let mut j = fresh();
    j.record(t(1), &[&coin(200, 200)], Cents::new(200))
        .expect("coin");
    j.record(t(2), &[&started(1, 150)], Cents::new(50))
        .expect("intent");
    j.record(t(3), &[&delivered(1, 150)], Cents::new(50))
        .expect("outcome");
    let err = j
        .record(t(4), &[&delivered(1, 150)], Cents::new(50))
        .expect_err("second outcome");
    assert!(matches!(err, JournalError::Inconsistent(_)), "{err}");
    // The failed transaction changed nothing.
    let r = j.report().expect("report");
    assert_eq!(r.sales[0].count, 1);
    assert!(r.money.balanced);
    // And a second intent while one is open is refused too.
    j.record(t(5), &[&started(1, 150)], Cents::ZERO)
        .expect("intent");
    assert!(j.record(t(6), &[&started(2, 150)], Cents::ZERO).is_err());
}

#[test]
fn recovery_closes_an_interrupted_vend_and_restores_its_credit() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut j = Journal::open_dir(dir.path()).expect("journal");
        j.recover(&machine(), t(0), 168).expect("recover");
        j.record(t(1), &[&coin(200, 200)], Cents::new(200))
            .expect("coin");
        j.record(t(2), &[&started(2, 150)], Cents::new(50))
            .expect("intent");
        // Power cut: the outcome never comes.
        let r = j.report().expect("report");
        assert!(r.money.balanced, "escrow counts as held: {:?}", r.money);
        assert_eq!(r.open_vends, 1);
    }
    let mut j = Journal::open_dir(dir.path()).expect("reopen");
    let recovery = j.recover(&machine(), t(100), 168).expect("recover");
    assert_eq!(recovery.interrupted.len(), 1);
    assert_eq!(recovery.interrupted[0].column, 2);
    assert_eq!(recovery.refunded, Cents::new(150));
    assert_eq!(recovery.restored.credit, Cents::new(200));
    assert_eq!(recovery.restored.columns[1].0, 6, "no item was taken");
    let r = j.report().expect("report");
    assert!(r.money.balanced, "{:?}", r.money);
    assert_eq!(r.interrupted, 1);
    assert_eq!(r.open_vends, 0);
    // A second recovery finds nothing more to do.
    let again = j.recover(&machine(), t(200), 168).expect("recover");
    assert!(again.interrupted.is_empty());
    assert_eq!(again.restored.credit, Cents::new(200));
}

#[test]
fn inventory_faults_and_restock_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut j = Journal::open_dir(dir.path()).expect("journal");
        j.recover(&machine(), t(0), 168).expect("recover");
        j.record(t(1), &[&coin(500, 500)], Cents::new(500))
            .expect("coin");
        j.record(t(2), &[&started(1, 150)], Cents::new(350))
            .expect("intent");
        j.record(t(3), &[&delivered(1, 150)], Cents::new(350))
            .expect("outcome");
        let faulted = Notice::ColumnFaulted {
            column: col(3),
            reason: FailReason::Jammed,
        };
        j.record(t(4), &[&faulted], Cents::new(350)).expect("fault");
        let restocked = Notice::Restocked {
            column: col(4),
            stock: 12,
        };
        j.record(t(5), &[&restocked], Cents::new(350))
            .expect("restock");
    }
    let mut j = Journal::open_dir(dir.path()).expect("reopen");
    let recovery = j.recover(&machine(), t(10), 168).expect("recover");
    let columns = &recovery.restored.columns;
    assert_eq!(columns[0], (5, ColumnStatus::InService));
    assert_eq!(columns[2], (10, ColumnStatus::Faulted(FailReason::Jammed)));
    assert_eq!(columns[3], (12, ColumnStatus::InService));
    assert_eq!(recovery.restored.credit, Cents::new(350));
    assert_eq!(recovery.restored.ledger.spent, Cents::new(150));
    assert_eq!(recovery.surprise_history.sales.len(), 1);
    assert_eq!(recovery.surprise_history.streak, 1);
}

#[test]
fn a_column_given_a_new_product_takes_its_stock_from_the_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut j = Journal::open_dir(dir.path()).expect("journal");
        j.recover(&machine(), t(0), 168).expect("recover");
        j.record(t(1), &[&coin(200, 200)], Cents::new(200))
            .expect("coin");
        j.record(t(2), &[&started(1, 150)], Cents::new(50))
            .expect("intent");
        j.record(t(3), &[&delivered(1, 150)], Cents::new(50))
            .expect("outcome");
    }
    let mut changed = machine();
    changed.columns[0].product = "Lemonade".into();
    let mut j = Journal::open_dir(dir.path()).expect("reopen");
    let recovery = j.recover(&changed, t(10), 168).expect("recover");
    assert_eq!(recovery.restored.columns[0].0, 6);
}

#[test]
fn payouts_surprises_and_events_are_booked() {
    let mut j = fresh();
    j.record(t(1), &[&coin(200, 200)], Cents::new(200))
        .expect("coin");
    j.record(t(2), &[&started(1, 150)], Cents::new(50))
        .expect("intent");
    let award = one_to_share();
    j.record(t(3), &[&delivered(1, 150), &award], Cents::new(50))
        .expect("delivered with a surprise");
    let item = Notice::SurpriseItemStarted {
        column: col(1),
        product: "Cola".into(),
    };
    j.record(t(4), &[&item], Cents::new(50))
        .expect("item intent");
    let item_done = Notice::SurpriseItemDelivered {
        column: col(1),
        product: "Cola".into(),
    };
    let done = Notice::SurpriseCompleted {
        name: "One to share".into(),
        planned: 1,
        delivered: 1,
        partial: false,
    };
    j.record(t(5), &[&item_done, &done], Cents::new(50))
        .expect("item");
    j.record(t(6), &[&coin(100, 150)], Cents::new(150))
        .expect("coin");
    let payout = [
        Notice::PayoutStarted {
            coins: 1,
            amount: Cents::new(100),
        },
        Notice::CoinPaidOut {
            amount: Cents::new(100),
            credit: Cents::new(50),
        },
        Notice::PayoutFinished {
            coins: 1,
            credit: Cents::new(50),
        },
    ];
    j.record(t(7), &payout.iter().collect::<Vec<_>>(), Cents::new(50))
        .expect("payout");
    j.record(t(8), &[&Notice::Door { open: true }], Cents::new(50))
        .expect("door");
    j.record(t(9), &[&Notice::UnknownCoin { pulses: 9 }], Cents::new(50))
        .expect("unknown coin");
    let r = j.report().expect("report");
    assert!(r.money.balanced, "{:?}", r.money);
    assert_eq!(r.money.paid_out, Cents::new(100));
    assert_eq!(r.surprises.len(), 1);
    assert_eq!(r.surprises[0].items, 1);
    assert_eq!(r.surprise_cost, Cents::new(90));
    assert_eq!(r.unknown_coins, 1);
    assert_eq!(r.inventory[0].stock, 4, "paid item and surprise item");
    let text = r.to_text("€");
    assert!(text.contains("balance: OK"), "{text}");
}

#[test]
fn config_versions_are_recorded_when_they_change() {
    let mut j = fresh();
    let (v1, new) = j
        .record_config(t(1), "machine.toml", "a\n", "start")
        .expect("write");
    assert!(new);
    let (same, new) = j
        .record_config(t(2), "machine.toml", "a\n", "start")
        .expect("same");
    assert!(!new && same == v1);
    let (v2, new) = j
        .record_config(t(3), "machine.toml", "b\n", "api")
        .expect("changed");
    assert!(new && v2 > v1);
    assert_eq!(j.report().expect("report").config_versions, 2);
    let versions = j.config_versions("machine.toml").expect("versions");
    assert_eq!(versions[0].version, v2);
    assert_eq!(versions[0].source, "api");
    assert!(
        versions[0].diff.contains("-a") && versions[0].diff.contains("+b"),
        "{}",
        versions[0].diff
    );
    assert_eq!(
        j.config_text("machine.toml", v1).expect("text").as_deref(),
        Some("a\n")
    );
    j.record_feedback(t(4), true).expect("feedback");
    assert_eq!(j.report().expect("report").feedback, (1, 0));
}

#[test]
fn a_damaged_journal_stops_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut j = Journal::open_dir(dir.path()).expect("journal");
        j.recover(&machine(), t(0), 168).expect("recover");
        for i in 0..50 {
            j.record(t(i), &[&coin(100, 100 * (i as u64 + 1))], Cents::ZERO)
                .expect("coin");
        }
    }
    // Scribble over the middle of the database file.
    let path = dir.path().join(JOURNAL_FILE);
    let mut bytes = std::fs::read(&path).expect("read");
    let _ = std::fs::remove_file(dir.path().join("journal.db-wal"));
    let len = bytes.len();
    for b in bytes.iter_mut().skip(len / 3).take(len / 3) {
        *b = 0x5a;
    }
    std::fs::write(&path, bytes).expect("write");
    // Opening may already fail; if not, the checks the kiosk passes before selling do.
    let err = match Journal::open_dir(dir.path()) {
        Ok(j) => {
            let check = j.check_books().expect("the checks run");
            assert!(!check.passed());
            check.failure(j.path()).expect("a failure to stop with")
        }
        Err(e) => e,
    };
    assert!(matches!(err, JournalError::Damaged { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("damaged"), "{text}");
    assert!(text.contains("journal.db"), "{text}");
    let report = Journal::open_read_only(dir.path()).and_then(|j| j.report());
    assert!(
        report.is_err() || report.is_ok_and(|r| r.exit_code() == 5),
        "a report on a damaged journal fails or says so"
    );
}

#[test]
fn a_newer_schema_is_refused_and_a_missing_journal_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let conn = Connection::open(dir.path().join(JOURNAL_FILE)).expect("db");
        conn.pragma_update(None, "user_version", 99)
            .expect("version");
    }
    assert!(matches!(
        Journal::open_dir(dir.path()),
        Err(JournalError::TooNew { found: 99, .. })
    ));
    let empty = tempfile::tempdir().expect("tempdir");
    assert!(matches!(
        Journal::open_read_only(empty.path()),
        Err(JournalError::Missing { .. })
    ));
}

#[test]
fn books_written_before_seals_are_sealed_when_opened_and_checked_from_then_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Books as the previous schema (version 2) left them, with a sale in them.
    {
        let conn = Connection::open(dir.path().join(JOURNAL_FILE)).expect("db");
        for step in &schema::MIGRATIONS[..2] {
            let schema::Step::Sql(sql) = step else {
                panic!("the first two migrations are plain SQL");
            };
            conn.execute_batch(sql).expect("old schema");
        }
        conn.execute_batch(
            "PRAGMA user_version = 2;
             INSERT INTO credit_events (at, kind, amount, credit_after) VALUES (1, 'coin', 200, 200);
             INSERT INTO vends (kind, column_no, product, price, started_at, outcome, ended_at)
                 VALUES ('paid', 1, 'Cola', 150, 2, 'delivered', 3);
             INSERT INTO inventory (column_no, product, stock, status, updated_at)
                 VALUES (1, 'Cola', 5, 'in_service', 3);
             INSERT INTO meta (key, value) VALUES ('credit', '50');",
        )
        .expect("old books");
    }
    {
        let j = Journal::open_dir(dir.path()).expect("the books are migrated");
        let check = j.check_books().expect("check");
        assert!(check.passed(), "{check:?}");
        assert_eq!(check.seals.records, 4);
        let report = j.report().expect("report");
        assert!(report.money.balanced, "{:?}", report.money);
        assert_eq!(report.money.spent, Cents::new(150));
    }
    // From now on an edit outside the journal is caught.
    {
        let conn = Connection::open(dir.path().join(JOURNAL_FILE)).expect("db");
        conn.execute_batch(
            "DROP TRIGGER vends_seal_update; UPDATE vends SET price = 15 WHERE id = 1;",
        )
        .expect("edit");
    }
    let j = Journal::open_read_only(dir.path()).expect("read");
    let check = j.check_books().expect("check");
    assert!(!check.passed());
    assert!(
        check.seals.problems[0]
            .to_string()
            .starts_with("vends record 1"),
        "{:?}",
        check.seals.problems
    );
}

#[test]
fn the_books_over_a_period_count_by_hour_and_day_with_the_rolling_budget() {
    let mut j = fresh();
    let award = one_to_share();
    // Day one, 12:00: a sale with a surprise. Day two, 13:00: a sale and a jam refunded.
    j.record(t(10), &[&coin(500, 500)], Cents::new(500))
        .expect("coin");
    j.record(t(11), &[&started(1, 150)], Cents::new(350))
        .expect("intent");
    j.record(t(12), &[&delivered(1, 150), &award], Cents::new(350))
        .expect("delivered");
    let day2 = 86_400 + 3_600;
    j.record(t(day2), &[&started(2, 150)], Cents::new(200))
        .expect("intent");
    j.record(t(day2 + 1), &[&delivered(2, 150)], Cents::new(200))
        .expect("delivered");
    j.record(t(day2 + 2), &[&started(2, 150)], Cents::new(50))
        .expect("intent");
    let failed = Notice::VendFailed {
        tender: crate::vend::Tender::Cash,
        column: col(2),
        product: "Cola".into(),
        refunded: Cents::new(150),
        reason: crate::vend::FailReason::Jammed,
    };
    j.record(t(day2 + 3), &[&failed], Cents::new(200))
        .expect("refunded");
    j.record_feedback(t(day2 + 4), true).expect("feedback");
    let rule = BudgetRule {
        percent: 50.0,
        window_hours: 24,
    };
    let midnight = LocalTime::from_ymd_hm(2026, 11, 25, 0, 0).expect("date");
    let week = Period::new(midnight, midnight.plus_secs(7 * 86_400), None).expect("period");
    let b = j.period_books(&week, rule, t(3 * 86_400)).expect("books");
    assert_eq!(b.bucket, Bucket::Day);
    assert_eq!(b.series.len(), 7);
    assert_eq!((b.sales.count, b.sales.value), (2, Cents::new(300)));
    assert_eq!((b.series[0].sales.count, b.series[1].sales.count), (1, 1));
    assert_eq!((b.surprises.count, b.surprises.value), (1, Cents::new(90)));
    assert_eq!(b.surprises_by_kind[0].kind, "extra_item");
    assert_eq!(
        (b.promise.paid, b.promise.delivered, b.promise.refunded),
        (3, 2, 1)
    );
    assert_eq!(b.feedback.happy, 1);
    assert_eq!(b.series[1].refunds, 1);
    // The window ending with day one holds its sale and surprise; day three's window (24 h)
    // holds day two's sale only.
    assert_eq!(b.series[0].window_spend, Some(Cents::new(90)));
    assert_eq!(b.series[0].window_budget, Some(Cents::new(75)));
    assert_eq!(b.series[2].window_spend, Some(Cents::new(0)));
    // Days that have not begun have no window yet.
    assert_eq!(b.series[4].window_spend, None);
    let c2 = b.columns.iter().find(|c| c.column == 2).expect("column 2");
    assert_eq!((c2.sales.count, c2.refunds), (1, 1));
    // Day two by the hour: the 13:00 bucket has the sale.
    let day = Period::new(
        midnight.plus_secs(86_400),
        midnight.plus_secs(2 * 86_400),
        None,
    )
    .expect("period");
    let h = j.period_books(&day, rule, t(3 * 86_400)).expect("books");
    assert_eq!(h.bucket, Bucket::Hour);
    assert_eq!(h.series.len(), 24);
    assert_eq!(h.series[13].sales.count, 1);
    assert_eq!(h.series[13].start, "2026-11-26 13:00:00");
    // The export: one line per paid vend, the surprise beside the sale that earned it.
    let lines = j.sales_lines(&week).expect("lines");
    assert_eq!(lines.len(), 3);
    assert_eq!(
        (lines[0].surprise.as_str(), lines[0].surprise_cost),
        ("One to share", Cents::new(90))
    );
    assert_eq!(lines[2].outcome, "refunded");
    let csv = sales_csv(&lines);
    assert!(csv.starts_with("time,column,product,price,outcome,reason,surprise,surprise_cost,made_right,made_right_value\r\n"));
    assert_eq!(csv.lines().count(), 4);
}

mod audit;
mod card;
mod recovery;
