//! The core, used by the browser and the native side alike: events and their readers, the
//! feature spec, the one encoder, the predictor, insight and the live session. No file I/O,
//! no platform code (the layout test in `tests/tidy.rs` holds it to that).

pub mod context;
pub mod encode;
pub mod error;
pub mod event;
pub mod graph_check;
pub mod insight;
pub mod json;
pub mod kaggle_csv;
pub mod live;
pub mod outlook;
pub mod predict;
pub mod spec;
pub mod visit;

pub use error::{Error, Result};
