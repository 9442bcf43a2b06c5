//! Replays the committed inputs of the session targets through their
//! functions on stable Rust: the seed corpus (`fuzz/corpus/<target>/`)
//! and the inputs campaigns found failing (`fuzz/regressions/<target>/`).

use fuzz_replay::replay;

#[test]
fn smtp_session() {
    replay("smtp_session", session_fuzz::smtp_session);
}

#[test]
fn pop3_session() {
    replay("pop3_session", session_fuzz::pop3_session);
}

#[test]
fn imap_session() {
    replay("imap_session", session_fuzz::imap_session);
}
