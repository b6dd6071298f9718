//! Shop events as the Kaggle dataset names them, their validation, and their parsing
//! from Kaggle CSV rows (by header name) and from JSON.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::{
    format_description::FormatItem, macros::format_description, OffsetDateTime, PrimitiveDateTime,
};

use crate::error::{Error, Result};

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
        check_price(self.price).map_err(|r| Error::event(index, "price", r))?;
        check_time(self.time_ms).map_err(|r| Error::event(index, "event_time", r))?;
        for (field, v) in [
            ("brand", &self.brand),
            ("category_code", &self.category_code),
        ] {
            if let Some(s) = v {
                if s.len() > MAX_TEXT_BYTES {
                    return Err(Error::event(
                        index,
                        field,
                        format!("{} bytes long, the limit is {MAX_TEXT_BYTES}", s.len()),
                    ));
                }
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

fn check_price(p: f32) -> std::result::Result<(), String> {
    if p.is_nan() {
        Err("price is NaN".into())
    } else if p.is_infinite() {
        Err(format!("price is {p}"))
    } else if p < 0.0 {
        Err(format!("negative price {p}"))
    } else if p > MAX_PRICE {
        Err(format!("price {p} is above the limit of {MAX_PRICE}"))
    } else {
        Ok(())
    }
}

fn check_time(ms: i64) -> std::result::Result<(), String> {
    if !(MIN_TIME_MS..MAX_TIME_MS).contains(&ms) {
        Err(format!(
            "time {} is outside 1990-01-01..2100-01-01",
            format_time(ms)
        ))
    } else {
        Ok(())
    }
}

/// Checks that events are in time order and each is valid; the first problem is returned.
pub fn validate_sequence(events: &[Event]) -> Result<()> {
    for (i, e) in events.iter().enumerate() {
        e.validate(i)?;
        if i > 0 && e.time_ms < events[i - 1].time_ms {
            return Err(Error::event(
                i,
                "event_time",
                format!(
                    "{} is earlier than the previous event's {}; events must be in time order",
                    format_time(e.time_ms),
                    format_time(events[i - 1].time_ms)
                ),
            ));
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

/// Parses an event price field (`"4.05"`); rejects NaN, infinities, negatives and huge values.
pub fn parse_price(s: &str) -> std::result::Result<f32, String> {
    let p: f32 = s
        .trim()
        .parse()
        .map_err(|_| format!("non-numeric price {s:?}"))?;
    check_price(p)?;
    Ok(p)
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

/// A Kaggle CSV row parsed into an event plus the columns ingest needs for sessions.
#[derive(Debug, Clone, PartialEq)]
pub struct KaggleRow {
    pub event: Event,
    pub category_id: Option<u64>,
    pub user_id: u64,
    pub user_session: Option<Arc<str>>,
}

/// Why a row was rejected; ingest counts rows per reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    MissingColumn,
    UnparsableTime,
    TimeOutOfRange,
    UnknownEventType,
    BadProductId,
    BadPrice,
    NegativePrice,
    BadUserId,
    TooLongText,
    MalformedCsv,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::MissingColumn => "missing required column",
            RejectReason::UnparsableTime => "unparsable time",
            RejectReason::TimeOutOfRange => "time out of range",
            RejectReason::UnknownEventType => "unknown event type",
            RejectReason::BadProductId => "non-numeric product_id",
            RejectReason::BadPrice => "non-numeric or non-finite price",
            RejectReason::NegativePrice => "negative price",
            RejectReason::BadUserId => "non-numeric user_id",
            RejectReason::TooLongText => "brand or category too long",
            RejectReason::MalformedCsv => "malformed CSV record",
        }
    }
}

/// A rejected row: which field, why, and the row number.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    pub row: u64,
    pub field: &'static str,
    pub reason: RejectReason,
    pub detail: String,
}

impl From<RowError> for Error {
    fn from(e: RowError) -> Self {
        Error::Row {
            row: e.row,
            field: e.field,
            reason: e.detail,
        }
    }
}

/// Column positions of the Kaggle schema, found by header name (any order, extra columns allowed).
#[derive(Debug, Clone)]
pub struct KaggleColumns {
    event_time: usize,
    event_type: usize,
    product_id: usize,
    category_id: Option<usize>,
    category_code: Option<usize>,
    brand: Option<usize>,
    price: usize,
    user_id: Option<usize>,
    user_session: Option<usize>,
}

/// The Kaggle header, in the dataset's order.
pub const KAGGLE_HEADER: [&str; 9] = [
    "event_time",
    "event_type",
    "product_id",
    "category_id",
    "category_code",
    "brand",
    "price",
    "user_id",
    "user_session",
];

impl KaggleColumns {
    /// Finds columns by name. `event_time`, `event_type`, `product_id` and `price` are
    /// required; the rest are optional (a pasted sequence needs no user or session).
    pub fn from_header<'a>(header: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let names: Vec<String> = header
            .into_iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
            .collect();
        let find = |n: &str| names.iter().position(|h| h == n);
        let need = |n: &str| {
            find(n).ok_or_else(|| {
                format!(
                    "header lacks required column `{n}` (found: {})",
                    names.join(",")
                )
            })
        };
        Ok(KaggleColumns {
            event_time: need("event_time")?,
            event_type: need("event_type")?,
            product_id: need("product_id")?,
            category_id: find("category_id"),
            category_code: find("category_code"),
            brand: find("brand"),
            price: need("price")?,
            user_id: find("user_id"),
            user_session: find("user_session"),
        })
    }

    /// Whether the session columns needed for ingest are present.
    pub fn has_sessions(&self) -> bool {
        self.user_id.is_some() && self.user_session.is_some()
    }

    /// Parses one record (already split by the csv crate). `row` is the 1-based data row.
    /// `intern` turns brand/category strings into shared `Arc<str>`s (ingest interns them).
    pub fn parse(
        &self,
        rec: &csv::StringRecord,
        row: u64,
        intern: &mut dyn FnMut(&str) -> Arc<str>,
    ) -> std::result::Result<KaggleRow, RowError> {
        let err = |field, reason, detail: String| RowError {
            row,
            field,
            reason,
            detail,
        };
        let get = |i: usize, field: &'static str| {
            rec.get(i).ok_or_else(|| {
                err(
                    field,
                    RejectReason::MissingColumn,
                    format!("row has {} fields, `{field}` is missing", rec.len()),
                )
            })
        };
        let t = get(self.event_time, "event_time")?;
        let time_ms =
            parse_time(t).map_err(|d| err("event_time", RejectReason::UnparsableTime, d))?;
        check_time(time_ms).map_err(|d| err("event_time", RejectReason::TimeOutOfRange, d))?;
        let k = get(self.event_type, "event_type")?;
        let kind = EventKind::parse(k.trim()).ok_or_else(|| {
            err(
                "event_type",
                RejectReason::UnknownEventType,
                format!("unknown event type {k:?}"),
            )
        })?;
        let p = get(self.product_id, "product_id")?;
        let product_id: u64 = p.trim().parse().map_err(|_| {
            err(
                "product_id",
                RejectReason::BadProductId,
                format!("non-numeric product_id {p:?}"),
            )
        })?;
        let pr = get(self.price, "price")?;
        let price: f32 = pr
            .trim()
            .parse()
            .ok()
            .filter(|v: &f32| v.is_finite())
            .ok_or_else(|| {
                err(
                    "price",
                    RejectReason::BadPrice,
                    format!("non-numeric price {pr:?}"),
                )
            })?;
        if price < 0.0 {
            return Err(err(
                "price",
                RejectReason::NegativePrice,
                format!("negative price {price}"),
            ));
        }
        if price > MAX_PRICE {
            return Err(err(
                "price",
                RejectReason::BadPrice,
                format!("price {price} above {MAX_PRICE}"),
            ));
        }
        let mut text = |i: Option<usize>,
                        field: &'static str|
         -> std::result::Result<Option<Arc<str>>, RowError> {
            match i {
                None => Ok(None),
                Some(i) => {
                    let v = get(i, field)?.trim();
                    if v.is_empty() {
                        Ok(None)
                    } else if v.len() > MAX_TEXT_BYTES {
                        Err(err(
                            field,
                            RejectReason::TooLongText,
                            format!("{} bytes long", v.len()),
                        ))
                    } else {
                        Ok(Some(intern(v)))
                    }
                }
            }
        };
        let brand = text(self.brand, "brand")?;
        let category_code = text(self.category_code, "category_code")?;
        let user_session = text(self.user_session, "user_session")?;
        let category_id = match self.category_id {
            Some(i) => get(i, "category_id")?.trim().parse().ok(),
            None => None,
        };
        let user_id = match self.user_id {
            Some(i) => {
                let u = get(i, "user_id")?;
                u.trim().parse().map_err(|_| {
                    err(
                        "user_id",
                        RejectReason::BadUserId,
                        format!("non-numeric user_id {u:?}"),
                    )
                })?
            }
            None => 0,
        };
        Ok(KaggleRow {
            event: Event {
                time_ms,
                kind,
                product_id,
                brand,
                price,
                category_code,
            },
            category_id,
            user_id,
            user_session,
        })
    }
}

/// Parses Kaggle-format CSV text (with a header) into events, for small inputs such as pasted
/// rows. Every bad row is reported with its number; good rows are kept.
pub fn parse_kaggle_csv(text: &str) -> (Vec<Event>, Vec<RowError>) {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let cols = match rdr.headers() {
        Ok(h) => match KaggleColumns::from_header(h.iter()) {
            Ok(c) => c,
            Err(detail) => {
                errors.push(RowError {
                    row: 0,
                    field: "header",
                    reason: RejectReason::MissingColumn,
                    detail,
                });
                return (events, errors);
            }
        },
        Err(e) => {
            errors.push(RowError {
                row: 0,
                field: "header",
                reason: RejectReason::MalformedCsv,
                detail: e.to_string(),
            });
            return (events, errors);
        }
    };
    let mut intern = |s: &str| -> Arc<str> { Arc::from(s) };
    for (i, rec) in rdr.records().enumerate() {
        let row = i as u64 + 1;
        match rec {
            Ok(rec) => match cols.parse(&rec, row, &mut intern) {
                Ok(r) => events.push(r.event),
                Err(e) => errors.push(e),
            },
            Err(e) => errors.push(RowError {
                row,
                field: "record",
                reason: RejectReason::MalformedCsv,
                detail: e.to_string(),
            }),
        }
    }
    (events, errors)
}

/// Parses a JSON array of events; the error names the index and field that failed.
pub fn events_from_json(json: &str) -> Result<Vec<Event>> {
    let values: Vec<serde_json::Value> = serde_json::from_str(json)
        .map_err(|e| Error::Payload(format!("not a JSON array of events: {e}")))?;
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| event_from_json_value(i, v))
        .collect()
}

/// Reads one event from a JSON value, naming the field that is wrong, then validates it.
pub fn event_from_json_value(index: usize, v: serde_json::Value) -> Result<Event> {
    let obj = v.as_object().ok_or_else(|| {
        Error::event(
            index,
            "event",
            format!("expected an object, got {}", json_kind(&v)),
        )
    })?;
    for field in ["event_time", "event_type", "product_id", "price"] {
        match obj.get(field) {
            None => return Err(Error::event(index, field, "missing")),
            Some(serde_json::Value::Null) => return Err(Error::event(index, field, "is null")),
            _ => {}
        }
    }
    if let Some(k) = obj.get("event_type") {
        match k.as_str() {
            Some(s) if EventKind::parse(s).is_none() => {
                return Err(Error::event(
                    index,
                    "event_type",
                    format!(
                    "unknown event type {s:?} (expected view, cart, remove_from_cart or purchase)"
                ),
                ))
            }
            None => {
                return Err(Error::event(
                    index,
                    "event_type",
                    format!("expected a string, got {}", json_kind(k)),
                ))
            }
            _ => {}
        }
    }
    let e: Event =
        serde_json::from_value(serde_json::Value::Object(obj.clone())).map_err(|err| {
            let msg = err.to_string();
            let field = [
                "event_time",
                "product_id",
                "price",
                "brand",
                "category_code",
            ]
            .into_iter()
            .find(|f| msg.contains(f))
            .unwrap_or_else(|| field_of_type_error(obj, &msg));
            Error::event(index, field, msg)
        })?;
    e.validate(index)?;
    Ok(e)
}

fn field_of_type_error(
    obj: &serde_json::Map<String, serde_json::Value>,
    _msg: &str,
) -> &'static str {
    if !obj.get("price").is_some_and(|p| p.is_number()) {
        "price"
    } else if !obj.get("product_id").is_some_and(|p| p.is_u64()) {
        "product_id"
    } else if obj
        .get("brand")
        .is_some_and(|b| !b.is_string() && !b.is_null())
    {
        "brand"
    } else if obj
        .get("category_code")
        .is_some_and(|b| !b.is_string() && !b.is_null())
    {
        "category_code"
    } else {
        "event_time"
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
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
    fn csv_rows_by_header_name_in_any_order_with_reasons() {
        let text = "price,event_type,event_time,product_id,brand\n\
                    4.05,view,2019-10-01 00:00:00 UTC,5802432,runail\n\
                    -1,purchase,2019-10-01 00:00:01 UTC,1,\n\
                    3,fly,2019-10-01 00:00:02 UTC,1,\n\
                    NaN,cart,2019-10-01 00:00:03 UTC,1,\n\
                    2,cart,not a time,1,\n";
        let (ev, errs) = parse_kaggle_csv(text);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].brand.as_deref(), Some("runail"));
        assert_eq!(ev[0].kind, EventKind::View);
        let reasons: Vec<_> = errs.iter().map(|e| (e.row, e.field, e.reason)).collect();
        assert_eq!(
            reasons,
            vec![
                (2, "price", RejectReason::NegativePrice),
                (3, "event_type", RejectReason::UnknownEventType),
                (4, "price", RejectReason::BadPrice),
                (5, "event_time", RejectReason::UnparsableTime),
            ]
        );
        let (_, errs) = parse_kaggle_csv("event_time,price\n");
        assert!(errs[0].detail.contains("event_type"), "{}", errs[0].detail);
    }

    #[test]
    fn json_events_name_the_bad_field_and_index() {
        let ok = r#"[{"event_type":"cart","event_time":"2020-01-01T10:00:00Z","product_id":5,"price":3.5,"brand":"masura"},
                     {"event_type":"view","event_time":1577872800000,"product_id":6,"price":0}]"#;
        let ev = events_from_json(ok).unwrap();
        assert_eq!(ev[1].time_ms, 1_577_872_800_000);
        assert_eq!(ev[0].brand.as_deref(), Some("masura"));
        let cases = [
            (
                r#"[{"event_type":"fly","event_time":0,"product_id":1,"price":1}]"#,
                "event 0: field `event_type`",
            ),
            (
                r#"[{"event_type":"view","event_time":"2020-01-01T10:00:00Z","product_id":1,"price":-2}]"#,
                "event 0: field `price`: negative",
            ),
            (
                r#"[{"event_type":"view","event_time":"2020-01-01T10:00:00Z","product_id":1,"price":"x"}]"#,
                "field `price`",
            ),
            (
                r#"[{"event_type":"view","event_time":"2020-01-01T10:00:00Z","product_id":1}]"#,
                "field `price`: missing",
            ),
            (
                r#"[{"event_type":"view","event_time":"garbage","product_id":1,"price":1}]"#,
                "field `event_time`",
            ),
            (
                r#"[{"event_type":"view","event_time":"2020-01-01T10:00:00Z","product_id":1,"price":1e12}]"#,
                "above the limit",
            ),
            (r#"[1]"#, "event 0: field `event`"),
            (r#"{}"#, "not a JSON array"),
        ];
        for (json, want) in cases {
            let e = events_from_json(json).unwrap_err().to_string();
            assert!(e.contains(want), "{json}: got {e}");
        }
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
