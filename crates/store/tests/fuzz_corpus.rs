//! Replays the committed corpus and regressions of the `srs` fuzz target,
//! so an input that once broke SRS decoding stays fixed.

use fuzz_replay::replay;

#[test]
fn srs() {
    replay("srs", store::fuzz::srs);
}
