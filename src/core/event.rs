//! Shop events as the Kaggle dataset names them and the rules every reader applies to them:
//! one price rule, one time range and one time-order rule, used by the CSV and JSON readers,
//! the JS API, the demo's editor and the live session.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::{
    format_description::FormatItem, macros::format_description, OffsetDateTime, PrimitiveDateTime,
};

use crate::core::error::{Error, Result};

/// The four event kinds, with the dataset's own names. Their order is the model's class order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    View,
    Cart,
    RemoveFromCart,
    Purchase,
}

impl EventKind {
    /// All kinds in class order.
    pub const ALL: [EventKind; 4] = [
        EventKind::View,
        EventKind::Cart,
        EventKind::RemoveFromCart,
        EventKind::Purchase,
    ];

    /// The dataset's name for this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::View => "view",
            EventKind::Cart => "cart",
            EventKind::RemoveFromCart => "remove_from_cart",
            EventKind::Purchase => "purchase",
        }
    }

    /// Class index (0..4).
    pub fn index(self) -> usize {
        self as usize
    }

    /// Kind for a class index.
    pub fn from_index(i: usize) -> Result<Self> {
        Self::ALL.get(i).copied().ok_or(Error::Class(i))
    }

    /// Parses the dataset's name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "view" => EventKind::View,
            "cart" => EventKind::Cart,
            "remove_from_cart" => EventKind::RemoveFromCart,
            "purchase" => EventKind::Purchase,
            _ => return None,
        })
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Upper bound for a price; larger values are rejected as implausible (the dataset's max is 327.78).
pub const MAX_PRICE: f32 = 1.0e6;
/// Longest accepted brand or category string, in bytes.
pub const MAX_TEXT_BYTES: usize = 256;
/// Earliest accepted event time: 1990-01-01T00:00:00Z, in ms.
pub const MIN_TIME_MS: i64 = 631_152_000_000;
/// Latest accepted event time: 2100-01-01T00:00:00Z, in ms.
pub const MAX_TIME_MS: i64 = 4_102_444_800_000;

/// One shopper event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When it happened, UTC, as milliseconds since the Unix epoch. JSON accepts an ISO 8601 /
    /// RFC 3339 string, the Kaggle form `2019-10-01 00:00:00 UTC`, or epoch milliseconds.
    #[serde(rename = "event_time", with = "time_serde")]
    pub time_ms: i64,
    #[serde(rename = "event_type")]
    pub kind: EventKind,
    pub product_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<Arc<str>>,
    pub price: f32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_code: Option<Arc<str>>,
}

impl Event {
    /// Checks the values a parser cannot: finite, non-negative, plausible price; time in
    /// range; bounded strings. `index` names the event in the error.
    pub fn validate(&self, index: usize) -> Result<()> {
        check_price(self.price).map_err(|r| Error::event(index, "price", r.to_string()))?;
        check_time(self.time_ms).map_err(|r| Error::event(index, "event_time", r))?;
        for (field, v) in [
            ("brand", &self.brand),
            ("category_code", &self.category_code),
        ] {
            if let Some(s) = v {
                check_text(s).map_err(|r| Error::event(index, field, r))?;
            }
        }
        Ok(())
    }

    /// Hour of day in UTC as a fraction (0.0..24.0).
    pub fn hour_of_day(&self) -> f32 {
        let ms_of_day = self.time_ms.rem_euclid(86_400_000);
        ms_of_day as f32 / 3_600_000.0
    }

    /// Day of week, Monday = 0 … Sunday = 6 (UTC).
    pub fn weekday(&self) -> u32 {
        // 1970-01-01 was a Thursday (3).
        (self.time_ms.div_euclid(86_400_000) + 3).rem_euclid(7) as u32
    }
}

/// What is wrong with a price: the one price rule, shared by every reader.
#[derive(Debug, Clone, PartialEq)]
pub enum PriceProblem {
    /// The text is not a number at all.
    NonNumeric(String),
    NotANumber,
    Infinite(f32),
    Negative(f32),
    /// Above [`MAX_PRICE`].
    TooHigh(f32),
}

impl std::fmt::Display for PriceProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PriceProblem::NonNumeric(s) => write!(f, "non-numeric price {s:?}"),
            PriceProblem::NotANumber => f.write_str("price is NaN"),
            PriceProblem::Infinite(p) => write!(f, "price is {p}"),
            PriceProblem::Negative(p) => write!(f, "negative price {p}"),
            PriceProblem::TooHigh(p) => write!(f, "price {p} is above the limit of {MAX_PRICE}"),
        }
    }
}

/// The price rule: finite, not negative, at most [`MAX_PRICE`].
pub fn check_price(p: f32) -> std::result::Result<(), PriceProblem> {
    if p.is_nan() {
        Err(PriceProblem::NotANumber)
    } else if p.is_infinite() {
        Err(PriceProblem::Infinite(p))
    } else if p < 0.0 {
        Err(PriceProblem::Negative(p))
    } else if p > MAX_PRICE {
        Err(PriceProblem::TooHigh(p))
    } else {
        Ok(())
    }
}

/// Parses a price field (`"4.05"`) and applies [`check_price`].
pub fn parse_price(s: &str) -> std::result::Result<f32, PriceProblem> {
    let p: f32 = s
        .trim()
        .parse()
        .map_err(|_| PriceProblem::NonNumeric(s.to_string()))?;
    check_price(p)?;
    Ok(p)
}

/// The time range rule: 1990-01-01 ≤ time < 2100-01-01.
pub fn check_time(ms: i64) -> std::result::Result<(), String> {
    if !(MIN_TIME_MS..MAX_TIME_MS).contains(&ms) {
        Err(format!(
            "time {} is outside 1990-01-01..2100-01-01",
            format_time(ms)
        ))
    } else {
        Ok(())
    }
}

/// The text rule for brands and categories: at most [`MAX_TEXT_BYTES`].
pub fn check_text(s: &str) -> std::result::Result<(), String> {
    if s.len() > MAX_TEXT_BYTES {
        Err(format!(
            "{} bytes long, the limit is {MAX_TEXT_BYTES}",
            s.len()
        ))
    } else {
        Ok(())
    }
}

/// The time-order rule: an event may not be earlier than the one before it (ties are fine).
pub fn check_order(previous_ms: i64, ms: i64) -> std::result::Result<(), String> {
    if ms < previous_ms {
        Err(format!(
            "{} is earlier than the previous event's {}; events must be in time order",
            format_time(ms),
            format_time(previous_ms)
        ))
    } else {
        Ok(())
    }
}

/// Checks that events are in time order and each is valid; the first problem is returned.
pub fn validate_sequence(events: &[Event]) -> Result<()> {
    for (i, e) in events.iter().enumerate() {
        e.validate(i)?;
        if i > 0 {
            check_order(events[i - 1].time_ms, e.time_ms)
                .map_err(|r| Error::event(i, "event_time", r))?;
        }
    }
    Ok(())
}

const KAGGLE_TIME: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");

/// Parses an event time: Kaggle's `2019-10-01 00:00:00 UTC` or RFC 3339; returns epoch ms.
pub fn parse_time(s: &str) -> std::result::Result<i64, String> {
    let s = s.trim();
    let dt = if let Ok(p) = PrimitiveDateTime::parse(s, KAGGLE_TIME) {
        p.assume_utc()
    } else if let Ok(o) = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        o
    } else {
        return Err(format!(
            "unparsable time {s:?} (expected `2019-10-01 00:00:00 UTC` or RFC 3339)"
        ));
    };
    Ok((dt.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Formats epoch ms the way the dataset does (`2019-10-01 00:00:00 UTC`).
pub fn format_time(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(KAGGLE_TIME).ok())
        .unwrap_or_else(|| format!("{ms} ms"))
}

mod time_serde {
    use serde::{de, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(*ms as i128 * 1_000_000)
            .map_err(serde::ser::Error::custom)?;
        let text = t
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = i64;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an ISO 8601 time string or epoch milliseconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
                super::parse_time(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
                Ok(v)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
                i64::try_from(v).map_err(|_| E::custom(format!("time {v} out of range")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
                if v.is_finite() && v.abs() < 9.0e15 {
                    Ok(v.round() as i64)
                } else {
                    Err(E::custom(format!(
                        "time {v} is not a finite epoch millisecond count"
                    )))
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kaggle_time_and_rfc3339_agree() {
        let a = parse_time("2019-10-01 00:00:05 UTC").unwrap();
        let b = parse_time("2019-10-01T00:00:05Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, 1_569_888_005_000);
        assert_eq!(format_time(a), "2019-10-01 00:00:05 UTC");
        assert!(parse_time("yesterday").unwrap_err().contains("unparsable"));
    }

    #[test]
    fn weekday_and_hour_match_the_time_crate() {
        for ms in [
            0i64,
            1_569_888_005_000,
            1_580_515_199_000,
            1_700_000_123_456,
        ] {
            let e = Event {
                time_ms: ms,
                kind: EventKind::View,
                product_id: 1,
                brand: None,
                price: 1.0,
                category_code: None,
            };
            let t = OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap();
            assert_eq!(e.weekday(), t.weekday().number_days_from_monday() as u32);
            let h = t.hour() as f32 + t.minute() as f32 / 60.0 + t.second() as f32 / 3600.0;
            assert!((e.hour_of_day() - h).abs() < 1e-3);
        }
    }

    #[test]
    fn one_price_rule_for_every_reader() {
        assert_eq!(parse_price(" 4.05 "), Ok(4.05));
        assert_eq!(parse_price("NaN"), Err(PriceProblem::NotANumber));
        assert_eq!(parse_price("-1"), Err(PriceProblem::Negative(-1.0)));
        assert_eq!(
            parse_price("inf"),
            Err(PriceProblem::Infinite(f32::INFINITY))
        );
        assert_eq!(parse_price("2e6"), Err(PriceProblem::TooHigh(2e6)));
        assert_eq!(
            parse_price("cheap").unwrap_err().to_string(),
            "non-numeric price \"cheap\""
        );
        assert_eq!(check_price(0.0), Ok(()));
    }

    #[test]
    fn sequences_must_be_in_time_order() {
        let mk = |t| Event {
            time_ms: t,
            kind: EventKind::View,
            product_id: 1,
            brand: None,
            price: 1.0,
            category_code: None,
        };
        let base = 1_577_872_800_000;
        assert!(validate_sequence(&[mk(base), mk(base + 1)]).is_ok());
        let e = validate_sequence(&[mk(base), mk(base + 5), mk(base + 1)])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("event 2: field `event_time`"), "{e}");
        let e = validate_sequence(&[mk(-5)]).unwrap_err().to_string();
        assert!(e.contains("outside"), "{e}");
    }
}
