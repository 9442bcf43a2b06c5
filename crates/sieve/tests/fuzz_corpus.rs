//! Replays the committed corpus and regressions of the `sieve_script`
//! fuzz target, so a script that once broke the compiler or the
//! interpreter stays fixed.

use fuzz_replay::replay;

#[test]
fn sieve_script() {
    replay("sieve_script", sieve::fuzz::script);
}
