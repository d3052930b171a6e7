//! The two date forms queries use, `YYYY-MM-DD` and RFC 3339, read without a date library.
//!
//! The parser needs them to reject bad date bounds and the evaluator to compare stored
//! timestamps; a few lines of civil-calendar arithmetic avoid a dependency for both.

/// A point in time: seconds since 1970-01-01T00:00:00Z and nanoseconds within that second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Instant {
    secs: i64,
    nanos: u32,
}

impl Instant {
    /// The next representable instant (one nanosecond later).
    pub(crate) fn next(self) -> Self {
        if self.nanos < 999_999_999 {
            Self {
                secs: self.secs,
                nanos: self.nanos + 1,
            }
        } else {
            Self {
                secs: self.secs + 1,
                nanos: 0,
            }
        }
    }
}

/// A date as written: a whole day, or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Date {
    /// `YYYY-MM-DD`, a UTC day, as days since 1970-01-01.
    Day(i64),
    Instant(Instant),
}

impl Date {
    /// The first instant the date covers.
    pub(crate) fn start(self) -> Instant {
        match self {
            Self::Day(days) => Instant {
                secs: days * 86_400,
                nanos: 0,
            },
            Self::Instant(instant) => instant,
        }
    }

    /// The first instant after the date (the next day for a day).
    pub(crate) fn end(self) -> Instant {
        match self {
            Self::Day(days) => Instant {
                secs: (days + 1) * 86_400,
                nanos: 0,
            },
            Self::Instant(instant) => instant.next(),
        }
    }
}

/// Reads `YYYY-MM-DD` or an RFC 3339 date-time (`T`, `t` or a space between date and time,
/// optional fraction, `Z` or `±HH:MM`). `None` for anything else, including impossible dates.
pub(crate) fn parse(text: &str) -> Option<Date> {
    let mut c = Cursor {
        bytes: text.as_bytes(),
        pos: 0,
    };
    let year = c.digits(4)?;
    c.expect(b'-')?;
    let month = c.digits(2)?;
    c.expect(b'-')?;
    let day = c.digits(2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if c.at_end() {
        return Some(Date::Day(days));
    }
    if !matches!(c.next()?, b'T' | b't' | b' ') {
        return None;
    }
    let hour = c.digits(2)?;
    c.expect(b':')?;
    let minute = c.digits(2)?;
    c.expect(b':')?;
    let second = c.digits(2)?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut nanos = 0;
    if c.peek() == Some(b'.') {
        c.next();
        let mut count = 0;
        while let Some(d) = c.peek().filter(u8::is_ascii_digit) {
            c.next();
            // Digits beyond nanoseconds are dropped, as most readers do.
            if count < 9 {
                nanos = nanos * 10 + u32::from(d - b'0');
            }
            count += 1;
        }
        if count == 0 {
            return None;
        }
        for _ in count..9 {
            nanos *= 10;
        }
    }
    let offset = match c.next()? {
        b'Z' | b'z' => 0,
        sign @ (b'+' | b'-') => {
            let hours = c.digits(2)?;
            c.expect(b':')?;
            let minutes = c.digits(2)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = i64::from(hours * 3600 + minutes * 60);
            if sign == b'-' { -offset } else { offset }
        }
        _ => return None,
    };
    if !c.at_end() {
        return None;
    }
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset;
    Some(Date::Instant(Instant { secs, nanos }))
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn expect(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    /// Exactly `n` ASCII digits as a number.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let mut value = 0;
        for _ in 0..n {
            let d = self.next().filter(u8::is_ascii_digit)?;
            value = value * 10 + u32::from(d - b'0');
        }
        Some(value)
    }
}

fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let shifted_month = i64::from((month + 9) % 12);
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secs(text: &str) -> i64 {
        parse(text).unwrap().start().secs
    }

    #[test]
    fn reads_days_and_instants() {
        assert_eq!(parse("1970-01-01"), Some(Date::Day(0)));
        assert_eq!(parse("2024-03-01"), Some(Date::Day(19_783)));
        assert_eq!(secs("2024-05-01T10:20:30Z"), 1_714_558_830);
        assert_eq!(secs("2024-05-01T12:20:30+02:00"), 1_714_558_830);
        assert_eq!(
            parse("2024-05-01T10:20:30.123Z").unwrap().start(),
            Instant {
                secs: 1_714_558_830,
                nanos: 123_000_000
            }
        );
    }

    #[test]
    fn rejects_impossible_or_malformed_dates() {
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-04-31",
            "2024-1-01",
            "2024-05-01T24:00:00Z",
            "2024-05-01T10:20:30",
            "2024-05-01T10:20:30.Z",
            "2024-05-01T10:20Z",
            "2024-05-01Z",
            "2024-05-01T10:20:30Zx",
            "",
            "é",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_day_ends_at_the_next_midnight() {
        let day = parse("2024-12-31").unwrap();
        assert_eq!(day.end(), parse("2025-01-01").unwrap().start());
    }

    proptest! {
        #[test]
        fn agrees_with_chrono(
            secs in -62_135_596_800i64..253_402_300_799,
            nanos in 0u32..1_000_000_000,
            offset_minutes in -(23 * 60 + 59)..(23 * 60 + 59),
        ) {
            use chrono::{DateTime, FixedOffset, SecondsFormat};
            let offset = FixedOffset::east_opt(offset_minutes * 60).unwrap();
            let time = DateTime::from_timestamp(secs, nanos).unwrap().with_timezone(&offset);
            let text = time.to_rfc3339_opts(SecondsFormat::AutoSi, true);
            // Offsets that push the local year out of 0..=9999 print differently; skip them.
            prop_assume!(text.len() >= 4 && text.as_bytes()[0].is_ascii_digit());
            prop_assert_eq!(parse(&text), Some(Date::Instant(Instant { secs, nanos })), "{}", text);
        }

        #[test]
        fn never_panics(text in "\\PC{0,40}") {
            let _ = parse(&text);
        }
    }
}
