//! Replays the committed corpus and regressions of the queue's fuzz
//! targets, so a policy or a refusal that once broke them stays fixed.

use fuzz_replay::replay;

#[test]
fn mta_sts() {
    replay("mta_sts", queue::fuzz::mta_sts);
}

#[test]
fn dsn() {
    replay("dsn", queue::fuzz::dsn);
}
