//! The JS API (feature `embed`) in headless Chromium: results have the documented shape and
//! match the native predictor; every bad input throws an `Error` naming the event and field,
//! and the instance keeps working after it; sessions dispatch their DOM events.
#![cfg(all(target_arch = "wasm32", feature = "embed"))]

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Date, Object, Reflect, JSON};
use nextevent::browser::js::{JsPredictor, JsSession};
use nextevent::Predictor;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;

fn json(s: &str) -> JsValue {
    JSON::parse(s).expect("test JSON")
}

fn msg(e: JsError) -> String {
    let v: JsValue = e.into();
    v.unchecked_into::<js_sys::Error>().message().into()
}

fn get(v: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(v.clone(), |o, k| {
        Reflect::get(&o, &k.into()).unwrap_or(JsValue::UNDEFINED)
    })
}

fn ev(kind: &str, t: u32) -> JsValue {
    json(&format!(
        r#"{{"event_type":"{kind}","event_time":"2019-10-01T10:{:02}:{:02}Z","product_id":5802432,"brand":"runail","price":4.05}}"#,
        t / 60,
        t % 60
    ))
}

fn valid() -> JsValue {
    Array::of3(&ev("view", 0), &ev("cart", 20), &ev("cart", 45)).into()
}

fn with(field: &str, value: JsValue) -> JsValue {
    let e = ev("cart", 50);
    Reflect::set(&e, &field.into(), &value).unwrap();
    Array::of3(&ev("view", 0), &ev("cart", 20), &e).into()
}

#[wasm_bindgen_test]
fn predict_returns_the_documented_object_and_matches_native() {
    let p = JsPredictor::new(JsValue::UNDEFINED).unwrap();
    let out = p.predict(valid(), json(r#"{"influence":true}"#)).unwrap();
    let native = Predictor::embedded()
        .unwrap()
        .predict(
            &nextevent::core::json::events_from_json(&String::from(
                JSON::stringify(&valid()).unwrap(),
            ))
            .unwrap(),
        )
        .unwrap();
    let mut sum = 0.0;
    for (i, k) in ["view", "cart", "remove_from_cart", "purchase"]
        .iter()
        .enumerate()
    {
        let v = get(&out, &format!("probabilities.{k}")).as_f64().unwrap();
        assert!((v as f32 - native.probabilities[i]).abs() <= 1e-6, "{k}");
        sum += v;
    }
    assert!((sum - 1.0).abs() < 1e-4);
    assert_eq!(get(&out, "next").as_string().unwrap(), native.next.as_str());
    assert!(get(&out, "confidence").as_f64().is_some());
    assert!(get(&out, "churnRisk").as_bool().is_some());
    // The shipped model has the conversion head: P(buys this visit) and the visit's stage.
    let conversion = get(&out, "conversion").as_f64().unwrap() as f32;
    assert!((conversion - native.conversion.unwrap()).abs() <= 1e-6);
    assert!(["browsing", "cart", "cart_emptied", "purchased"]
        .contains(&get(&out, "stage").as_string().unwrap().as_str()));
    assert_eq!(
        get(&out, "riskBasis").as_string().as_deref(),
        Some("conversion")
    );
    assert_eq!(
        get(&out, "favouriteBrand").as_string().as_deref(),
        Some("runail")
    );
    assert_eq!(Array::from(&get(&out, "influence")).length(), 3);
    // Without the option, no influence key; a Date and epoch ms work as times.
    let d = with(
        "event_time",
        Date::new(&JsValue::from_f64(1_569_924_100_000.0)).into(),
    );
    assert!(get(&p.predict(d, JsValue::UNDEFINED).unwrap(), "influence").is_undefined());
    assert!(p
        .predict(
            with("event_time", JsValue::from_f64(1_569_924_100_000.0)),
            JsValue::UNDEFINED
        )
        .is_ok());
    assert!(p
        .predict(with("product_id", "5802432".into()), JsValue::UNDEFINED)
        .is_ok());
    let info = p.info().unwrap();
    assert!(get(&info, "size_bytes").as_f64().unwrap() > 1000.0);
}

#[wasm_bindgen_test]
fn every_bad_input_throws_a_named_error_and_the_predictor_keeps_working() {
    let p = JsPredictor::new(JsValue::UNDEFINED).unwrap();
    let huge: Array = (0..10_000).map(|i| ev("view", i % 3600)).collect();
    let missing_time = {
        let e = ev("cart", 50);
        Reflect::delete_property(e.unchecked_ref::<Object>(), &"event_time".into()).unwrap();
        Array::of2(&ev("view", 0), &e).into()
    };
    let cases: Vec<(&str, JsValue, &str)> = vec![
        ("null", JsValue::NULL, "got null"),
        ("undefined", JsValue::UNDEFINED, "got undefined"),
        ("a string", "view".into(), "array"),
        ("an object", Object::new().into(), "array"),
        ("empty", Array::new().into(), "empty sequence"),
        (
            "10,000 events",
            huge.into(),
            "10000 events exceeds the limit of 1000",
        ),
        (
            "null event",
            Array::of2(&ev("view", 0), &JsValue::NULL).into(),
            "event 1: field `event`: expected an object, got null",
        ),
        (
            "number event",
            Array::of1(&JsValue::from_f64(3.0)).into(),
            "event 0: field `event`: expected an object, got number",
        ),
        (
            "unknown type",
            with("event_type", "wishlist".into()),
            "event 2: field `event_type`: unknown event type \"wishlist\"",
        ),
        (
            "type as number",
            with("event_type", JsValue::from_f64(1.0)),
            "event 2: field `event_type`: expected a string",
        ),
        (
            "NaN price",
            with("price", JsValue::from_f64(f64::NAN)),
            "event 2: field `price`: NaN",
        ),
        (
            "+inf price",
            with("price", JsValue::from_f64(f64::INFINITY)),
            "event 2: field `price`: inf",
        ),
        (
            "-inf price",
            with("price", JsValue::from_f64(f64::NEG_INFINITY)),
            "event 2: field `price`: -inf",
        ),
        (
            "negative price",
            with("price", JsValue::from_f64(-1.0)),
            "event 2: field `price`: negative",
        ),
        (
            "huge price",
            with("price", JsValue::from_f64(1e12)),
            "event 2: field `price`",
        ),
        (
            "price as text",
            with("price", "cheap".into()),
            "event 2: field `price`",
        ),
        (
            "null price",
            with("price", JsValue::NULL),
            "event 2: field `price`: is null",
        ),
        (
            "undefined price",
            with("price", JsValue::UNDEFINED),
            "event 2: field `price`",
        ),
        (
            "missing time",
            missing_time,
            "event 1: field `event_time`: missing",
        ),
        (
            "unparsable time",
            with("event_time", "yesterday".into()),
            "event 2: field `event_time`",
        ),
        (
            "before 1970",
            with("event_time", "1960-01-01T00:00:00Z".into()),
            "event 2: field `event_time`",
        ),
        (
            "far future",
            with("event_time", "2999-01-01T00:00:00Z".into()),
            "event 2: field `event_time`",
        ),
        (
            "out of order",
            with("event_time", "2019-10-01T09:00:00Z".into()),
            "event 2: field `event_time`",
        ),
        (
            "invalid Date",
            with("event_time", Date::new(&"nope".into()).into()),
            "event 2: field `event_time`",
        ),
        (
            "product id text",
            with("product_id", "abc".into()),
            "event 2: field `product_id`",
        ),
        (
            "product id fraction",
            with("product_id", JsValue::from_f64(1.5)),
            "event 2: field `product_id`",
        ),
        (
            "brand as number",
            with("brand", JsValue::from_f64(7.0)),
            "event 2: field `brand`",
        ),
        (
            "1 MB brand",
            with("brand", "b".repeat(1 << 20).into()),
            "event 2: field `brand`",
        ),
    ];
    for (name, input, want) in cases {
        let err = p.predict(input, JsValue::UNDEFINED);
        let m = match err {
            Ok(_) => panic!("{name}: accepted"),
            Err(e) => msg(e),
        };
        assert!(m.contains(want), "{name}: {m:?} lacks {want:?}");
        // Still works.
        assert!(
            p.predict(valid(), JsValue::UNDEFINED).is_ok(),
            "after {name}"
        );
    }
    for bad in [
        json(r#"{"threshold":2}"#),
        json(r#"{"threshold":"x"}"#),
        "x".into(),
    ] {
        assert!(JsPredictor::new(bad).is_err());
    }
}

#[wasm_bindgen_test]
fn a_session_observes_keeps_history_and_dispatches_its_events() {
    let target = web_sys::EventTarget::new().unwrap();
    let seen: Rc<RefCell<Vec<(String, JsValue)>>> = Rc::default();
    let mut closures = Vec::new();
    for name in ["nextevent:prediction", "nextevent:churn-risk"] {
        let s = seen.clone();
        let c = Closure::<dyn FnMut(web_sys::CustomEvent)>::new(move |e: web_sys::CustomEvent| {
            s.borrow_mut().push((e.type_(), e.detail()));
        });
        target
            .add_event_listener_with_callback(name, c.as_ref().unchecked_ref())
            .unwrap();
        closures.push(c);
    }
    let opts = Object::new();
    Reflect::set(&opts, &"threshold".into(), &JsValue::from_f64(1.0)).unwrap();
    Reflect::set(&opts, &"target".into(), &target).unwrap();
    let s = JsSession::new(opts.into()).unwrap();
    for t in 0..20 {
        let out = s
            .observe(ev(if t % 2 == 0 { "view" } else { "cart" }, t * 10))
            .unwrap();
        assert_eq!(get(&out, "churnRisk").as_bool(), Some(true));
    }
    assert_eq!(s.observed(), 20);
    assert_eq!(Array::from(&s.history().unwrap()).length(), 16);
    let events = seen.borrow();
    let predictions = events
        .iter()
        .filter(|e| e.0 == "nextevent:prediction")
        .count();
    let risks: Vec<_> = events
        .iter()
        .filter(|e| e.0 == "nextevent:churn-risk")
        .collect();
    assert_eq!(predictions, 20);
    assert_eq!(risks.len(), 1, "churn-risk fires once per crossing");
    assert_eq!(
        get(&risks[0].1, "favouriteBrand").as_string().as_deref(),
        Some("runail")
    );
    assert!(get(&risks[0].1, "purchase").as_f64().is_some());
    assert!(
        get(&risks[0].1, "conversion").as_f64().unwrap()
            < get(&risks[0].1, "threshold").as_f64().unwrap()
    );
    assert!(get(&risks[0].1, "stage").as_string().is_some());
    assert_eq!(get(&events[0].1, "observed").as_f64(), Some(1.0));
    assert_eq!(
        get(&events[0].1, "event.event_type").as_string().as_deref(),
        Some("view")
    );
    drop(events);

    // A bad event throws, leaves the session as it was, and the next good one works.
    let m = msg(s.observe(ev("wishlist", 999)).unwrap_err());
    assert!(m.contains("event 20: field `event_type`"), "{m}");
    let m = msg(s.observe(ev("view", 0)).unwrap_err());
    assert!(m.contains("earlier than the previous event"), "{m}");
    assert_eq!(s.observed(), 20);
    let bought = s.observe(ev("purchase", 999)).unwrap();
    assert_eq!(
        get(&bought, "stage").as_string().as_deref(),
        Some("purchased")
    );
    assert_eq!(
        get(&bought, "churnRisk").as_bool(),
        Some(false),
        "a buyer is never flagged"
    );
    assert!(get(&bought, "threshold").is_null());
    assert!(s.set_threshold(Some(f64::NAN)).is_err());
    assert!(s.set_threshold(None).is_ok() && s.threshold().is_none());
    s.clear();
    assert_eq!(s.observed(), 0);
    let bad_target = Object::new();
    Reflect::set(&bad_target, &"target".into(), &JsValue::from_f64(3.0)).unwrap();
    assert!(msg(JsSession::new(bad_target.into()).err().unwrap()).contains("EventTarget"));
}

#[wasm_bindgen_test]
fn encode_and_run_expose_the_model_inputs_and_check_them() {
    use js_sys::{BigInt64Array, Float32Array};
    let p = JsPredictor::new(JsValue::UNDEFINED).unwrap();
    let native = Predictor::embedded().unwrap();
    let events =
        nextevent::core::json::events_from_json(&String::from(JSON::stringify(&valid()).unwrap()))
            .unwrap();
    let short = Array::of1(&ev("view", 0));
    let seqs: JsValue = Array::of2(&valid(), &short).into();
    let enc = p.encode(seqs).unwrap();
    assert_eq!(get(&enc, "n").as_f64(), Some(2.0));
    let f: Float32Array = get(&enc, "features").dyn_into().unwrap();
    let b: BigInt64Array = get(&enc, "brands").dyn_into().unwrap();
    let want = native.encode(&[&events, &events[..1]]);
    assert_eq!(f.to_vec(), want.features, "the one encoder, bit for bit");
    assert_eq!(b.to_vec(), want.brands);
    let probs = p.run(&f, &b).unwrap().to_vec();
    let want_p = native.run_raw(&want).unwrap();
    assert_eq!(probs, want_p);
    let out = p.predict(valid(), JsValue::UNDEFINED).unwrap();
    let v = get(&out, "probabilities.cart").as_f64().unwrap() as f32;
    assert!((v - probs[1]).abs() <= 1e-6);
    // Checked, not trusted.
    let cases: Vec<(Float32Array, BigInt64Array, &str)> = vec![
        (
            Float32Array::new_with_length(335),
            BigInt64Array::new_with_length(16),
            "features must hold n × 336 values",
        ),
        (
            Float32Array::new_with_length(336),
            BigInt64Array::new_with_length(15),
            "brands n × 16",
        ),
        (
            {
                let a = Float32Array::new_with_length(336);
                a.set_index(7, f32::NAN);
                a
            },
            BigInt64Array::new_with_length(16),
            "features[7] is NaN",
        ),
        (
            Float32Array::new_with_length(336),
            {
                let a = BigInt64Array::new_with_length(16);
                a.set_index(3, 128);
                a
            },
            "brands[3] is 128, buckets are 0 to 127",
        ),
    ];
    for (f, b, want) in cases {
        let e = msg(p.run(&f, &b).unwrap_err());
        assert!(e.contains(want), "{e}");
    }
    for (bad, want) in [
        (
            JsValue::from(3),
            "sequences must be an array of event arrays, got number",
        ),
        (
            Array::of1(&Array::new()).into(),
            "sequence 0: empty sequence",
        ),
        (
            Array::of1(&with("price", JsValue::from_f64(f64::NAN))).into(),
            "sequence 0: event 2: field `price`",
        ),
    ] {
        let e = msg(p.encode(bad).unwrap_err());
        assert!(e.contains(want), "{e}");
    }
    assert_eq!(p.run(&f, &b).unwrap().to_vec(), probs, "still works");
}

#[wasm_bindgen_test]
fn a_restored_session_predicts_as_the_original_and_refuses_tampered_snapshots() {
    let none = json(r#"{"target":null}"#);
    let a = JsSession::new(none.clone()).unwrap();
    for (i, k) in ["view", "cart", "remove_from_cart", "view"]
        .iter()
        .enumerate()
    {
        a.observe(ev(k, i as u32 * 30)).unwrap();
    }
    let snap = a.snapshot().unwrap();
    let b = JsSession::restore(JsValue::from_str(&snap), none.clone()).unwrap();
    assert_eq!(b.observed(), 4);
    assert_eq!(b.stage(), a.stage());
    assert_eq!(b.at_risk(), a.at_risk());
    let (oa, ob) = (
        a.observe(ev("view", 200)).unwrap(),
        b.observe(ev("view", 200)).unwrap(),
    );
    for k in ["view", "cart", "remove_from_cart", "purchase"] {
        let (pa, pb) = (
            get(&oa, &format!("probabilities.{k}")).as_f64().unwrap(),
            get(&ob, &format!("probabilities.{k}")).as_f64().unwrap(),
        );
        assert!((pa - pb).abs() <= 1e-6, "{k}: {pa} vs {pb}");
    }
    assert_eq!(
        get(&oa, "conversion").as_f64(),
        get(&ob, "conversion").as_f64()
    );

    let refused = |s: JsValue| msg(JsSession::restore(s, none.clone()).err().expect("refused"));
    assert!(refused(JsValue::from_f64(3.0)).contains("expected the string"));
    assert!(refused("{not json".into()).contains("not a snapshot"));
    assert!(refused("x".repeat(70_000).into()).contains("at most"));
    let tampered = snap.replacen("\"view\"", "\"fly\"", 1);
    assert!(refused(tampered.into()).starts_with("stored session"));
    let v: serde_json::Value = serde_json::from_str(&snap).unwrap();
    let mut neg = v.clone();
    neg["events"][0]["price"] = serde_json::json!(-1.0);
    assert!(refused(neg.to_string().into()).contains("price"));
    let mut few = v.clone();
    few["observed"] = serde_json::json!(1);
    assert!(refused(few.to_string().into()).contains("observed"));
    let mut back = v;
    back["events"][3]["event_time"] = serde_json::json!("2019-10-01T09:00:00Z");
    assert!(refused(back.to_string().into()).starts_with("stored session"));
}

#[wasm_bindgen_test]
fn a_model_given_as_bytes_predicts_as_the_embedded_one_and_every_bad_model_is_refused() {
    let shipped = include_bytes!("../models/nextevent.onnx");
    let with_model = |bytes: &[u8], extra: &str| {
        let o = json(&format!(r#"{{"target":null{extra}}}"#));
        Reflect::set(&o, &"model".into(), &js_sys::Uint8Array::from(bytes)).unwrap();
        o
    };
    let embedded = JsSession::new(json(r#"{"target":null}"#)).unwrap();
    let own = JsSession::new(with_model(shipped, "")).unwrap();
    assert_eq!(
        get(&own.info().unwrap(), "name").as_string(),
        get(&embedded.info().unwrap(), "name").as_string()
    );
    for (i, k) in ["view", "cart", "view"].iter().enumerate() {
        let (a, b) = (
            embedded.observe(ev(k, i as u32 * 20)).unwrap(),
            own.observe(ev(k, i as u32 * 20)).unwrap(),
        );
        for c in ["view", "cart", "remove_from_cart", "purchase"] {
            let (pa, pb) = (
                get(&a, &format!("probabilities.{c}")).as_f64().unwrap(),
                get(&b, &format!("probabilities.{c}")).as_f64().unwrap(),
            );
            assert!((pa - pb).abs() <= 1e-6, "{c}: {pa} vs {pb}");
        }
    }
    // The same bytes as an ArrayBuffer, for a Predictor, with a threshold.
    let o = json(r#"{"threshold":0.3}"#);
    Reflect::set(
        &o,
        &"model".into(),
        &js_sys::Uint8Array::from(&shipped[..]).buffer(),
    )
    .unwrap();
    let p = JsPredictor::new(o).unwrap();
    assert_eq!(p.threshold(), Some(0.3));

    for (name, bytes, want) in common::bad_models() {
        let e = msg(JsSession::new(with_model(&bytes, ""))
            .err()
            .unwrap_or_else(|| panic!("{name}: accepted")));
        assert!(
            e.starts_with("model was not loaded: ") && e.contains(want),
            "{name}: {e}"
        );
        let e = msg(JsPredictor::new(with_model(&bytes, ""))
            .err()
            .unwrap_or_else(|| panic!("{name}: accepted")));
        assert!(e.contains(want), "{name}: {e}");
    }
    let wrong = json(r#"{"model":"/models/shop.onnx"}"#);
    let e = msg(JsSession::new(wrong).err().expect("a URL is not bytes"));
    assert!(
        e.contains("options.model must be the bytes") && e.contains("string"),
        "{e}"
    );
    // The embedded session kept working throughout.
    assert!(embedded.observe(ev("cart", 100)).is_ok());
}
