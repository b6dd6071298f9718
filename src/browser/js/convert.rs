//! JS values → the core's types: events (read field by field and handed to the same JSON
//! parser as the JSON API), options and thresholds, results back to JS values.

use js_sys::{Array, Date, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::core::error::Error;
use crate::core::event::Event;
use crate::core::json::event_from_json_value;
use crate::core::outlook::check_threshold;
use crate::core::predict::MAX_EVENTS;

pub(crate) fn js_err(e: Error) -> JsError {
    JsError::new(&e.to_string())
}

pub(crate) fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&format!("internal: could not convert the result: {e}")))
}

pub(crate) fn describe(v: &JsValue) -> String {
    if v.is_null() {
        "null".into()
    } else if v.is_undefined() {
        "undefined".into()
    } else if Array::is_array(v) {
        "an array".into()
    } else {
        v.js_typeof().as_string().unwrap_or_default()
    }
}

/// Reads an option (`undefined` when `options` is not an object).
pub(crate) fn option(options: &JsValue, name: &str) -> JsValue {
    if options.is_object() {
        Reflect::get(options, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// `options.threshold`: one churn threshold for every stage, or `None` (absent or null) for
/// the model's per-stage defaults.
pub(crate) fn threshold_option(options: &JsValue) -> Result<Option<f32>, JsError> {
    if !(options.is_undefined() || options.is_null() || options.is_object()) {
        return Err(JsError::new(&format!(
            "options must be an object, got {}",
            describe(options)
        )));
    }
    let t = option(options, "threshold");
    if t.is_undefined() || t.is_null() {
        return Ok(None);
    }
    let x = t.as_f64().ok_or_else(|| {
        JsError::new(&format!(
            "options.threshold must be a number, got {}",
            describe(&t)
        ))
    })?;
    check_threshold(x).map(Some).map_err(js_err)
}

/// The fields an event may carry; anything else on the object is ignored.
const FIELDS: [&str; 6] = [
    "event_time",
    "event_type",
    "product_id",
    "price",
    "brand",
    "category_code",
];

thread_local! {
    /// The field names as JS strings, made once: a property read then costs one boundary
    /// crossing instead of also encoding the name.
    static KEYS: [JsValue; 6] = FIELDS.map(JsValue::from_str);
}

/// One JS value → an event, naming `index` and the field on error. Reads the six known
/// fields (one `Reflect.get` each) into a JSON object and hands it to the same parser as
/// the JSON API, so both accept and refuse exactly the same things.
pub(crate) fn event_from_js(index: usize, v: &JsValue) -> crate::core::Result<Event> {
    if !v.is_object() || Array::is_array(v) {
        return Err(Error::event(
            index,
            "event",
            format!("expected an object, got {}", describe(v)),
        ));
    }
    let mut obj = serde_json::Map::new();
    KEYS.with(|keys| -> crate::core::Result<()> {
        for (field, key) in FIELDS.iter().zip(keys) {
            let x = Reflect::get(v, key).unwrap_or(JsValue::UNDEFINED);
            if let Some(value) = field_value(index, field, v, key, &x)? {
                obj.insert((*field).to_string(), value);
            }
        }
        Ok(())
    })?;
    event_from_json_value(index, serde_json::Value::Object(obj))
}

/// One field's JS value as JSON: `None` when the property is absent; what JSON cannot carry
/// (NaN/±Infinity, Dates, integers as f64) is checked or converted here.
fn field_value(
    index: usize,
    field: &'static str,
    obj: &JsValue,
    key: &JsValue,
    x: &JsValue,
) -> crate::core::Result<Option<serde_json::Value>> {
    use serde_json::Value;
    if x.is_undefined() {
        // An own or inherited property set to `undefined` counts as null, an absent one as missing.
        return Ok(Reflect::has(obj, key)
            .unwrap_or(false)
            .then_some(Value::Null));
    }
    if x.is_null() {
        return Ok(Some(Value::Null));
    }
    if let Some(n) = x.as_f64() {
        if !n.is_finite() {
            return Err(Error::event(
                index,
                field,
                format!("{n} is not a finite number"),
            ));
        }
        if field == "product_id" && !(n >= 0.0 && n.fract() == 0.0 && n <= MAX_SAFE_INTEGER) {
            return Err(Error::event(
                index,
                field,
                format!("{n} is not a whole non-negative number"),
            ));
        }
        let json = if n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER {
            if n >= 0.0 {
                Value::from(n as u64)
            } else {
                Value::from(n as i64)
            }
        } else {
            Value::from(n)
        };
        return Ok(Some(json));
    }
    if let Some(s) = x.as_string() {
        if field == "product_id" {
            return match s.trim().parse::<u64>() {
                Ok(n) => Ok(Some(Value::from(n))),
                Err(_) => Err(Error::event(
                    index,
                    field,
                    format!("{s:?} is not a whole number"),
                )),
            };
        }
        return Ok(Some(Value::String(s)));
    }
    if let Some(b) = x.as_bool() {
        return Ok(Some(Value::Bool(b)));
    }
    if field == "event_time" {
        if let Some(d) = x.dyn_ref::<Date>() {
            let ms = d.get_time();
            if !ms.is_finite() {
                return Err(Error::event(index, field, "an invalid Date"));
            }
            return Ok(Some(Value::from(ms as i64)));
        }
    }
    // Objects, arrays, BigInts, symbols, functions: as serde would see them, so the parser
    // reports the type it got.
    serde_wasm_bindgen::from_value::<Value>(x.clone())
        .map(Some)
        .map_err(|e| Error::event(index, field, format!("unreadable value: {e}")))
}

/// 2^53 − 1: larger whole numbers are not exact in a JS number.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A JS array of events → events (checks the length before reading any).
pub(crate) fn events_from_js(events: &JsValue) -> crate::core::Result<Vec<Event>> {
    if !Array::is_array(events) {
        return Err(Error::Payload(format!(
            "events must be an array of event objects, got {}",
            describe(events)
        )));
    }
    let arr: &Array = events.unchecked_ref();
    let n = arr.length() as usize;
    if n == 0 {
        return Err(Error::EmptySequence);
    }
    if n > MAX_EVENTS {
        return Err(Error::TooManyEvents {
            len: n,
            max: MAX_EVENTS,
        });
    }
    (0..n)
        .map(|i| event_from_js(i, &arr.get(i as u32)))
        .collect()
}
