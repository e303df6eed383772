//! The audit file from the books: what each counter counts, the interim counters after a read
//! with reset, every read recorded, and no figures from books that do not check out.

use super::recovery::books_with_a_failure_made_right;
use super::*;
use crate::journal::AuditRequest;

/// The failure made right (a refunded Cola, a free Water, a sold Cola with a surprise), then a
/// service test vend of column 2, one coin paid back, the door open for three minutes and a
/// jam on column 1.
fn books() -> Journal {
    let mut j = books_with_a_failure_made_right();
    let test = Notice::TestVendStarted {
        column: col(2),
        product: "Orange soda".into(),
        value: Cents::new(150),
    };
    j.record(t(35), &[&test], Cents::new(50)).expect("test");
    let tested = Notice::TestVendDelivered {
        column: col(2),
        product: "Orange soda".into(),
    };
    j.record(t(36), &[&tested], Cents::new(50)).expect("tested");
    let payout = [
        Notice::PayoutStarted {
            coins: 1,
            amount: Cents::new(50),
        },
        Notice::CoinPaidOut {
            amount: Cents::new(50),
            credit: Cents::ZERO,
        },
        Notice::PayoutFinished {
            coins: 1,
            credit: Cents::ZERO,
        },
    ];
    j.record(t(37), &payout.iter().collect::<Vec<_>>(), Cents::ZERO)
        .expect("payout");
    j.record(t(40), &[&Notice::Door { open: true }], Cents::ZERO)
        .expect("door");
    j.record(t(220), &[&Notice::Door { open: false }], Cents::ZERO)
        .expect("door");
    let jam = Notice::ColumnFaulted {
        column: col(1),
        reason: FailReason::Jammed,
    };
    j.record(t(250), &[&jam], Cents::ZERO).expect("jam");
    j
}

fn read(j: &mut Journal, at: LocalTime, reset: bool, record: bool) -> Result<String, JournalError> {
    let m = machine();
    let req = AuditRequest {
        identity: &m.audit,
        version: "9.9.9",
        columns: &m.columns,
        at,
        reset,
        reader: "route-7",
    };
    j.audit(&req, record)
}

fn lines(file: &str) -> Vec<String> {
    file.split_terminator("\r\n").map(str::to_string).collect()
}

fn has(file: &str, segment: &str) {
    assert!(
        lines(file).iter().any(|l| l == segment),
        "{segment} not in\n{file}"
    );
}

#[test]
fn each_kind_of_vend_and_money_goes_to_its_segment() {
    let mut j = books();
    let file = read(&mut j, t(300), false, true).expect("audit");
    has(&file, "VA1*150*1*150*1");
    has(&file, "VA2*150*1*150*1");
    // The free Water that made the failure right, at its price.
    has(&file, "VA3*100*1*100*1");
    has(&file, "CA2*150*1*150*1");
    has(&file, "CA3*200*200*0*0*200*200*0*0");
    has(&file, "CA4*50*0*50*0");
    // Column 1 jammed: out of service; column 4 has 2 left; the gift column sells nothing.
    has(&file, "PA1*1*150*Cola*8***2*5*2");
    has(&file, "PA2*1*150*1*150");
    has(&file, "PA1*2*150*Orange soda*8***0*5*2");
    has(&file, "PA3*1*150*1*150");
    has(&file, "PA1*3*100*Water*10***0*9*2");
    has(&file, "PA4*1*100*1*100");
    has(&file, "PA1*5*0*Flower*10***0*10*2");
    let jam_day = &file[file.find("EA1*ELA_1*").expect("the jam")..];
    assert!(jam_day.starts_with("EA1*ELA_1*261125*1204"), "{file}");
    has(&file, "EA1*EGS*261125*1200*3");
    has(&file, "EA2*EGS*1*1");
    has(&file, "EA2*ELA_1*1*1");
    has(&file, "EA3*0*261125*1205*route-7*****1*0");
}

#[test]
fn a_read_with_reset_starts_the_interim_counters_again_and_lifetime_counts_on() {
    let mut j = books();
    read(&mut j, t(300), false, true).expect("first read");
    read(&mut j, t(360), true, true).expect("read with reset");
    let file = read(&mut j, t(370), false, true).expect("after the reset");
    has(&file, "VA1*150*1*0*0");
    has(&file, "VA2*150*1*0*0");
    has(&file, "VA3*100*1*0*0");
    has(&file, "CA3*0*0*0*0*200*200*0*0");
    has(&file, "PA2*1*150*0*0");
    has(&file, "EA2*EGS*0*1");
    assert!(!file.contains("EA1*"), "no events since the reset:\n{file}");
    // Three reads before this one counted with it, one of them with reset.
    has(&file, "EA3*1*261125*1206*route-7*261125*1206*route-7**3*1");

    // A sale after the reset: interim and lifetime both count it.
    j.record(t(400), &[&coin(100, 100)], Cents::new(100))
        .expect("coin");
    j.record(t(401), &[&started(3, 100)], Cents::ZERO)
        .expect("intent");
    j.record(t(402), &[&delivered(3, 100)], Cents::ZERO)
        .expect("outcome");
    let file = read(&mut j, t(500), true, true).expect("second reset");
    has(&file, "VA1*250*2*100*1");
    has(&file, "CA3*100*100*0*0*300*300*0*0");
    has(&file, "PA2*1*100*1*100");
    has(&file, "EA3*2*261125*1208*route-7*261125*1206*route-7**4*2");
    let file = read(&mut j, t(510), false, false).expect("a look");
    has(&file, "VA1*250*2*0*0");
    let reads: i64 = j
        .conn
        .query_row("SELECT count(*) FROM audit_reads", [], |r| r.get(0))
        .expect("count");
    assert_eq!(reads, 4, "a look that is not recorded writes nothing");
    assert!(
        j.report().expect("report").seals.ok(),
        "audit reads are sealed"
    );
}

#[test]
fn books_that_do_not_balance_give_no_audit_and_record_no_read() {
    let mut j = books();
    j.conn
        .execute("UPDATE meta SET value = '999' WHERE key = 'credit'", [])
        .expect("tamper");
    let err = read(&mut j, t(300), true, true).expect_err("refused");
    assert!(
        matches!(err, JournalError::Unvouched { code: 4, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("does not balance"), "{err}");
    let reads: i64 = j
        .conn
        .query_row("SELECT count(*) FROM audit_reads", [], |r| r.get(0))
        .expect("count");
    assert_eq!(reads, 0);
}

#[test]
fn a_reset_that_would_not_be_recorded_is_refused() {
    let mut j = books();
    assert!(read(&mut j, t(300), true, false).is_err());
}

#[test]
fn a_vend_at_price_zero_is_a_free_vend_valued_at_the_columns_price() {
    // Free-vend mode books every selection as a paid vend of price 0.
    let mut j = fresh();
    j.record(t(1), &[&started(3, 0)], Cents::ZERO)
        .expect("intent");
    j.record(t(2), &[&delivered(3, 0)], Cents::ZERO)
        .expect("outcome");
    let file = read(&mut j, t(10), false, true).expect("audit");
    has(&file, "VA1*0*0*0*0");
    has(&file, "VA3*100*1*100*1");
    has(&file, "PA4*1*100*1*100");
}

#[test]
fn on_a_full_disk_the_read_cannot_be_recorded_but_the_figures_can_be_read() {
    let mut j = books();
    let now = j.stats().commits;
    j.set_disk_fault(Some(DiskFault {
        full_at_commit: now,
        reserve_helps: false,
    }));
    let err = read(&mut j, t(300), true, true).expect_err("no room to record");
    assert!(err.is_storage_full(), "{err}");
    let file = read(&mut j, t(300), false, false).expect("a look");
    has(&file, "VA1*150*1*150*1");
    assert_eq!(j.stats().commits, now);
}
