//! Fuzz target: the Kaggle CSV row parser (`parse_kaggle_csv`, the same `KaggleColumns::parse`
//! that ingest uses). Invariants: no panic; every record is either an event or a rejected row
//! with a reason (nothing silently dropped); every accepted event passes validation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (events, errors) = nextevent::core::kaggle_csv::parse_kaggle_csv(text);
    for (i, e) in events.iter().enumerate() {
        e.validate(i).expect("an accepted row is a valid event");
    }
    // Count records independently with the csv crate (same dialect).
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header_error = errors.iter().any(|e| e.row == 0);
    if rdr.headers().is_ok() && !header_error {
        let records = rdr.records().count();
        assert_eq!(
            events.len() + errors.len(),
            records,
            "accepted + rejected = records read"
        );
        assert!(errors
            .iter()
            .all(|e| e.row >= 1 && e.row as usize <= records));
    } else {
        assert!(events.is_empty(), "no events without a usable header");
    }
});
