//! Replays the committed corpus and regressions of msgauth's fuzz targets,
//! so an input that once broke the removal of forged verdicts stays fixed.

use fuzz_replay::replay;

#[test]
fn auth_results() {
    replay("auth_results", msgauth::fuzz::auth_results);
}

#[test]
fn auth_records() {
    replay("auth_records", msgauth::fuzz::records);
}
