//! libFuzzer entry of the `manifest` target; the body lives in `src/targets/manifest.rs` and also runs
//! under the stable driver (`fuzz-stable`).
#![no_main]
// `fuzz_target!` exports the `#[no_mangle]` entry libFuzzer calls, which counts as unsafe code.
#![allow(unsafe_code)]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mobigen_connectors_fuzz::targets::manifest::run(data));
