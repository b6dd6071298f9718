//! The JS API for shop pages (wasm32, feature `embed`): `Predictor`, `Session` and the
//! `nextevent:*` DOM events, over [`crate::session`]. The only place JS sees errors, as
//! `Error`s whose message names the event index and field.

use js_sys::{Array, Date, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::Error;
use crate::event::{event_from_json_value, Event};
use crate::predict::{Predictor, MAX_EVENTS};
use crate::session::{check_threshold, Outlook, Session};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** The four kinds of shopper event, as in the Kaggle dataset. */
export type EventType = "view" | "cart" | "remove_from_cart" | "purchase";
/** One shopper event. `event_time`: ISO 8601 string, `2019-10-01 00:00:00 UTC`, epoch ms or a Date. */
export interface ShopEvent {
  event_type: EventType;
  event_time: string | number | Date;
  /** A whole number (or a string of digits). */
  product_id: number | string;
  /** Finite, 0 to 1,000,000. */
  price: number;
  brand?: string | null;
  category_code?: string | null;
}
/** A prediction and what a shop acts on. */
export interface Outlook {
  probabilities: { view: number; cart: number; remove_from_cart: number; purchase: number };
  next: EventType;
  confidence: number;
  /** P(purchase) < threshold. */
  churnRisk: boolean;
  threshold: number;
  favouriteBrand: string | null;
  /** Per event of the last 16: change in P(purchase) when it is left out (when asked for). */
  influence?: number[];
}
export interface PredictOptions { influence?: boolean }
/** The model's input tensors, as `Predictor.encode` makes them (see the model's ONNX inputs). */
export interface EncodedBatch {
  /** Number of windows. */
  n: number;
  /** `features` input, f32 [n, 16, 16], row-major. */
  features: Float32Array;
  /** `brand_bucket` input, i64 [n, 16]. */
  brands: BigInt64Array;
}
export interface PredictorOptions { threshold?: number }
/** `target`: where `nextevent:*` events are dispatched (default `window`; `null`: none). */
export interface SessionOptions { threshold?: number; target?: EventTarget | null }
/** `detail` of `nextevent:prediction`, fired after every observed event. */
export interface PredictionDetail extends Outlook { observed: number; event: ShopEvent }
/** `detail` of `nextevent:churn-risk`, fired when P(purchase) falls below the threshold (once per crossing). */
export interface ChurnRiskDetail { purchase: number; threshold: number; favouriteBrand: string | null; outlook: Outlook }
export interface ModelInfo {
  name: string; architecture: string; trained_on: string; weights: string; parameters: number;
  test_metrics: [string, number][]; baselines: [string, number, number][]; churn_threshold: number;
  created: string; size_bytes: number;
}
"#;

thread_local! {
    static SHARED: std::cell::OnceCell<std::result::Result<Predictor, String>> =
        const { std::cell::OnceCell::new() };
}

/// The embedded model, loaded (parsed and optimized) once per page.
fn shared() -> Result<Predictor, JsError> {
    SHARED.with(|c| {
        c.get_or_init(|| Predictor::embedded().map_err(|e| e.to_string()))
            .clone()
            .map_err(|e| JsError::new(&e))
    })
}

fn js_err(e: Error) -> JsError {
    JsError::new(&e.to_string())
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&format!("internal: could not convert the result: {e}")))
}

fn describe(v: &JsValue) -> String {
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
fn option(options: &JsValue, name: &str) -> JsValue {
    if options.is_object() {
        Reflect::get(options, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// `options.threshold`, or `default` when absent.
fn threshold_option(options: &JsValue, default: f32) -> Result<f32, JsError> {
    if !(options.is_undefined() || options.is_null() || options.is_object()) {
        return Err(JsError::new(&format!(
            "options must be an object, got {}",
            describe(options)
        )));
    }
    let t = option(options, "threshold");
    if t.is_undefined() || t.is_null() {
        return Ok(default);
    }
    let x = t.as_f64().ok_or_else(|| {
        JsError::new(&format!(
            "options.threshold must be a number, got {}",
            describe(&t)
        ))
    })?;
    check_threshold(x).map_err(js_err)
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
fn event_from_js(index: usize, v: &JsValue) -> crate::Result<Event> {
    if !v.is_object() || Array::is_array(v) {
        return Err(Error::event(
            index,
            "event",
            format!("expected an object, got {}", describe(v)),
        ));
    }
    let mut obj = serde_json::Map::new();
    KEYS.with(|keys| -> crate::Result<()> {
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
) -> crate::Result<Option<serde_json::Value>> {
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
fn events_from_js(events: &JsValue) -> crate::Result<Vec<Event>> {
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

/// Predicts a shopper's next event from the events they made.
#[wasm_bindgen(js_name = Predictor)]
pub struct JsPredictor {
    inner: Predictor,
    threshold: f32,
}

#[wasm_bindgen(js_class = Predictor)]
impl JsPredictor {
    /// Uses the embedded model (loaded once per page). `options.threshold`: churn threshold
    /// on P(purchase), 0 to 1 (default: the model card's).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "PredictorOptions")] options: JsValue,
    ) -> Result<JsPredictor, JsError> {
        let inner = shared()?;
        let threshold = threshold_option(&options, inner.info().churn_threshold)?;
        Ok(JsPredictor { inner, threshold })
    }

    /// Predicts from events (oldest first, at most 1,000; the last 16 count).
    #[wasm_bindgen(unchecked_return_type = "Outlook")]
    pub fn predict(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ShopEvent[]")] events: JsValue,
        #[wasm_bindgen(unchecked_param_type = "PredictOptions")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        let events = events_from_js(&events).map_err(js_err)?;
        let influence = option(&options, "influence").is_truthy();
        let o = Outlook::of(&self.inner, &events, self.threshold, influence).map_err(js_err)?;
        to_js(&o)
    }

    /// Encodes sequences (each oldest first) into the model's input tensors with the one
    /// encoder, for running the same inputs in another ONNX runtime or for [`Self::run`].
    #[wasm_bindgen(unchecked_return_type = "EncodedBatch")]
    pub fn encode(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ShopEvent[][]")] sequences: JsValue,
    ) -> Result<JsValue, JsError> {
        if !Array::is_array(&sequences) {
            return Err(JsError::new(&format!(
                "sequences must be an array of event arrays, got {}",
                describe(&sequences)
            )));
        }
        let arr: &Array = sequences.unchecked_ref();
        let seqs = (0..arr.length())
            .map(|i| {
                events_from_js(&arr.get(i)).map_err(|e| JsError::new(&format!("sequence {i}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        for (i, s) in seqs.iter().enumerate() {
            crate::event::validate_sequence(s)
                .map_err(|e| JsError::new(&format!("sequence {i}: {e}")))?;
        }
        if self.inner.calendar().is_some() {
            return Err(JsError::new(
                "encode() returns features and brands only; this model also reads calendar context",
            ));
        }
        let refs: Vec<&[Event]> = seqs.iter().map(Vec::as_slice).collect();
        let b = self.inner.encode(&refs);
        let out = js_sys::Object::new();
        let set = |k: &str, v: &JsValue| Reflect::set(&out, &JsValue::from_str(k), v);
        set("n", &JsValue::from(b.n as u32))
            .and_then(|_| {
                set(
                    "features",
                    &js_sys::Float32Array::from(&b.features[..]).into(),
                )
            })
            .and_then(|_| set("brands", &js_sys::BigInt64Array::from(&b.brands[..]).into()))
            .map_err(|e| JsError::new(&format!("internal: could not build the batch: {e:?}")))?;
        Ok(out.into())
    }

    /// Runs the model on encoded inputs (`features` f32 [n,16,16], `brands` i64 [n,16]) and
    /// returns the probabilities, f32 [n, 4] in class order. Inputs are checked, not trusted:
    /// wrong lengths, non-finite features or out-of-range buckets are errors.
    pub fn run(
        &self,
        features: &js_sys::Float32Array,
        brands: &js_sys::BigInt64Array,
    ) -> Result<js_sys::Float32Array, JsError> {
        use crate::spec::{BRAND_BUCKETS, N_FEATURES, WINDOW};
        let features = features.to_vec();
        let brands = brands.to_vec();
        let n = features.len() / (WINDOW * N_FEATURES);
        if features.len() % (WINDOW * N_FEATURES) != 0 || brands.len() != n * WINDOW {
            return Err(JsError::new(&format!(
                "features must hold n × {} values and brands n × {WINDOW}; got {} and {}",
                WINDOW * N_FEATURES,
                features.len(),
                brands.len()
            )));
        }
        if let Some(i) = features.iter().position(|x| !x.is_finite()) {
            return Err(JsError::new(&format!("features[{i}] is {}", features[i])));
        }
        if let Some(i) = brands
            .iter()
            .position(|&b| !(0..BRAND_BUCKETS as i64).contains(&b))
        {
            return Err(JsError::new(&format!(
                "brands[{i}] is {}, buckets are 0 to {}",
                brands[i],
                BRAND_BUCKETS - 1
            )));
        }
        let batch = crate::encode::Batch {
            n,
            features,
            brands,
            context: Vec::new(),
        };
        let p = self.inner.run_raw(&batch).map_err(js_err)?;
        Ok(js_sys::Float32Array::from(&p[..]))
    }

    #[wasm_bindgen(getter)]
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Sets the churn threshold (0 to 1).
    #[wasm_bindgen(js_name = setThreshold)]
    pub fn set_threshold(&mut self, t: f64) -> Result<(), JsError> {
        self.threshold = check_threshold(t).map_err(js_err)?;
        Ok(())
    }

    /// What the model is: name, architecture, training data, held-out figures, size.
    #[wasm_bindgen(getter, unchecked_return_type = "ModelInfo")]
    pub fn info(&self) -> Result<JsValue, JsError> {
        model_info(&self.inner)
    }
}

fn model_info(p: &Predictor) -> Result<JsValue, JsError> {
    let mut v = serde_json::to_value(p.info())
        .map_err(|e| JsError::new(&format!("internal: model info: {e}")))?;
    if let Some(o) = v.as_object_mut() {
        o.insert("size_bytes".into(), serde_json::json!(p.size_bytes()));
    }
    to_js(&v)
}

/// A shopper's live session: observe events as they happen; predicts after each and
/// dispatches `nextevent:prediction` and `nextevent:churn-risk` on `options.target`.
#[wasm_bindgen(js_name = Session)]
pub struct JsSession {
    predictor: Predictor,
    inner: Session,
    target: Option<web_sys::EventTarget>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PredictionDetail<'a> {
    #[serde(flatten)]
    outlook: &'a Outlook,
    observed: usize,
    event: &'a Event,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChurnRiskDetail<'a> {
    purchase: f32,
    threshold: f32,
    favourite_brand: &'a Option<String>,
    outlook: &'a Outlook,
}

#[wasm_bindgen(js_class = Session)]
impl JsSession {
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "SessionOptions")] options: JsValue,
    ) -> Result<JsSession, JsError> {
        let predictor = shared()?;
        let threshold = threshold_option(&options, predictor.info().churn_threshold)?;
        let t = option(&options, "target");
        let target = if t.is_null() {
            None
        } else if t.is_undefined() {
            web_sys::window().map(Into::into)
        } else {
            Some(t.dyn_into::<web_sys::EventTarget>().map_err(|t| {
                JsError::new(&format!(
                    "options.target must be an EventTarget (an element, document or window) or null, got {}",
                    describe(&t)
                ))
            })?)
        };
        Ok(JsSession {
            predictor,
            inner: Session::new(threshold),
            target,
        })
    }

    /// Adds one event, predicts, dispatches the events, and returns the outlook. An invalid
    /// event throws and leaves the session unchanged.
    #[wasm_bindgen(unchecked_return_type = "Outlook")]
    pub fn observe(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "ShopEvent")] event: JsValue,
    ) -> Result<JsValue, JsError> {
        let e = event_from_js(self.inner.observed(), &event).map_err(js_err)?;
        let obs = self.inner.observe(&self.predictor, e).map_err(js_err)?;
        let result = to_js(&obs.outlook)?;
        if let Some(target) = &self.target {
            let last = self
                .inner
                .history()
                .last()
                .expect("an event was just added");
            let detail = to_js(&PredictionDetail {
                outlook: &obs.outlook,
                observed: self.inner.observed(),
                event: last,
            })?;
            dispatch(target, "nextevent:prediction", &detail)?;
            if obs.entered_risk {
                let detail = to_js(&ChurnRiskDetail {
                    purchase: obs.outlook.probabilities.purchase,
                    threshold: obs.outlook.threshold,
                    favourite_brand: &obs.outlook.favourite_brand,
                    outlook: &obs.outlook,
                })?;
                dispatch(target, "nextevent:churn-risk", &detail)?;
            }
        }
        Ok(result)
    }

    /// The kept events (the last 16), oldest first, as plain objects with ISO times.
    #[wasm_bindgen(getter, unchecked_return_type = "ShopEvent[]")]
    pub fn history(&self) -> Result<JsValue, JsError> {
        to_js(&self.inner.history().collect::<Vec<_>>())
    }

    /// Events observed since creation or `clear()`.
    #[wasm_bindgen(getter)]
    pub fn observed(&self) -> usize {
        self.inner.observed()
    }

    /// Whether the last prediction was below the threshold.
    #[wasm_bindgen(getter, js_name = atRisk)]
    pub fn at_risk(&self) -> bool {
        self.inner.at_risk()
    }

    #[wasm_bindgen(getter)]
    pub fn threshold(&self) -> f32 {
        self.inner.threshold()
    }

    /// Sets the churn threshold (0 to 1); the next observed event is compared against it.
    #[wasm_bindgen(js_name = setThreshold)]
    pub fn set_threshold(&mut self, t: f64) -> Result<(), JsError> {
        self.inner
            .set_threshold(check_threshold(t).map_err(js_err)?);
        Ok(())
    }

    /// Forgets the events and the risk state.
    pub fn clear(&mut self) {
        self.inner.clear();
    }
}

fn dispatch(target: &web_sys::EventTarget, name: &str, detail: &JsValue) -> Result<(), JsError> {
    let init = web_sys::CustomEventInit::new();
    init.set_detail(detail);
    init.set_bubbles(true);
    init.set_composed(true);
    let ev = web_sys::CustomEvent::new_with_event_init_dict(name, &init)
        .map_err(|e| JsError::new(&format!("could not create {name}: {e:?}")))?;
    // A listener that throws does not stop the session; the browser reports it.
    let _ = target.dispatch_event(&ev);
    Ok(())
}

/// The embedded model's description, without creating a predictor.
#[wasm_bindgen(js_name = modelInfo, unchecked_return_type = "ModelInfo")]
pub fn js_model_info() -> Result<JsValue, JsError> {
    model_info(&shared()?)
}
