//! Raspberry Pi backend: real GPIO through rppal.
//!
//! What the hardware needs: a Raspberry Pi (3, 4, 5 or Zero 2 W) running a Linux with the GPIO
//! character device (`/dev/gpiochip*`), and a user in the `gpio` group. Pin numbers are BCM
//! numbers. See `hardware/README.md` for the wiring.
//!
//! Outputs keep their last level when the program ends (rppal's reset-on-drop is off): the
//! controller's last act is its safe state, so motors stay off and the coin acceptor stays
//! inhibited until the kiosk runs again.
//!
//! Inputs are interrupt driven: rppal runs one thread per pin that waits on the kernel's edge
//! events; each edge is stamped with the controller's [`Clock`] and handed to the [`EdgeSink`] on
//! that same thread, so a button press reaches the controller without another thread having to
//! wake up. Nothing here polls. Debounce is done in [`crate::input`], the same code the simulator
//! uses, so the kernel's debounce is left off.
//!
//! rppal stays inside this module: swapping it for the rpi-pal fork or gpiocdev means rewriting
//! only [`open`].

use crate::input::{EdgeSink, RawEdge};
use crate::machine::{HwError, Machine, Wiring};
use crate::pins::Pull;
use crate::time::Clock;
use rppal::gpio::{Gpio as RppalGpio, InputPin, OutputPin, Trigger};

/// A machine on the Raspberry Pi's GPIO pins.
pub type RpiMachine = Machine<OutputPin, InputPin>;

/// Open the GPIO, claim every pin of `wiring` (outputs start off) and hand input edges to
/// `edges`.
///
/// Off a Raspberry Pi this returns [`HwError::NotARaspberryPi`], whose message tells the user to
/// run the simulator instead.
pub fn open(wiring: &Wiring, clock: Clock, edges: EdgeSink) -> Result<RpiMachine, HwError> {
    let gpio = RppalGpio::new().map_err(|e| match e {
        rppal::gpio::Error::UnknownModel => HwError::NotARaspberryPi(e.to_string()),
        other => HwError::Gpio(other.to_string()),
    })?;
    let claim = |what: &str, pin: crate::pins::Gpio| {
        gpio.get(pin.number()).map_err(|e| HwError::Pin {
            what: what.to_string(),
            pin,
            message: e.to_string(),
        })
    };
    Machine::build(
        wiring,
        |role, spec| {
            let pin = claim(&role.describe(), spec.pin)?;
            // Start at the "off" level so a relay never clicks on while the program starts (and
            // the coin inhibit at "refuse" until the controller can record coins).
            let mut out = if spec.polarity.level_for(role.starts_on()) {
                pin.into_output_high()
            } else {
                pin.into_output_low()
            };
            // Keep the last level when the program ends: after a stop the motors stay off and
            // the acceptor stays inhibited until the service manager starts the kiosk again,
            // instead of the pins floating back to inputs.
            out.set_reset_on_drop(false);
            Ok(out)
        },
        |what, line, spec| {
            let pin = claim(what, spec.pin)?;
            let mut input = match spec.pull {
                Pull::None => pin.into_input(),
                Pull::Up => pin.into_input_pullup(),
                Pull::Down => pin.into_input_pulldown(),
            };
            let polarity = spec.polarity;
            let sink = std::sync::Arc::clone(&edges);
            let clock = clock.clone();
            input
                .set_async_interrupt(Trigger::Both, None, move |event| {
                    let high = matches!(event.trigger, Trigger::RisingEdge);
                    sink(RawEdge {
                        line,
                        active: polarity.is_active(high),
                        at: clock.now(),
                    });
                })
                .map_err(|e| HwError::Pin {
                    what: what.to_string(),
                    pin: spec.pin,
                    message: format!("cannot watch for edges: {e}"),
                })?;
            Ok(input)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_a_pi_opening_fails_with_advice_to_use_the_simulator() {
        // The test machines are not Raspberry Pis; on a Pi this test has nothing to check.
        if std::path::Path::new("/proc/device-tree/model").exists() {
            return;
        }
        let sink: EdgeSink = std::sync::Arc::new(|_| {});
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        let _guard = rt.enter();
        match open(&Wiring::default(), Clock::start(), sink) {
            Err(e @ HwError::NotARaspberryPi(_)) => {
                assert!(e.to_string().contains("--hardware sim"), "{e}")
            }
            Err(other) => panic!("expected NotARaspberryPi, got {other}"),
            Ok(_) => panic!("opened GPIO on a machine without one"),
        }
    }
}
