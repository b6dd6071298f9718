//! The demo's example sessions: four hand-written ones and the real sessions `build.rs`
//! bundles from `../shared/data` at build time, plus the shop's brand list for suggestions.

use crate::browser::rows::{paste_rows, Row};
use crate::core::event::EventKind;

/// Real sessions and brands bundled by `build.rs` from `../shared/data` at build time.
mod bundled {
    include!(concat!(env!("OUT_DIR"), "/real_data.rs"));
}

/// When the hand-written examples start: 2019-10-02 15:26:40 UTC.
pub const EXAMPLE_START: i64 = 1_570_030_000_000;

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

/// A real session bundled at build time (label, rows). Empty when the build had no data.
pub fn real_sessions() -> Vec<(&'static str, Vec<Row>)> {
    bundled::REAL_SESSIONS
        .iter()
        .map(|(label, csv)| (*label, paste_rows(csv).rows))
        .collect()
}

/// Brands to suggest in the editor: the shop's most common brands (product table).
pub fn known_brands() -> &'static [&'static str] {
    bundled::KNOWN_BRANDS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::rows::rows_to_events;

    #[test]
    fn real_sessions_are_bundled_and_parse_cleanly() {
        let real = real_sessions();
        // build.rs reads ../shared/data, which the tests require anyway.
        assert_eq!(real.len(), 8, "two sessions for each of four outcomes");
        for (label, rows) in &real {
            let (events, issues) = rows_to_events(rows);
            assert!(issues.is_empty(), "{label}: {issues:?}");
            assert!((5..=16).contains(&events.len()), "{label}");
            assert!(
                label.contains(&format!("{} events", events.len())),
                "{label}"
            );
        }
        assert!(real[0].1.iter().any(|r| r.kind == "purchase"));
        assert!(real[7].1.iter().all(|r| r.kind == "view"));
        assert!(known_brands().contains(&"runail"));
        assert!(known_brands().len() >= 100);
    }
}
