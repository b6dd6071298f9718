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

/// One JS value → an event, naming `index` and the field on error.
fn event_from_js(index: usize, v: &JsValue) -> crate::Result<Event> {
    if !v.is_object() || Array::is_array(v) {
        return Err(Error::event(
            index,
            "event",
            format!("expected an object, got {}", describe(v)),
        ));
    }
    let get = |f: &str| Reflect::get(v, &JsValue::from_str(f)).unwrap_or(JsValue::UNDEFINED);
    // What JSON cannot carry: NaN/±Infinity, Dates, integers as f64.
    for field in ["price", "event_time", "product_id"] {
        if let Some(x) = get(field).as_f64() {
            if !x.is_finite() {
                return Err(Error::event(
                    index,
                    field,
                    format!("{x} is not a finite number"),
                ));
            }
        }
    }
    let mut value: serde_json::Value = serde_wasm_bindgen::from_value(v.clone())
        .map_err(|e| Error::event(index, "event", format!("unreadable object: {e}")))?;
    let obj = value.as_object_mut().ok_or_else(|| {
        Error::event(
            index,
            "event",
            format!("expected an object, got {}", describe(v)),
        )
    })?;
    for field in ["event_time", "event_type", "product_id", "price"] {
        if get(field).is_undefined() && obj.contains_key(field) {
            obj.insert(field.into(), serde_json::Value::Null);
        }
    }
    if let Ok(d) = get("event_time").dyn_into::<Date>() {
        let ms = d.get_time();
        if !ms.is_finite() {
            return Err(Error::event(index, "event_time", "an invalid Date"));
        }
        obj.insert("event_time".into(), serde_json::json!(ms as i64));
    }
    let pid = get("product_id");
    if let Some(x) = pid.as_f64() {
        if x >= 0.0 && x.fract() == 0.0 && x <= 9_007_199_254_740_991.0 {
            obj.insert("product_id".into(), serde_json::json!(x as u64));
        } else {
            return Err(Error::event(
                index,
                "product_id",
                format!("{x} is not a whole non-negative number"),
            ));
        }
    } else if let Some(s) = pid.as_string() {
        match s.trim().parse::<u64>() {
            Ok(n) => {
                obj.insert("product_id".into(), serde_json::json!(n));
            }
            Err(_) => {
                return Err(Error::event(
                    index,
                    "product_id",
                    format!("{s:?} is not a whole number"),
                ))
            }
        }
    }
    event_from_json_value(index, value)
}

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
