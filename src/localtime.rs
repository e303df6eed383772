//! Wall-clock time as the machine's operators read it: local date, weekday and time of day.
//!
//! Surprise schedules ("weekdays 15:00-17:00") and daily caps need local time; the vend core's
//! deadlines use the monotonic clock instead. [`LocalTime`] is plain data (seconds since
//! 1970-01-01 00:00 *local*), so schedules and budgets can be tested and simulated at any date
//! without touching the system clock. Reading the system's local time happens only in
//! [`LocalTime::now`], called at the edge.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// Seconds since 1970-01-01 00:00:00 in the machine's local time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct LocalTime(i64);

/// Day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Weekday {
    /// Monday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// 0 for Monday to 6 for Sunday.
    pub fn index(self) -> u8 {
        self as u8
    }
}

impl FromStr for Weekday {
    type Err = String;
    /// A day by its three-letter or full English name, in any case (`mon`, `Monday`): nothing
    /// else, so that a typo is an error rather than some other day.
    fn from_str(s: &str) -> Result<Self, String> {
        const NAMES: [&str; 7] = [
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ];
        let lower = s.trim().to_ascii_lowercase();
        NAMES
            .iter()
            .zip(Weekday::ALL)
            .find(|(name, _)| lower == **name || lower == name[..3])
            .map(|(_, day)| day)
            .ok_or_else(|| {
                format!("`{s}` is not a weekday (use mon, tue, ... sun, full names, or a range such as mon-fri)")
            })
    }
}

/// Why the time zone in `tz` (the `TZ` variable) would not be used, if it would not: a zone
/// name the system's database (`zoneinfo`) does not hold makes the C library and chrono fall
/// back to UTC without a word, and every schedule would then be off by the zone's offset.
/// POSIX rule strings (`CET-1CEST,M3.5.0,M10.5.0/3`, `UTC0`) are taken as given.
pub fn time_zone_problem(tz: Option<&str>, zoneinfo: &std::path::Path) -> Option<String> {
    let tz = tz?.trim();
    let name = tz.strip_prefix(':').unwrap_or(tz);
    if name.is_empty() || name.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let known = !name.contains("..") && zoneinfo.join(name).is_file();
    (!known).then(|| {
        format!(
            "TZ={tz} is not a time zone this system knows (no {}): local time is UTC, so \
             surprise hours, days and daily caps run on UTC",
            zoneinfo.join(name).display()
        )
    })
}

/// A set of weekdays as a bit mask (bit 0 Monday), from a day (`sat`) or a range of days
/// (`mon-fri`; a range may run over the weekend: `fri-mon`).
pub fn parse_days(s: &str) -> Result<u8, String> {
    let Some((from, to)) = s.split_once('-') else {
        return s.parse::<Weekday>().map(|d| 1 << d.index());
    };
    let (from, to) = (from.parse::<Weekday>()?, to.parse::<Weekday>()?);
    let mut mask = 0u8;
    let mut day = from.index();
    loop {
        mask |= 1 << day;
        if day == to.index() {
            return Ok(mask);
        }
        day = (day + 1) % 7;
    }
}

impl LocalTime {
    /// `secs` seconds after 1970-01-01 00:00 local.
    pub const fn from_secs(secs: i64) -> Self {
        LocalTime(secs)
    }

    /// A local date and time; `None` if out of range.
    pub fn from_ymd_hm(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> Option<Self> {
        let date = chrono::NaiveDate::from_ymd_opt(year, month, day)?;
        let dt = date.and_hms_opt(hour, minute, 0)?;
        Some(LocalTime(dt.and_utc().timestamp()))
    }

    /// The system's current local time.
    pub fn now() -> Self {
        LocalTime::now_from(&chrono::Local::now())
    }

    /// The local time of a moment read from the system clock.
    pub fn now_from(now: &chrono::DateTime<chrono::Local>) -> Self {
        LocalTime(now.naive_local().and_utc().timestamp())
    }

    /// Seconds since 1970-01-01 00:00 local.
    pub const fn secs(self) -> i64 {
        self.0
    }

    /// This time plus `secs` seconds.
    pub const fn plus_secs(self, secs: i64) -> Self {
        LocalTime(self.0.saturating_add(secs))
    }

    /// Days since 1970-01-01 (local).
    pub const fn day(self) -> i64 {
        self.0.div_euclid(86_400)
    }

    /// Hours since 1970-01-01 00:00 (local).
    pub const fn hour_index(self) -> i64 {
        self.0.div_euclid(3_600)
    }

    /// Minute of the day, 0 to 1439.
    pub const fn minute_of_day(self) -> u16 {
        // In 0..1440, so the cast cannot truncate.
        (self.0.rem_euclid(86_400) / 60) as u16
    }

    /// Day of the week.
    pub fn weekday(self) -> Weekday {
        // 1970-01-01 was a Thursday (index 3).
        let i = (self.day() + 3).rem_euclid(7);
        Weekday::ALL[usize::try_from(i).unwrap_or(0)]
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match chrono::DateTime::from_timestamp(self.0, 0) {
            Some(dt) => write!(f, "{}", dt.naive_utc().format("%Y-%m-%d %H:%M:%S")),
            None => write!(f, "{}s", self.0),
        }
    }
}

/// A daily time window such as `07:00-22:00`; may wrap past midnight (`22:00-02:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct TimeWindow {
    /// First minute of the day inside the window.
    pub start: u16,
    /// First minute of the day after the window (1440 for a window that ends at midnight).
    pub end: u16,
}

impl TimeWindow {
    /// Whether `minute` (of the day) falls inside.
    pub fn contains(self, minute: u16) -> bool {
        if self.start <= self.end {
            minute >= self.start && minute < self.end
        } else {
            minute >= self.start || minute < self.end
        }
    }

    /// Length in minutes.
    pub fn minutes(self) -> u16 {
        if self.start <= self.end {
            self.end - self.start
        } else {
            1440 - self.start + self.end
        }
    }

    /// Minutes from the window's start to `minute`, if inside.
    pub fn elapsed(self, minute: u16) -> Option<u16> {
        if !self.contains(minute) {
            return None;
        }
        Some(if minute >= self.start {
            minute - self.start
        } else {
            1440 - self.start + minute
        })
    }
}

/// One end of a period as an operator writes it, in the machine's local time: a date
/// (`2026-11-27`: the day's start, or with `end` the next day's start, so that a date names the
/// whole day), a local date and time (`2026-11-27T14:00`, `2026-11-27 14:00:00`), or an RFC 3339
/// instant with its offset (`2026-11-27T13:00:00Z`), which is turned into this machine's local
/// time.
pub fn parse_bound(s: &str, end: bool) -> Result<LocalTime, String> {
    let s = s.trim();
    let shown: String = s.chars().take(40).collect();
    if let Ok(date) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let start = LocalTime(date.and_time(chrono::NaiveTime::MIN).and_utc().timestamp());
        return Ok(if end { start.plus_secs(86_400) } else { start });
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, format) {
            return Ok(LocalTime(t.and_utc().timestamp()));
        }
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(LocalTime::now_from(&t.with_timezone(&chrono::Local)));
    }
    Err(format!(
        "`{shown}` is not a date (2026-11-27), a local time (2026-11-27T14:00) or an RFC 3339 \
         time (2026-11-27T13:00:00Z)"
    ))
}

fn parse_hm(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    if m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    match (h, m) {
        (24, 0) => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

impl FromStr for TimeWindow {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a time window like \"07:30-22:00\"");
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let start = parse_hm(a).ok_or_else(bad)?;
        let end = parse_hm(b).ok_or_else(bad)?;
        if start == 1440 {
            return Err(bad());
        }
        if start == end {
            return Err(format!("`{s}` is empty: start and end are the same"));
        }
        Ok(TimeWindow { start, end })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekday_and_minute_of_day() {
        let t = LocalTime::from_ymd_hm(2026, 11, 25, 15, 30).expect("date");
        assert_eq!(t.weekday(), Weekday::Wed);
        assert_eq!(t.minute_of_day(), 15 * 60 + 30);
        assert_eq!(LocalTime::from_secs(0).weekday(), Weekday::Thu);
        assert_eq!(LocalTime::from_secs(-1).weekday(), Weekday::Wed);
        assert_eq!(t.to_string(), "2026-11-25 15:30:00");
    }

    #[test]
    fn windows_parse_and_wrap_past_midnight() {
        let w: TimeWindow = "07:00-22:00".parse().expect("window");
        assert!(w.contains(7 * 60) && !w.contains(22 * 60) && w.minutes() == 900);
        let night: TimeWindow = "22:00-02:00".parse().expect("window");
        assert!(night.contains(23 * 60) && night.contains(60) && !night.contains(3 * 60));
        assert_eq!(night.minutes(), 240);
        assert_eq!(night.elapsed(60), Some(180));
        let all: TimeWindow = "00:00-24:00".parse().expect("window");
        assert!(all.contains(0) && all.contains(1439));
        for bad in [
            "7-22",
            "07:00",
            "25:00-26:00",
            "10:00-10:00",
            "07:60-08:00",
            "24:00-01:00",
        ] {
            assert!(bad.parse::<TimeWindow>().is_err(), "{bad}");
        }
        assert_eq!("Friday".parse::<Weekday>(), Ok(Weekday::Fri));
        assert!("funday".parse::<Weekday>().is_err());
    }

    #[test]
    fn period_bounds_are_dates_local_times_or_rfc3339() {
        let day = LocalTime::from_ymd_hm(2026, 11, 27, 0, 0).expect("date");
        assert_eq!(parse_bound("2026-11-27", false), Ok(day));
        assert_eq!(parse_bound("2026-11-27", true), Ok(day.plus_secs(86_400)));
        let two = LocalTime::from_ymd_hm(2026, 11, 27, 14, 0).expect("date");
        assert_eq!(parse_bound("2026-11-27T14:00", false), Ok(two));
        assert_eq!(parse_bound(" 2026-11-27 14:00:00 ", true), Ok(two));
        assert!(parse_bound("2026-11-27T13:00:00Z", false).is_ok());
        assert!(parse_bound("2026-11-27T13:00:00+09:00", false).is_ok());
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-02-30",
            "27/11/2026",
            "2026-11-27T25:00",
        ] {
            let e = parse_bound(bad, false).expect_err(bad);
            assert!(e.contains("is not a date"), "{e}");
        }
    }

    #[test]
    fn weekdays_are_exact_names_or_ranges() {
        assert_eq!("mon".parse::<Weekday>(), Ok(Weekday::Mon));
        assert_eq!("Monday".parse::<Weekday>(), Ok(Weekday::Mon));
        assert_eq!(" SUN ".parse::<Weekday>(), Ok(Weekday::Sun));
        for bad in ["Monkey", "mo", "tues", "", "mon-fri"] {
            assert!(bad.parse::<Weekday>().is_err(), "{bad}");
        }
        assert_eq!(parse_days("mon-fri"), Ok(0b001_1111));
        assert_eq!(parse_days("sat-sun"), Ok(0b110_0000));
        assert_eq!(parse_days("fri-mon"), Ok(0b111_0001));
        assert_eq!(parse_days("wed"), Ok(0b000_0100));
        assert_eq!(parse_days("wed-wed"), Ok(0b000_0100));
        assert!(parse_days("mon-funday").is_err());
        assert!(parse_days("Monkey").is_err());
    }

    #[test]
    fn an_unknown_time_zone_is_named_not_silently_utc() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("Europe")).expect("dir");
        std::fs::write(dir.path().join("Europe/Paris"), b"TZif").expect("zone");
        let problem = |tz| time_zone_problem(tz, dir.path());
        assert_eq!(problem(None), None);
        assert_eq!(problem(Some("Europe/Paris")), None);
        assert_eq!(problem(Some(":Europe/Paris")), None);
        assert_eq!(problem(Some("CET-1CEST,M3.5.0,M10.5.0/3")), None);
        let unknown = problem(Some("Europe/Pariss")).expect("unknown");
        assert!(unknown.contains("TZ=Europe/Pariss"), "{unknown}");
        assert!(problem(Some("Mars/Olympus")).is_some());
        assert!(problem(Some("../../etc/passwd")).is_some());
    }
}
