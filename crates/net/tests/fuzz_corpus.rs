//! Replays the committed corpus and regressions of the `deflate` fuzz
//! target, so a compressed stream that once broke COMPRESS stays fixed.

use fuzz_replay::replay;

#[test]
fn deflate() {
    replay("deflate", net::fuzz::deflate);
}
