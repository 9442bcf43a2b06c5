//! Replays the committed corpus and regressions of the `sasl` fuzz target,
//! so a response that once broke PLAIN decoding stays fixed.

use fuzz_replay::replay;

#[test]
fn sasl() {
    replay("sasl", auth::fuzz::sasl);
}
