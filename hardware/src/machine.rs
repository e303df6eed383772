//! The one interface the controller drives, and its single implementation over any pin type.
//!
//! [`Wiring`] says which pin does what; [`Machine`] owns a driver per pin and implements
//! [`Hardware`]. The Raspberry Pi and simulator backends differ only in the pin types they hand to
//! [`Machine::build`] and in where their input edges come from; everything above this module is
//! the same code for both.

use embedded_hal::digital::{InputPin, OutputPin};
use serde::Serialize;

use crate::drivers::{
    Button, CoinInput, DoorSwitch, DropSensor, HomeSwitch, Lamp, Motor, MotorBank, MotorBankError,
};
use crate::input::{InputLayout, InputLine};
use crate::pins::{Gpio, InputSpec, OutputSpec};

/// Which pin does what. Indexes matter: motor `i` and home switch `i` belong to column `i`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Wiring {
    /// One motor per column.
    pub motors: Vec<OutputSpec>,
    /// Per column, the optional home (cam) switch.
    pub home_switches: Vec<Option<InputSpec>>,
    /// Indicator lamps.
    pub lamps: Vec<OutputSpec>,
    /// Selection buttons.
    pub buttons: Vec<InputSpec>,
    /// Coin-return button.
    pub coin_return: Option<InputSpec>,
    /// Coin acceptor pulse line.
    pub coin: Option<InputSpec>,
    /// Drop beams.
    pub drop_sensors: Vec<InputSpec>,
    /// Service door switch.
    pub door: Option<InputSpec>,
    /// The coin acceptor's inhibit input (active = refuse coins).
    pub coin_inhibit: Option<OutputSpec>,
    /// The payout hopper's drive input (one pulse per coin paid out).
    pub payout: Option<OutputSpec>,
}

/// What an output pin drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "output", content = "index", rename_all = "snake_case")]
pub enum OutputRole {
    /// A column's motor.
    Motor(usize),
    /// A lamp.
    Lamp(usize),
    /// The coin acceptor's inhibit line.
    CoinInhibit,
    /// The payout hopper.
    Payout,
}

impl OutputRole {
    /// Whether the output starts active: only the coin inhibit, so that no coin is taken before
    /// the controller can record it. A backend that sets a level when it claims a pin uses this.
    pub fn starts_on(self) -> bool {
        matches!(self, OutputRole::CoinInhibit)
    }

    /// A person-readable name, used in error messages.
    pub fn describe(self) -> String {
        match self {
            OutputRole::Motor(i) => format!("motor for column {}", i + 1),
            OutputRole::Lamp(i) => format!("lamp {}", i + 1),
            OutputRole::CoinInhibit => "coin inhibit".into(),
            OutputRole::Payout => "payout hopper".into(),
        }
    }
}

/// Outputs other than motors and lamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuxOutput {
    /// The coin acceptor's inhibit line.
    CoinInhibit,
    /// The payout hopper.
    Payout,
}

impl Wiring {
    /// Every input line with its pin, in a stable order.
    pub fn inputs(&self) -> Vec<(InputLine, InputSpec)> {
        let index = |i: usize| u8::try_from(i).unwrap_or(u8::MAX);
        let mut lines = Vec::new();
        lines.extend(
            self.buttons
                .iter()
                .enumerate()
                .map(|(i, s)| (InputLine::Button(index(i)), *s)),
        );
        lines.extend(self.coin_return.map(|s| (InputLine::CoinReturn, s)));
        lines.extend(self.coin.map(|s| (InputLine::Coin, s)));
        lines.extend(
            self.drop_sensors
                .iter()
                .enumerate()
                .map(|(i, s)| (InputLine::Drop(index(i)), *s)),
        );
        lines.extend(
            self.home_switches
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.map(|s| (InputLine::Home(index(i)), s))),
        );
        lines.extend(self.door.map(|s| (InputLine::Door, s)));
        lines
    }
}

/// Levels of the inputs whose state matters at start-up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InputSnapshot {
    /// Door open (`None`: no door switch).
    pub door_open: Option<bool>,
    /// Each drop beam: blocked?
    pub drop_blocked: Vec<bool>,
    /// Each column: at home? (`None`: no home switch).
    pub home: Vec<Option<bool>>,
    /// Each selection button: held down?
    pub buttons_held: Vec<bool>,
}

impl InputSnapshot {
    /// The layout an [`crate::InputConditioner`] needs, starting from these levels.
    pub fn layout(&self, wiring: &Wiring) -> InputLayout {
        InputLayout {
            buttons: u8::try_from(wiring.buttons.len()).unwrap_or(u8::MAX),
            coin_return: wiring.coin_return.is_some(),
            drop_blocked_at_start: self.drop_blocked.clone(),
            home_at_start: self.home.clone(),
            door_open_at_start: self.door_open,
        }
    }
}

/// A hardware operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum HwError {
    /// The GPIO backend cannot run on this computer.
    #[error(
        "this computer does not look like a Raspberry Pi ({0}); run with --hardware sim to use the simulator"
    )]
    NotARaspberryPi(String),
    /// The GPIO device could not be opened.
    #[error("cannot open the GPIO: {0}")]
    Gpio(String),
    /// A pin could not be claimed, read or written.
    #[error("{what} on {pin}: {message}")]
    Pin {
        /// What the pin is for, e.g. "motor for column 2".
        what: String,
        /// The pin.
        pin: Gpio,
        /// What went wrong.
        message: String,
    },
    /// The controller asked for a part the wiring does not have.
    #[error("there is no {0} {1}")]
    NoSuch(&'static str, usize),
}

/// What the controller can do to the machine.
pub trait Hardware: Send {
    /// Switch a column's motor. Starting one stops any other.
    fn set_motor(&mut self, column: usize, on: bool) -> Result<(), HwError>;
    /// Switch a lamp.
    fn set_lamp(&mut self, lamp: usize, on: bool) -> Result<(), HwError>;
    /// Switch an auxiliary output (coin inhibit, payout hopper). A machine without it ignores the
    /// request.
    fn set_aux(&mut self, output: AuxOutput, on: bool) -> Result<(), HwError>;
    /// Put the machine in its safe state, trying every output even if some fail: every motor, lamp
    /// and the payout hopper off, and the coin acceptor inhibited (a machine that is not running
    /// its controller must not take money it cannot record).
    fn safe_off(&mut self) -> Result<(), HwError>;
    /// Read the inputs whose level matters at start-up.
    fn read_inputs(&mut self) -> Result<InputSnapshot, HwError>;
    /// Columns whose motor is commanded on.
    fn running_motors(&self) -> Vec<usize>;
}

/// The machine's drivers over output pins `O` and input pins `I`.
pub struct Machine<O, I> {
    wiring: Wiring,
    motors: MotorBank<O>,
    lamps: Vec<Lamp<O>>,
    coin_inhibit: Option<Lamp<O>>,
    payout: Option<Lamp<O>>,
    buttons: Vec<Button<I>>,
    coin_return: Option<Button<I>>,
    coin: Option<CoinInput<I>>,
    drops: Vec<DropSensor<I>>,
    homes: Vec<Option<HomeSwitch<I>>>,
    door: Option<DoorSwitch<I>>,
}

fn pin_error(what: impl Into<String>, pin: Gpio, e: impl embedded_hal::digital::Error) -> HwError {
    HwError::Pin {
        what: what.into(),
        pin,
        // embedded-hal errors only promise Debug; a backend's own error says more than its kind.
        message: format!("{e:?}"),
    }
}

impl<O: OutputPin, I: InputPin> Machine<O, I> {
    /// Claim every pin of `wiring` through the backend's constructors, with every output off.
    pub fn build(
        wiring: &Wiring,
        mut output: impl FnMut(OutputRole, OutputSpec) -> Result<O, HwError>,
        mut input: impl FnMut(&str, InputLine, InputSpec) -> Result<I, HwError>,
    ) -> Result<Self, HwError> {
        let mut motors = Vec::with_capacity(wiring.motors.len());
        for (i, spec) in wiring.motors.iter().enumerate() {
            let role = OutputRole::Motor(i);
            let what = role.describe();
            let pin = output(role, *spec)?;
            motors.push(Motor::new(pin, spec.polarity).map_err(|e| pin_error(what, spec.pin, e))?);
        }
        let mut lamps = Vec::with_capacity(wiring.lamps.len());
        for (i, spec) in wiring.lamps.iter().enumerate() {
            let role = OutputRole::Lamp(i);
            let what = role.describe();
            let pin = output(role, *spec)?;
            lamps.push(Lamp::new(pin, spec.polarity).map_err(|e| pin_error(what, spec.pin, e))?);
        }
        let mut aux =
            |role: OutputRole, spec: Option<OutputSpec>| -> Result<Option<Lamp<O>>, HwError> {
                let Some(spec) = spec else { return Ok(None) };
                let pin = output(role, spec)?;
                // The acceptor refuses coins until the controller is ready to record them.
                let driver = if role.starts_on() {
                    Lamp::new_on(pin, spec.polarity)
                } else {
                    Lamp::new(pin, spec.polarity)
                };
                driver
                    .map(Some)
                    .map_err(|e| pin_error(role.describe(), spec.pin, e))
            };
        let coin_inhibit = aux(OutputRole::CoinInhibit, wiring.coin_inhibit)?;
        let payout = aux(OutputRole::Payout, wiring.payout)?;
        let mut buttons = Vec::new();
        let mut coin_return = None;
        let mut coin = None;
        let mut drops = Vec::new();
        let mut homes: Vec<Option<HomeSwitch<I>>> =
            wiring.home_switches.iter().map(|_| None).collect();
        let mut door = None;
        for (line, spec) in wiring.inputs() {
            let what = describe(line);
            let pin = input(&what, line, spec)?;
            match line {
                InputLine::Button(_) => buttons.push(Button::new(pin, spec.polarity)),
                InputLine::CoinReturn => coin_return = Some(Button::new(pin, spec.polarity)),
                InputLine::Coin => coin = Some(CoinInput::new(pin, spec.polarity)),
                InputLine::Drop(_) => drops.push(DropSensor::new(pin, spec.polarity)),
                InputLine::Home(c) => {
                    if let Some(slot) = homes.get_mut(usize::from(c)) {
                        *slot = Some(HomeSwitch::new(pin, spec.polarity));
                    }
                }
                InputLine::Door => door = Some(DoorSwitch::new(pin, spec.polarity)),
            }
        }
        Ok(Machine {
            wiring: wiring.clone(),
            motors: MotorBank::new(motors),
            lamps,
            coin_inhibit,
            payout,
            buttons,
            coin_return,
            coin,
            drops,
            homes,
            door,
        })
    }

    /// Whether the coin line is pulsing right now (a start-up sanity check).
    pub fn coin_line_active(&mut self) -> Result<bool, HwError> {
        match (self.coin.as_mut(), self.wiring.coin) {
            (Some(c), Some(spec)) => c
                .is_pulsing()
                .map_err(|e| pin_error("coin acceptor", spec.pin, e)),
            _ => Ok(false),
        }
    }

    /// Whether the coin-return button is held right now.
    pub fn coin_return_held(&mut self) -> Result<bool, HwError> {
        match (self.coin_return.as_mut(), self.wiring.coin_return) {
            (Some(b), Some(spec)) => b
                .is_pressed()
                .map_err(|e| pin_error("coin-return button", spec.pin, e)),
            _ => Ok(false),
        }
    }

    fn motor_error(&self, e: MotorBankError<O::Error>) -> HwError {
        match e {
            MotorBankError::NoSuchMotor(i) => HwError::NoSuch("motor", i),
            MotorBankError::Pin(i, e) => match self.wiring.motors.get(i) {
                Some(spec) => pin_error(format!("motor for column {}", i + 1), spec.pin, e),
                None => HwError::NoSuch("motor", i),
            },
        }
    }
}

/// A person-readable name for an input line, used in error messages.
pub fn describe(line: InputLine) -> String {
    match line {
        InputLine::Button(i) => format!("button {}", usize::from(i) + 1),
        InputLine::CoinReturn => "coin-return button".into(),
        InputLine::Coin => "coin acceptor".into(),
        InputLine::Drop(i) => format!("drop sensor {}", usize::from(i) + 1),
        InputLine::Home(c) => format!("home switch of column {}", usize::from(c) + 1),
        InputLine::Door => "door switch".into(),
    }
}

impl<O, I> Hardware for Machine<O, I>
where
    O: OutputPin + Send,
    I: InputPin + Send,
{
    fn set_motor(&mut self, column: usize, on: bool) -> Result<(), HwError> {
        let result = if on {
            self.motors.start(column)
        } else {
            self.motors.stop(column)
        };
        result.map_err(|e| self.motor_error(e))
    }

    fn set_lamp(&mut self, lamp: usize, on: bool) -> Result<(), HwError> {
        let spec = *self
            .wiring
            .lamps
            .get(lamp)
            .ok_or(HwError::NoSuch("lamp", lamp))?;
        let driver = self
            .lamps
            .get_mut(lamp)
            .ok_or(HwError::NoSuch("lamp", lamp))?;
        driver
            .set(on)
            .map_err(|e| pin_error(format!("lamp {}", lamp + 1), spec.pin, e))
    }

    fn set_aux(&mut self, output: AuxOutput, on: bool) -> Result<(), HwError> {
        let (driver, spec, role) = match output {
            AuxOutput::CoinInhibit => (
                self.coin_inhibit.as_mut(),
                self.wiring.coin_inhibit,
                OutputRole::CoinInhibit,
            ),
            AuxOutput::Payout => (self.payout.as_mut(), self.wiring.payout, OutputRole::Payout),
        };
        match (driver, spec) {
            (Some(d), Some(spec)) => d
                .set(on)
                .map_err(|e| pin_error(role.describe(), spec.pin, e)),
            _ => Ok(()),
        }
    }

    fn safe_off(&mut self) -> Result<(), HwError> {
        // Motors first: they are the part that can hurt someone or empty a column.
        let motors = self.motors.stop_all().map_err(|e| self.motor_error(e));
        let mut others = Ok(());
        let mut note = |result: Result<(), HwError>| {
            if let Err(e) = result {
                if others.is_ok() {
                    others = Err(e);
                }
            }
        };
        for (i, (lamp, spec)) in self.lamps.iter_mut().zip(&self.wiring.lamps).enumerate() {
            note(
                lamp.set(false)
                    .map_err(|e| pin_error(format!("lamp {}", i + 1), spec.pin, e)),
            );
        }
        for (driver, spec, role, on) in [
            (
                self.payout.as_mut(),
                self.wiring.payout,
                OutputRole::Payout,
                false,
            ),
            (
                self.coin_inhibit.as_mut(),
                self.wiring.coin_inhibit,
                OutputRole::CoinInhibit,
                true,
            ),
        ] {
            if let (Some(d), Some(spec)) = (driver, spec) {
                note(
                    d.set(on)
                        .map_err(|e| pin_error(role.describe(), spec.pin, e)),
                );
            }
        }
        motors.and(others)
    }

    fn read_inputs(&mut self) -> Result<InputSnapshot, HwError> {
        let door_open = match (self.door.as_mut(), self.wiring.door) {
            (Some(d), Some(spec)) => Some(
                d.is_open()
                    .map_err(|e| pin_error("door switch", spec.pin, e))?,
            ),
            _ => None,
        };
        let mut drop_blocked = Vec::with_capacity(self.drops.len());
        for (i, (d, spec)) in self
            .drops
            .iter_mut()
            .zip(&self.wiring.drop_sensors)
            .enumerate()
        {
            drop_blocked.push(
                d.is_blocked()
                    .map_err(|e| pin_error(format!("drop sensor {}", i + 1), spec.pin, e))?,
            );
        }
        let mut home = Vec::with_capacity(self.homes.len());
        for (i, (h, spec)) in self
            .homes
            .iter_mut()
            .zip(&self.wiring.home_switches)
            .enumerate()
        {
            home.push(match (h, spec) {
                (Some(h), Some(spec)) => Some(h.is_home().map_err(|e| {
                    pin_error(format!("home switch of column {}", i + 1), spec.pin, e)
                })?),
                _ => None,
            });
        }
        let mut buttons_held = Vec::with_capacity(self.buttons.len());
        for (i, (b, spec)) in self
            .buttons
            .iter_mut()
            .zip(&self.wiring.buttons)
            .enumerate()
        {
            buttons_held.push(
                b.is_pressed()
                    .map_err(|e| pin_error(format!("button {}", i + 1), spec.pin, e))?,
            );
        }
        Ok(InputSnapshot {
            door_open,
            drop_blocked,
            home,
            buttons_held,
        })
    }

    fn running_motors(&self) -> Vec<usize> {
        self.motors.running().collect()
    }
}

#[cfg(test)]
mod tests;
