//! The date parts of RFC 5260 §4.2, from seconds since 1970 and a zone.

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days from 1858-11-17 (the Modified Julian Day epoch) to 1970-01-01.
const MJD_OF_UNIX_EPOCH: i64 = 40_587;

/// `+hhmm` / `-hhmm` as minutes east of UTC.
pub(crate) fn zone_minutes(zone: &str) -> Option<i32> {
    if !crate::compile::valid_zone(zone) {
        return None;
    }
    let hours: i32 = zone[1..3].parse().ok()?;
    let minutes: i32 = zone[3..5].parse().ok()?;
    let total = hours * 60 + minutes;
    Some(if zone.starts_with('-') { -total } else { total })
}

/// One date part of the instant `time` as seen in the zone `offset`
/// minutes east of UTC; None for a part RFC 5260 does not name or a
/// date outside years 0 to 9999.
pub(crate) fn part(name: &str, time: i64, offset: i32) -> Option<String> {
    let local = time.checked_add(i64::from(offset) * 60)?;
    let days = local.div_euclid(86_400);
    let seconds = local.rem_euclid(86_400);
    let (year, month, day) = civil(days);
    if !(0..=9999).contains(&year) {
        return None;
    }
    let (hour, minute, second) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    let sign = if offset < 0 { '-' } else { '+' };
    let (zone_hours, zone_minutes) = (offset.abs() / 60, offset.abs() % 60);
    let weekday = (days + 4).rem_euclid(7); // 1970-01-01 was a Thursday.
    Some(match name {
        "year" => format!("{year:04}"),
        "month" => format!("{month:02}"),
        "day" => format!("{day:02}"),
        "date" => format!("{year:04}-{month:02}-{day:02}"),
        "julian" => (days + MJD_OF_UNIX_EPOCH).to_string(),
        "hour" => format!("{hour:02}"),
        "minute" => format!("{minute:02}"),
        "second" => format!("{second:02}"),
        "time" => format!("{hour:02}:{minute:02}:{second:02}"),
        "iso8601" => format!(
            "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{sign}{zone_hours:02}:{zone_minutes:02}"
        ),
        "std11" => format!(
            "{}, {day} {} {year:04} {hour:02}:{minute:02}:{second:02} {sign}{zone_hours:02}{zone_minutes:02}",
            WEEKDAYS[weekday as usize],
            MONTHS[month as usize - 1]
        ),
        "zone" => format!("{sign}{zone_hours:02}{zone_minutes:02}"),
        "weekday" => weekday.to_string(),
        _ => return None,
    })
}

/// The proleptic Gregorian date of a day count from 1970-01-01.
fn civil(days: i64) -> (i64, u32, u32) {
    let (year, month, day) = wire::date::civil_from_days(days);
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_an_instant() {
        // 2026-12-02 10:44:13 UTC, a Wednesday.
        let time = 1_796_208_253;
        let at = |name, offset| part(name, time, offset).unwrap();
        assert_eq!(at("date", 0), "2026-12-02");
        assert_eq!(at("time", 0), "10:44:13");
        assert_eq!(at("weekday", 0), "3");
        assert_eq!(at("std11", 0), "Wed, 2 Dec 2026 10:44:13 +0000");
        assert_eq!(at("iso8601", -330), "2026-12-02T05:14:13-05:30");
        assert_eq!(at("zone", -330), "-0530");
        assert_eq!(at("hour", 14 * 60), "00");
        assert_eq!(at("day", 14 * 60), "03");
        assert_eq!(at("julian", 0), "61376");
        assert_eq!(part("era", time, 0), None);
    }

    #[test]
    fn civil_dates_across_leap_years_and_before_1970() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(-1), (1969, 12, 31));
        assert_eq!(civil(11_016), (2000, 2, 29));
        assert_eq!(civil(11_017), (2000, 3, 1));
        assert_eq!(civil(-719_468), (0, 3, 1));
        assert_eq!(part("julian", -MJD_OF_UNIX_EPOCH * 86_400, 0).unwrap(), "0");
        assert_eq!(part("year", i64::MAX, 0), None);
        assert_eq!(part("year", 253_402_300_800, 0), None);
    }

    #[test]
    fn zones() {
        assert_eq!(zone_minutes("+0100"), Some(60));
        assert_eq!(zone_minutes("-0930"), Some(-570));
        assert_eq!(zone_minutes("0100"), None);
        assert_eq!(zone_minutes("+0160"), None);
    }
}
