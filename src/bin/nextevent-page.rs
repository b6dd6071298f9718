//! The web demo's entry point: Trunk builds this binary for wasm32 (feature `page`) and mounts
//! the Leptos page.

#[cfg(target_arch = "wasm32")]
fn main() {
    nextevent::browser::page::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "nextevent-page is the demo page and runs in the browser: `bash .ci/demo` builds it with Trunk and serves it."
    );
    std::process::exit(2);
}
