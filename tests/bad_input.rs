//! The bad-input matrix, native side (the JS side is `tests/js_api.rs`): each case is a JSON
//! payload a shop page might send; it gets a typed error naming the event and field (or a
//! documented normalisation), and the same predictor still predicts exactly as before.

use nextevent::core::json::events_from_json;
use nextevent::core::predict::{Predictor, MAX_EVENTS};
use nextevent::Error;

fn event(t: &str, kind: &str, price: &str) -> String {
    format!(
        r#"{{"event_time":"{t}","event_type":"{kind}","product_id":5802432,"brand":"runail","price":{price}}}"#
    )
}

fn good() -> String {
    format!(
        "[{},{}]",
        event("2019-12-01 10:00:00 UTC", "view", "4.05"),
        event("2019-12-01 10:00:30 UTC", "cart", "4.05")
    )
}

/// Replaces one field of the second event of the good sequence with raw JSON (`None`: drop it).
fn with(field: &str, raw: Option<&str>) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&good()).unwrap();
    let obj = v[1].as_object_mut().unwrap();
    match raw {
        Some(r) => {
            obj.insert(field.into(), serde_json::from_str(r).unwrap());
        }
        None => {
            obj.remove(field);
        }
    }
    v.to_string()
}

enum Want {
    /// A typed error whose message contains all of these.
    Err(&'static [&'static str]),
    /// Accepted (documented normalisation or valid input).
    Ok,
}

#[test]
fn every_bad_input_is_a_typed_error_and_the_predictor_survives() {
    let p = Predictor::embedded().unwrap();
    let reference = p.predict(&events_from_json(&good()).unwrap()).unwrap();
    let huge_brand = format!("\"{}\"", "b".repeat(1 << 20));
    let too_many = format!(
        "[{}]",
        (0..10_000)
            .map(|i| event(
                &format!(
                    "2019-12-01 {:02}:{:02}:{:02} UTC",
                    i / 3600,
                    i / 60 % 60,
                    i % 60
                ),
                "view",
                "1.0"
            ))
            .collect::<Vec<_>>()
            .join(",")
    );
    let at_limit = format!(
        "[{}]",
        (0..MAX_EVENTS)
            .map(|i| event(
                &format!("2019-12-01 00:{:02}:{:02} UTC", i / 60 % 60, i % 60),
                "view",
                "1.0"
            ))
            .collect::<Vec<_>>()
            .join(",")
    );
    let cases: Vec<(&str, String, Want)> = vec![
        ("empty sequence", "[]".into(), Want::Err(&["empty"])),
        (
            "not an array",
            "{}".into(),
            Want::Err(&["not a JSON array"]),
        ),
        ("not JSON", "[{".into(), Want::Err(&["not a JSON array"])),
        (
            "one event",
            format!("[{}]", event("2019-12-01 10:00:00 UTC", "view", "1")),
            Want::Ok,
        ),
        ("1,000 events (the limit)", at_limit, Want::Ok),
        (
            "10,000 events",
            too_many,
            Want::Err(&["10000 events", "1000"]),
        ),
        (
            "unknown event_type",
            with("event_type", Some("\"teleport\"")),
            Want::Err(&["event 1", "event_type", "teleport"]),
        ),
        (
            "event_type a number",
            with("event_type", Some("5")),
            Want::Err(&["event 1", "event_type", "expected a string"]),
        ),
        (
            "event not an object",
            r#"["view"]"#.into(),
            Want::Err(&["event 0", "expected an object, got a string"]),
        ),
        (
            "price a string",
            with("price", Some("\"cheap\"")),
            Want::Err(&["event 1", "price"]),
        ),
        (
            "price a boolean",
            with("price", Some("true")),
            Want::Err(&["event 1", "price"]),
        ),
        (
            "price null",
            with("price", Some("null")),
            Want::Err(&["event 1", "price", "null"]),
        ),
        (
            "price missing",
            with("price", None),
            Want::Err(&["event 1", "price", "missing"]),
        ),
        (
            "price too large for f64",
            with("price", Some("1e308")),
            Want::Err(&["event 1", "price"]),
        ),
        (
            "negative price",
            with("price", Some("-1.5")),
            Want::Err(&["event 1", "price", "negative"]),
        ),
        (
            "price 1e12",
            with("price", Some("1e12")),
            Want::Err(&["event 1", "price", "limit"]),
        ),
        (
            "product_id negative",
            with("product_id", Some("-4")),
            Want::Err(&["event 1", "product_id"]),
        ),
        (
            "product_id fractional",
            with("product_id", Some("1.5")),
            Want::Err(&["event 1", "product_id"]),
        ),
        (
            "event_time null",
            with("event_time", Some("null")),
            Want::Err(&["event 1", "event_time", "null"]),
        ),
        (
            "event_time missing",
            with("event_time", None),
            Want::Err(&["event 1", "event_time", "missing"]),
        ),
        (
            "event_time unparsable",
            with("event_time", Some("\"yesterday\"")),
            Want::Err(&["event 1", "event_time"]),
        ),
        (
            "times out of order",
            with("event_time", Some("\"2019-12-01 09:00:00 UTC\"")),
            Want::Err(&["event 1", "event_time", "time order"]),
        ),
        (
            "far future",
            with("event_time", Some("\"2300-01-01 00:00:00 UTC\"")),
            Want::Err(&["event 1", "event_time"]),
        ),
        (
            "before 1970",
            format!("[{}]", event("1969-07-20 20:17:00 UTC", "view", "1")),
            Want::Err(&["event 0", "event_time"]),
        ),
        (
            "brand null (no brand)",
            with("brand", Some("null")),
            Want::Ok,
        ),
        ("brand missing (no brand)", with("brand", None), Want::Ok),
        (
            "brand a number",
            with("brand", Some("42")),
            Want::Err(&["event 1", "brand"]),
        ),
        (
            "1 MB brand",
            with("brand", Some(&huge_brand)),
            Want::Err(&["event 1", "brand", "1048576 bytes", "256"]),
        ),
        (
            "unicode brand",
            with("brand", Some("\"Ñandú 美\"")),
            Want::Ok,
        ),
        (
            "unknown extra field",
            with("colour", Some("\"red\"")),
            Want::Ok,
        ),
    ];
    let mut failures = Vec::new();
    for (name, payload, want) in &cases {
        let got = events_from_json(payload).and_then(|ev| p.predict(&ev).map(|_| ()));
        match (got, want) {
            (Ok(()), Want::Ok) => {}
            (Err(e), Want::Err(parts)) => {
                let msg = e.to_string();
                if let Some(missing) = parts.iter().find(|s| !msg.contains(**s)) {
                    failures.push(format!("{name}: message lacks {missing:?}: {msg}"));
                }
                if !matches!(
                    e,
                    Error::Event { .. }
                        | Error::EmptySequence
                        | Error::TooManyEvents { .. }
                        | Error::Payload(_)
                ) {
                    failures.push(format!("{name}: unexpected error kind {e:?}"));
                }
            }
            (Ok(()), Want::Err(_)) => failures.push(format!("{name}: accepted")),
            (Err(e), Want::Ok) => failures.push(format!("{name}: refused: {e}")),
        }
        // The same instance keeps predicting exactly as before.
        let again = p.predict(&events_from_json(&good()).unwrap()).unwrap();
        assert_eq!(again, reference, "after {name}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
