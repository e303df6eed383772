use super::*;
use crate::localtime::TimeWindow;

fn col(n: usize) -> ColumnId {
    ColumnId::from_number(n).expect("column")
}

fn at(h: u32, m: u32) -> LocalTime {
    LocalTime::from_ymd_hm(2026, 11, 27, h, m).expect("time")
}

fn rules() -> AlertRules {
    AlertRules {
        no_sale_hours: 3,
        hours: "08:00-20:00".parse::<TimeWindow>().expect("hours"),
        budget_warn_percent: 80,
    }
}

fn facts(now: LocalTime) -> Facts {
    Facts {
        now,
        columns: vec![ColumnFacts {
            column: col(1),
            product: "Cola".into(),
            stock: 6,
            capacity: 8,
            low_stock: 2,
            status: ColumnStatus::InService,
            for_sale: true,
        }],
        stuck_sensors: Vec::new(),
        door_open: false,
        last_sale: now,
        spend: Cents::ZERO,
        budget: Cents::new(100),
        surprises_on: true,
        config_refused: None,
        restart_needed: false,
        out_of_service: None,
        currency: "€".into(),
    }
}

fn kinds(changes: &[Change]) -> Vec<(bool, &'static str)> {
    changes
        .iter()
        .map(|c| match c {
            Change::Raised(a) => (true, a.kind),
            Change::Cleared(a) => (false, a.kind),
        })
        .collect()
}

#[test]
fn a_healthy_machine_has_no_alerts() {
    let mut alerts = Alerts::default();
    assert!(alerts.update(&facts(at(10, 0)), &rules()).is_empty());
    assert!(alerts.current().is_empty());
}

#[test]
fn low_stock_is_raised_once_keeps_its_start_and_clears_on_restock() {
    let mut alerts = Alerts::default();
    let mut f = facts(at(10, 0));
    f.columns[0].stock = 2;
    assert_eq!(
        kinds(&alerts.update(&f, &rules())),
        vec![(true, "low_stock")]
    );
    let a = &alerts.current()[0];
    assert_eq!(a.since, "2026-11-27 10:00:00");
    assert!(
        a.text.contains("Column 1 (Cola) is low: 2 left"),
        "{}",
        a.text
    );
    assert!(
        a.action.contains("Restock column 1: 6 more fit"),
        "{}",
        a.action
    );
    // One more sold: the same alert, its words updated, no new event.
    f.now = at(10, 5);
    f.columns[0].stock = 1;
    assert!(alerts.update(&f, &rules()).is_empty());
    assert_eq!(alerts.current()[0].since, "2026-11-27 10:00:00");
    assert!(alerts.current()[0].text.contains("1 left"));
    // Sold out replaces it.
    f.columns[0].stock = 0;
    assert_eq!(
        kinds(&alerts.update(&f, &rules())),
        vec![(true, "sold_out"), (false, "low_stock")]
    );
    assert_eq!(alerts.current()[0].severity, Severity::Critical);
    f.columns[0].stock = 8;
    assert_eq!(
        kinds(&alerts.update(&f, &rules())),
        vec![(false, "sold_out")]
    );
    assert!(alerts.current().is_empty());
}

#[test]
fn faults_sensors_door_and_config_each_say_what_to_do() {
    let mut alerts = Alerts::default();
    let mut f = facts(at(10, 0));
    f.columns[0].status = ColumnStatus::Faulted(FailReason::Jammed);
    f.stuck_sensors = vec![0];
    f.door_open = true;
    f.config_refused = Some("policy.probability: must be between 0 and 1".into());
    f.restart_needed = true;
    let raised = kinds(&alerts.update(&f, &rules()));
    for kind in [
        "column_fault",
        "sensor_stuck",
        "door_open",
        "config_refused",
        "restart_needed",
    ] {
        assert!(raised.contains(&(true, kind)), "{kind}: {raised:?}");
    }
    let list = alerts.current();
    assert_eq!(list[0].severity, Severity::Critical, "the urgent first");
    let fault = list
        .iter()
        .find(|a| a.kind == "column_fault")
        .expect("fault");
    assert!(fault.text.contains("the spiral jammed"), "{}", fault.text);
    assert!(fault.action.contains("enable column 1"), "{}", fault.action);
    assert!(list.iter().all(|a| !a.action.is_empty()));
    // All resolved: all cleared.
    let cleared = kinds(&alerts.update(&facts(at(10, 1)), &rules()));
    assert_eq!(cleared.len(), 5);
    assert!(cleared.iter().all(|(raised, _)| !raised));
}

#[test]
fn no_sale_counts_only_during_opening_hours() {
    let mut alerts = Alerts::default();
    let mut f = facts(at(14, 0));
    f.last_sale = at(11, 30);
    assert!(
        alerts.update(&f, &rules()).is_empty(),
        "two and a half hours"
    );
    f.now = at(14, 30);
    assert_eq!(
        kinds(&alerts.update(&f, &rules())),
        vec![(true, "no_sales")]
    );
    // Closed at night: no alert however long.
    f.now = at(21, 0);
    assert_eq!(
        kinds(&alerts.update(&f, &rules())),
        vec![(false, "no_sales")]
    );
    // A sale clears it.
    f.now = at(15, 0);
    f.last_sale = at(14, 55);
    assert!(alerts.update(&f, &rules()).is_empty());
    let off = AlertRules {
        no_sale_hours: 0,
        ..rules()
    };
    f.last_sale = at(0, 0);
    assert!(alerts.update(&f, &off).is_empty(), "0 switches it off");
}

#[test]
fn surprise_spend_near_its_budget() {
    let mut alerts = Alerts::default();
    let mut f = facts(at(10, 0));
    f.spend = Cents::new(79);
    assert!(alerts.update(&f, &rules()).is_empty());
    f.spend = Cents::new(80);
    assert_eq!(kinds(&alerts.update(&f, &rules())), vec![(true, "budget")]);
    assert!(alerts.current()[0]
        .text
        .contains("€0.80 (80% of its budget of €1.00)"));
    f.surprises_on = false;
    assert_eq!(kinds(&alerts.update(&f, &rules())), vec![(false, "budget")]);
}
