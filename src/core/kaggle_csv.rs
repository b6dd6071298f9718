//! The Kaggle CSV reader: columns found by header name (any order, extra columns allowed),
//! one record → an event plus the columns ingest needs, every rejected row with a reason.
//! Text in, events out: reading files is the data side's job.

use std::sync::Arc;

use serde::Serialize;

use crate::core::error::Error;
use crate::core::event::{
    check_text, check_time, parse_price, parse_time, Event, EventKind, PriceProblem,
};

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
    /// `intern(field, text)` turns brand, category and session strings into `Arc<str>`s
    /// (ingest shares repeated ones; the streaming scorer shares brands and categories but
    /// not session ids, which would otherwise all stay in memory).
    pub fn parse(
        &self,
        rec: &csv::StringRecord,
        row: u64,
        intern: &mut dyn FnMut(&'static str, &str) -> Arc<str>,
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
        let price = parse_price(pr).map_err(|p| {
            let reason = match p {
                PriceProblem::Negative(_) => RejectReason::NegativePrice,
                _ => RejectReason::BadPrice,
            };
            err("price", reason, p.to_string())
        })?;
        let mut text = |i: Option<usize>,
                        field: &'static str|
         -> std::result::Result<Option<Arc<str>>, RowError> {
            match i {
                None => Ok(None),
                Some(i) => {
                    let v = get(i, field)?.trim();
                    if v.is_empty() {
                        Ok(None)
                    } else if let Err(r) = check_text(v) {
                        Err(err(field, RejectReason::TooLongText, r))
                    } else {
                        Ok(Some(intern(field, v)))
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
    let mut intern = |_: &'static str, s: &str| -> Arc<str> { Arc::from(s) };
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
