//! Replays the committed corpus and regressions of the `config` fuzz
//! target, so a config text that once broke reading or checking stays
//! fixed.

use fuzz_replay::replay;

#[test]
fn config() {
    replay("config", postamt::fuzz::config);
}

#[test]
fn tls_report() {
    replay("tls_report", postamt::fuzz::tls_report);
}
