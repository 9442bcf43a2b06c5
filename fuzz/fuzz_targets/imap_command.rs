#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wire::fuzz::imap_command(data));
