//! The browser side: the demo page's logic as plain types (compiled and tested natively too),
//! the Leptos page over it (wasm32, feature `page`) and the JS API for shop pages (wasm32,
//! feature `embed`). Nothing here reads data files or trains.

pub mod examples;
pub mod outcome;
pub mod replay;
pub mod rows;

#[cfg(all(target_arch = "wasm32", feature = "page"))]
pub mod page;

#[cfg(all(target_arch = "wasm32", feature = "embed"))]
pub mod js;
