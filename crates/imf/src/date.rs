//! The calendar date of a Date field (RFC 5322 §3.3, with the obsolete
//! forms of §4.3), for SEARCH SENTBEFORE / SENTON / SENTSINCE.

use wire::imap::Date;

use crate::lexer::Lexer;

const MONTHS: [&[u8; 3]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];

/// `[day-of-week ","] day month year ...`: the date as written, in the
/// field's own time zone (RFC 9051 §6.4.4 says to disregard time and zone).
/// The time of day is not needed and not checked.
pub(crate) fn parse(value: &[u8]) -> Option<Date> {
    date_part(&mut Lexer::new(value))
}

/// The whole date-time as Unix seconds (UTC), for SORT DATE and THREAD's
/// sent date (RFC 5256 §2.2: the Date field converted to UTC). The
/// seconds are optional; an unknown zone counts as UTC, as RFC 5322
/// §4.3 asks of the military zones.
pub(crate) fn parse_time(value: &[u8]) -> Option<i64> {
    parse_time_and_zone(value).map(|(time, _)| time)
}

/// [`parse_time`] and the zone's offset east of UTC in seconds.
pub(crate) fn parse_time_and_zone(value: &[u8]) -> Option<(i64, i64)> {
    let mut lx = Lexer::new(value);
    let date = date_part(&mut lx)?;
    lx.skip_cfws();
    let hour = two(lx.run(|b| b.is_ascii_digit())?)?;
    lx.skip_cfws();
    if !lx.eat(b':') {
        return None;
    }
    lx.skip_cfws();
    let minute = two(lx.run(|b| b.is_ascii_digit())?)?;
    lx.skip_cfws();
    let mut second = 0;
    if lx.eat(b':') {
        lx.skip_cfws();
        second = two(lx.run(|b| b.is_ascii_digit())?)?;
        lx.skip_cfws();
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset = zone(&mut lx);
    let days = wire::date::days_from_civil(i64::from(date.year), i64::from(date.month), i64::from(date.day));
    Some((days * 86_400 + hour * 3600 + minute * 60 + second - offset, offset))
}

/// A time field of one or two digits.
fn two(digits: &[u8]) -> Option<i64> {
    if digits.len() > 2 {
        return None;
    }
    number(digits).map(i64::from)
}

/// The zone's offset from UTC in seconds: `+hhmm`/`-hhmm`, or the names
/// RFC 5322 §4.3 lists; anything else (military letters included) is 0.
fn zone(lx: &mut Lexer<'_>) -> i64 {
    let sign = match lx.peek() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => {
            let name = lx
                .run(|b| b.is_ascii_alphabetic())
                .unwrap_or_default()
                .to_ascii_uppercase();
            let hours = match name.as_slice() {
                b"EDT" => -4,
                b"EST" | b"CDT" => -5,
                b"CST" | b"MDT" => -6,
                b"MST" | b"PDT" => -7,
                b"PST" => -8,
                _ => 0,
            };
            return hours * 3600;
        }
    };
    lx.pos += 1;
    let Some(digits) = lx.run(|b| b.is_ascii_digit()).filter(|d| d.len() == 4) else {
        return 0;
    };
    let value = number(digits).map_or(0, i64::from);
    sign * ((value / 100) * 3600 + (value % 100) * 60)
}

/// `[day-of-week ","] day month year`, leaving `lx` after the year.
fn date_part(lx: &mut Lexer<'_>) -> Option<Date> {
    lx.skip_cfws();
    // The day name is optional; anything alphabetic before a comma is one.
    let start = lx.pos;
    if lx.run(|b| b.is_ascii_alphabetic()).is_some() {
        lx.skip_cfws();
        if !lx.eat(b',') {
            lx.pos = start;
        }
    }
    lx.skip_cfws();
    let day = number(lx.run(|b| b.is_ascii_digit())?)?;
    lx.skip_cfws();
    let month_name = lx.run(|b| b.is_ascii_alphabetic())?;
    let month = MONTHS
        .iter()
        .position(|m| month_name.len() >= 3 && month_name[..3].eq_ignore_ascii_case(&m[..]))?;
    lx.skip_cfws();
    let digits = lx.run(|b| b.is_ascii_digit())?;
    let year = number(digits)?;
    // RFC 5322 §4.3: two-digit years 00-49 are 2000-2049, 50-99 and
    // three-digit years count from 1900.
    let year = match digits.len() {
        1 | 2 if year < 50 => year + 2000,
        1..=3 => year + 1900,
        _ => year,
    };
    let month = u8::try_from(month + 1).ok()?;
    let year = u16::try_from(year).ok()?;
    let day = u8::try_from(day).ok()?;
    (day >= 1 && day <= days_in_month(year, month)).then_some(Date { year, month, day })
}

fn number(digits: &[u8]) -> Option<u32> {
    if digits.len() > 6 {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn days_in_month(year: u16, month: u8) -> u8 {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: u16, month: u8, day: u8) -> Option<Date> {
        Some(Date { year, month, day })
    }

    #[test]
    fn rfc5322_and_obsolete_dates() {
        assert_eq!(parse(b"Mon, 3 Mar 2025 09:15:00 +0000"), date(2025, 3, 3));
        assert_eq!(parse(b"Tue, 25 Mar 2025 12:00:00 +0000"), date(2025, 3, 25));
        assert_eq!(parse(b"21 Nov 97 09:55:06 GMT"), date(1997, 11, 21));
        assert_eq!(parse(b"1 Jan 05 00:00 +0100"), date(2005, 1, 1));
        assert_eq!(parse(b"(comment) Fri , 29 feb 2008 (x) 1:2:3 -0800"), date(2008, 2, 29));
        // The date as written, not converted to UTC.
        assert_eq!(parse(b"Sun, 9 Mar 2025 23:30:00 -1000"), date(2025, 3, 9));
    }

    #[test]
    fn nonsense_is_no_date() {
        assert_eq!(parse(b""), None);
        assert_eq!(parse(b"yesterday"), None);
        assert_eq!(parse(b"30 Feb 2025 00:00:00 +0000"), None);
        assert_eq!(parse(b"1 Foo 2025"), None);
        assert_eq!(parse(b"1 Jan 99999999999"), None);
    }

    #[test]
    fn date_times_in_utc() {
        // 2025-03-03 09:15:00 UTC
        let t = 1_740_993_300;
        assert_eq!(parse_time(b"Mon, 3 Mar 2025 09:15:00 +0000"), Some(t));
        assert_eq!(parse_time(b"Mon, 3 Mar 2025 10:15:00 +0100"), Some(t));
        assert_eq!(parse_time(b"Mon, 3 Mar 2025 04:15 EST"), Some(t));
        assert_eq!(parse_time(b"Sun, 2 Mar 2025 23:15:00 -1000"), Some(t));
        assert_eq!(parse_time(b"3 Mar 25 09:15:00 GMT"), Some(t));
        assert_eq!(parse_time(b"3 Mar 2025 09 : 15 : 00 (c) Z"), Some(t));
        assert_eq!(parse_time(b"Mon, 3 Mar 2025"), None);
        assert_eq!(parse_time(b"Mon, 3 Mar 2025 25:00:00 +0000"), None);
        assert_eq!(parse_time(b"garbage"), None);
    }
}
