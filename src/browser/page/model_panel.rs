//! The model panel: what the model is and how it scored (from its ONNX metadata), and "Try
//! another model", which reads a picked `.onnx` in the page and refuses it with the reason.

use leptos::prelude::*;

use super::{load_in_tasks, State};
use crate::browser::outcome::{check_model_file_size, ModelStatus};
use crate::core::predict::EMBEDDED_MODEL;

#[component]
pub fn ModelPanel(state: State) -> impl IntoView {
    view! {
        <section aria-labelledby="model-h" class="model">
            <h2 id="model-h">"Model"</h2>
            <Figures state=state/>
            <ModelFile state=state/>
        </section>
    }
}

#[component]
fn Figures(state: State) -> impl IntoView {
    move || {
        let (info, kb) = state
            .model
            .with(|p| (p.info().clone(), p.size_bytes() as f64 / 1024.0));
        let metric = |name: &str| info.test_metrics.iter().find(|m| m.0 == name).map(|m| m.1);
        let real = metric("real_jan_feb_windows");
        let title = match real {
            Some(n) => format!("On real shoppers (Jan–Feb 2020, {n:.0} windows)"),
            None => "Held-out test".to_string(),
        };
        let prefix = if real.is_some() { "real_jan_feb_" } else { "" };
        let fmt = |v: Option<f64>| v.map(|v| format!("{v:.3}"));
        view! {
            <p id="model-name">{info.name.clone()} {format!(" — {kb:.0} KB, {} parameters, loaded in {:.0} ms", info.parameters, state.load_ms.get())}</p>
            <p>{info.architecture.clone()}</p>
            <p class="meta" id="warm">{state.warmed.with_value(|w| match w {
                Ok(ms) => format!("Before the page loaded it, a worker ran the same load to compile its code off the page's thread ({ms:.0} ms)."),
                Err(why) => format!("The page compiled the model's code on its own thread: {why}."),
            })}</p>
            <p class="meta">"Trained on: " {info.trained_on.clone()}</p>
            <table class="figures">
                <thead><tr><th>{title}</th><th>"accuracy"</th><th>"macro-F1"</th></tr></thead>
                <tbody>
                    <tr><td>"this model"</td>
                        <td>{fmt(metric(&format!("{prefix}accuracy")))}</td>
                        <td>{fmt(metric(&format!("{prefix}macro_f1")))}</td></tr>
                    {info.baselines.iter().map(|(n, a, f)| view! { <tr><td>{n.clone()}</td><td>{format!("{a:.3}")}</td><td>{format!("{f:.3}")}</td></tr> }).collect_view()}
                </tbody>
            </table>
            <p class="meta">{info.test_metrics.iter().filter(|m| !m.0.ends_with("accuracy") && !m.0.ends_with("macro_f1")).map(|(n, v)| if v.fract() == 0.0 { format!("{n} {v:.0}") } else { format!("{n} {v:.4}") }).collect::<Vec<_>>().join(" · ")}</p>
        }
    }
}

#[component]
fn ModelFile(state: State) -> impl IntoView {
    let on_file = move |ev: leptos::ev::Event| {
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
        // The last file's status goes at once: the load below takes a few tasks, and a stale
        // "Loaded …" must not read as this file's.
        state.model_status.set(None);
        leptos::task::spawn_local(async move {
            let name = file.name();
            let current = state.model.get_untracked();
            match read_model_file(&file).await {
                Ok(bytes) => {
                    // In steps (a visitor's click must not wait for the whole load).
                    match load_in_tasks(&bytes).await {
                        Ok((p, ms)) => {
                            let status = ModelStatus::loaded(&name, &p);
                            state.use_model(p, ms, status);
                        }
                        Err(e) => state.model_status.set(Some(ModelStatus::refused(
                            &name,
                            &e.to_string(),
                            &current,
                        ))),
                    }
                }
                Err(e) => state
                    .model_status
                    .set(Some(ModelStatus::refused(&name, &e, &current))),
            }
        });
        // Choosing the same file again must fire `change` again.
        input.set_value("");
    };
    let use_shipped = move |_| {
        state.model_status.set(None);
        leptos::task::spawn_local(async move {
            if let Ok((p, ms)) = load_in_tasks(EMBEDDED_MODEL).await {
                let status = ModelStatus::loaded("the shipped model", &p);
                state.use_model(p, ms, status);
            }
        });
    };
    view! {
        <div class="model-file">
            <label for="model-file">"Try another model (an .onnx exported by nextevent-train; it stays on this device): "</label>
            <input id="model-file" type="file" accept=".onnx,application/octet-stream" on:change=on_file/>
            <button id="model-reset" on:click=use_shipped>"Use the shipped model"</button>
            {move || state.model_status.get().map(|s| view! {
                <p id="model-status" class:error=!s.ok role=if s.ok { "status" } else { "alert" } data-ok=s.ok.to_string()>{s.message}</p>
            })}
        </div>
    }
}

/// Reads a chosen file's bytes, refusing files that are too large before reading them.
async fn read_model_file(file: &web_sys::File) -> Result<Vec<u8>, String> {
    check_model_file_size(file.size())?;
    let buf = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("the file could not be read ({e:?})"))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}
