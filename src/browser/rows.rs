//! The demo's sequence editor as plain types: editable event rows, their conversion to
//! events with per-row errors, pasted Kaggle CSV rows and reordering. No Leptos here, so it is
//! `#[test]`ed natively; `page::editor` only wires it to the DOM.

use std::sync::Arc;

use crate::browser::examples::EXAMPLE_START;
use crate::core::event::{
    format_time, parse_price, parse_time, validate_sequence, Event, EventKind,
};
use crate::core::kaggle_csv::{parse_kaggle_csv, KAGGLE_HEADER};

/// One editable row of the sequence editor; every field is the text the user typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub kind: String,
    pub product_id: String,
    pub brand: String,
    pub price: String,
    /// `2019-10-01T10:00:00` (a datetime-local value, read as UTC) or `2019-10-01 10:00:00 UTC`.
    pub time: String,
}

/// A problem with one row: which field and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RowIssue {
    pub row: usize,
    pub field: &'static str,
    pub reason: String,
}

/// Time as a datetime-local value (UTC), e.g. `2019-10-01T10:00:00`.
pub fn local_time(ms: i64) -> String {
    let s = format_time(ms); // 2019-10-01 10:00:00 UTC
    s.trim_end_matches(" UTC").replacen(' ', "T", 1)
}

fn parse_row_time(s: &str) -> std::result::Result<i64, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("time is empty".into());
    }
    if s.ends_with("UTC") || s.ends_with('Z') || s.contains('+') {
        return parse_time(s);
    }
    // datetime-local: no zone, seconds optional.
    let with_secs = if s.len() == 16 {
        format!("{s}:00")
    } else {
        s.to_string()
    };
    parse_time(&format!("{with_secs}Z"))
}

impl Row {
    pub fn new(kind: EventKind, product_id: u64, brand: &str, price: f32, time_ms: i64) -> Self {
        Row {
            kind: kind.as_str().into(),
            product_id: product_id.to_string(),
            brand: brand.into(),
            price: format!("{price:.2}"),
            time: local_time(time_ms),
        }
    }

    /// The row showing an existing event.
    pub fn from_event(e: &Event) -> Self {
        Row {
            kind: e.kind.as_str().into(),
            product_id: e.product_id.to_string(),
            brand: e.brand.as_deref().unwrap_or("").into(),
            price: format!("{:.2}", e.price),
            time: local_time(e.time_ms),
        }
    }

    /// The event this row describes, or the first problem with it.
    pub fn to_event(&self, index: usize) -> std::result::Result<Event, RowIssue> {
        let issue = |field, reason: String| RowIssue {
            row: index,
            field,
            reason,
        };
        let kind = EventKind::parse(self.kind.trim())
            .ok_or_else(|| issue("event_type", format!("unknown event type {:?}", self.kind)))?;
        let product_id = self.product_id.trim().parse().map_err(|_| {
            issue(
                "product_id",
                format!("product id {:?} is not a whole number", self.product_id),
            )
        })?;
        let price = parse_price(&self.price).map_err(|r| issue("price", r.to_string()))?;
        let time_ms = parse_row_time(&self.time).map_err(|r| issue("event_time", r))?;
        let brand = Some(self.brand.trim())
            .filter(|b| !b.is_empty())
            .map(Arc::from);
        let e = Event {
            time_ms,
            kind,
            product_id,
            brand,
            price,
            category_code: None,
        };
        e.validate(index).map_err(|err| match err {
            crate::core::Error::Event { field, reason, .. } => issue(field, reason),
            other => issue("event", other.to_string()),
        })?;
        Ok(e)
    }
}

/// Converts rows to events. Returns the events of valid rows (in order) and every row issue,
/// including events out of time order. Prediction runs only when there are no issues.
pub fn rows_to_events(rows: &[Row]) -> (Vec<Event>, Vec<RowIssue>) {
    let mut events = Vec::new();
    let mut issues = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        match r.to_event(i) {
            Ok(e) => events.push(e),
            Err(x) => issues.push(x),
        }
    }
    if issues.is_empty() {
        if let Err(crate::core::Error::Event {
            index,
            field,
            reason,
        }) = validate_sequence(&events)
        {
            issues.push(RowIssue {
                row: index,
                field,
                reason,
            });
        }
    }
    (events, issues)
}

/// A new row one minute after the last one (same product and brand), or a first view.
pub fn next_row(rows: &[Row]) -> Row {
    match rows.last() {
        Some(last) => {
            let t = parse_row_time(&last.time).unwrap_or(EXAMPLE_START) + 60_000;
            Row {
                time: local_time(t),
                kind: "view".into(),
                ..last.clone()
            }
        }
        None => Row::new(EventKind::View, 5_802_432, "runail", 4.05, EXAMPLE_START),
    }
}

/// Moves row `i` one place up (`up`) or down; returns whether anything moved.
pub fn move_row(rows: &mut [Row], i: usize, up: bool) -> bool {
    let j = if up { i.checked_sub(1) } else { Some(i + 1) };
    match j {
        Some(j) if i < rows.len() && j < rows.len() => {
            rows.swap(i, j);
            true
        }
        _ => false,
    }
}

/// Rows pasted as Kaggle CSV, and every line that was rejected with its reason.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pasted {
    pub rows: Vec<Row>,
    /// `line N: field: reason`, one per rejected line (line numbers as pasted).
    pub rejected: Vec<String>,
}

/// Parses pasted Kaggle-schema rows. A header line is optional: without one the columns are
/// read in the dataset's order (`event_time,event_type,product_id,category_id,category_code,
/// brand,price,user_id,user_session`), as many as the first line has: trailing columns such as
/// `user_id,user_session` may be left out. Blank lines are skipped.
pub fn paste_rows(text: &str) -> Pasted {
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let has_header = first.split(',').any(|c| c.trim() == "event_type");
    let body = if has_header {
        text.to_string()
    } else {
        let fields = first.split(',').count().clamp(7, KAGGLE_HEADER.len());
        format!("{}\n{text}", KAGGLE_HEADER[..fields].join(","))
    };
    // Blank-line handling is the csv crate's; line numbers count data lines after the header.
    let (events, errors) = parse_kaggle_csv(&body);
    // csv skips blank lines: the pasted line number of each data record, computed once.
    let data_lines: Vec<u64> = text
        .lines()
        .enumerate()
        .skip(usize::from(has_header))
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, _)| n as u64 + 1)
        .collect();
    let blank_before = |row: u64| -> u64 {
        data_lines
            .get((row as usize).wrapping_sub(1))
            .copied()
            .unwrap_or(row)
    };
    Pasted {
        rows: events.iter().map(Row::from_event).collect(),
        rejected: errors
            .into_iter()
            .map(|e| {
                let line = if e.row == 0 { 1 } else { blank_before(e.row) };
                format!("line {line}: {}: {}", e.field, e.detail)
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::examples::examples;

    #[test]
    fn rows_round_trip_and_errors_name_the_row() {
        let (_, rows) = &examples()[0];
        let (ev, issues) = rows_to_events(rows);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(ev.len(), rows.len());
        assert_eq!(ev[1].time_ms - ev[0].time_ms, 20_000);
        let mut bad = rows.clone();
        bad[2].price = "-3".into();
        bad[3].kind = "wishlist".into();
        let (ev, issues) = rows_to_events(&bad);
        assert_eq!(ev.len(), rows.len() - 2);
        assert_eq!((issues[0].row, issues[0].field), (2, "price"));
        assert_eq!((issues[1].row, issues[1].field), (3, "event_type"));
    }

    #[test]
    fn out_of_order_rows_are_flagged_and_new_rows_follow_a_minute_later() {
        let (_, mut rows) = examples()[1].clone();
        let next = next_row(&rows);
        let (ev, _) = rows_to_events(&[rows.last().unwrap().clone(), next]);
        assert_eq!(ev[1].time_ms - ev[0].time_ms, 60_000);
        rows.swap(0, 1);
        let (_, issues) = rows_to_events(&rows);
        assert_eq!((issues[0].row, issues[0].field), (1, "event_time"));
        assert_eq!(
            parse_row_time("2019-10-01T10:00").unwrap(),
            parse_time("2019-10-01 10:00:00 UTC").unwrap()
        );
    }

    #[test]
    fn rows_move_up_and_down_within_bounds() {
        let (_, mut rows) = examples()[0].clone();
        let (a, b) = (rows[0].clone(), rows[1].clone());
        assert!(move_row(&mut rows, 1, true));
        assert_eq!((&rows[0], &rows[1]), (&b, &a));
        assert!(move_row(&mut rows, 0, false));
        assert_eq!(rows[0], a);
        assert!(!move_row(&mut rows, 0, true));
        let n = rows.len();
        assert!(!move_row(&mut rows, n - 1, false));
        assert!(!move_row(&mut rows, n + 3, true));
    }

    #[test]
    fn pasted_rows_with_or_without_header_and_rejects_named_by_line() {
        let with_header = "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session\n\
            2019-10-01 00:00:00 UTC,cart,5773203,1487580005134238464,,runail,2.62,463240011,s1\n\
            2019-10-01 00:00:03 UTC,purchase,5773353,1487580005134238464,,runail,2.62,463240011,s1\n";
        let p = paste_rows(with_header);
        assert!(p.rejected.is_empty(), "{:?}", p.rejected);
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.rows[0].kind, "cart");
        assert_eq!(p.rows[0].brand, "runail");
        assert_eq!(p.rows[1].time, "2019-10-01T00:00:03");

        // No header, Kaggle column order, a blank line, a bad price and an unknown type.
        let bare = "2019-10-01 00:00:00 UTC,view,5802432,,,runail,4.05,1,s\n\n\
            2019-10-01 00:01:00 UTC,view,5802432,,,runail,-4,1,s\n\
            2019-10-01 00:02:00 UTC,wishlist,5802432,,,runail,4.05,1,s\n\
            2019-10-01 00:03:00 UTC,cart,5802432,,,,4.05,1,s\n";
        let p = paste_rows(bare);
        assert_eq!(p.rows.len(), 2, "{p:?}");
        assert_eq!(p.rows[1].brand, "");
        assert_eq!(p.rejected.len(), 2, "{:?}", p.rejected);
        assert!(
            p.rejected[0].starts_with("line 3: price:"),
            "{}",
            p.rejected[0]
        );
        assert!(
            p.rejected[1].starts_with("line 4: event_type:"),
            "{}",
            p.rejected[1]
        );

        let short = "2019-10-01 00:00:00 UTC,view,5802432,,,runail,4.05\n\
            2019-10-01 00:01:00 UTC,cart,5802432,,,runail,4.05\n";
        assert_eq!(paste_rows(short).rows.len(), 2, "{:?}", paste_rows(short));

        let p = paste_rows("not,a,kaggle,row");
        assert!(p.rows.is_empty());
        assert_eq!(p.rejected.len(), 1, "{p:?}");
        assert!(paste_rows("").rejected.is_empty());
    }
}
