//! nextevent predicts a shopper's next event (view, cart, remove_from_cart, purchase) from
//! the events they just made, with a CNN + bidirectional GRU that runs in the browser.
//!
//! # Layout
//! - [`core`] (native and wasm32; no file I/O, no platform code): events and their CSV and
//!   JSON readers, the feature spec, the one encoder, the predictor, insight and the live
//!   session. Its errors are [`core::Error`].
//! - [`browser`]: the demo's logic as plain types; the Leptos page (wasm32, feature `page`)
//!   and the JS API for shop pages (wasm32, feature `embed`) over it.
//! - `data` (native, feature `data`, no burn): Kaggle CSV / CSV.gz ingest into sessions,
//!   splits, reject reports, metrics, baselines, plots and MLflow tracking; errors are
//!   `data::Error`, which wraps the core's.
//! - `python` (native, feature `python`): the Python package's extension module, PyO3
//!   bindings over the core predictor and the data side's scorer.
//! - `training` (native, feature `train`, implies `data`): the generator, the burn networks,
//!   fitting, ONNX export, the pipeline, the model card and the comparison.
//!
//! Every file of the tree, with its job, is in the README's code map ("Architecture");
//! `tests/tidy.rs` checks that the map, the tree and these rules agree.

#[cfg(all(feature = "data", target_arch = "wasm32"))]
compile_error!("the `data` and `train` features are native-only: they never build for wasm32");

pub mod browser;
pub mod core;

#[cfg(feature = "data")]
pub mod data;

#[cfg(feature = "train")]
pub mod training;

#[cfg(all(feature = "python", not(target_arch = "wasm32")))]
pub mod python;

pub use crate::core::event::{Event, EventKind};
pub use crate::core::predict::{Prediction, Predictor};
pub use crate::core::{Error, Result};
