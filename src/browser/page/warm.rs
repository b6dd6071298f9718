//! The demo's warm-up worker: the page's own wasm, run once in a module worker, loads the model
//! and predicts there first, so V8 compiles that code off the page's thread.
//!
//! Why: V8 compiles a wasm function when it is first called (lazy compilation), on the thread
//! that calls it. Loading the model is the first call of most of tract, so on the page's thread
//! it was one long task (about 150 ms on a desktop, four times that in Lighthouse's mobile
//! simulation) while the page was becoming interactive; the same load takes 10–14 ms once the
//! code is compiled. A `WebAssembly.Module` posted to a worker shares its compiled code with
//! the page, so what the worker compiles the page then finds ready.
//!
//! The page's side is [`in_worker`]; the worker's side is `www/demo-warm.js`, which imports
//! this wasm's JS glue and instantiates the same module, and [`run_here`], which `main` runs
//! when it finds itself in a worker. Nothing the worker computes is kept: the page loads its
//! own model afterwards, so every figure it shows comes from its own thread.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::browser::examples::examples;
use crate::browser::outcome::Outcome;
use crate::core::predict::Predictor;

#[wasm_bindgen]
extern "C" {
    /// The URL of this wasm's JS glue (Trunk names it `nextevent-page-<hash>.js`): the worker
    /// imports it to instantiate the same module.
    #[wasm_bindgen(thread_local_v2, js_namespace = ["import", "meta"], js_name = url)]
    static GLUE_URL: String;
}

/// Where Trunk copies the worker script (index.html's `copy-file` link).
const WORKER_URL: &str = "/demo-warm.js";

/// How long the page waits for the worker before loading the model on its own thread anyway:
/// the warm-up takes a few hundred ms on a slow phone; a worker that never answers must not
/// keep the demo from starting.
const TIMEOUT_MS: i32 = 8_000;

/// The worker's part, run by `main` when there is no window: the same load and first
/// prediction the page makes. Errors are the page's to report (it repeats the load), so they
/// are ignored here.
pub fn run_here() {
    if let Ok(p) = Predictor::embedded() {
        let _ = Outcome::of(&p, &examples()[0].1, || 0.0);
    }
}

/// Runs the warm-up in a module worker and waits for it: `Ok(ms)` when the worker loaded and
/// predicted, `Err(why)` when it could not (no module workers, the script failed, a trap, the
/// timeout). Either way the page then loads its model; only the time it takes differs.
pub async fn in_worker() -> Result<f64, String> {
    let opts = web_sys::WorkerOptions::new();
    opts.set_type(web_sys::WorkerType::Module);
    let worker = web_sys::Worker::new_with_options(WORKER_URL, &opts)
        .map_err(|e| format!("the warm-up worker could not start: {}", describe(&e)))?;
    // One promise settles with the first of: the worker's reply, its error event, the timeout.
    // Each handler is a once-closure; the two that never run stay allocated (a few bytes, once
    // per page load).
    let settled = js_sys::Promise::new(&mut |resolve, _reject| {
        let r = resolve.clone();
        let on_message = Closure::once_into_js(move |e: web_sys::MessageEvent| {
            let _ = r.call1(&JsValue::UNDEFINED, &e.data());
        });
        worker.set_onmessage(Some(on_message.unchecked_ref()));
        let r = resolve.clone();
        let on_error = Closure::once_into_js(move |_: web_sys::Event| {
            let _ = r.call1(
                &JsValue::UNDEFINED,
                &JsValue::from_str("the warm-up worker's script failed to load"),
            );
        });
        worker.set_onerror(Some(on_error.unchecked_ref()));
        let r = resolve;
        let on_timeout = Closure::once_into_js(move || {
            let _ = r.call1(
                &JsValue::UNDEFINED,
                &JsValue::from_str(&format!(
                    "the warm-up worker did not answer in {TIMEOUT_MS} ms"
                )),
            );
        });
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                on_timeout.unchecked_ref(),
                TIMEOUT_MS,
            );
        }
    });
    let request = js_sys::Object::new();
    let glue = GLUE_URL.with(String::clone);
    let sent = js_sys::Reflect::set(&request, &"module".into(), &wasm_bindgen::module())
        .and_then(|_| js_sys::Reflect::set(&request, &"glue".into(), &glue.into()))
        .and_then(|_| worker.post_message(&request));
    let reply = match sent {
        Ok(()) => JsFuture::from(settled).await.unwrap_or_else(|e| e),
        Err(e) => JsValue::from_str(&format!("the module could not be sent: {}", describe(&e))),
    };
    worker.terminate();
    if let Some(why) = reply.as_string() {
        return Err(why);
    }
    let field = |name: &str| js_sys::Reflect::get(&reply, &name.into()).ok();
    match (
        field("warmed_ms").and_then(|v| v.as_f64()),
        field("error").and_then(|v| v.as_string()),
    ) {
        (Some(ms), _) => Ok(ms),
        (None, Some(why)) => Err(format!("the warm-up worker failed: {why}")),
        (None, None) => Err("the warm-up worker sent an unexpected reply".to_string()),
    }
}

/// A thrown JS value as text (an `Error`'s message, else its string form).
fn describe(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}
