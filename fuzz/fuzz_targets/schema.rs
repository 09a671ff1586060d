#![no_main]
//! `undersign_fuzz::Target::Schema` (see `crates/undersign-fuzz/src/lib.rs`).
libfuzzer_sys::fuzz_target!(|data: &[u8]| undersign_fuzz::Target::Schema.run(data));
