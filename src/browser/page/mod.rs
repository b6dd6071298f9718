//! The demo page (wasm32, feature `page`): small Leptos components over the plain, natively
//! tested logic of [`crate::browser`]; this module mounts the page and holds its state.

mod business;
mod editor;
mod influence;
mod model_panel;
mod prediction;
mod replay_panel;
mod warm;

use leptos::prelude::*;

use crate::browser::examples::examples;
use crate::browser::outcome::{ModelStatus, Outcome};
use crate::browser::replay::Replay;
use crate::browser::rows::Row;
use crate::core::event::EventKind;
use crate::core::predict::{Predictor, EMBEDDED_MODEL};

/// Mounts the page; called by the `nextevent-page` binary in the browser. In the warm-up
/// worker (no window) it runs the worker's part instead (see [`warm`]).
pub fn start() {
    if web_sys::window().is_none() {
        warm::run_here();
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        show_fatal(&info.to_string());
    }));
    let doc = web_sys::window().and_then(|w| w.document());
    if let Some(el) = doc.as_ref().and_then(|d| d.get_element_by_id("loading")) {
        el.remove();
    }
    // The title, tagline and what the page does are static HTML in index.html, painted before
    // the wasm arrives; the app fills `#app` below them, so nothing above it moves.
    use wasm_bindgen::JsCast;
    match doc
        .and_then(|d| d.get_element_by_id("app"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        Some(app) => leptos::mount::mount_to(app, App).forget(),
        None => leptos::mount::mount_to_body(App),
    }
}

/// Puts a visible error at the top of the page (used by the panic hook: never a blank screen).
fn show_fatal(message: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let (Ok(p), Some(body)) = (doc.create_element("p"), doc.body()) {
        p.set_class_name("error fatal");
        let _ = p.set_attribute("role", "alert");
        p.set_text_content(Some(&format!(
            "nextevent stopped with an internal error; reload the page. Details: {message}"
        )));
        let _ = body.prepend_with_node_1(&p);
    }
}

/// A User Timing mark, read by the e2e test for navigation → first prediction.
fn mark(name: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.mark(name);
    }
}

/// Resolves in a later task (a zero `setTimeout`), so the browser can paint and handle input
/// first. Total blocking time and INP count each task's time past 50 ms, so one long task cut
/// in two costs less, and a click lands between the halves.
async fn next_task() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        let queued = web_sys::window().map(|w| w.set_timeout_with_callback(&resolve));
        if !matches!(queued, Some(Ok(_))) {
            let _ = resolve.call0(&wasm_bindgen::JsValue::UNDEFINED);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

/// Loads a model on the page's thread in [`Predictor::read`]'s steps, each step in a task of
/// its own, then builds the any-batch plan the first render's influence strip runs in one
/// more (else that optimization lands in the render's task). The time returned is the three
/// loading steps' own, without the waits between them or the batch plan: what the page
/// shows as "loaded in N ms", comparable with a load in one piece.
async fn load_in_tasks(bytes: &[u8]) -> Result<(Predictor, f64), crate::core::error::Error> {
    // The marks let the e2e test check that the steps stay in separate tasks.
    let t = now_ms();
    let read = Predictor::read(bytes)?;
    let mut ms = now_ms() - t;
    mark("nextevent:model-read");
    next_task().await;
    let t = now_ms();
    let typed = read.declutter()?;
    ms += now_ms() - t;
    mark("nextevent:model-decluttered");
    next_task().await;
    let t = now_ms();
    let p = typed.optimize()?;
    ms += now_ms() - t;
    mark("nextevent:model-optimized");
    next_task().await;
    p.prepare_batch()?;
    mark("nextevent:batch-plan");
    Ok((p, ms))
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// Class order colours, shared by the bars, the replay timeline and its legend.
fn kind_class(k: EventKind) -> &'static str {
    match k {
        EventKind::View => "k-view",
        EventKind::Cart => "k-cart",
        EventKind::RemoveFromCart => "k-remove",
        EventKind::Purchase => "k-purchase",
    }
}

/// The page's state, shared by its components (all handles are `Copy`).
#[derive(Clone, Copy)]
struct State {
    /// The model in use: the shipped one, or one the visitor loaded from a file.
    model: RwSignal<Predictor>,
    load_ms: RwSignal<f64>,
    /// How the warm-up worker went: its time, or why the page compiled the code itself.
    warmed: StoredValue<Result<f64, String>>,
    model_status: RwSignal<Option<ModelStatus>>,
    rows: RwSignal<Vec<Row>>,
    /// One churn threshold for every stage, or `None` for the model's per-stage defaults.
    threshold: RwSignal<Option<f32>>,
    replay: RwSignal<Option<Replay>>,
    outcome: Memo<Outcome>,
}

impl State {
    fn new(predictor: Predictor, load_ms: f64, warmed: Result<f64, String>) -> Self {
        let threshold = RwSignal::new(None);
        let model = RwSignal::new(predictor);
        let rows = RwSignal::new(examples()[0].1.clone());
        let outcome = Memo::new(move |_| model.with(|p| rows.with(|r| Outcome::of(p, r, now_ms))));
        State {
            model,
            load_ms: RwSignal::new(load_ms),
            warmed: StoredValue::new(warmed),
            model_status: RwSignal::new(None),
            rows,
            threshold,
            replay: RwSignal::new(None),
            outcome,
        }
    }

    /// Shows `rows` (ending any replay).
    fn load(self, rows: Vec<Row>) {
        self.replay.set(None);
        self.rows.set(rows);
    }

    /// Switches to `p`, loaded in `ms`, with its own default threshold.
    fn use_model(self, p: Predictor, ms: f64, status: ModelStatus) {
        self.load_ms.set(ms);
        self.threshold.set(None);
        self.model_status.set(Some(status));
        self.model.set(p);
    }
}

#[component]
fn App() -> impl IntoView {
    // The model loads after the warm-up worker has compiled its code (see `warm`), so the
    // page shows the loading line meanwhile and its thread stays free.
    let loaded = RwSignal::new(None::<Result<(Predictor, f64, Result<f64, String>), String>>);
    leptos::task::spawn_local(async move {
        let warmed = warm::in_worker().await;
        mark("nextevent:warmed");
        // Without these two breaks the worker's reply, the model load and the first render
        // with its first prediction run as one task (a future's wake-ups are microtasks of the
        // task that woke it); split, each is judged on its own and input waits for one only.
        next_task().await;
        let p = load_in_tasks(EMBEDDED_MODEL).await;
        mark("nextevent:model-loaded");
        next_task().await;
        loaded.set(Some(
            p.map(|(p, load_ms)| (p, load_ms, warmed))
                .map_err(|e| e.to_string()),
        ));
    });
    move || match loaded.get() {
        None => view! { <p id="loading" class="loading" role="status">"Loading the model…"</p> }
            .into_any(),
        Some(Ok((p, load_ms, warmed))) => {
            view! { <Demo predictor=p load_ms=load_ms warmed=warmed/> }.into_any()
        }
        Some(Err(e)) => view! {
            <main>
                <p class="error" role="alert">"The model could not be loaded: " {e}</p>
            </main>
        }
        .into_any(),
    }
}

#[component]
fn Demo(predictor: Predictor, load_ms: f64, warmed: Result<f64, String>) -> impl IntoView {
    let state = State::new(predictor, load_ms, warmed);
    let first_marked = std::cell::Cell::new(false);
    Effect::new(move |_| {
        if !first_marked.get() && matches!(state.outcome.get(), Outcome::Ready { .. }) {
            first_marked.set(true);
            mark("nextevent:first-prediction");
        }
    });
    view! {
        <main>
            <editor::Sequence state=state/>
            <section aria-labelledby="pred-h" class="prediction" aria-live="polite">
                <h2 id="pred-h">"Next event"</h2>
                <prediction::NextEvent state=state/>
                <business::Threshold state=state/>
                {move || state.replay.get().map(|r| view! { <replay_panel::ReplayPanel replay=r state=state/> })}
            </section>
            <model_panel::ModelPanel state=state/>
        </main>
    }
}
