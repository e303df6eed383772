//! The faults of the campaign: how often each is injected (the named profiles, or rates drawn
//! afresh for every seed) and what each does to the simulated world.

use happiness_hardware::sim::Fault;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
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
    /// A power cut after which the tail of the write-ahead log is unreadable (a flipped bit):
    /// the books come back as they were at the last start. The next start must name the loss
    /// and refuse to sell, which ends the seed; so it is rare.
    pub wal_flip: f64,
    /// While the power is off, someone deletes a record with stand-ins for the seal functions
    /// (no key). The next start must name the edit and refuse to sell, which ends the seed.
    pub keyless_edit: f64,
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
            wal_flip: 0.0,
            keyless_edit: 0.0,
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
                wal_flip: 0.0,
                keyless_edit: 0.0,
            }),
            "heavy" => Ok(FaultRates::heavy()),
            other => Err(format!(
                "unknown fault profile `{other}` (use none, light or heavy)"
            )),
        }
    }

    /// The heavy profile: every fault often.
    fn heavy() -> FaultRates {
        FaultRates {
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
            // They end a seed: the named profiles leave them out (and so replay their seeds as
            // before); swarm seeds meet them now and then, and the tests ask for them.
            wal_flip: 0.0,
            keyless_edit: 0.0,
        }
    }
}

/// The swarm's base rate for a fault that ends its seed (books damaged on purpose, which the
/// next start must refuse): rare, so that most seeds run their whole course.
const ENDS_A_SEED: f64 = 0.001;

/// Which fault rates a campaign runs with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultPlan {
    /// The same rates for every seed (a named profile).
    Fixed(FaultRates),
    /// Rates drawn for each seed from the seed itself ("swarm" testing): each fault is left out
    /// half the time and otherwise runs at up to three times its heavy rate, so that seeds
    /// explore combinations a fixed mix makes rare (many power cuts and no jams, a disk that
    /// fills with the door open). A seed replays with the same rates.
    Swarm,
}

impl FaultPlan {
    /// `none`, `light`, `heavy` or `swarm`.
    pub fn named(name: &str) -> Result<FaultPlan, String> {
        match name {
            "swarm" => Ok(FaultPlan::Swarm),
            other => FaultRates::profile(other)
                .map(FaultPlan::Fixed)
                .map_err(|_| {
                    format!("unknown fault profile `{other}` (use none, light, heavy or swarm)")
                }),
        }
    }

    /// The rates seed `seed` runs with.
    pub fn rates_for(&self, seed: u64) -> FaultRates {
        match self {
            FaultPlan::Fixed(rates) => *rates,
            FaultPlan::Swarm => FaultRates::swarm(seed),
        }
    }
}

impl FaultRates {
    /// Rates drawn from `seed` (see [`FaultPlan::Swarm`]), from a stream of their own so that
    /// the seed's customers are the same whatever the rates.
    pub fn swarm(seed: u64) -> FaultRates {
        let heavy = FaultRates::heavy();
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5a4d_0000_fa17_0001);
        let mut draw = |heavy: f64| -> f64 {
            if rng.random::<bool>() {
                0.0
            } else {
                (heavy * rng.random_range(0.25..3.0)).min(0.5)
            }
        };
        FaultRates {
            jam: draw(heavy.jam),
            miss: draw(heavy.miss),
            hang: draw(heavy.hang),
            double: draw(heavy.double),
            empty: draw(heavy.empty),
            stuck: draw(heavy.stuck),
            bounce: draw(heavy.bounce),
            door_mid_vend: draw(heavy.door_mid_vend),
            reload_valid: draw(heavy.reload_valid),
            reload_invalid: draw(heavy.reload_invalid),
            power_cut: draw(heavy.power_cut),
            // An operator always comes by now and then, or faulted columns would end the run.
            service: 0.05 + draw(heavy.service),
            disk_full: draw(heavy.disk_full),
            controller_stop: draw(heavy.controller_stop),
            // Drawn last, so that the other rates of a seed are what they were before these.
            wal_flip: draw(ENDS_A_SEED),
            keyless_edit: draw(ENDS_A_SEED),
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
