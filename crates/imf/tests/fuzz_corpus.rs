//! Replays the committed corpus and regressions of imf's fuzz targets, so
//! an input that once broke the facts stays fixed.

use fuzz_replay::replay;

#[test]
fn imf_facts() {
    replay("imf_facts", imf::fuzz::facts);
}

#[test]
fn imf_header_field() {
    replay("imf_header_field", imf::fuzz::header_field);
}
