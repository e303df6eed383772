//! The faults of the campaign: how often each is injected (the named profiles) and what each
//! does to the simulated world.

use happiness_hardware::sim::Fault;
use serde::Serialize;

/// How often each fault is injected, per customer visit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FaultRates {
    /// A spiral jams.
    pub jam: f64,
    /// A column's items fall past the beam unseen.
    pub miss: f64,
    /// An item hangs on the spiral until the next turn.
    pub hang: f64,
    /// A turn drops two items.
    pub double: f64,
    /// A column is physically empty while the controller believes otherwise.
    pub empty: f64,
    /// The drop beam sticks for a while.
    pub stuck: f64,
    /// Switches and coin pulses bounce during the visit.
    pub bounce: f64,
    /// The service door opens in the middle of a vend.
    pub door_mid_vend: f64,
    /// A valid surprise config is loaded mid-vend.
    pub reload_valid: f64,
    /// An invalid surprise config is offered mid-vend.
    pub reload_invalid: f64,
    /// The power fails (and comes back) around a vend.
    pub power_cut: f64,
    /// The operator services the machine (fixes faults, restocks, resets columns).
    pub service: f64,
    /// The books' disk fills up at a random commit (usually the space reserve lets what is
    /// under way finish; now and then it is gone too and the controller stops).
    pub disk_full: f64,
    /// The controller stops mid-vend (a dead driver, a bug) and the service manager restarts it
    /// on the same books a few seconds later.
    pub controller_stop: f64,
}

impl FaultRates {
    /// A named profile: `none`, `light` or `heavy`.
    pub fn profile(name: &str) -> Result<FaultRates, String> {
        let none = FaultRates {
            jam: 0.0,
            miss: 0.0,
            hang: 0.0,
            double: 0.0,
            empty: 0.0,
            stuck: 0.0,
            bounce: 0.0,
            door_mid_vend: 0.0,
            reload_valid: 0.0,
            reload_invalid: 0.0,
            power_cut: 0.0,
            service: 0.05,
            disk_full: 0.0,
            controller_stop: 0.0,
        };
        match name {
            "none" => Ok(none),
            "light" => Ok(FaultRates {
                jam: 0.02,
                miss: 0.02,
                hang: 0.03,
                double: 0.02,
                empty: 0.01,
                stuck: 0.01,
                bounce: 0.05,
                door_mid_vend: 0.02,
                reload_valid: 0.02,
                reload_invalid: 0.02,
                power_cut: 0.02,
                service: 0.1,
                disk_full: 0.005,
                controller_stop: 0.005,
            }),
            "heavy" => Ok(FaultRates {
                jam: 0.08,
                miss: 0.08,
                hang: 0.1,
                double: 0.06,
                empty: 0.04,
                stuck: 0.05,
                bounce: 0.2,
                door_mid_vend: 0.08,
                reload_valid: 0.06,
                reload_invalid: 0.06,
                power_cut: 0.08,
                service: 0.2,
                disk_full: 0.03,
                controller_stop: 0.03,
            }),
            other => Err(format!(
                "unknown fault profile `{other}` (use none, light or heavy)"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum FaultAction {
    Jam(u8),
    Miss(u8),
    Hang(u8),
    Double(u8),
    Empty(u8),
    Stuck(bool),
    Bounce(bool),
}

impl FaultAction {
    pub(super) fn name(self) -> &'static str {
        match self {
            FaultAction::Jam(_) => "jam",
            FaultAction::Miss(_) => "missed_beam",
            FaultAction::Hang(_) => "hung_item",
            FaultAction::Double(_) => "double_drop",
            FaultAction::Empty(_) => "empty_column",
            FaultAction::Stuck(_) => "stuck_sensor",
            FaultAction::Bounce(_) => "switch_bounce",
        }
    }

    pub(super) fn fault(self) -> Fault {
        match self {
            FaultAction::Jam(column) => Fault::Jam { column },
            FaultAction::Miss(column) => Fault::MissBeam { column },
            FaultAction::Hang(column) => Fault::Hang { column },
            FaultAction::Double(column) => Fault::DoubleDrop { column },
            FaultAction::Empty(column) => Fault::Empty { column },
            FaultAction::Stuck(stuck) => Fault::StuckBeam { sensor: 0, stuck },
            FaultAction::Bounce(on) => Fault::Bounce { on },
        }
    }
}
