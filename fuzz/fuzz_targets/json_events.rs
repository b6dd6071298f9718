//! Fuzz target: the JSON event parser behind the JS API (`events_from_json`). Invariants: no
//! panic; a parsed event is valid; an error names what was wrong.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match nextevent::core::json::events_from_json(text) {
        Ok(events) => {
            for (i, e) in events.iter().enumerate() {
                e.validate(i).expect("a parsed event is valid");
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
