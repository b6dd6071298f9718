//! External context (optional, off by default): a calendar of promotion days and holidays,
//! read from CSV or JSON text (the data side reads the file), turned into per-event features
//! by the encoder. A model trained with it carries the calendar inside its feature spec, so
//! the browser encodes the same features without fetching anything.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::core::error::{Error, Result};
use crate::core::event::Event;

/// Names of the context features, in tensor order.
pub const CONTEXT_FEATURES: [&str; 3] = ["promo_day", "holiday", "promo_within_3_days"];
/// Number of context features per event.
pub const N_CONTEXT: usize = CONTEXT_FEATURES.len();

const DAY_MS: i64 = 86_400_000;

/// Promotion days and holidays, as UTC dates `YYYY-MM-DD` (sorted, no duplicates).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    pub promo: Vec<String>,
    pub holiday: Vec<String>,
}

/// One entry of a calendar file.
#[derive(Debug, Clone, Deserialize)]
struct Entry {
    date: String,
    kind: String,
}

fn day_number(date: &str) -> std::result::Result<i64, String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(date.trim(), &fmt)
        .map_err(|e| format!("{date:?} is not a YYYY-MM-DD date: {e}"))?;
    Ok(
        (d - time::Date::from_calendar_date(1970, time::Month::January, 1).expect("epoch"))
            .whole_days(),
    )
}

impl Calendar {
    fn from_entries(entries: impl IntoIterator<Item = (String, Result<Entry>)>) -> Result<Self> {
        let (mut promo, mut holiday) = (BTreeSet::new(), BTreeSet::new());
        for (at, e) in entries {
            let e = e?;
            day_number(&e.date).map_err(|r| Error::calendar(&at, format!("date: {r}")))?;
            let date = e.date.trim().to_string();
            match e.kind.trim().to_ascii_lowercase().as_str() {
                "promo" | "promotion" => promo.insert(date),
                "holiday" => holiday.insert(date),
                other => {
                    return Err(Error::calendar(
                        at,
                        format!("kind: {other:?} is neither \"promo\" nor \"holiday\""),
                    ))
                }
            };
        }
        Ok(Calendar {
            promo: promo.into_iter().collect(),
            holiday: holiday.into_iter().collect(),
        })
    }

    /// Reads `date,kind` CSV (header required; kind `promo` or `holiday`); errors name the line.
    pub fn from_csv(text: &str) -> Result<Self> {
        let mut r = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let entries: Vec<(String, Result<Entry>)> = r
            .deserialize::<Entry>()
            .enumerate()
            .map(|(i, e)| {
                let at = format!("line {}", i + 2);
                let e = e.map_err(|e| Error::calendar(&at, e));
                (at, e)
            })
            .collect();
        Self::from_entries(entries)
    }

    /// Reads a JSON array of `{"date": "YYYY-MM-DD", "kind": "promo" | "holiday"}`.
    pub fn from_json(text: &str) -> Result<Self> {
        let v: Vec<serde_json::Value> = serde_json::from_str(text)
            .map_err(|e| Error::calendar("file", format!("not a JSON array: {e}")))?;
        Self::from_entries(v.into_iter().enumerate().map(|(i, x)| {
            let at = format!("entry {i}");
            let e = serde_json::from_value::<Entry>(x).map_err(|e| Error::calendar(&at, e));
            (at, e)
        }))
    }

    /// An example calendar for the Kaggle period (Oct 2019 – Feb 2020): sales days (11.11,
    /// Black Friday, Cyber Monday, pre-Christmas, January sales, Valentine's, 8 March) and
    /// Russian public holidays (the shop's market).
    pub fn kaggle_period_example() -> Self {
        let promo = [
            "2019-10-18",
            "2019-11-11",
            "2019-11-29",
            "2019-11-30",
            "2019-12-02",
            "2019-12-20",
            "2019-12-21",
            "2019-12-22",
            "2020-01-09",
            "2020-01-10",
            "2020-02-12",
            "2020-02-13",
            "2020-02-28",
            "2020-02-29",
        ];
        let holiday = [
            "2019-11-04",
            "2019-12-31",
            "2020-01-01",
            "2020-01-02",
            "2020-01-03",
            "2020-01-06",
            "2020-01-07",
            "2020-01-08",
            "2020-02-24",
        ];
        Calendar {
            promo: promo.iter().map(|s| s.to_string()).collect(),
            holiday: holiday.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The day numbers, for fast lookups.
    pub fn index(&self) -> CalendarIndex {
        let days = |v: &[String]| v.iter().filter_map(|d| day_number(d).ok()).collect();
        CalendarIndex {
            promo: days(&self.promo),
            holiday: days(&self.holiday),
        }
    }
}

/// A calendar as sets of UTC day numbers (days since 1970-01-01).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarIndex {
    pub promo: BTreeSet<i64>,
    pub holiday: BTreeSet<i64>,
}

impl CalendarIndex {
    /// The context features of a moment: promotion day, holiday, promotion in the next 3 days.
    pub fn features(&self, time_ms: i64) -> [f32; N_CONTEXT] {
        let day = time_ms.div_euclid(DAY_MS);
        [
            self.promo.contains(&day) as u8 as f32,
            self.holiday.contains(&day) as u8 as f32,
            self.promo.range(day + 1..=day + 3).next().is_some() as u8 as f32,
        ]
    }

    /// Writes the context of the last `window` events of `events`, left-padded with zeros,
    /// into `out` (`window * N_CONTEXT`, zeroed).
    pub fn encode_into(&self, events: &[Event], window: usize, out: &mut [f32]) {
        let w = &events[events.len().saturating_sub(window)..];
        let pad = window - w.len();
        for (i, e) in w.iter().enumerate() {
            out[(pad + i) * N_CONTEXT..(pad + i + 1) * N_CONTEXT]
                .copy_from_slice(&self.features(e.time_ms));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_json_read_the_same_calendar_and_errors_name_the_line() {
        let csv =
            "\u{feff}date,kind\r\n2019-11-29,promo\r\n2020-01-01 , holiday\r\n2019-11-29,promo\r\n";
        let c = Calendar::from_csv(csv).unwrap();
        assert_eq!(c.promo, ["2019-11-29"]);
        assert_eq!(c.holiday, ["2020-01-01"]);
        let j = r#"[{"date":"2019-11-29","kind":"promo"},{"date":"2020-01-01","kind":"holiday"}]"#;
        assert_eq!(Calendar::from_json(j).unwrap(), c);
        let e = Calendar::from_csv("date,kind\n2019-11-29,promo\n2019-13-01,promo\n").unwrap_err();
        assert!(e.to_string().contains("line 3: date"), "{e}");
        let e = Calendar::from_csv("date,kind\n2019-11-29,sale\n").unwrap_err();
        assert!(e.to_string().contains("line 2: kind: \"sale\""), "{e}");
        let e = Calendar::from_csv("date\n2019-11-29\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        let e = Calendar::from_json(r#"[{"date":"2019-11-29"}]"#).unwrap_err();
        assert!(e.to_string().contains("entry 0"), "{e}");
        assert!(Calendar::from_json("{}").is_err());
    }

    #[test]
    fn features_mark_promo_days_holidays_and_promos_ahead() {
        let idx = Calendar {
            promo: vec!["2019-11-29".into()],
            holiday: vec!["2019-11-28".into()],
        }
        .index();
        let noon = |d: i64| (18_228 + d) * DAY_MS + 12 * 3_600_000; // 18,228 = 2019-11-28
        assert_eq!(idx.features(noon(0)), [0.0, 1.0, 1.0]);
        assert_eq!(idx.features(noon(1)), [1.0, 0.0, 0.0]);
        assert_eq!(idx.features(noon(-3)), [0.0, 0.0, 0.0]);
        assert_eq!(idx.features(noon(-2)), [0.0, 0.0, 1.0]);
        // The last second of the promo day is still the promo day (UTC).
        assert_eq!(idx.features((18_228 + 2) * DAY_MS - 1000)[0], 1.0);
        assert_eq!(Calendar::kaggle_period_example().index().promo.len(), 14);
    }
}
