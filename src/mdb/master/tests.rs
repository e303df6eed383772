//! The master and the three drivers against the simulated peripherals, word by word on a
//! virtual clock: bring-up, coins, bills, a card sale, faults.

use std::time::Duration;

use super::*;
use crate::mdb::sim::{SimBus, SimChanger, SimDevice, SimValidator};
use crate::money::Cents;

/// The master and the bus on one virtual clock: every answer comes 1 ms after the words that
/// asked for it.
struct Rig {
    master: Master,
    bus: SimBus,
    now: Timestamp,
    events: Vec<MdbEvent>,
    /// Every word on the line: (from the master, word).
    line: Vec<(bool, Word)>,
}

impl Rig {
    fn new(bus: SimBus) -> Rig {
        let master = Master::new(
            bus.changer.as_ref().map(|_| Coins::new()),
            bus.validator.as_ref().map(|_| Bills::new()),
            bus.card
                .as_ref()
                .map(|_| Reader::new(Cents::new(50), Cents::new(500))),
        );
        Rig {
            master,
            bus,
            now: Timestamp::ZERO,
            events: Vec::new(),
            line: Vec::new(),
        }
    }

    /// Run the bus for `ms` of virtual time.
    fn run(&mut self, ms: u64) {
        let end = self.now + Duration::from_millis(ms);
        while self.master.deadline() <= end {
            self.now = self.now.max(self.master.deadline());
            let tick = self.master.on_time(self.now);
            self.handle(tick);
        }
        self.now = end;
    }

    fn handle(&mut self, tick: Tick) {
        self.events.extend(tick.events);
        let mut send = tick.send;
        while !send.is_empty() {
            self.line.extend(send.iter().map(|w| (true, *w)));
            let reply = self.bus.receive(&send);
            send.clear();
            if reply.is_empty() {
                return;
            }
            self.now = self.now + Duration::from_millis(1);
            for w in reply {
                self.line.push((false, w));
                let t = self.master.on_word(w, self.now);
                self.events.extend(t.events);
                send.extend(t.send);
            }
        }
    }

    fn take(&mut self) -> Vec<MdbEvent> {
        std::mem::take(&mut self.events)
    }

    /// Run until `pred` holds for an event, at most `ms`.
    fn until(&mut self, ms: u64, pred: impl Fn(&MdbEvent) -> bool) -> Vec<MdbEvent> {
        let mut seen = Vec::new();
        for _ in 0..ms / 5 {
            self.run(5);
            let got = self.take();
            let done = got.iter().any(&pred);
            seen.extend(got);
            if done {
                return seen;
            }
        }
        panic!("not seen within {ms} ms: {seen:?}");
    }
}

fn ready_rig() -> Rig {
    let mut rig = Rig::new(SimBus::full());
    rig.run(1_000);
    let events = rig.take();
    for ready in [
        MdbEvent::Coins(CoinEvent::Ready),
        MdbEvent::Bills(BillEvent::Ready),
        MdbEvent::Reader(ReaderEvent::Ready),
    ] {
        assert!(events.contains(&ready), "{ready:?} in {events:?}");
    }
    rig
}

#[test]
fn every_device_is_brought_up_over_the_wire() {
    let rig = ready_rig();
    // The first words on the line: RESET to the changer (08h, marked), its checksum, the
    // changer's ACK (marked); then RESET to the validator (30h).
    let first: Vec<(bool, u8, bool)> = rig
        .line
        .iter()
        .take(5)
        .map(|(m, w)| (*m, w.byte, w.mode))
        .collect();
    assert_eq!(
        first,
        vec![
            (true, 0x08, true),
            (true, 0x08, false),
            (false, 0x00, true),
            (true, 0x30, true),
            (true, 0x30, false),
        ]
    );
    // Every data answer from a peripheral was acknowledged by the master.
    for (i, (from_master, w)) in rig.line.iter().enumerate() {
        if !from_master && w.mode && i > 0 && !rig.line[i - 1].0 {
            let next = rig.line.get(i + 1).map(|(m, w)| (*m, w.byte, w.mode));
            assert_eq!(next, Some((true, 0x00, false)), "ACK after word {i}");
        }
    }
}

#[test]
fn an_idle_bus_is_polled_each_cycle_and_no_faster() {
    let mut rig = ready_rig();
    let before = rig.line.iter().filter(|(m, w)| *m && w.mode).count();
    rig.run(1_000);
    let commands = rig.line.iter().filter(|(m, w)| *m && w.mode).count() - before;
    // Three devices, one exchange each per cycle of about 25 ms plus the exchanges' own time.
    assert!((90..=120).contains(&commands), "{commands} commands in 1 s");
}

#[test]
fn coins_go_in_and_change_comes_out_counted() {
    let mut rig = ready_rig();
    let changer = rig.bus.changer.as_mut().expect("changer");
    assert!(changer.insert(SimChanger::kind_of(100).expect("1 euro")));
    let e = rig.until(200, |e| {
        matches!(e, MdbEvent::Coins(CoinEvent::CoinIn { .. }))
    });
    assert!(e.contains(&MdbEvent::Coins(CoinEvent::CoinIn {
        value: Cents::new(100),
        to_tube: false
    })));
    let before = rig.bus.changer.as_ref().expect("changer").tube_value();
    rig.master
        .coins()
        .expect("coins")
        .pay(Cents::new(35))
        .expect("pay");
    let e = rig.until(500, |e| {
        matches!(e, MdbEvent::Coins(CoinEvent::Paid { .. }))
    });
    assert!(e.contains(&MdbEvent::Coins(CoinEvent::Paid {
        paid: Cents::new(35),
        owed: Cents::ZERO
    })));
    let after = rig.bus.changer.as_ref().expect("changer").tube_value();
    assert_eq!(before - after, 35);
}

#[test]
fn change_the_tubes_cannot_make_is_owed_not_forgotten() {
    let mut rig = ready_rig();
    if let Some(c) = rig.bus.changer.as_mut() {
        c.tubes = [0; 16];
        c.tubes[2] = 1; // one 0.20
    }
    // The driver's view of the tubes is refreshed by the next coin.
    rig.master
        .coins()
        .expect("coins")
        .pay(Cents::new(50))
        .expect("pay");
    let e = rig.until(500, |e| {
        matches!(e, MdbEvent::Coins(CoinEvent::Paid { .. }))
    });
    assert!(e.contains(&MdbEvent::Coins(CoinEvent::Paid {
        paid: Cents::new(20),
        owed: Cents::new(30)
    })));
}

/// A bill of `cents` fed in and reported in escrow, then stacked (`keep`) or handed back; the
/// event that settled it.
fn feed_and_decide(rig: &mut Rig, cents: u64, keep: bool) -> Vec<MdbEvent> {
    let kind = SimValidator::kind_of(cents).expect("a bill the validator takes");
    assert!(rig.bus.validator.as_mut().expect("bills").insert(kind));
    let e = rig.until(200, |e| {
        matches!(e, MdbEvent::Bills(BillEvent::Escrowed { .. }))
    });
    assert!(e.contains(&MdbEvent::Bills(BillEvent::Escrowed {
        value: Cents::new(cents)
    })));
    let now = rig.now;
    let bills = rig.master.bills().expect("bills");
    if keep {
        bills.stack(now).expect("stack");
    } else {
        bills.give_back(now).expect("give back");
    }
    rig.until(200, |e| {
        matches!(
            e,
            MdbEvent::Bills(BillEvent::Stacked { .. } | BillEvent::Returned { .. })
        )
    })
}

#[test]
fn a_bill_waits_in_escrow_until_told_and_is_stacked_or_handed_back() {
    let mut rig = ready_rig();
    let e = feed_and_decide(&mut rig, 1000, true);
    assert!(e.contains(&MdbEvent::Bills(BillEvent::Stacked {
        value: Cents::new(1000)
    })));
    assert_eq!(
        rig.bus.validator.as_ref().expect("bills").stacked_value,
        1000
    );

    let e = feed_and_decide(&mut rig, 1000, false);
    assert!(e.contains(&MdbEvent::Bills(BillEvent::Returned {
        value: Cents::new(1000)
    })));
    assert_eq!(
        rig.bus.validator.as_ref().expect("bills").returned_value,
        1000
    );
}

#[test]
fn a_bill_whose_fate_is_never_told_is_settled_unsure_after_the_limit() {
    let mut rig = ready_rig();
    rig.bus.validator.as_mut().expect("bills").mute_escrow = true;
    assert!(rig.bus.validator.as_mut().expect("bills").insert(0));
    rig.until(200, |e| {
        matches!(e, MdbEvent::Bills(BillEvent::Escrowed { .. }))
    });
    let now = rig.now;
    rig.master
        .bills()
        .expect("bills")
        .stack(now)
        .expect("stack");
    let e = rig.until(31_000, |e| {
        matches!(e, MdbEvent::Bills(BillEvent::Unsure { .. }))
    });
    assert!(e.contains(&MdbEvent::Bills(BillEvent::Unsure {
        value: Cents::new(500)
    })));
}

#[test]
fn a_card_sale_is_charged_once_the_item_dropped_and_a_failed_one_never() {
    let mut rig = ready_rig();
    assert!(rig.bus.card.as_mut().expect("card").tap(1000));
    let e = rig.until(200, |e| {
        matches!(e, MdbEvent::Reader(ReaderEvent::SessionBegun { .. }))
    });
    assert!(e.contains(&MdbEvent::Reader(ReaderEvent::SessionBegun {
        funds: Some(Cents::new(1000))
    })));
    rig.master
        .reader()
        .expect("reader")
        .vend(Cents::new(150), 1)
        .expect("vend");
    let e = rig.until(200, |e| {
        matches!(e, MdbEvent::Reader(ReaderEvent::Approved { .. }))
    });
    assert!(e.contains(&MdbEvent::Reader(ReaderEvent::Approved {
        amount: Cents::new(150)
    })));
    assert!(rig.bus.card.as_ref().expect("card").charged.is_empty());
    rig.master
        .reader()
        .expect("reader")
        .vend_done(true)
        .expect("done");
    rig.until(200, |e| {
        matches!(e, MdbEvent::Reader(ReaderEvent::SessionEnded))
    });
    assert_eq!(rig.bus.card.as_ref().expect("card").charged, vec![150]);

    // The second card's item does not drop: VEND FAILURE, the hold released.
    assert!(rig.bus.card.as_mut().expect("card").tap(1000));
    rig.until(200, |e| {
        matches!(e, MdbEvent::Reader(ReaderEvent::SessionBegun { .. }))
    });
    rig.master
        .reader()
        .expect("reader")
        .vend(Cents::new(150), 2)
        .expect("vend");
    rig.until(200, |e| {
        matches!(e, MdbEvent::Reader(ReaderEvent::Approved { .. }))
    });
    rig.master
        .reader()
        .expect("reader")
        .vend_done(false)
        .expect("done");
    rig.until(200, |e| {
        matches!(e, MdbEvent::Reader(ReaderEvent::SessionEnded))
    });
    let card = rig.bus.card.as_ref().expect("card");
    assert_eq!(card.charged, vec![150]);
    assert_eq!(card.refunded, vec![150]);
}

#[test]
fn a_denied_card_dispenses_nothing() {
    let mut rig = ready_rig();
    let card = rig.bus.card.as_mut().expect("card");
    card.deny_next = true;
    assert!(card.tap(1000));
    rig.until(200, |e| {
        matches!(e, MdbEvent::Reader(ReaderEvent::SessionBegun { .. }))
    });
    rig.master
        .reader()
        .expect("reader")
        .vend(Cents::new(150), 1)
        .expect("vend");
    let e = rig.until(200, |e| matches!(e, MdbEvent::Reader(ReaderEvent::Denied)));
    assert!(!e
        .iter()
        .any(|e| matches!(e, MdbEvent::Reader(ReaderEvent::Approved { .. }))));
}

#[test]
fn a_device_unplugged_is_lost_brought_back_when_plugged_in_and_the_others_go_on() {
    let mut rig = ready_rig();
    rig.bus.changer.as_mut().expect("changer").plug(false);
    let e = rig.until(3_000, |e| {
        matches!(e, MdbEvent::Coins(CoinEvent::Lost { .. }))
    });
    assert!(!e
        .iter()
        .any(|e| matches!(e, MdbEvent::Bills(BillEvent::Lost { .. }))));
    // The validator still takes bills meanwhile.
    assert!(rig.bus.validator.as_mut().expect("bills").insert(0));
    rig.until(500, |e| {
        matches!(e, MdbEvent::Bills(BillEvent::Escrowed { .. }))
    });
    rig.bus.changer.as_mut().expect("changer").plug(true);
    rig.until(3_000, |e| *e == MdbEvent::Coins(CoinEvent::Ready));
}

#[test]
fn noise_on_the_line_is_asked_for_again_and_loses_nothing() {
    let mut rig = ready_rig();
    rig.bus.garble = 3;
    assert!(rig
        .bus
        .changer
        .as_mut()
        .expect("changer")
        .insert(SimChanger::kind_of(200).expect("2 euro")));
    let e = rig.until(500, |e| {
        matches!(e, MdbEvent::Coins(CoinEvent::CoinIn { .. }))
    });
    let coins = e
        .iter()
        .filter(|e| matches!(e, MdbEvent::Coins(CoinEvent::CoinIn { .. })))
        .count();
    assert_eq!(coins, 1, "{e:?}");
    assert!(
        rig.line
            .iter()
            .any(|(m, w)| *m && !w.mode && w.byte == 0xAA),
        "a RET was sent"
    );
}

#[test]
fn a_master_with_no_devices_waits_quietly() {
    let mut m = Master::new(None, None, None);
    assert!(m.is_empty());
    let t = m.on_time(Timestamp::ZERO);
    assert!(t.send.is_empty());
    assert_eq!(m.deadline(), Timestamp::ZERO + DEFAULT_GAP);
    assert_eq!(m.on_word(Word::data(0), Timestamp::ZERO), Tick::default());
}

/// What a customer or the world does between two stretches of bus time.
#[derive(Debug, Clone)]
enum Act {
    Coin(u8),
    Bill {
        kind: u8,
        keep: bool,
    },
    Card {
        funds: u64,
        price: u64,
        dropped: bool,
    },
    Unplug(u8),
    Plug(u8),
    Reset(u8),
    Noise(u32),
    Nak(u32),
    Late(u32),
    Short(u8),
}

fn act() -> impl proptest::strategy::Strategy<Value = Act> {
    use proptest::prelude::*;
    prop_oneof![
        4 => (0u8..7).prop_map(Act::Coin),
        3 => (0u8..5, any::<bool>()).prop_map(|(kind, keep)| Act::Bill { kind, keep }),
        3 => (0u64..2_000, 1u64..100, any::<bool>())
            .prop_map(|(f, p, dropped)| Act::Card { funds: f * 5, price: p * 5, dropped }),
        1 => (0u8..3).prop_map(Act::Unplug),
        2 => (0u8..3).prop_map(Act::Plug),
        1 => (0u32..4).prop_map(Act::Noise),
        1 => (0u8..3).prop_map(Act::Reset),
        1 => (0u32..3).prop_map(Act::Nak),
        1 => (0u32..3).prop_map(Act::Late),
        1 => (0u8..4).prop_map(Act::Short),
    ]
}

fn plug(bus: &mut SimBus, which: u8, unplugged: bool) {
    match which {
        0 => bus.changer.as_mut().map(|d| d.plug(!unplugged)),
        1 => bus.validator.as_mut().map(|d| d.plug(!unplugged)),
        _ => bus.card.as_mut().map(|d| d.plug(!unplugged)),
    };
}

/// 24 cases by default; `HAPPINESS_PROPTEST_CASES` for a long run.
fn cases() -> u32 {
    std::env::var("HAPPINESS_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

fn value_of(events: &[MdbEvent], pick: impl Fn(&MdbEvent) -> Option<Cents>) -> u64 {
    events.iter().filter_map(pick).map(Cents::get).sum()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(cases()))]
    /// Whatever customers and faults do, over the real words: every coin the changer took is
    /// reported once, every bill in the stacker was reported stacked or unsure (and none
    /// reported stacked that is not there), and a card is charged only for vends the
    /// controller said dropped.
    #[test]
    fn the_money_on_the_bus_is_the_money_reported(acts in proptest::collection::vec(act(), 1..40)) {
        let mut rig = ready_rig();
        let mut dropped_vends = 0u64;
        let mut change_asked = 0u64;
        for a in acts {
            match a {
                Act::Coin(kind) => {
                    rig.bus.changer.as_mut().map(|c| c.insert(kind));
                }
                Act::Bill { kind, keep } => {
                    rig.bus.validator.as_mut().map(|v| v.insert(kind));
                    rig.run(200);
                    let now = rig.now;
                    if let Some(b) = rig.master.bills() {
                        if b.waiting().is_some() {
                            let _ = if keep { b.stack(now) } else { b.give_back(now) };
                        }
                    }
                }
                Act::Card { funds, price, dropped } => {
                    rig.bus.card.as_mut().map(|c| c.tap(funds));
                    rig.run(200);
                    let mark = rig.events.len();
                    let asked = rig.master.reader().is_some_and(|r| r.vend(Cents::new(price), 1).is_ok());
                    rig.run(200);
                    let approved = rig.events[mark..]
                        .iter()
                        .any(|e| matches!(e, MdbEvent::Reader(ReaderEvent::Approved { .. })));
                    if let Some(r) = rig.master.reader() {
                        if asked && approved && r.vend_done(dropped).is_ok() && dropped {
                            dropped_vends += price;
                        }
                        r.end_session();
                    }
                }
                Act::Unplug(which) => plug(&mut rig.bus, which, true),
                Act::Plug(which) => plug(&mut rig.bus, which, false),
                Act::Noise(n) => rig.bus.garble = n,
                Act::Nak(n) => rig.bus.nak = n,
                Act::Late(n) => rig.bus.late = n,
                Act::Reset(which) => {
                    let device: Option<&mut dyn SimDevice> = match which {
                        0 => rig.bus.changer.as_mut().map(|d| d as &mut dyn SimDevice),
                        1 => rig.bus.validator.as_mut().map(|d| d as &mut dyn SimDevice),
                        _ => rig.bus.card.as_mut().map(|d| d as &mut dyn SimDevice),
                    };
                    if let Some(d) = device {
                        d.reset_now();
                    }
                }
                Act::Short(units) => {
                    if let Some(c) = rig.bus.changer.as_mut() {
                        c.short_by = units;
                    }
                    if rig.master.coins().is_some_and(|c| c.pay(Cents::new(35)).is_ok()) {
                        change_asked += 35;
                    }
                }
            }
            rig.run(300);
        }
        for which in 0..3 {
            plug(&mut rig.bus, which, false);
        }
        rig.bus.garble = 0;
        rig.bus.nak = 0;
        rig.bus.late = 0;
        // Long enough for every device to come back and a payout to be settled.
        rig.run(35_000);
        let now = rig.now;
        if let Some(b) = rig.master.bills() {
            if b.waiting().is_some() {
                let _ = b.give_back(now);
            }
        }
        // Long enough for a bill told where to go to be settled.
        rig.run(35_000);
        let events = rig.take();

        let coins_in = value_of(&events, |e| match e {
            MdbEvent::Coins(CoinEvent::CoinIn { value, .. }) => Some(*value),
            _ => None,
        });
        let changer = rig.bus.changer.as_ref().expect("changer");
        proptest::prop_assert_eq!(coins_in, changer.taken);
        // Every cent of change asked for is reported paid or owed, and no more went out than
        // was asked; what is reported paid did go out.
        let paid = value_of(&events, |e| match e {
            MdbEvent::Coins(CoinEvent::Paid { paid, .. }) => Some(*paid),
            _ => None,
        });
        let owed = value_of(&events, |e| match e {
            MdbEvent::Coins(CoinEvent::Paid { owed, .. }) => Some(*owed),
            _ => None,
        });
        proptest::prop_assert_eq!(paid + owed, change_asked);
        proptest::prop_assert!(paid <= changer.paid_out && changer.paid_out <= change_asked,
            "reported paid {}, paid out {}, asked {}", paid, changer.paid_out, change_asked);

        let stacked = value_of(&events, |e| match e {
            MdbEvent::Bills(BillEvent::Stacked { value }) => Some(*value),
            _ => None,
        });
        let unsure = value_of(&events, |e| match e {
            MdbEvent::Bills(BillEvent::Unsure { value }) => Some(*value),
            _ => None,
        });
        let validator = rig.bus.validator.as_ref().expect("validator");
        proptest::prop_assert!(stacked <= validator.stacked_value, "{} reported stacked, {} in the stacker", stacked, validator.stacked_value);
        proptest::prop_assert!(validator.stacked_value <= stacked + unsure, "{} in the stacker, {} stacked and {} unsure reported", validator.stacked_value, stacked, unsure);
        proptest::prop_assert!(!rig.master.bills().is_some_and(|b| b.is_holding()));

        let card = rig.bus.card.as_ref().expect("card");
        let charged: u64 = card.charged.iter().sum();
        proptest::prop_assert!(charged <= dropped_vends, "charged {} for {} dropped", charged, dropped_vends);
        proptest::prop_assert!(!card.is_holding());
    }
}

#[test]
fn an_absent_device_is_tried_once_a_second_and_the_others_go_on_every_cycle() {
    let mut bus = SimBus::full();
    bus.validator = None;
    let mut rig = Rig::new(bus);
    // Its driver is there (the machine is configured with a validator), the device is not.
    rig.master.bills = Some(Bills::new());
    rig.run(3_000);
    let to = |lo: u8| {
        rig.line
            .iter()
            .filter(|(m, w)| *m && w.mode && (lo..lo + 8).contains(&w.byte))
            .count()
    };
    // Three attempts an exchange, one exchange a second.
    assert!(
        (6..=12).contains(&to(0x30)),
        "{} to the validator",
        to(0x30)
    );
    assert!(to(0x08) > 60, "{} to the changer", to(0x08));
    assert!(rig.take().contains(&MdbEvent::Coins(CoinEvent::Ready)));
}

#[test]
fn a_payout_whose_ack_is_lost_is_not_sent_again_so_change_is_never_paid_twice() {
    let mut rig = ready_rig();
    let before = rig.bus.changer.as_ref().expect("changer").paid_out;
    // The changer carries out PAYOUT, but its ACK comes too late for the master.
    rig.master
        .coins()
        .expect("coins")
        .pay(Cents::new(50))
        .expect("pay");
    rig.bus.late = 1;
    rig.bus.late_from = Some(0x08);
    let e = rig.until(35_000, |e| {
        matches!(e, MdbEvent::Coins(CoinEvent::Paid { .. }))
    });
    let paid_out = rig.bus.changer.as_ref().expect("changer").paid_out - before;
    assert!(paid_out <= 50, "{paid_out} paid for 50 asked");
    let reported: Vec<&MdbEvent> = e
        .iter()
        .filter(|e| matches!(e, MdbEvent::Coins(CoinEvent::Paid { .. })))
        .collect();
    assert_eq!(reported.len(), 1, "{e:?}");
}
