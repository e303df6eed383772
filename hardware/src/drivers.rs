//! Drivers for each part of the vending machine, generic over the `embedded-hal` 1.x digital traits.
//!
//! A driver owns one pin and knows its polarity, so the rest of the program speaks of "motor on"
//! and "door open", never of high and low. Drivers read and write pins; they do not debounce or
//! time anything (that is [`crate::input`]) and they know nothing of vending.

use embedded_hal::digital::{InputPin, OutputPin};

use crate::pins::Polarity;

/// An output that is either on or off, with its polarity applied.
#[derive(Debug)]
struct ActiveOutput<P> {
    pin: P,
    polarity: Polarity,
    on: bool,
}

impl<P: OutputPin> ActiveOutput<P> {
    /// Takes the pin and drives it to "off" straight away: a relay must never float on at boot.
    fn new(pin: P, polarity: Polarity) -> Result<Self, P::Error> {
        ActiveOutput::starting(pin, polarity, false)
    }

    /// Takes the pin and drives it to `on` straight away.
    fn starting(pin: P, polarity: Polarity, on: bool) -> Result<Self, P::Error> {
        let mut out = ActiveOutput {
            pin,
            polarity,
            on: !on,
        };
        out.set(on)?;
        Ok(out)
    }

    fn set(&mut self, on: bool) -> Result<(), P::Error> {
        if self.polarity.level_for(on) {
            self.pin.set_high()?;
        } else {
            self.pin.set_low()?;
        }
        self.on = on;
        Ok(())
    }
}

/// A spiral (or belt) motor switched by a relay or MOSFET.
#[derive(Debug)]
pub struct Motor<P> {
    out: ActiveOutput<P>,
}

impl<P: OutputPin> Motor<P> {
    /// A motor on `pin`, switched off immediately.
    pub fn new(pin: P, polarity: Polarity) -> Result<Self, P::Error> {
        Ok(Motor {
            out: ActiveOutput::new(pin, polarity)?,
        })
    }

    /// Switch the motor on.
    pub fn start(&mut self) -> Result<(), P::Error> {
        self.out.set(true)
    }

    /// Switch the motor off.
    pub fn stop(&mut self) -> Result<(), P::Error> {
        self.out.set(false)
    }

    /// Whether the motor was last commanded on.
    pub fn is_running(&self) -> bool {
        self.out.on
    }
}

/// All the column motors, with the rule that at most one runs at a time.
///
/// The vend core already never asks for two motors; the bank enforces it again at the last step
/// before the pins, because two spirals turning at once can double-vend and can overload a supply
/// sized for one motor.
#[derive(Debug)]
pub struct MotorBank<P> {
    motors: Vec<Motor<P>>,
}

/// A motor bank request that could not be carried out.
#[derive(Debug, PartialEq, Eq)]
pub enum MotorBankError<E> {
    /// There is no motor with that index.
    NoSuchMotor(usize),
    /// The pin refused the write.
    Pin(usize, E),
}

impl<P: OutputPin> MotorBank<P> {
    /// A bank of motors, each already off.
    pub fn new(motors: Vec<Motor<P>>) -> Self {
        MotorBank { motors }
    }

    /// Number of motors.
    pub fn len(&self) -> usize {
        self.motors.len()
    }

    /// True if the bank has no motors.
    pub fn is_empty(&self) -> bool {
        self.motors.is_empty()
    }

    /// Start motor `index`, first stopping any other motor that is running.
    pub fn start(&mut self, index: usize) -> Result<(), MotorBankError<P::Error>> {
        if index >= self.motors.len() {
            return Err(MotorBankError::NoSuchMotor(index));
        }
        for (i, motor) in self.motors.iter_mut().enumerate() {
            if i != index && motor.is_running() {
                motor.stop().map_err(|e| MotorBankError::Pin(i, e))?;
            }
        }
        self.motors[index]
            .start()
            .map_err(|e| MotorBankError::Pin(index, e))
    }

    /// Stop motor `index`.
    pub fn stop(&mut self, index: usize) -> Result<(), MotorBankError<P::Error>> {
        let motor = self
            .motors
            .get_mut(index)
            .ok_or(MotorBankError::NoSuchMotor(index))?;
        motor.stop().map_err(|e| MotorBankError::Pin(index, e))
    }

    /// Stop every motor, trying all of them even if one fails; returns the first failure.
    pub fn stop_all(&mut self) -> Result<(), MotorBankError<P::Error>> {
        let mut first_error = None;
        for (i, motor) in self.motors.iter_mut().enumerate() {
            if let Err(e) = motor.stop() {
                first_error.get_or_insert(MotorBankError::Pin(i, e));
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Indexes of the motors currently commanded on.
    pub fn running(&self) -> impl Iterator<Item = usize> + '_ {
        self.motors
            .iter()
            .enumerate()
            .filter(|(_, m)| m.is_running())
            .map(|(i, _)| i)
    }
}

/// An indicator lamp or LED strip channel.
#[derive(Debug)]
pub struct Lamp<P> {
    out: ActiveOutput<P>,
}

impl<P: OutputPin> Lamp<P> {
    /// A lamp on `pin`, switched off immediately.
    pub fn new(pin: P, polarity: Polarity) -> Result<Self, P::Error> {
        Ok(Lamp {
            out: ActiveOutput::new(pin, polarity)?,
        })
    }

    /// An output on `pin`, switched on immediately (a coin acceptor's inhibit line, which must
    /// refuse coins until the controller is ready to record them).
    pub fn new_on(pin: P, polarity: Polarity) -> Result<Self, P::Error> {
        Ok(Lamp {
            out: ActiveOutput::starting(pin, polarity, true)?,
        })
    }

    /// Switch the lamp on or off.
    pub fn set(&mut self, on: bool) -> Result<(), P::Error> {
        self.out.set(on)
    }

    /// Whether the lamp was last commanded on.
    pub fn is_lit(&self) -> bool {
        self.out.on
    }
}

/// An input whose polarity has been applied: `true` means the thing it senses is happening.
#[derive(Debug)]
struct ActiveInput<P> {
    pin: P,
    polarity: Polarity,
}

impl<P: InputPin> ActiveInput<P> {
    fn is_active(&mut self) -> Result<bool, P::Error> {
        Ok(self.polarity.is_active(self.pin.is_high()?))
    }
}

macro_rules! input_driver {
    ($(#[$doc:meta])* $name:ident, $(#[$qdoc:meta])* $query:ident) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name<P> {
            input: ActiveInput<P>,
        }

        impl<P: InputPin> $name<P> {
            /// The driver for `pin`, wired with `polarity`.
            pub fn new(pin: P, polarity: Polarity) -> Self {
                $name {
                    input: ActiveInput { pin, polarity },
                }
            }

            $(#[$qdoc])*
            pub fn $query(&mut self) -> Result<bool, P::Error> {
                self.input.is_active()
            }
        }
    };
}

input_driver!(
    /// A customer selection (or coin-return) push button. Presses arrive as debounced events from
    /// [`crate::input`]; reading the level is for start-up checks such as a button held at boot.
    Button,
    /// Whether the button is held down right now.
    is_pressed
);
input_driver!(
    /// The infrared drop beam under the spirals that proves an item fell ("sure vend").
    DropSensor,
    /// Whether something blocks the beam right now. Blocked at rest means a stuck item or a
    /// failed emitter.
    is_blocked
);
input_driver!(
    /// The cam (home) microswitch that closes once per spiral revolution.
    HomeSwitch,
    /// Whether the spiral sits at its home position.
    is_home
);
input_driver!(
    /// The pulse output of a coin acceptor (CH-926 style): N pulses per accepted coin.
    CoinInput,
    /// Whether a pulse is being output right now.
    is_pulsing
);
input_driver!(
    /// The service door switch.
    DoorSwitch,
    /// Whether the service door is open.
    is_open
);

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_hal_mock::eh1::digital::{Mock, State, Transaction};

    #[test]
    fn motor_is_driven_off_at_creation_then_follows_commands() {
        let expectations = [
            Transaction::set(State::Low),
            Transaction::set(State::High),
            Transaction::set(State::Low),
        ];
        let pin = Mock::new(&expectations);
        let mut check = pin.clone();
        let mut motor = Motor::new(pin, Polarity::ActiveHigh).expect("mock pin");
        assert!(!motor.is_running());
        motor.start().expect("mock pin");
        assert!(motor.is_running());
        motor.stop().expect("mock pin");
        check.done();
    }

    #[test]
    fn active_low_relay_board_is_switched_on_by_a_low_level() {
        let expectations = [Transaction::set(State::High), Transaction::set(State::Low)];
        let pin = Mock::new(&expectations);
        let mut check = pin.clone();
        let mut motor = Motor::new(pin, Polarity::ActiveLow).expect("mock pin");
        motor.start().expect("mock pin");
        check.done();
    }

    #[test]
    fn starting_a_motor_stops_the_one_already_running() {
        let a = Mock::new(&[
            Transaction::set(State::Low),
            Transaction::set(State::High),
            Transaction::set(State::Low),
        ]);
        let b = Mock::new(&[Transaction::set(State::Low), Transaction::set(State::High)]);
        let (mut check_a, mut check_b) = (a.clone(), b.clone());
        let mut bank = MotorBank::new(vec![
            Motor::new(a, Polarity::ActiveHigh).expect("mock pin"),
            Motor::new(b, Polarity::ActiveHigh).expect("mock pin"),
        ]);
        bank.start(0).expect("start a");
        bank.start(1).expect("start b");
        assert_eq!(bank.running().collect::<Vec<_>>(), vec![1]);
        assert_eq!(bank.start(7), Err(MotorBankError::NoSuchMotor(7)));
        check_a.done();
        check_b.done();
    }

    #[test]
    fn stop_all_tries_every_motor_even_after_a_failure() {
        use embedded_hal::digital::ErrorKind;
        use embedded_hal_mock::eh1::MockError;
        let failing = Mock::new(&[
            Transaction::set(State::Low),
            Transaction::set(State::Low).with_error(MockError::Io(std::io::ErrorKind::Other)),
        ]);
        let healthy = Mock::new(&[Transaction::set(State::Low), Transaction::set(State::Low)]);
        let (mut check_f, mut check_h) = (failing.clone(), healthy.clone());
        let mut bank = MotorBank::new(vec![
            Motor::new(failing, Polarity::ActiveHigh).expect("mock pin"),
            Motor::new(healthy, Polarity::ActiveHigh).expect("mock pin"),
        ]);
        let err = bank.stop_all().expect_err("first motor fails");
        match err {
            MotorBankError::Pin(0, e) => {
                assert_eq!(embedded_hal::digital::Error::kind(&e), ErrorKind::Other)
            }
            other => panic!("unexpected {other:?}"),
        }
        check_f.done();
        check_h.done();
    }

    #[test]
    fn lamp_follows_commands() {
        let pin = Mock::new(&[Transaction::set(State::Low), Transaction::set(State::High)]);
        let mut check = pin.clone();
        let mut lamp = Lamp::new(pin, Polarity::ActiveHigh).expect("mock pin");
        lamp.set(true).expect("mock pin");
        assert!(lamp.is_lit());
        check.done();
    }

    #[test]
    fn inputs_apply_polarity() {
        let door_pin = Mock::new(&[Transaction::get(State::High), Transaction::get(State::Low)]);
        let beam_pin = Mock::new(&[Transaction::get(State::Low)]);
        let button_pin = Mock::new(&[Transaction::get(State::Low)]);
        let (mut c1, mut c2, mut c3) = (door_pin.clone(), beam_pin.clone(), button_pin.clone());
        let mut door = DoorSwitch::new(door_pin, Polarity::ActiveHigh);
        assert!(door.is_open().expect("mock"));
        assert!(!door.is_open().expect("mock"));
        let mut beam = DropSensor::new(beam_pin, Polarity::ActiveLow);
        assert!(beam.is_blocked().expect("mock"));
        let mut button = Button::new(button_pin, Polarity::ActiveLow);
        assert!(button.is_pressed().expect("mock"));
        c1.done();
        c2.done();
        c3.done();
    }
}
