//! nextevent predicts a shopper's next event (view, cart, remove_from_cart, purchase) from
//! the events they just made, with a CNN + bidirectional GRU that runs in the browser.
//!
//! # Layout
//! - [`event`]: the events, their validation and parsing (Kaggle CSV rows, JSON).
//! - [`spec`]: the feature spec that travels inside each model's ONNX metadata.
//! - [`context`]: optional external context, a calendar of promotion days and holidays.
//! - [`encode`]: the one encoder, events → model input, shared by training and inference.
//! - [`predict`]: the predictor on tract-onnx; native and wasm32; refuses foreign specs.
//! - [`insight`]: churn risk, favourite brand, interventions and per-event influence.
//! - [`session`]: a live session (observe events one by one, churn-risk crossings) and the
//!   result object the JS API returns.
//! - [`demo`]: the demo page's editor rows, pasted CSV, real sessions and replay, as plain,
//!   tested types.
//! - [`error`]: the error enum and `Result` alias.
//! - `ingest`, `synth`, `model`, `train`, `export`, `metrics`, `baseline`, `card`
//!   (feature `train`, native only): Kaggle CSV ingest, the synthetic generator, the burn
//!   networks (CNN+BiGRU and the LSTM, GRU, BiGRU, CNN it is compared with), the training
//!   loop, int8 ONNX export with self-verification, evaluation, baselines and the model card;
//!   `compare`: every architecture × seeds → `COMPARISON.md`; `plots`: SVG learning curves,
//!   confusion, reliability, comparison; `tracking`: MLflow over REST, or a local run folder.
//! - `web` (wasm32 only): the Leptos page.
//! - `js` (wasm32, feature `embed`): the JS API for shop pages (`Predictor`, `Session`,
//!   DOM events); JS sees `Error`s only here.

#[cfg(all(feature = "train", target_arch = "wasm32"))]
compile_error!("the `train` feature is native-only: it never builds for wasm32");

pub mod context;
pub mod demo;
pub mod encode;
pub mod error;
pub mod event;
pub mod insight;
pub mod predict;
pub mod session;
pub mod spec;

#[cfg(feature = "train")]
pub mod baseline;
#[cfg(feature = "train")]
pub mod card;
#[cfg(feature = "train")]
pub mod compare;
#[cfg(feature = "train")]
pub mod export;
#[cfg(feature = "train")]
pub mod ingest;
#[cfg(feature = "train")]
pub mod metrics;
#[cfg(feature = "train")]
pub mod model;
#[cfg(feature = "train")]
pub mod plots;
#[cfg(feature = "train")]
pub mod synth;
#[cfg(feature = "train")]
pub mod tracking;
#[cfg(feature = "train")]
pub mod train;

#[cfg(target_arch = "wasm32")]
pub mod web;

#[cfg(all(feature = "embed", target_arch = "wasm32"))]
pub mod js;

pub use error::{Error, Result};
pub use event::{Event, EventKind};
pub use predict::{Prediction, Predictor};
