//! The libFuzzer driver: `COFFER_FUZZ_TARGET=<name> coffer-fuzz [libFuzzer flags] CORPUS…`
//! (scripts/fuzz builds it with coverage instrumentation and runs every target).
#![no_main]

use std::sync::OnceLock;

static TARGET: OnceLock<coffer_fuzz::Target> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = TARGET.get_or_init(|| {
        let name = std::env::var("COFFER_FUZZ_TARGET").unwrap_or_default();
        coffer_fuzz::target(&name).unwrap_or_else(|| panic!("COFFER_FUZZ_TARGET: no target {name:?}"))
    });
    target(data);
});
