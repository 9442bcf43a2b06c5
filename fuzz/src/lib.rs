//! postamt's fuzz targets, one bin per codec or session, for two engines:
//! afl.rs on stable Rust (the default: `cargo afl build --release`, then
//! `fuzz/run.sh TARGET`) and cargo-fuzz's libFuzzer where nightly exists
//! (`cargo +nightly fuzz run TARGET --no-default-features --features
//! libfuzzer`). Each bin is one line, `target!(crate::fuzz::function)`:
//! the function that checks an input lives beside the code it tests, so
//! `cargo test` replays the committed corpus and regressions through
//! exactly the same checks.

#[cfg(feature = "afl")]
pub use afl;
#[cfg(feature = "libfuzzer")]
pub use libfuzzer_sys;

#[cfg(all(feature = "afl", feature = "libfuzzer"))]
compile_error!("pick one engine: the default (afl) or --no-default-features --features libfuzzer");

/// The bin's entry point for afl.rs: a persistent-mode loop over inputs.
#[cfg(feature = "afl")]
#[macro_export]
macro_rules! target {
    ($check:path) => {
        fn main() {
            $crate::afl::fuzz!(|data: &[u8]| $check(data));
        }
    };
}

/// The bin's entry point for libFuzzer (the bin is `#![no_main]`).
#[cfg(feature = "libfuzzer")]
#[macro_export]
macro_rules! target {
    ($check:path) => {
        $crate::libfuzzer_sys::fuzz_target!(|data: &[u8]| $check(data));
    };
}
