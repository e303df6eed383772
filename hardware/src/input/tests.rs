use super::*;

fn ms(n: u64) -> Timestamp {
    Timestamp::from_millis(n)
}

fn us(n: u64) -> Timestamp {
    Timestamp::from_micros(n)
}

fn layout() -> InputLayout {
    InputLayout {
        buttons: 2,
        coin_return: true,
        drop_blocked_at_start: vec![false],
        home_at_start: vec![Some(true), None],
        door_open_at_start: Some(false),
    }
}

/// Feeds edges and polls at every deadline up to `until`, like a runtime would.
fn run(cond: &mut InputConditioner, edges: &[RawEdge], until: Timestamp) -> Vec<InputEvent> {
    let mut out = Vec::new();
    let mut edges = edges.to_vec();
    edges.sort_by_key(|e| e.at);
    let mut pending = edges.into_iter().peekable();
    loop {
        let next_edge = pending.peek().map(|e| e.at);
        let deadline = cond.next_deadline();
        match (next_edge, deadline) {
            (Some(e), Some(d)) if d < e => out.extend(cond.poll(d)),
            (Some(_), _) => {
                if let Some(edge) = pending.next() {
                    out.extend(cond.on_edge(edge));
                }
            }
            (None, Some(d)) if d <= until => out.extend(cond.poll(d)),
            _ => break,
        }
    }
    out.into_iter().map(|s| s.event).collect()
}

fn edge(line: InputLine, active: bool, at: Timestamp) -> RawEdge {
    RawEdge { line, active, at }
}

#[test]
fn bouncing_button_gives_one_press() {
    let mut c = InputConditioner::new(&layout(), &InputTiming::default());
    let b = InputLine::Button(1);
    let edges = [
        edge(b, true, ms(100)),
        edge(b, false, us(100_300)),
        edge(b, true, us(100_700)),
        edge(b, false, us(101_500)),
        edge(b, true, ms(102)),
        edge(b, false, ms(180)),
        edge(b, true, us(180_400)),
        edge(b, false, ms(181)),
    ];
    assert_eq!(
        run(&mut c, &edges, ms(1000)),
        vec![InputEvent::ButtonPressed { button: 1 }]
    );
}

#[test]
fn short_tap_inside_the_lockout_does_not_swallow_the_next_press() {
    let mut c = InputConditioner::new(&layout(), &InputTiming::default());
    let b = InputLine::Button(0);
    let edges = [
        edge(b, true, ms(0)),
        edge(b, false, ms(5)),
        edge(b, true, ms(300)),
        edge(b, false, ms(400)),
    ];
    assert_eq!(
        run(&mut c, &edges, ms(1000)),
        vec![
            InputEvent::ButtonPressed { button: 0 },
            InputEvent::ButtonPressed { button: 0 }
        ]
    );
}

#[test]
fn edges_on_unknown_lines_are_ignored() {
    let mut c = InputConditioner::new(&layout(), &InputTiming::default());
    let edges = [
        edge(InputLine::Button(9), true, ms(1)),
        edge(InputLine::Drop(4), true, ms(2)),
        edge(InputLine::Home(1), true, ms(3)),
    ];
    assert!(run(&mut c, &edges, ms(5000)).is_empty());
}

#[test]
fn door_bounce_settles_on_the_final_level() {
    let mut c = InputConditioner::new(&layout(), &InputTiming::default());
    let d = InputLine::Door;
    let edges = [
        edge(d, true, ms(10)),
        edge(d, false, ms(12)),
        edge(d, true, ms(14)),
        edge(d, false, ms(16)),
    ];
    // Opened, then the lockout ends with the switch closed again.
    assert_eq!(
        run(&mut c, &edges, ms(1000)),
        vec![
            InputEvent::DoorChanged { open: true },
            InputEvent::DoorChanged { open: false }
        ]
    );
}

fn coin_pulses(start: Timestamp, n: u32, width_ms: u64, gap_ms: u64) -> Vec<RawEdge> {
    (0..u64::from(n))
        .flat_map(|i| {
            let on = start + Duration::from_millis(i * (width_ms + gap_ms));
            [
                edge(InputLine::Coin, true, on),
                edge(InputLine::Coin, false, on + Duration::from_millis(width_ms)),
            ]
        })
        .collect()
}

#[test]
fn coin_pulses_are_counted_into_one_coin() {
    let mut c = InputConditioner::new(&layout(), &InputTiming::default());
    let edges = coin_pulses(ms(0), 5, 30, 70);
    assert_eq!(
        run(&mut c, &edges, ms(5000)),
        vec![InputEvent::CoinPulses { count: 5 }]
    );
}

#[test]
fn two_coins_back_to_back_are_two_coins() {
    let mut c = InputConditioner::new(&layout(), &InputTiming::default());
    let mut edges = coin_pulses(ms(0), 3, 30, 70);
    // The second coin starts 250 ms after the first one's last pulse ended.
    edges.extend(coin_pulses(ms(230 + 250), 2, 30, 70));
    assert_eq!(
        run(&mut c, &edges, ms(5000)),
        vec![
            InputEvent::CoinPulses { count: 3 },
            InputEvent::CoinPulses { count: 2 }
        ]
    );
}

#[test]
fn second_coin_before_the_first_is_reported_still_splits_in_order() {
    // Feed the edges without polling in between, as a batch from a slow consumer would.
    let mut c = InputConditioner::new(&layout(), &InputTiming::default());
    let mut edges = coin_pulses(ms(0), 2, 30, 70);
    edges.extend(coin_pulses(ms(500), 1, 30, 70));
    let mut out = Vec::new();
    for e in edges {
        out.extend(c.on_edge(e).into_iter().map(|s| s.event));
    }
    out.extend(c.poll(ms(10_000)).into_iter().map(|s| s.event));
    assert_eq!(
        out,
        vec![
            InputEvent::CoinPulses { count: 2 },
            InputEvent::CoinPulses { count: 1 }
        ]
    );
}

#[test]
fn coin_bounce_is_bridged_and_too_short_pulses_are_rejected() {
    let mut c = InputConditioner::new(&layout(), &InputTiming::default());
    let l = InputLine::Coin;
    let edges = [
        // A real 30 ms pulse chopped by contact bounce at both ends.
        edge(l, true, ms(0)),
        edge(l, false, us(400)),
        edge(l, true, us(900)),
        edge(l, false, ms(30)),
        edge(l, true, us(30_500)),
        edge(l, false, ms(31)),
        // A 2 ms spike: noise, not a pulse.
        edge(l, true, ms(100)),
        edge(l, false, ms(102)),
        // A second real pulse.
        edge(l, true, ms(150)),
        edge(l, false, ms(180)),
    ];
    assert_eq!(
        run(&mut c, &edges, ms(5000)),
        vec![
            InputEvent::CoinPulseRejected { width_us: 2000 },
            InputEvent::CoinPulses { count: 2 }
        ]
    );
}

#[test]
fn an_overlong_coin_pulse_is_rejected() {
    let mut c = InputConditioner::new(&layout(), &InputTiming::default());
    let edges = [
        edge(InputLine::Coin, true, ms(0)),
        edge(InputLine::Coin, false, ms(400)),
    ];
    assert_eq!(
        run(&mut c, &edges, ms(5000)),
        vec![InputEvent::CoinPulseRejected { width_us: 400_000 }]
    );
}

#[test]
fn item_through_the_beam_is_one_drop_and_noise_is_not() {
    let mut c = InputConditioner::new(&layout(), &InputTiming::default());
    let l = InputLine::Drop(0);
    let edges = [
        edge(l, true, us(5_000)),
        edge(l, false, us(5_300)),
        edge(l, true, ms(1000)),
        edge(l, false, us(1_000_200)),
        edge(l, true, us(1_000_500)),
        edge(l, false, ms(1025)),
    ];
    let events = run(&mut c, &edges, ms(5000));
    assert_eq!(events, vec![InputEvent::DropDetected { sensor: 0 }]);
}

#[test]
fn stuck_beam_is_reported_once_and_not_counted_as_a_drop() {
    let mut c = InputConditioner::new(&layout(), &InputTiming::default());
    let l = InputLine::Drop(0);
    let edges = [edge(l, true, ms(10)), edge(l, false, ms(9000))];
    assert_eq!(
        run(&mut c, &edges, ms(20_000)),
        vec![
            InputEvent::DropSensorStuck { sensor: 0 },
            InputEvent::DropSensorCleared { sensor: 0 }
        ]
    );
}

#[test]
fn beam_blocked_at_start_is_reported_as_stuck() {
    let mut l = layout();
    l.drop_blocked_at_start = vec![true];
    let mut c = InputConditioner::new(&l, &InputTiming::default());
    assert_eq!(
        run(&mut c, &[], ms(5000)),
        vec![InputEvent::DropSensorStuck { sensor: 0 }]
    );
}

#[test]
fn home_switch_reports_arrival_not_departure() {
    let mut c = InputConditioner::new(&layout(), &InputTiming::default());
    let h = InputLine::Home(0);
    let edges = [edge(h, false, ms(50)), edge(h, true, ms(1500))];
    assert_eq!(
        run(&mut c, &edges, ms(5000)),
        vec![InputEvent::HomeReached { column: 0 }]
    );
}
