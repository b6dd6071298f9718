//! The web demo's entry point: Trunk builds this binary for wasm32 and mounts the Leptos page.

#[cfg(target_arch = "wasm32")]
fn main() {
    nextevent::web::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "nextevent's demo runs in the browser: `bash .ci/demo` builds it with Trunk and serves it."
    );
    eprintln!("For training and data tools see `cargo run --release --features train --bin nextevent-train -- --help`.");
    std::process::exit(2);
}
