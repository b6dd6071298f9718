//! The native data side (feature `data`, no burn): Kaggle CSV / CSV.gz files into sessions,
//! the evaluation split, reject reports, metrics, baselines, SVG plots and MLflow tracking.
//! Everything that reads or writes files lives here or in [`crate::training`].

pub mod baseline;
pub mod bootstrap;
pub mod churn_list;
pub mod error;
pub mod evaluate;
pub mod files;
pub mod heldout;
pub mod ingest;
pub mod intent;
pub mod metrics;
pub mod mlflow_model;
pub mod plots;
pub mod real;
pub mod rows;
pub mod score;
pub mod split;
pub mod tracking;

pub use error::{Error, Result};
