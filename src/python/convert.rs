//! Python values → the core's types: events read field by field and handed to the same JSON
//! parser as the JS API (so Python, JS and JSON accept and refuse exactly the same things),
//! and results back as Python objects shaped like the JS API's.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyDateTime, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple,
};
use serde::Serialize;

use crate::core::error::Error;
use crate::core::event::Event;
use crate::core::json::event_from_json_value;
use crate::core::predict::MAX_EVENTS;

/// The fields an event may carry; anything else in the mapping is ignored.
const FIELDS: [&str; 6] = [
    "event_time",
    "event_type",
    "product_id",
    "price",
    "brand",
    "category_code",
];

/// A Python type's name for messages (`str`, `float`, `numpy.float32`).
pub(crate) fn type_name(v: &Bound<'_, PyAny>) -> String {
    let t = v.get_type();
    let name = t
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    match t.module().map(|m| m.to_string()) {
        Ok(m) if m != "builtins" => format!("{m}.{name}"),
        _ => name,
    }
}

/// One event mapping → an event, naming `index` and the field on error.
pub(crate) fn event_from_py(index: usize, v: &Bound<'_, PyAny>) -> crate::core::Result<Event> {
    let Ok(map) = v.cast::<PyMapping>() else {
        return Err(Error::event(
            index,
            "event",
            format!("expected a dict, got {}", type_name(v)),
        ));
    };
    let mut obj = serde_json::Map::new();
    for field in FIELDS {
        let x = match map.get_item(field) {
            Ok(x) => x,
            // Absent (KeyError): the JSON parser says "missing" for required fields.
            Err(_) => continue,
        };
        obj.insert(field.to_string(), field_value(index, field, &x)?);
    }
    event_from_json_value(index, serde_json::Value::Object(obj))
}

/// 2^53: whole floats above it are not exact.
const MAX_EXACT_FLOAT: f64 = 9_007_199_254_740_992.0;

/// One field's Python value as JSON; what JSON cannot carry (NaN, ±inf, datetimes, numpy
/// scalars) is checked or converted here.
fn field_value(
    index: usize,
    field: &'static str,
    x: &Bound<'_, PyAny>,
) -> crate::core::Result<serde_json::Value> {
    use serde_json::Value;
    let err = |reason: String| Error::event(index, field, reason);
    if x.is_none() {
        return Ok(Value::Null);
    }
    if x.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(x.is_truthy().unwrap_or(false)));
    }
    if x.is_instance_of::<PyString>() {
        let s: String = x
            .extract()
            .map_err(|e| err(format!("unreadable string: {e}")))?;
        if field == "product_id" {
            return s
                .trim()
                .parse::<u64>()
                .map(Value::from)
                .map_err(|_| err(format!("{s:?} is not a whole number")));
        }
        return Ok(Value::String(s));
    }
    if field == "event_time" {
        if let Ok(dt) = x.cast::<PyDateTime>() {
            let tz = dt
                .getattr("tzinfo")
                .map_err(|e| err(format!("unreadable datetime: {e}")))?;
            if tz.is_none() {
                return Err(err(
                    "a naive datetime (no time zone); give an aware one, e.g. datetime(…, tzinfo=timezone.utc)"
                        .into(),
                ));
            }
            let s: f64 = dt
                .call_method0("timestamp")
                .and_then(|t| t.extract())
                .map_err(|e| err(format!("unreadable datetime: {e}")))?;
            return Ok(Value::from((s * 1000.0).round() as i64));
        }
    }
    // Whole numbers: Python ints and anything with `__index__` (numpy integers).
    if x.is_instance_of::<PyInt>()
        || (!x.is_instance_of::<PyFloat>() && x.hasattr("__index__").unwrap_or(false))
    {
        if let Ok(n) = x.extract::<u64>() {
            return Ok(Value::from(n));
        }
        if let Ok(n) = x.extract::<i64>() {
            return Ok(Value::from(n));
        }
        return Err(err(format!(
            "{} is out of range",
            x.str().map(|s| s.to_string()).unwrap_or_default()
        )));
    }
    // Floats: Python floats and anything with `__float__` (numpy floats).
    if let Ok(n) = x.extract::<f64>() {
        if !n.is_finite() {
            return Err(err(format!("{n} is not a finite number")));
        }
        if field == "product_id" && !(n >= 0.0 && n.fract() == 0.0 && n <= MAX_EXACT_FLOAT) {
            return Err(err(format!("{n} is not a whole non-negative number")));
        }
        if n.fract() == 0.0 && n.abs() <= MAX_EXACT_FLOAT {
            return Ok(if n >= 0.0 {
                Value::from(n as u64)
            } else {
                Value::from(n as i64)
            });
        }
        return Ok(Value::from(n));
    }
    Err(err(format!("unsupported type {}", type_name(x))))
}

/// A Python sequence of event mappings → events (checks the length before reading any).
pub(crate) fn events_from_py(events: &Bound<'_, PyAny>) -> crate::core::Result<Vec<Event>> {
    let items = sequence_items(events).ok_or_else(|| {
        Error::Payload(format!(
            "events must be a list of event dicts, got {}",
            type_name(events)
        ))
    })?;
    if items.is_empty() {
        return Err(Error::EmptySequence);
    }
    if items.len() > MAX_EVENTS {
        return Err(Error::TooManyEvents {
            len: items.len(),
            max: MAX_EVENTS,
        });
    }
    items
        .iter()
        .enumerate()
        .map(|(i, v)| event_from_py(i, v))
        .collect()
}

/// The items of a list or tuple (not of a string, a dict or an iterator, which would be
/// read as something they are not).
pub(crate) fn sequence_items<'py>(v: &Bound<'py, PyAny>) -> Option<Vec<Bound<'py, PyAny>>> {
    if let Ok(l) = v.cast::<PyList>() {
        return Some(l.iter().collect());
    }
    if let Ok(t) = v.cast::<PyTuple>() {
        return Some(t.iter().collect());
    }
    None
}

/// A serde value as Python objects (dicts, lists, floats, strings, None).
pub(crate) fn to_py<'py, T: Serialize>(py: Python<'py>, v: &T) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, v)
        .map_err(|e| PyTypeError::new_err(format!("internal: could not convert the result: {e}")))
}

/// A dict from string keys to values.
pub(crate) fn dict<'py>(
    py: Python<'py>,
    items: &[(&str, Bound<'py, PyAny>)],
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in items {
        d.set_item(k, v)?;
    }
    Ok(d)
}
