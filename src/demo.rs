//! The demo page's logic as plain types: editable event rows, their conversion to events with
//! per-row errors, and the prefilled example sessions. No Leptos here, so it is `#[test]`ed.

use std::sync::Arc;

use crate::event::{format_time, parse_price, parse_time, validate_sequence, Event, EventKind};

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

fn parse_row_time(s: &str) -> Result<i64, String> {
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

    /// The event this row describes, or the first problem with it.
    pub fn to_event(&self, index: usize) -> Result<Event, RowIssue> {
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
        let price = parse_price(&self.price).map_err(|r| issue("price", r))?;
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
            crate::Error::Event { field, reason, .. } => issue(field, reason),
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
        if let Err(crate::Error::Event {
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

const EXAMPLE_START: i64 = 1_570_030_000_000; // 2019-10-02 15:26:40 UTC

/// Named example sessions for the page.
pub fn examples() -> Vec<(&'static str, Vec<Row>)> {
    use EventKind::*;
    let seq = |items: &[(EventKind, u64, &str, f32, i64)]| -> Vec<Row> {
        items
            .iter()
            .map(|&(k, p, b, pr, dt)| Row::new(k, p, b, pr, EXAMPLE_START + dt * 1000))
            .collect()
    };
    vec![
        (
            "Cart-building, one brand",
            seq(&[
                (View, 5_802_432, "runail", 4.05, 0),
                (Cart, 5_802_432, "runail", 4.05, 20),
                (View, 5_844_397, "runail", 2.38, 45),
                (Cart, 5_844_397, "runail", 2.38, 60),
                (Cart, 5_837_166, "runail", 6.19, 90),
            ]),
        ),
        (
            "Browsing",
            seq(&[
                (View, 5_850_281, "irisk", 1.29, 0),
                (View, 5_809_910, "grattol", 5.24, 30),
                (View, 5_649_236, "", 13.65, 70),
                (View, 5_856_186, "masura", 2.22, 120),
            ]),
        ),
        (
            "Abandoning",
            seq(&[
                (Cart, 5_700_037, "estel", 7.94, 0),
                (View, 5_802_440, "", 3.65, 15),
                (RemoveFromCart, 5_700_037, "estel", 7.94, 40),
                (RemoveFromCart, 5_802_440, "", 3.65, 50),
            ]),
        ),
        (
            "Buying",
            seq(&[
                (Cart, 5_815_662, "kapous", 0.95, 0),
                (Cart, 5_815_664, "kapous", 0.95, 10),
                (Cart, 5_815_665, "kapous", 0.95, 20),
                (Purchase, 5_815_662, "kapous", 0.95, 200),
            ]),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
