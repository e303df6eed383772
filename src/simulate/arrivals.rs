//! When a simulated day's customers come: its expected number by weekday, rounded at random, each
//! at an hour drawn by the traffic profile.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::SimulateOptions;
use crate::localtime::LocalTime;

/// The most customers a simulated day holds (`--per-day`): a day's arrivals are drawn and sorted
/// at once, so this bounds the memory a run takes whatever rate is asked for.
pub const MAX_PER_DAY: u32 = 1_000_000;

/// When today's customers come, in seconds after midnight, in order: the day's expected number
/// (by weekday) rounded up or down at random, each at an hour drawn by the profile's weights.
pub(super) fn arrivals(
    rng: &mut ChaCha8Rng,
    options: &SimulateOptions,
    day_start: LocalTime,
    hours: &[u32; 24],
) -> Vec<i64> {
    let hour_total: u32 = hours.iter().sum();
    let factor = options.profile.day_factor(day_start.weekday().index());
    // A day's arrivals are held at once: at most MAX_PER_DAY of them, whatever was asked.
    let expected = f64::from(options.per_day.min(MAX_PER_DAY)) * factor;
    // Whole customers: round the expectation up or down at random, unbiased.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let mut today = expected.floor() as u64;
    if rng.random::<f64>() < expected.fract() {
        today += 1;
    }
    let mut times = Vec::new();
    for _ in 0..today {
        let mut pick = rng.random_range(0..hour_total);
        let mut hour = 0i64;
        for (h, &w) in hours.iter().enumerate() {
            if pick < w {
                hour = i64::try_from(h).unwrap_or(0);
                break;
            }
            pick -= w;
        }
        times.push(hour * 3600 + rng.random_range(0..3600i64));
    }
    times.sort_unstable();
    times
}
