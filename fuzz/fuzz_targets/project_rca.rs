#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lantern_fuzzing::project_rca(data));
