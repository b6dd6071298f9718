//! The native data side (feature `data`, no burn): Kaggle CSV / CSV.gz files into sessions,
//! the evaluation split, reject reports, metrics, baselines, SVG plots and MLflow tracking.
//! Everything that reads or writes files lives here or in [`crate::training`].

pub mod baseline;
pub mod error;
pub mod files;
pub mod ingest;
pub mod metrics;
pub mod plots;
pub mod split;
pub mod tracking;

pub use error::{Error, Result};
