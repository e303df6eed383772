use super::*;
use crate::journal::Journal;
use crate::localtime::LocalTime;
use crate::money::Cents;
use crate::vend::Notice;

fn coin(j: &mut Journal, at: i64, credit: u64) {
    let t = LocalTime::from_ymd_hm(2026, 11, 25, 12, 0)
        .expect("date")
        .plus_secs(at);
    let notice = Notice::CreditIn {
        amount: Cents::new(100),
        credit: Cents::new(credit),
    };
    j.record(t, &[&notice], Cents::new(credit)).expect("coin");
}

fn problems(name: &str) -> Vec<String> {
    let j = Journal::open_shared_memory(name).expect("open");
    let check = j.check_books().expect("check");
    check
        .seals
        .problems
        .iter()
        .map(|p| format!("{}: {}", p.table, p.problem))
        .collect()
}

#[test]
fn an_older_copy_put_back_is_named_as_missing_records() {
    let name = "memory-tests-put-back";
    let _keeper = crate::journal::MemoryKeeper::new(name).expect("keeper");
    let mut j = Journal::open_shared_memory(name).expect("open");
    coin(&mut j, 1, 100);
    let copy = MemoryCopy::take(name).expect("copy");
    assert_eq!(copy.put_back(name).expect("nothing newer"), 0);
    coin(&mut j, 2, 200);
    coin(&mut j, 3, 300);
    drop(j);
    assert!(problems(name).is_empty(), "sound books pass");
    let lost = copy.put_back(name).expect("put back");
    assert!(lost >= 2, "{lost}");
    let found = problems(name);
    assert!(
        found.iter().any(|p| p.contains("missing")),
        "the loss is named: {found:?}"
    );
}

#[test]
fn an_edit_without_the_key_is_named() {
    let name = "memory-tests-keyless-edit";
    let _keeper = crate::journal::MemoryKeeper::new(name).expect("keeper");
    let mut j = Journal::open_shared_memory(name).expect("open");
    coin(&mut j, 1, 100);
    drop(j);
    assert!(edit_memory_books_without_key(name).expect("edit"));
    let found = problems(name);
    assert!(!found.is_empty(), "the edit is named");
    // With nothing left to delete, nothing is edited.
    assert!(!edit_memory_books_without_key(name).expect("edit"));
}
