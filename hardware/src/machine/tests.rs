use super::*;
use crate::pins::{Polarity, Pull};
use embedded_hal_mock::eh1::digital::{Mock, State, Transaction};

fn gpio(n: u8) -> Gpio {
    Gpio::new(n).expect("valid pin")
}

fn out(n: u8) -> OutputSpec {
    OutputSpec {
        pin: gpio(n),
        polarity: Polarity::ActiveHigh,
    }
}

fn inp(n: u8) -> InputSpec {
    InputSpec {
        pin: gpio(n),
        polarity: Polarity::ActiveLow,
        pull: Pull::Up,
    }
}

#[test]
fn machine_over_mock_pins_keeps_one_motor_on_and_reads_start_levels() {
    let wiring = Wiring {
        motors: vec![out(20), out(21)],
        home_switches: vec![Some(inp(5)), None],
        lamps: vec![out(12)],
        buttons: vec![inp(17)],
        coin_return: None,
        coin: None,
        drop_sensors: vec![inp(6)],
        door: Some(inp(13)),
        coin_inhibit: None,
        payout: None,
    };
    let motor_a = Mock::new(&[
        Transaction::set(State::Low),
        Transaction::set(State::High),
        Transaction::set(State::Low),
        Transaction::set(State::Low),
    ]);
    let motor_b = Mock::new(&[
        Transaction::set(State::Low),
        Transaction::set(State::High),
        Transaction::set(State::Low),
    ]);
    let lamp = Mock::new(&[
        Transaction::set(State::Low),
        Transaction::set(State::High),
        Transaction::set(State::Low),
    ]);
    let button = Mock::new(&[Transaction::get(State::High)]);
    let beam = Mock::new(&[Transaction::get(State::High)]);
    let home = Mock::new(&[Transaction::get(State::Low)]);
    let door = Mock::new(&[Transaction::get(State::Low)]);
    let mut checks = vec![
        motor_a.clone(),
        motor_b.clone(),
        lamp.clone(),
        button.clone(),
        beam.clone(),
        home.clone(),
        door.clone(),
    ];
    let mut outputs = vec![motor_a, motor_b, lamp].into_iter();
    let mut inputs = vec![button, beam, home, door].into_iter();
    let mut machine = Machine::build(
        &wiring,
        |_, _| outputs.next().ok_or(HwError::Gpio("out of mocks".into())),
        |_, _, _| inputs.next().ok_or(HwError::Gpio("out of mocks".into())),
    )
    .expect("build");

    machine.set_motor(0, true).expect("motor a");
    machine.set_motor(1, true).expect("motor b");
    assert_eq!(machine.running_motors(), vec![1]);
    assert!(matches!(
        machine.set_motor(5, true),
        Err(HwError::NoSuch("motor", 5))
    ));
    machine.set_lamp(0, true).expect("lamp");
    let snapshot = machine.read_inputs().expect("inputs");
    assert_eq!(
        snapshot,
        InputSnapshot {
            door_open: Some(true),
            drop_blocked: vec![false],
            home: vec![Some(true), None],
            buttons_held: vec![false],
        }
    );
    machine.safe_off().expect("safe off");
    assert!(machine.running_motors().is_empty());
    for check in &mut checks {
        check.done();
    }
}

#[test]
fn the_coin_acceptor_starts_inhibited_and_the_safe_state_inhibits_it_again() {
    let wiring = Wiring {
        motors: vec![out(20)],
        home_switches: vec![None],
        coin_inhibit: Some(out(7)),
        payout: Some(out(8)),
        ..Wiring::default()
    };
    let motor = Mock::new(&[
        Transaction::set(State::Low),
        Transaction::set(State::High),
        Transaction::set(State::Low),
    ]);
    // Active at once when claimed, released by the controller, active again when it stops.
    let inhibit = Mock::new(&[
        Transaction::set(State::High),
        Transaction::set(State::Low),
        Transaction::set(State::High),
    ]);
    let payout = Mock::new(&[
        Transaction::set(State::Low),
        Transaction::set(State::High),
        Transaction::set(State::Low),
    ]);
    let mut checks = vec![motor.clone(), inhibit.clone(), payout.clone()];
    let mut outputs = vec![motor, inhibit, payout].into_iter();
    let mut machine = Machine::<Mock, Mock>::build(
        &wiring,
        |_, _| outputs.next().ok_or(HwError::Gpio("out of mocks".into())),
        |_, _, _| Err(HwError::Gpio("no inputs here".into())),
    )
    .expect("build");
    machine
        .set_aux(AuxOutput::CoinInhibit, false)
        .expect("accept coins");
    machine.set_motor(0, true).expect("motor");
    machine.set_aux(AuxOutput::Payout, true).expect("payout");
    machine.safe_off().expect("safe state");
    assert!(machine.running_motors().is_empty());
    for check in &mut checks {
        check.done();
    }
}
