//! The demo page (wasm32 only): a thin Leptos layer over [`crate::demo`], the predictor and
//! [`crate::insight`]. Logic lives in those plain modules; this file only wires the DOM.

use leptos::prelude::*;

use crate::demo::{self, ReplayStep, Row, RowIssue};
use crate::event::{Event, EventKind};
use crate::insight;
use crate::predict::{Prediction, Predictor};

/// Mounts the page; called by `main` in the browser.
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        show_fatal(&info.to_string());
    }));
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("loading"))
    {
        el.remove();
    }
    leptos::mount::mount_to_body(App);
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

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Empty,
    Issues(Vec<RowIssue>),
    Failed(String),
    Ready {
        prediction: Prediction,
        millis: f64,
        events: Vec<Event>,
        /// Per event: change in P(purchase) when it is left out (see [`insight::influence`]).
        influence: Vec<f32>,
    },
}

/// A replay in progress: the whole session, its steps, and how many events are shown.
#[derive(Debug, Clone, PartialEq)]
struct Replay {
    rows: Vec<Row>,
    steps: Vec<ReplayStep>,
    at: usize,
}

#[component]
fn App() -> impl IntoView {
    let t0 = now_ms();
    let loaded = Predictor::embedded();
    let load_ms = now_ms() - t0;
    mark("nextevent:model-loaded");
    match loaded {
        Ok(p) => view! { <Demo predictor=p load_ms=load_ms/> }.into_any(),
        Err(e) => view! {
            <main>
                <h1>"nextevent"</h1>
                <p class="error" role="alert">"The model could not be loaded: " {e.to_string()}</p>
            </main>
        }
        .into_any(),
    }
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

fn pct(p: f32) -> String {
    format!("{:.1} %", p * 100.0)
}

#[component]
fn Demo(predictor: Predictor, load_ms: f64) -> impl IntoView {
    // The model in use: the shipped one, or one the visitor loaded from a file.
    let model = RwSignal::new(predictor.clone());
    let load_ms = RwSignal::new(load_ms);
    let model_status = RwSignal::new(None::<ModelStatus>);
    let info = move || model.with(|p| p.info().clone());
    let size_kb = move || model.with(|p| p.size_bytes() as f64 / 1024.0);
    let (rows, set_rows) = signal(demo::examples()[0].1.clone());
    let threshold = RwSignal::new(predictor.info().churn_threshold);
    let replay = RwSignal::new(None::<Replay>);
    let paste_text = RwSignal::new(String::new());
    let paste_report = RwSignal::new(None::<(usize, Vec<String>)>);
    let outcome = Memo::new(move |_| {
        let p = model.get();
        let (events, issues) = demo::rows_to_events(&rows.get());
        if !issues.is_empty() {
            return Outcome::Issues(issues);
        }
        if events.is_empty() {
            return Outcome::Empty;
        }
        let t = now_ms();
        let prediction = match p.predict(&events) {
            Ok(x) => x,
            Err(e) => return Outcome::Failed(e.to_string()),
        };
        let millis = now_ms() - t;
        match insight::influence(&p, &events, &prediction) {
            Ok(influence) => Outcome::Ready {
                prediction,
                millis,
                events,
                influence,
            },
            Err(e) => Outcome::Failed(e.to_string()),
        }
    });
    let first_marked = std::cell::Cell::new(false);
    Effect::new(move |_| {
        if !first_marked.get() && matches!(outcome.get(), Outcome::Ready { .. }) {
            first_marked.set(true);
            mark("nextevent:first-prediction");
        }
    });
    let load = move |r: Vec<Row>| {
        replay.set(None);
        set_rows.set(r);
    };
    let edit = move |i: usize, f: fn(&mut Row, String)| {
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            set_rows.update(|rs| {
                if let Some(r) = rs.get_mut(i) {
                    f(r, v)
                }
            })
        }
    };
    let issue_of = move |i: usize| match outcome.get() {
        Outcome::Issues(list) => list
            .into_iter()
            .find(|x| x.row == i)
            .map(|x| format!("{}: {}", x.field, x.reason)),
        _ => None,
    };
    let start_replay = move |_| {
        let p2 = model.get_untracked();
        let all = rows.get_untracked();
        let (events, issues) = demo::rows_to_events(&all);
        if !issues.is_empty() || events.len() < 2 {
            return;
        }
        if let Ok(steps) = demo::replay(&p2, &events) {
            set_rows.set(all[..1].to_vec());
            replay.set(Some(Replay {
                rows: all,
                steps,
                at: 1,
            }));
        }
    };
    let step_to = move |delta: isize| {
        replay.update(|r| {
            if let Some(r) = r {
                let at = (r.at as isize + delta).clamp(1, r.rows.len() as isize) as usize;
                r.at = at;
                set_rows.set(r.rows[..at].to_vec());
            }
        })
    };
    let exit_replay = move |_| {
        if let Some(r) = replay.get_untracked() {
            set_rows.set(r.rows);
        }
        replay.set(None);
    };
    let do_paste = move |_| {
        let pasted = demo::paste_rows(&paste_text.get_untracked());
        let n = pasted.rows.len();
        if n > 0 {
            load(pasted.rows);
        }
        paste_report.set(Some((n, pasted.rejected)));
    };
    let real = demo::real_sessions();
    let on_model_file = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        let name = file.name();
        let size = file.size();
        leptos::task::spawn_local(async move {
            let status = match read_model_file(&file, size).await {
                Ok(bytes) => {
                    let t0 = now_ms();
                    match Predictor::from_onnx_bytes(&bytes) {
                        Ok(p) => {
                            let ms = now_ms() - t0;
                            let status = ModelStatus::loaded(&name, &p);
                            threshold.set(p.info().churn_threshold);
                            load_ms.set(ms);
                            model.set(p);
                            status
                        }
                        Err(e) => {
                            ModelStatus::refused(&name, &e.to_string(), &model.get_untracked())
                        }
                    }
                }
                Err(e) => ModelStatus::refused(&name, &e, &model.get_untracked()),
            };
            model_status.set(Some(status));
        });
        // Choosing the same file again must fire `change` again.
        input.set_value("");
    };
    let use_shipped = move |_| {
        let t0 = now_ms();
        if let Ok(p) = Predictor::embedded() {
            load_ms.set(now_ms() - t0);
            threshold.set(p.info().churn_threshold);
            model_status.set(Some(ModelStatus::loaded("the shipped model", &p)));
            model.set(p);
        }
    };

    view! {
        <header>
            <h1>"nextevent"</h1>
            <p class="tagline">"Predicts a shopper's next action in your browser. No data leaves this page."</p>
        </header>
        <main>
            <section aria-labelledby="seq-h" class="sequence">
                <h2 id="seq-h">"Events so far (oldest first)"</h2>
                <div class="examples" role="group" aria-label="Example sessions">
                    <span class="group-label">"Examples:"</span>
                    {demo::examples().into_iter().map(|(name, ex)| {
                        view! { <button class="example" on:click=move |_| load(ex.clone())>{name}</button> }
                    }).collect_view()}
                </div>
                {(!real.is_empty()).then(|| view! {
                    <div class="examples real" role="group" aria-label="Real sessions from the shop's data">
                        <span class="group-label">"Real sessions:"</span>
                        {real.into_iter().map(|(name, ex)| {
                            view! { <button class="example real" on:click=move |_| load(ex.clone())>{name}</button> }
                        }).collect_view()}
                    </div>
                })}
                <div id="influence" role="img" aria-label="Influence of each event on the purchase probability">
                    {move || match outcome.get() {
                        Outcome::Ready { influence, .. } if influence.len() > 1 => {
                            let max = influence.iter().fold(0.02f32, |m, d| m.max(d.abs()));
                            view! {
                                <span class="group-label">"Why — each event's effect on P(purchase):"</span>
                                <ol class="strip">
                                {influence.into_iter().enumerate().map(|(i, d)| {
                                    let a = (d.abs() / max).min(1.0);
                                    let colour = if d >= 0.0 { format!("rgba(6,118,71,{a:.2})") } else { format!("rgba(180,35,24,{a:.2})") };
                                    view! {
                                        <li class="cell" data-event=i data-delta=d.to_string() style:background=colour
                                            title=format!("Event {}: {:+.1} points of P(purchase)", i + 1, d * 100.0)>
                                            <span class="n">{i + 1}</span>
                                            <span class="d">{format!("{:+.1}", d * 100.0)}</span>
                                        </li>
                                    }
                                }).collect_view()}
                                </ol>
                            }.into_any()
                        }
                        _ => ().into_any(),
                    }}
                </div>
                <table id="events">
                    <thead><tr><th>"#"</th><th>"Event"</th><th>"Product"</th><th>"Brand"</th><th>"Price"</th><th>"Time (UTC)"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                    <tbody>
                    {move || rows.get().into_iter().enumerate().map(|(i, r)| {
                        let n = i + 1;
                        let issue = issue_of(i);
                        view! {
                            <tr class:invalid=issue.is_some() data-row=i>
                                <td>{n}</td>
                                <td><select aria-label=format!("Event {n} type") class="kind" on:change=edit(i, |r, v| r.kind = v)>
                                    {EventKind::ALL.iter().map(|k| view! { <option value=k.as_str() selected=r.kind == k.as_str()>{k.as_str()}</option> }).collect_view()}
                                </select></td>
                                <td><input aria-label=format!("Event {n} product id") class="product" inputmode="numeric" prop:value=r.product_id.clone() on:change=edit(i, |r, v| r.product_id = v)/></td>
                                <td><input aria-label=format!("Event {n} brand") class="brand" list="brands" prop:value=r.brand.clone() on:change=edit(i, |r, v| r.brand = v)/></td>
                                <td><input aria-label=format!("Event {n} price") class="price" inputmode="decimal" prop:value=r.price.clone() on:change=edit(i, |r, v| r.price = v)/></td>
                                <td><input aria-label=format!("Event {n} time") class="time" type="datetime-local" step="1" prop:value=r.time.clone() on:change=edit(i, |r, v| r.time = v)/></td>
                                <td class="row-actions">
                                    <button class="up" aria-label=format!("Move event {n} up") on:click=move |_| set_rows.update(|rs| { demo::move_row(rs, i, true); })>"↑"</button>
                                    <button class="down" aria-label=format!("Move event {n} down") on:click=move |_| set_rows.update(|rs| { demo::move_row(rs, i, false); })>"↓"</button>
                                    <button class="remove" aria-label=format!("Remove event {n}") on:click=move |_| set_rows.update(|rs| { if i < rs.len() { rs.remove(i); } })>"✕"</button>
                                </td>
                            </tr>
                            {issue.map(|m| view! { <tr class="issue"><td></td><td colspan="6" role="alert" class="row-error">{format!("Event {n}: {m}")}</td></tr> })}
                        }
                    }).collect_view()}
                    </tbody>
                </table>
                <datalist id="brands">
                    {demo::known_brands().iter().map(|b| view! { <option value=*b></option> }).collect_view()}
                </datalist>
                <div class="actions">
                    <button id="add" on:click=move |_| set_rows.update(|rs| { let r = demo::next_row(rs); rs.push(r); })>"Add event"</button>
                    <button id="clear" on:click=move |_| load(Vec::new())>"Clear"</button>
                    <button id="replay-start" on:click=start_replay
                        disabled=move || replay.get().is_some() || !matches!(outcome.get(), Outcome::Ready { ref events, .. } if events.len() >= 2)>
                        "Replay step by step"</button>
                </div>
                <details id="paste">
                    <summary>"Paste rows in the Kaggle CSV format"</summary>
                    <label for="paste-text" class="meta">"event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session — header optional"</label>
                    <textarea id="paste-text" rows="5" spellcheck="false"
                        placeholder="2019-10-01 00:00:00 UTC,cart,5773203,1487580005134238464,,runail,2.62,463240011,26dd6e6e"
                        prop:value=move || paste_text.get() on:input=move |ev| paste_text.set(event_target_value(&ev))></textarea>
                    <button id="paste-load" on:click=do_paste>"Use these rows"</button>
                    {move || paste_report.get().map(|(n, rejected)| {
                        let r = rejected.len();
                        view! {
                        <div id="paste-report" role="status" data-loaded=n data-rejected=r>
                            <p>{format!("Loaded {n} event{}; rejected {r} line{}.", if n == 1 { "" } else { "s" }, if r == 1 { "" } else { "s" })}</p>
                            <ul class="row-error">{rejected.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
                        </div>
                    }})}
                </details>
            </section>
            <section aria-labelledby="pred-h" class="prediction" aria-live="polite">
                <h2 id="pred-h">"Next event"</h2>
                {move || match outcome.get() {
                    Outcome::Empty => view! { <p class="hint">"Add an event to see a prediction."</p> }.into_any(),
                    Outcome::Issues(_) => view! { <p class="hint">"Fix the marked events to see a prediction."</p> }.into_any(),
                    Outcome::Failed(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Outcome::Ready { prediction, millis, events, .. } => {
                        let risk = insight::intervention(&events, &prediction, threshold.get());
                        view! {
                            <div id="bars" data-next=prediction.next.as_str()>
                                {EventKind::ALL.iter().map(|&k| {
                                    let p = prediction.p(k);
                                    view! {
                                        <div class="bar" class:top=prediction.next == k data-kind=k.as_str() data-p=p.to_string()>
                                            <span class="label">{k.as_str()}</span>
                                            <span class="track"><span class=format!("fill {}", kind_class(k)) style:width=format!("{:.1}%", p * 100.0)></span></span>
                                            <span class="value">{pct(p)}</span>
                                        </div>
                                    }
                                }).collect_view()}
                            </div>
                            <p class="verdict">"Most likely: " <strong>{prediction.next.as_str()}</strong> {format!(" ({:.0} % confident)", prediction.confidence * 100.0)}</p>
                            <p id="churn" class:at-risk=risk.at_risk data-at-risk=risk.at_risk.to_string()>{risk.message}</p>
                            <p class="meta" id="latency" data-ms=millis.to_string()>{format!("Predicted in {millis:.2} ms by {} ({:.0} KB), on this device.", info().name, size_kb())}</p>
                        }.into_any()
                    }
                }}
                <label class="threshold">"Churn-risk threshold on P(purchase): "
                    <input id="threshold" type="range" min="0" max="1" step="0.01" prop:value=move || threshold.get().to_string()
                        on:input=move |ev| threshold.set(event_target_value(&ev).parse().unwrap_or(0.1))/>
                    <output>{move || format!("{:.2}", threshold.get())}</output>
                </label>
                <p class="meta">{move || format!("Default {:.2}: chosen on validation data (Youden's J).", info().churn_threshold)}</p>
                {move || replay.get().map(|r| view! { <ReplayPanel replay=r step_to=step_to exit=exit_replay/> })}
            </section>
            <section aria-labelledby="model-h" class="model">
                <h2 id="model-h">"Model"</h2>
                {move || {
                    let info = info();
                    view! {
                <p id="model-name">{info.name.clone()} {format!(" — {:.0} KB, {} parameters, loaded in {:.0} ms", size_kb(), info.parameters, load_ms.get())}</p>
                <p>{info.architecture.clone()}</p>
                <p class="meta">"Trained on: " {info.trained_on.clone()}</p>
                <table class="figures">
                    <thead><tr><th>"Held-out test"</th><th>"accuracy"</th><th>"macro-F1"</th></tr></thead>
                    <tbody>
                        <tr><td>"this model"</td>
                            <td>{info.test_metrics.iter().find(|m| m.0 == "accuracy").map(|m| format!("{:.3}", m.1))}</td>
                            <td>{info.test_metrics.iter().find(|m| m.0 == "macro_f1").map(|m| format!("{:.3}", m.1))}</td></tr>
                        {info.baselines.iter().map(|(n, a, f)| view! { <tr><td>{n.clone()}</td><td>{format!("{a:.3}")}</td><td>{format!("{f:.3}")}</td></tr> }).collect_view()}
                    </tbody>
                </table>
                <p class="meta">{info.test_metrics.iter().filter(|m| m.0 != "accuracy" && m.0 != "macro_f1").map(|(n, v)| if v.fract() == 0.0 { format!("{n} {v:.0}") } else { format!("{n} {v:.4}") }).collect::<Vec<_>>().join(" · ")}</p>
                    }
                }}
                <div class="model-file">
                    <label for="model-file">"Try another model (an .onnx exported by nextevent-train; it stays on this device): "</label>
                    <input id="model-file" type="file" accept=".onnx,application/octet-stream" on:change=on_model_file/>
                    <button id="model-reset" on:click=use_shipped>"Use the shipped model"</button>
                    {move || model_status.get().map(|s| view! {
                        <p id="model-status" class:error=!s.ok role=if s.ok { "status" } else { "alert" } data-ok=s.ok.to_string()>{s.message}</p>
                    })}
                </div>
            </section>
        </main>
    }
}

/// The outcome of loading a model file, shown under the file input.
#[derive(Debug, Clone, PartialEq)]
struct ModelStatus {
    ok: bool,
    message: String,
}

impl ModelStatus {
    fn loaded(source: &str, p: &Predictor) -> Self {
        ModelStatus {
            ok: true,
            message: format!(
                "Loaded {source}: {} ({:.0} KB). Predictions now use it.",
                p.info().name,
                p.size_bytes() as f64 / 1024.0
            ),
        }
    }
    fn refused(source: &str, why: &str, current: &Predictor) -> Self {
        ModelStatus {
            ok: false,
            message: format!(
                "{source} was not loaded: {why}. Still using {}.",
                current.info().name
            ),
        }
    }
}

/// Reads a chosen file's bytes, refusing files larger than [`MAX_MODEL_BYTES`] before reading.
async fn read_model_file(file: &web_sys::File, size: f64) -> Result<Vec<u8>, String> {
    use crate::predict::MAX_MODEL_BYTES;
    if size > MAX_MODEL_BYTES as f64 {
        return Err(format!(
            "the file is {:.1} MB; models larger than {} MB are refused",
            size / 1e6,
            MAX_MODEL_BYTES / 1_000_000
        ));
    }
    let buf = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("the file could not be read ({e:?})"))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

/// The replay stepper: where we are, what the model said, what the shopper did next, and the
/// whole session's predictions as a timeline.
#[component]
fn ReplayPanel(
    replay: Replay,
    step_to: impl Fn(isize) + Copy + Send + Sync + 'static,
    exit: impl Fn(leptos::ev::MouseEvent) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let n = replay.rows.len();
    let at = replay.at;
    let step = replay.steps[at - 1].clone();
    let hits = replay
        .steps
        .iter()
        .filter(|s| s.hit() == Some(true))
        .count();
    let judged = replay.steps.iter().filter(|s| s.hit().is_some()).count();
    let actual = match step.actual {
        Some(k) => format!(
            "Actually next: {} ({})",
            k.as_str(),
            if step.hit() == Some(true) {
                "as predicted"
            } else {
                "not the top guess"
            }
        ),
        None => "The session ends here.".to_string(),
    };
    view! {
        <div id="replay" role="region" aria-label="Replay" data-at=at data-steps=n>
            <h3>{format!("Replay: {at} of {n} events shown")}</h3>
            <div class="actions">
                <button id="replay-prev" disabled={at <= 1} on:click=move |_| step_to(-1)>"◀ Previous"</button>
                <button id="replay-next" disabled={at >= n} on:click=move |_| step_to(1)>"Next ▶"</button>
                <button id="replay-exit" on:click=exit>"End replay"</button>
            </div>
            <p id="replay-actual" data-actual=step.actual.map_or("end", |k| k.as_str()) class:hit=step.hit() == Some(true)>{actual}</p>
            <ol class="timeline" aria-label="Predicted next event after each step">
                {replay.steps.iter().map(|s| view! {
                    <li class:current=s.seen == at class:hit=s.hit() == Some(true) title=format!("After event {}: {} {:.0} %; actually {}", s.seen, s.prediction.next.as_str(), s.prediction.confidence * 100.0, s.actual.map_or("end", |k| k.as_str()))>
                        <span class="stack">
                            {EventKind::ALL.iter().map(|&k| view! { <span class=kind_class(k) style:height=format!("{:.1}%", s.prediction.p(k) * 100.0)></span> }).collect_view()}
                        </span>
                        <span class="actual">{s.actual.map_or("·", |k| &k.as_str()[..1])}</span>
                    </li>
                }).collect_view()}
            </ol>
            <p class="meta">{format!("Top guess right {hits} of {judged} times in this session. Letters: what happened next (v view, c cart, r remove, p purchase).")}</p>
            <p class="legend">{EventKind::ALL.iter().map(|&k| view! { <span class="key"><span class=format!("swatch {}", kind_class(k))></span>{k.as_str()}</span> }).collect_view()}</p>
        </div>
    }
}
