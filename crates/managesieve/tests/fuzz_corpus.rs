//! Replays the committed corpus and regressions of the
//! `managesieve_command` fuzz target, so an input that once broke the
//! command parser stays fixed.

use fuzz_replay::replay;

#[test]
fn managesieve_command() {
    replay("managesieve_command", managesieve::fuzz::command);
}
