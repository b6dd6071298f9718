//! The JSON event reader: an array of event objects (or one value), each field checked and
//! named in the error, then validated by the same rules as every other reader.

use crate::core::error::{Error, Result};
use crate::core::event::{Event, EventKind};

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
}
