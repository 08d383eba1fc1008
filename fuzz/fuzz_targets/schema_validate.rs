#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lantern_fuzzing::schema_validate(data));
