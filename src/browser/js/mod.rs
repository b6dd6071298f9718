//! The JS API for shop pages (wasm32, feature `embed`): `Predictor`, `Session` and the
//! `nextevent:*` DOM events, over [`crate::core::live`]. The only place JS sees errors, as
//! `Error`s whose message names the event index and field.

mod convert;
mod types;

use js_sys::{Array, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::core::event::Event;
use crate::core::live::{LiveSession, Snapshot};
use crate::core::outlook::{check_threshold, Outlook};
use crate::core::predict::Predictor;
use convert::{describe, event_from_js, events_from_js, js_err, option, threshold_option, to_js};

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

thread_local! {
    /// The last model loaded from bytes (`options.model`), by a hash of its bytes: a page
    /// that creates a `Session` and then restores one with the same model parses it once.
    static CUSTOM: std::cell::RefCell<Option<(u64, usize, Predictor)>> =
        const { std::cell::RefCell::new(None) };
}

/// `options.model`: the embedded model when absent or null, else an exported `.onnx` given as
/// a `Uint8Array` or `ArrayBuffer`, checked (size, spec, graph) before tract sees it. A refused
/// model is an `Error` with the same reason the demo's model picker shows.
fn predictor_option(options: &JsValue) -> Result<Predictor, JsError> {
    let m = option(options, "model");
    if m.is_undefined() || m.is_null() {
        return shared();
    }
    let bytes = if let Some(a) = m.dyn_ref::<js_sys::Uint8Array>() {
        a.clone()
    } else if m.is_instance_of::<js_sys::ArrayBuffer>() {
        js_sys::Uint8Array::new(&m)
    } else {
        return Err(JsError::new(&format!(
            "options.model must be the bytes of an .onnx file (a Uint8Array or ArrayBuffer), got {}",
            describe(&m)
        )));
    };
    // Size, spec and graph are checked by `Predictor::from_onnx_bytes`, as for the demo's picker.
    let bytes = bytes.to_vec();
    let len = bytes.len();
    let key = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut h);
        h.finish()
    };
    if let Some(p) = CUSTOM.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|(k, n, _)| *k == key && *n == len)
            .map(|(_, _, p)| p.clone())
    }) {
        return Ok(p);
    }
    let p = Predictor::from_onnx_bytes(&bytes)
        .map_err(|e| JsError::new(&format!("model was not loaded: {e}")))?;
    CUSTOM.with(|c| *c.borrow_mut() = Some((key, len, p.clone())));
    Ok(p)
}

/// Predicts a shopper's next event from the events they made.
#[wasm_bindgen(js_name = Predictor)]
pub struct JsPredictor {
    inner: Predictor,
    threshold: Option<f32>,
}

#[wasm_bindgen(js_class = Predictor)]
impl JsPredictor {
    /// Uses the embedded model (loaded once per page), or `options.model`: the bytes of a
    /// model exported by `nextevent-train`, refused with the reason when its size, spec or
    /// graph is not one nextevent wrote. `options.threshold`: one churn
    /// threshold on P(a purchase later in this visit) for every stage, 0 to 1 (default: the
    /// model card's per-stage thresholds; for a model without the conversion head, the
    /// threshold on P(next event is a purchase)).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "PredictorOptions")] options: JsValue,
    ) -> Result<JsPredictor, JsError> {
        let threshold = threshold_option(&options)?;
        let inner = predictor_option(&options)?;
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
        let o =
            Outlook::of(&self.inner, &events, None, self.threshold, influence).map_err(js_err)?;
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
            crate::core::event::validate_sequence(s)
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

    /// Runs the model on encoded inputs (`features` f32 [n,16,21], `brands` i64 [n,16]) and
    /// returns the probabilities, f32 [n, 4] in class order. Inputs are checked, not trusted:
    /// wrong lengths, non-finite features or out-of-range buckets are errors.
    pub fn run(
        &self,
        features: &js_sys::Float32Array,
        brands: &js_sys::BigInt64Array,
    ) -> Result<js_sys::Float32Array, JsError> {
        use crate::core::spec::{N_FEATURES, WINDOW};
        let features = features.to_vec();
        let brands = brands.to_vec();
        let n = features.len() / (WINDOW * N_FEATURES);
        if !features.len().is_multiple_of(WINDOW * N_FEATURES) || brands.len() != n * WINDOW {
            return Err(JsError::new(&format!(
                "features must hold n × {} values and brands n × {WINDOW}; got {} and {}",
                WINDOW * N_FEATURES,
                features.len(),
                brands.len()
            )));
        }
        // Finite values and bucket range are checked by the core predictor (`run_raw`).
        let batch = crate::core::encode::Batch {
            n,
            features,
            brands,
            context: Vec::new(),
        };
        let p = self.inner.run_raw(&batch).map_err(js_err)?;
        Ok(js_sys::Float32Array::from(&p[..]))
    }

    /// The threshold set for every stage, or `undefined` (the model's per-stage defaults).
    #[wasm_bindgen(getter)]
    pub fn threshold(&self) -> Option<f32> {
        self.threshold
    }

    /// Sets one churn threshold (0 to 1) for every stage; `null` goes back to the model's
    /// per-stage defaults.
    #[wasm_bindgen(js_name = setThreshold)]
    pub fn set_threshold(&mut self, t: Option<f64>) -> Result<(), JsError> {
        self.threshold = t.map(check_threshold).transpose().map_err(js_err)?;
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
    /// Behind a `RefCell` and every method on `&self`: a `nextevent:*` listener may read the
    /// session (or observe again) while `observe` is dispatching — wasm-bindgen's own borrow
    /// of a `&mut self` method would make that a "recursive use" error. Dispatch happens after
    /// this borrow is released.
    inner: std::cell::RefCell<LiveSession>,
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
    /// P(a purchase later in this visit) (null for a one-output model).
    conversion: Option<f32>,
    /// P(the next event is a purchase).
    purchase: f32,
    threshold: Option<f32>,
    stage: &'a str,
    risk_basis: &'a str,
    favourite_brand: &'a Option<String>,
    outlook: &'a Outlook,
}

#[wasm_bindgen(js_class = Session)]
impl JsSession {
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "SessionOptions")] options: JsValue,
    ) -> Result<JsSession, JsError> {
        let threshold = threshold_option(&options)?;
        Ok(JsSession {
            predictor: predictor_option(&options)?,
            inner: LiveSession::new(threshold).into(),
            target: target_option(&options)?,
        })
    }

    /// A session restored from [`Self::snapshot`]'s string (kept by the page across a
    /// navigation), with `options` as for the constructor. The string is checked like any
    /// input — a corrupt or tampered snapshot throws an `Error` naming what is wrong, never
    /// a partial session — and the risk state comes back with it, so the next event after a
    /// navigation is not a new crossing. Restoring dispatches nothing.
    pub fn restore(
        snapshot: JsValue,
        #[wasm_bindgen(unchecked_param_type = "SessionOptions")] options: JsValue,
    ) -> Result<JsSession, JsError> {
        let text = snapshot.as_string().ok_or_else(|| {
            JsError::new(&format!(
                "stored session: expected the string from snapshot(), got {}",
                describe(&snapshot)
            ))
        })?;
        if text.len() > MAX_SNAPSHOT_BYTES {
            return Err(JsError::new(&format!(
                "stored session: {} bytes; a snapshot is at most {MAX_SNAPSHOT_BYTES}",
                text.len()
            )));
        }
        let snap: Snapshot = serde_json::from_str(&text)
            .map_err(|e| JsError::new(&format!("stored session: not a snapshot: {e}")))?;
        let inner = LiveSession::restore(snap, threshold_option(&options)?)
            .map_err(|e| JsError::new(&format!("stored session: {e}")))?;
        Ok(JsSession {
            predictor: predictor_option(&options)?,
            inner: inner.into(),
            target: target_option(&options)?,
        })
    }

    /// The session (its kept events, visit stage and risk state) as a JSON string for
    /// `sessionStorage` or `localStorage`; [`Self::restore`] reads it back.
    pub fn snapshot(&self) -> Result<String, JsError> {
        serde_json::to_string(&self.inner.borrow().snapshot())
            .map_err(|e| JsError::new(&format!("internal: could not write the snapshot: {e}")))
    }

    /// Adds one event, predicts, dispatches the events, and returns the outlook. An invalid
    /// event throws and leaves the session unchanged.
    #[wasm_bindgen(unchecked_return_type = "Outlook")]
    pub fn observe(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ShopEvent")] event: JsValue,
    ) -> Result<JsValue, JsError> {
        let (obs, observed, last) = {
            let mut inner = self.inner.borrow_mut();
            let e = event_from_js(inner.observed(), &event).map_err(js_err)?;
            let obs = inner.observe(&self.predictor, e).map_err(js_err)?;
            let last = inner
                .history()
                .last()
                .cloned()
                .expect("an event was just added");
            (obs, inner.observed(), last)
        };
        let result = to_js(&obs.outlook)?;
        if let Some(target) = &self.target {
            let detail = to_js(&PredictionDetail {
                outlook: &obs.outlook,
                observed,
                event: &last,
            })?;
            dispatch(target, "nextevent:prediction", &detail)?;
            if obs.entered_risk {
                let detail = to_js(&ChurnRiskDetail {
                    conversion: obs.outlook.conversion,
                    purchase: obs.outlook.probabilities.purchase,
                    threshold: obs.outlook.threshold,
                    stage: obs.outlook.stage,
                    risk_basis: obs.outlook.risk_basis,
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
        to_js(&self.inner.borrow().history().collect::<Vec<_>>())
    }

    /// Events observed since creation or `clear()`.
    #[wasm_bindgen(getter)]
    pub fn observed(&self) -> usize {
        self.inner.borrow().observed()
    }

    /// Whether the last prediction was below the threshold.
    #[wasm_bindgen(getter, js_name = atRisk)]
    pub fn at_risk(&self) -> bool {
        self.inner.borrow().at_risk()
    }

    /// The threshold set for every stage, or `undefined` (the model's per-stage defaults).
    #[wasm_bindgen(getter)]
    pub fn threshold(&self) -> Option<f32> {
        self.inner.borrow().threshold()
    }

    /// Sets one churn threshold (0 to 1) for every stage (`null`: the model's per-stage
    /// defaults); the next observed event is compared against it.
    #[wasm_bindgen(js_name = setThreshold)]
    pub fn set_threshold(&self, t: Option<f64>) -> Result<(), JsError> {
        self.inner
            .borrow_mut()
            .set_threshold(t.map(check_threshold).transpose().map_err(js_err)?);
        Ok(())
    }

    /// The visit's stage: `browsing`, `cart`, `cart_emptied` or `purchased`.
    #[wasm_bindgen(getter)]
    pub fn stage(&self) -> String {
        self.inner.borrow().visit().stage().as_str().to_string()
    }

    /// What this session's model is (the embedded one or `options.model`).
    #[wasm_bindgen(getter, unchecked_return_type = "ModelInfo")]
    pub fn info(&self) -> Result<JsValue, JsError> {
        model_info(&self.predictor)
    }

    /// Forgets the events and the risk state.
    pub fn clear(&self) {
        self.inner.borrow_mut().clear();
    }
}

/// The longest snapshot string `Session.restore` reads: a window of events with long brand
/// and category strings fits in a few KiB; anything far larger was not written by us.
const MAX_SNAPSHOT_BYTES: usize = 64 * 1024;

/// `options.target`: where events are dispatched (default `window`; `null`: nowhere).
fn target_option(options: &JsValue) -> Result<Option<web_sys::EventTarget>, JsError> {
    let t = option(options, "target");
    if t.is_null() {
        Ok(None)
    } else if t.is_undefined() {
        Ok(web_sys::window().map(Into::into))
    } else {
        Ok(Some(t.dyn_into::<web_sys::EventTarget>().map_err(|t| {
            JsError::new(&format!(
                "options.target must be an EventTarget (an element, document or window) or null, got {}",
                describe(&t)
            ))
        })?))
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
