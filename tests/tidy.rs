//! The layout's rules as a test (like rust-analyzer's tidy test): a text scan of `src/` that
//! keeps the core free of I/O and platform code, the browser free of data and training code,
//! wasm-bindgen exports in the JS API, Leptos in the page, a `//!` line atop every file, and
//! the README's code map in step with the tree. Each rule is also shown failing on a planted
//! violation, so the scan cannot pass by scanning nothing.

use std::path::{Path, PathBuf};

/// Which part of the tree a file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Core,
    Data,
    Training,
    /// The demo's plain logic (`src/browser/*.rs`).
    BrowserLogic,
    Page,
    JsApi,
    /// The Python boundary (`src/python/`): PyO3 only here.
    Python,
    Bin,
    Root,
}

/// Whether a file has a `#[wasm_bindgen]` item other than an `extern "C"` block: an export.
/// An import block (the page reading `import.meta.url`) is platform code like web-sys.
fn exports_to_js(c: &str) -> bool {
    // `code` has emptied string literals, so `extern "C"` reads `extern ""` here.
    let is_extern = |n: &str| n.starts_with("extern \"") || n.starts_with("unsafe extern \"");
    let lines: Vec<&str> = c.lines().map(str::trim).collect();
    let mut in_extern = false; // inside an import block, whose items carry their own attributes
    for (i, l) in lines.iter().enumerate() {
        if in_extern {
            in_extern = *l != "}";
        } else if is_extern(l) {
            in_extern = !l.ends_with('}');
        } else if l.starts_with("#[wasm_bindgen") {
            // The item is the next line that is neither an attribute nor blank (`code` has
            // left doc comments as blank lines).
            let item = lines[i + 1..]
                .iter()
                .find(|n| !n.is_empty() && !n.starts_with("#["));
            if !item.is_some_and(|n| is_extern(n)) {
                return true;
            }
        }
    }
    false
}

fn part(rel: &str) -> Part {
    let r = rel.replace('\\', "/");
    if r.starts_with("src/core/") {
        Part::Core
    } else if r.starts_with("src/data/") {
        Part::Data
    } else if r.starts_with("src/training/") {
        Part::Training
    } else if r.starts_with("src/browser/page/") {
        Part::Page
    } else if r.starts_with("src/browser/js/") {
        Part::JsApi
    } else if r.starts_with("src/browser/") {
        Part::BrowserLogic
    } else if r.starts_with("src/python/") {
        Part::Python
    } else if r.starts_with("src/bin/") {
        Part::Bin
    } else {
        Part::Root
    }
}

/// The code without comments and string literals: line comments (`//`, `///`, `//!`) and
/// the contents of `"…"` strings are dropped, so prose and messages may mention Leptos or
/// burn; block comments are not used in this tree.
fn code(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_str = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if in_str {
                match c {
                    '\\' => {
                        chars.next();
                    }
                    '"' => {
                        in_str = false;
                        out.push('"');
                    }
                    _ => {}
                }
            } else if c == '/' && chars.peek() == Some(&'/') {
                break;
            } else {
                // A char literal `'"'` does not open a string.
                if c == '"' && !out.ends_with('\'') {
                    in_str = true;
                }
                out.push(c);
            }
        }
        out.push('\n');
    }
    out
}

/// Identifier paths in the code (`a::b::c`), one per occurrence.
fn paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let b = code.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        if c.is_ascii_alphanumeric() || c == '_' {
            cur.push(c);
            i += 1;
        } else if c == ':' && i + 1 < b.len() && b[i + 1] == b':' && !cur.is_empty() {
            cur.push_str("::");
            i += 2;
        } else {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            i += 1;
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether a path names `name` as a crate or module segment (`web_sys`, `leptos::web_sys::X`).
fn names(path: &str, name: &str) -> bool {
    path.split("::").any(|seg| seg == name)
}

/// `use std::{fs, io}` groups: the segment `fs` right after `std::{`.
fn uses_std_fs(code: &str) -> bool {
    let flat: String = code.split_whitespace().collect();
    flat.contains("std::fs")
        || flat.match_indices("std::{").any(|(i, _)| {
            let rest = &flat[i + 6..];
            let group = &rest[..rest.find('}').unwrap_or(rest.len())];
            group.split(',').any(|s| s == "fs" || s.starts_with("fs::"))
        })
}

/// Every rule this file breaks, in words.
fn violations(rel: &str, text: &str) -> Vec<String> {
    let mut v = Vec::new();
    if !text.starts_with("//!") {
        v.push(format!(
            "{rel}: does not open with a `//!` line saying what it is"
        ));
    }
    let c = code(text);
    let ps = paths(&c);
    let any = |name: &str| ps.iter().any(|p| names(p, name));
    let p = part(rel);
    let platform = ["web_sys", "js_sys", "wasm_bindgen", "wasm_bindgen_futures"];
    if p == Part::Core {
        for n in platform.iter().chain(&["leptos", "burn"]) {
            if any(n) {
                v.push(format!(
                    "{rel}: the core names `{n}` (no platform code, no burn)"
                ));
            }
        }
        if uses_std_fs(&c) {
            v.push(format!(
                "{rel}: the core uses `std::fs` (the core takes text; the data side reads files)"
            ));
        }
        for other in ["browser", "data", "training"] {
            if ps.iter().any(|p| p.starts_with(&format!("crate::{other}"))) {
                v.push(format!("{rel}: the core names `crate::{other}`"));
            }
        }
    }
    if matches!(p, Part::BrowserLogic | Part::Page | Part::JsApi) {
        for other in ["data", "training"] {
            if ps.iter().any(|p| {
                p.starts_with(&format!("crate::{other}"))
                    || p.starts_with(&format!("nextevent::{other}"))
            }) {
                v.push(format!("{rel}: browser code names `{other}` code"));
            }
        }
        if any("burn") {
            v.push(format!("{rel}: browser code names `burn`"));
        }
    }
    if p == Part::BrowserLogic {
        for n in platform {
            if any(n) {
                v.push(format!(
                    "{rel}: the demo's plain logic names `{n}` (platform code goes in page/ or js/)"
                ));
            }
        }
    }
    if matches!(p, Part::Data)
        && (any("burn") || ps.iter().any(|p| p.starts_with("crate::training")))
    {
        v.push(format!(
            "{rel}: the data side names burn or training code (it must build without burn)"
        ));
    }
    if p == Part::Python
        && (any("burn")
            || ps.iter().any(|p| p.starts_with("crate::training"))
            || ps.iter().any(|p| p.starts_with("crate::browser")))
    {
        v.push(format!(
            "{rel}: the Python boundary names burn, training or browser code (it wraps core and data)"
        ));
    }
    if p != Part::Python && (any("pyo3") || c.contains("#[pyfunction") || c.contains("#[pyclass")) {
        v.push(format!(
            "{rel}: PyO3 belongs in the Python boundary (src/python/)"
        ));
    }
    if p != Part::JsApi && exports_to_js(&c) {
        v.push(format!(
            "{rel}: `#[wasm_bindgen]` exports belong in the JS API (src/browser/js/)"
        ));
    }
    if p != Part::Page && any("leptos") {
        v.push(format!(
            "{rel}: only the page (src/browser/page/) names `leptos`"
        ));
    }
    v
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root())
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

/// The paths the README's code map lists (backticked `src/…` paths between its markers).
fn code_map(readme: &str) -> Vec<String> {
    let start = readme
        .find("<!-- code-map -->")
        .expect("README.md has a <!-- code-map --> marker");
    let end = readme[start..]
        .find("<!-- /code-map -->")
        .expect("README.md has a <!-- /code-map --> marker")
        + start;
    readme[start..end]
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with("src/"))
        .map(str::to_string)
        .collect()
}

/// Map ↔ tree, both directions: listed paths that do not exist, files the map omits.
fn map_mismatches(
    listed: &[String],
    tree: &[String],
    exists: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut v: Vec<String> = listed
        .iter()
        .filter(|l| !exists(l))
        .map(|l| format!("README code map lists `{l}`, which does not exist"))
        .collect();
    v.extend(
        tree.iter()
            .filter(|t| !listed.iter().any(|l| l == *t))
            .map(|t| format!("`{t}` is not in the README's code map")),
    );
    v
}

#[test]
fn the_tree_keeps_the_layout_rules() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    assert!(files.len() > 30, "scanned only {} files", files.len());
    let mut v = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        v.extend(violations(&rel(f), &text));
    }
    // Outside src/: every Rust file still says what it is.
    let mut others = vec![root().join("build.rs")];
    for d in ["tests", "benches", "fuzz/fuzz_targets", "fuzz/src"] {
        rust_files(&root().join(d), &mut others);
    }
    for f in &others {
        let text = std::fs::read_to_string(f).unwrap();
        if !text.starts_with("//!") {
            v.push(format!("{}: does not open with a `//!` line", rel(f)));
        }
    }
    assert!(v.is_empty(), "layout rules broken:\n{}", v.join("\n"));
}

#[test]
fn the_readme_code_map_matches_the_tree() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let listed = code_map(&readme);
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let tree: Vec<String> = files.iter().map(|f| rel(f)).collect();
    let v = map_mismatches(&listed, &tree, |p| root().join(p).exists());
    assert!(v.is_empty(), "{}", v.join("\n"));
}

/// The wasm-opt flags are written once, in `.ci/wasm-opt-flags`; every wasm build reads them.
#[test]
fn the_wasm_opt_flags_are_written_once() {
    let flags = std::fs::read_to_string(root().join(".ci/wasm-opt-flags")).unwrap();
    assert!(flags.contains("--enable-simd"), "{flags}");
    let mut copies = Vec::new();
    for dir in [".ci", "perf"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.ends_with("wasm-opt-flags") || p.is_dir() {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            if text.contains("--enable-simd") {
                copies.push(rel(&p));
            }
        }
    }
    let index = std::fs::read_to_string(root().join("index.html")).unwrap();
    if index.contains("--enable-simd") || !index.contains(r#"data-wasm-opt="0""#) {
        copies.push("index.html (Trunk must not run its own wasm-opt)".into());
    }
    assert!(
        copies.is_empty(),
        "wasm-opt flags spelled outside .ci/wasm-opt-flags: {copies:?}"
    );
}

/// One planted violation of each rule: the scan must report it (and nothing for clean code).
#[test]
fn each_rule_fails_on_a_planted_violation() {
    let clean = "//! A file.\nuse crate::core::event::Event;\n// Leptos and burn in a comment are fine.\nfn f() -> &'static str { \"so is burn's web_sys in a string\" }\n";
    for rel in [
        "src/core/x.rs",
        "src/data/x.rs",
        "src/browser/x.rs",
        "src/browser/page/x.rs",
        "src/browser/js/x.rs",
        "src/python/x.rs",
    ] {
        assert_eq!(violations(rel, clean), Vec::<String>::new(), "{rel}");
    }
    let planted: &[(&str, &str, &str)] = &[
        (
            "src/core/x.rs",
            "//! x\nuse web_sys::Window;\n",
            "the core names `web_sys`",
        ),
        (
            "src/core/x.rs",
            "//! x\nfn f() { js_sys::Date::now(); }\n",
            "the core names `js_sys`",
        ),
        (
            "src/core/x.rs",
            "//! x\nuse leptos::web_sys::Window;\n",
            "the core names `web_sys`",
        ),
        (
            "src/core/x.rs",
            "//! x\nuse wasm_bindgen::JsValue;\n",
            "the core names `wasm_bindgen`",
        ),
        (
            "src/core/x.rs",
            "//! x\nuse burn::tensor::Tensor;\n",
            "the core names `burn`",
        ),
        (
            "src/core/x.rs",
            "//! x\nfn f() { std::fs::read(\"a\"); }\n",
            "`std::fs`",
        ),
        ("src/core/x.rs", "//! x\nuse std::{io, fs};\n", "`std::fs`"),
        (
            "src/core/x.rs",
            "//! x\nuse crate::data::ingest;\n",
            "the core names `crate::data`",
        ),
        (
            "src/browser/x.rs",
            "//! x\nuse crate::training::net::Net;\n",
            "browser code names `training`",
        ),
        (
            "src/browser/page/x.rs",
            "//! x\nuse crate::data::metrics::Bin;\n",
            "browser code names `data`",
        ),
        (
            "src/browser/js/x.rs",
            "//! x\nuse burn::nn::Gru;\n",
            "browser code names `burn`",
        ),
        (
            "src/browser/x.rs",
            "//! x\nfn f() { web_sys::window(); }\n",
            "plain logic names `web_sys`",
        ),
        (
            "src/data/x.rs",
            "//! x\nuse crate::training::fit::Trained;\n",
            "must build without burn",
        ),
        (
            "src/browser/page/x.rs",
            "//! x\n#[wasm_bindgen]\npub fn f() {}\n",
            "belong in the JS API",
        ),
        (
            "src/browser/page/x.rs",
            "//! x\n#[wasm_bindgen]\nextern \"C\" {\n    fn g();\n}\n#[wasm_bindgen]\n/// f\npub fn f() {}\n",
            "belong in the JS API",
        ),
        (
            "src/core/x.rs",
            "//! x\n#[wasm_bindgen(js_name = f)]\npub fn f() {}\n",
            "belong in the JS API",
        ),
        (
            "src/browser/js/x.rs",
            "//! x\nuse leptos::prelude::*;\n",
            "only the page",
        ),
        (
            "src/python/x.rs",
            "//! x\nuse crate::training::pipeline::run;\n",
            "the Python boundary names burn",
        ),
        (
            "src/data/x.rs",
            "//! x\nuse pyo3::prelude::*;\n",
            "PyO3 belongs in the Python boundary",
        ),
        (
            "src/core/x.rs",
            "//! x\n#[pyclass]\npub struct P;\n",
            "PyO3 belongs in the Python boundary",
        ),
        (
            "src/training/x.rs",
            "use crate::core::Error;\n",
            "does not open with a `//!` line",
        ),
    ];
    for (rel, text, want) in planted {
        let v = violations(rel, text);
        assert!(
            v.iter().any(|m| m.contains(want)),
            "{rel}: {text:?} should break a rule ({want}); got {v:?}"
        );
    }
    let readme = "x\n<!-- code-map -->\n| `src/a.rs`, `src/gone.rs` | job |\n<!-- /code-map -->\n";
    let listed = code_map(readme);
    let tree = vec!["src/a.rs".to_string(), "src/new.rs".to_string()];
    let v = map_mismatches(&listed, &tree, |p| tree.iter().any(|t| t == p));
    assert_eq!(
        v,
        [
            "README code map lists `src/gone.rs`, which does not exist",
            "`src/new.rs` is not in the README's code map"
        ]
    );
}
