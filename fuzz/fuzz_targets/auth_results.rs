#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| msgauth::fuzz::auth_results(data));
