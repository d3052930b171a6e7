//! Auth0's timestamps (`2023-12-22T20:56:03.509Z`), kept in eight characters when they are in
//! exactly that form and written out again when read.
//!
//! A profile has up to three (created, updated, last login): 72 of its bytes as text, 24
//! packed. A timestamp is packed only if writing it out gives back the very text Auth0 sent,
//! so what a caller reads never differs from what the tenant said; anything else is kept as
//! sent.

use std::cmp::Ordering;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Datelike, NaiveDate, Timelike};
use serde::{Serialize, Serializer};

/// The length of the form Auth0 writes: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
const WRITTEN: usize = 24;
/// A packed timestamp: milliseconds since 1970 in six bytes, eight characters of base64.
const BYTES: usize = 6;
const PACKED: usize = 8;

/// A profile's timestamp: the text as sent, or a packed one written out when read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Timestamp<'a> {
    Text(&'a str),
    /// Milliseconds since 1970, from years 1970 to 9999.
    Millis(u64),
}

impl<'a> Timestamp<'a> {
    /// A timestamp as a profile holds it: `packed` says whether `stored` is packed.
    pub(super) fn stored(stored: &'a str, packed: bool) -> Self {
        match packed.then(|| unpack(stored)).flatten() {
            Some(millis) => Self::Millis(millis),
            None => Self::Text(stored),
        }
    }

    /// Calls `f` with the text, written out if packed (no allocation either way).
    pub(crate) fn with_text<T>(&self, f: impl FnOnce(&str) -> T) -> T {
        match *self {
            Self::Text(text) => f(text),
            Self::Millis(millis) => {
                let written = write(millis);
                f(std::str::from_utf8(&written).unwrap_or_default())
            }
        }
    }
}

impl std::fmt::Display for Timestamp<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.with_text(|text| f.write_str(text))
    }
}

impl Serialize for Timestamp<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.with_text(|text| serializer.serialize_str(text))
    }
}

/// Ordered as their texts are (for Auth0's form, earliest first).
impl Ord for Timestamp<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            // The written form is fixed-width, so its order is the numbers' order.
            (Self::Millis(a), Self::Millis(b)) => a.cmp(b),
            _ => self.with_text(|a| other.with_text(|b| a.cmp(b))),
        }
    }
}

impl PartialOrd for Timestamp<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Timestamp<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Timestamp<'_> {}

/// The packed form of `text`, if it is a timestamp written exactly as Auth0 writes them.
pub(super) struct Packed([u8; PACKED]);

impl Packed {
    pub(super) fn of(text: &str) -> Option<Self> {
        let millis = parse(text)?;
        // Only what writes back to the same text.
        if write(millis) != text.as_bytes() {
            return None;
        }
        let mut packed = [0u8; PACKED];
        URL_SAFE_NO_PAD
            .encode_slice(&millis.to_be_bytes()[8 - BYTES..], &mut packed)
            .ok()?;
        Some(Self(packed))
    }

    pub(super) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

fn unpack(stored: &str) -> Option<u64> {
    let mut bytes = [0u8; 8];
    match URL_SAFE_NO_PAD.decode_slice(stored, &mut bytes[8 - BYTES..]) {
        Ok(BYTES) if stored.len() == PACKED => Some(u64::from_be_bytes(bytes)),
        _ => None,
    }
}

/// Milliseconds since 1970 of `YYYY-MM-DDTHH:MM:SS.mmmZ`, a real instant from 1970 on.
fn parse(text: &str) -> Option<u64> {
    let bytes: &[u8; WRITTEN] = text.as_bytes().try_into().ok()?;
    let number = |from: usize, to: usize| -> Option<u32> {
        bytes[from..to].iter().try_fold(0u32, |n, b| {
            b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
        })
    };
    let separators = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
    ];
    if separators.iter().any(|(at, b)| bytes[*at] != *b) || bytes[23] != b'Z' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(number(0, 4)?).ok()?,
        number(5, 7)?,
        number(8, 10)?,
    )?;
    let at = date.and_hms_milli_opt(
        number(11, 13)?,
        number(14, 16)?,
        number(17, 19)?,
        number(20, 23)?,
    )?;
    u64::try_from(at.and_utc().timestamp_millis()).ok()
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` of milliseconds since 1970 (years up to 9999).
fn write(millis: u64) -> [u8; WRITTEN] {
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let Some(at) = i64::try_from(millis)
        .ok()
        .and_then(DateTime::from_timestamp_millis)
    else {
        return out;
    };
    let mut put = |at: usize, width: usize, mut value: u32| {
        for slot in out[at..at + width].iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, u32::try_from(at.year()).unwrap_or_default());
    put(5, 2, at.month());
    put(8, 2, at.day());
    put(11, 2, at.hour());
    put(14, 2, at.minute());
    put(17, 2, at.second());
    put(20, 3, at.timestamp_subsec_millis());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> Option<String> {
        let packed = Packed::of(text)?;
        assert_eq!(packed.as_str().len(), PACKED);
        Some(Timestamp::stored(packed.as_str(), true).to_string())
    }

    #[test]
    fn auth0s_form_packs_to_eight_characters_and_writes_back_exactly() {
        for text in [
            "1970-01-01T00:00:00.000Z",
            "2023-12-22T20:56:03.509Z",
            "2024-02-29T23:59:59.999Z",
            "2000-03-01T00:00:00.001Z",
            "2100-12-31T12:00:00.000Z",
            "9999-12-31T23:59:59.999Z",
        ] {
            assert_eq!(round_trip(text).as_deref(), Some(text));
        }
    }

    #[test]
    fn every_day_of_four_centuries_writes_back_as_chrono_writes_it() {
        let mut date = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let last = chrono::NaiveDate::from_ymd_opt(2370, 1, 1).unwrap();
        while date < last {
            let text = format!("{}T07:08:09.010Z", date.format("%Y-%m-%d"));
            assert_eq!(round_trip(&text).as_deref(), Some(text.as_str()), "{date}");
            date = date.succ_opt().unwrap();
        }
    }

    #[test]
    fn anything_else_is_not_packed() {
        for text in [
            "2023-02-29T00:00:00.000Z",
            "2023-04-31T00:00:00.000Z",
            "2023-01-01T24:00:00.000Z",
            "2023-01-01T00:60:00.000Z",
            "2023-01-01T00:00:60.000Z",
            "2023-13-01T00:00:00.000Z",
            "2023-00-01T00:00:00.000Z",
            "1969-12-31T23:59:59.999Z",
            "2023-01-01T00:00:00Z",
            "2023-01-01T00:00:00.000+00:00",
            "2023-01-01 00:00:00.000Z",
            "2023-01-01T00:00:00.000z",
            "+023-01-01T00:00:00.000Z",
            "2023-01-01T00:00:00.0000",
            "",
            "ABCDEFGH",
        ] {
            assert!(Packed::of(text).is_none(), "{text}");
        }
    }

    #[test]
    fn text_that_is_not_packed_reads_as_it_is_even_if_it_looks_packed() {
        assert_eq!(Timestamp::stored("ABCDEFGH", false).to_string(), "ABCDEFGH");
        assert_eq!(
            Timestamp::stored("not packed", true).to_string(),
            "not packed",
            "a malformed packed value is read as text, never a panic"
        );
    }

    #[test]
    fn order_is_the_texts_order_packed_or_not() {
        let (early, late) = ("2023-12-22T20:56:03.509Z", "2024-01-01T00:00:00.000Z");
        let (packed_early, packed_late) = (Packed::of(early).unwrap(), Packed::of(late).unwrap());
        let stored_early = Timestamp::stored(packed_early.as_str(), true);
        let stored_late = Timestamp::stored(packed_late.as_str(), true);
        assert!(stored_early < stored_late);
        assert!(Timestamp::Text(early) < stored_late && stored_early < Timestamp::Text(late));
        assert!(Timestamp::Text(early) == stored_early);
        assert!(Timestamp::Text("2023-12-22 not Auth0's form") < stored_late);
    }
}
