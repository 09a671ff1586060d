#![no_main]
//! `undersign_fuzz::Target::Registry` (see `crates/undersign-fuzz/src/lib.rs`).
libfuzzer_sys::fuzz_target!(|data: &[u8]| undersign_fuzz::Target::Registry.run(data));
