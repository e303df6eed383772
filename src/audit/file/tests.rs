use std::collections::BTreeMap;

use super::*;
use crate::config::IsoCurrency;

fn identity() -> AuditIdentity {
    AuditIdentity {
        manufacturer: "HMK".into(),
        serial: "HM-0000042".into(),
        model: "HAPPINESS-1".into(),
        location: "Station hall".into(),
        asset: "A-17".into(),
        currency: IsoCurrency::from_code("EUR"),
    }
}

fn counters(scale: u64) -> Counters {
    let t = |count: u64, value: u64| Tally {
        count: count * scale,
        value: value * scale,
    };
    let mut columns = BTreeMap::new();
    columns.insert(
        1,
        ColumnCounters {
            paid: t(2, 300),
            test: t(1, 150),
            free: t(1, 150),
        },
    );
    let mut events = BTreeMap::new();
    events.insert("EGS".to_string(), 2 * scale);
    Counters {
        paid: t(2, 300),
        test: t(1, 150),
        free: t(1, 150),
        cash_in: 500 * scale,
        cash_out: 50 * scale,
        columns,
        events,
    }
}

fn at(h: u32, m: u32) -> LocalTime {
    LocalTime::from_ymd_hm(2026, 11, 28, h, m).expect("a time")
}

fn sample(lifetime: &Counters, interim: &Counters, product: &str) -> String {
    let columns = [
        AuditColumn {
            number: 1,
            price: 150,
            product: product.into(),
            capacity: 10,
            status: SelectionStatus::Selling,
            stock: 6,
            low_stock: 2,
        },
        AuditColumn {
            number: 2,
            price: 120,
            product: "Chocolate bar".into(),
            capacity: 12,
            status: SelectionStatus::SoldOut,
            stock: 0,
            low_stock: 3,
        },
    ];
    let events = [AuditEvent {
        id: "EGS".into(),
        at: at(9, 5),
        minutes: Some(3),
    }];
    let reads = AuditReads {
        reads: 3,
        resets: 1,
        at: at(10, 30),
        reader: "operator".into(),
        previous: Some((at(8, 0), "cli".into())),
    };
    write_file(&AuditFile {
        identity: &identity(),
        version: "0.1.0",
        lifetime,
        interim,
        columns: &columns,
        events: &events,
        reads: &reads,
    })
}

/// CRC-16/ARC again, from the other end: the unreflected polynomial 0x8005 over bit-reversed
/// input bytes, its result bit-reversed (the reflected form the writer uses must agree).
fn crc_by_the_book(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in bytes {
        crc ^= u16::from(b.reverse_bits()) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x8005
            } else {
                crc << 1
            };
        }
    }
    crc.reverse_bits()
}

#[test]
fn the_independent_crc_agrees_on_the_check_value() {
    assert_eq!(crc_by_the_book(b"123456789"), 0xBB3D);
}

#[test]
fn every_segment_is_one_crlf_line_of_star_separated_fields() {
    let file = sample(&counters(1), &counters(1), "Cola");
    assert!(file.ends_with("\r\n"));
    for line in file.split_terminator("\r\n") {
        assert!(!line.contains('\n') && !line.contains('\r'), "{line:?}");
        assert!(!line.ends_with('*'), "trailing separator: {line}");
        let id = line.split('*').next().expect("an id");
        assert!(
            id.len() >= 2
                && id
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
            "{line}"
        );
        assert!(line.is_ascii(), "{line}");
    }
    let ids: Vec<&str> = file
        .split_terminator("\r\n")
        .map(|l| l.split('*').next().unwrap_or(""))
        .collect();
    assert_eq!(ids.first(), Some(&"DXS"));
    assert_eq!(ids[1], "ST");
    assert_eq!(&ids[ids.len() - 3..], ["G85", "SE", "DXE"]);
}

#[test]
fn se_counts_the_segments_from_st_to_se_and_g85_checks_what_comes_before_it() {
    let file = sample(&counters(1), &counters(1), "Cola");
    let lines: Vec<&str> = file.split_terminator("\r\n").collect();
    let st = lines.iter().position(|l| l.starts_with("ST*")).expect("ST");
    let se = lines.iter().position(|l| l.starts_with("SE*")).expect("SE");
    assert_eq!(lines[se], format!("SE*{}*0001", se - st + 1));
    let g85_at = file.find("G85*").expect("G85");
    let from = file.find("ST*").expect("ST");
    let expected = crc_by_the_book(&file.as_bytes()[from..g85_at]);
    assert_eq!(lines[se - 1], format!("G85*{expected:04X}"));
}

#[test]
fn the_segments_carry_the_counters_lifetime_first_then_interim() {
    let file = sample(&counters(3), &counters(1), "Cola");
    let has = |seg: &str| {
        assert!(
            file.split_terminator("\r\n").any(|l| l == seg),
            "{seg} not in\n{file}"
        )
    };
    has("DXS*HMK0000042*VA*V1/1*1");
    has("ST*001*0001");
    has("ID1*HM-0000042*HAPPINESS-1*0*Station hall**A-17");
    has("ID4*2*978*EUR");
    has("CB1*HM-0000042*HAPPINESS*0.1.0");
    has("VA1*900*6*300*2");
    has("VA2*450*3*150*1");
    has("VA3*450*3*150*1");
    has("CA2*900*6*300*2");
    has("CA3*500*500*0*0*1500*1500*0*0");
    has("CA4*50*0*150*0");
    has("PA1*1*150*Cola*10***0*6*2");
    has("PA2*6*900*2*300");
    has("PA3*3*450*1*150");
    has("PA4*3*450*1*150");
    has("PA1*2*120*Chocolate bar*12***1*0*3");
    has("PA2*0*0*0*0");
    has("EA1*EGS*261128*0905*3");
    has("EA2*EGS*2*6");
    has("EA3*1*261128*1030*operator*261128*0800*cli**3*1");
    has("DXE*1*1");
}

#[test]
fn counters_wrap_at_eight_digits() {
    let big = Counters {
        paid: Tally {
            count: 100_000_003,
            value: 123_456_789_012,
        },
        ..Counters::default()
    };
    let file = sample(&big, &Counters::default(), "Cola");
    assert!(file.contains("\r\nVA1*56789012*3*0*0\r\n"), "{file}");
}

#[test]
fn text_that_would_break_a_segment_is_made_harmless() {
    let file = sample(
        &counters(1),
        &counters(1),
        "Cola*Zero\r\nSE*1*0001 – a very long product name",
    );
    let pa1 = file
        .split_terminator("\r\n")
        .find(|l| l.starts_with("PA1*1*"))
        .expect("PA1");
    assert_eq!(pa1, "PA1*1*150*Cola?Zero??SE?1?0001*10***0*6*2");
}

#[test]
fn interim_counters_are_now_minus_the_last_reset() {
    let now = counters(3);
    let at_reset = counters(1);
    let interim = now.since(&at_reset);
    assert_eq!(interim, counters(2));
    assert_eq!(now.since(&now), counters(0));
    // A reset stored before a column or an event existed counts it whole.
    assert_eq!(now.since(&Counters::default()), now);
    // Never below zero, whatever the earlier read says.
    assert_eq!(Counters::default().since(&now).paid, Tally::default());
}
