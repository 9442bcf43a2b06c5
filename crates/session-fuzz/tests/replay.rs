//! Replays the committed inputs of the session targets through their
//! functions on stable Rust: the seed corpus (`fuzz/corpus/<target>/`)
//! and, where there is one, the crashes found and fixed since
//! (`fuzz/regressions/<target>/`). Each file runs on its own, and a
//! failure names it.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut count = 0;
    for dir in [fuzz.join("corpus").join(target), fuzz.join("regressions").join(target)] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{} fails", path.display());
            count += 1;
        }
    }
    assert!(count > 0, "no corpus for {target}");
}

#[test]
fn smtp_session_corpus() {
    replay("smtp_session", session_fuzz::smtp_session);
}

#[test]
fn pop3_session_corpus() {
    replay("pop3_session", session_fuzz::pop3_session);
}

#[test]
fn imap_session_corpus() {
    replay("imap_session", session_fuzz::imap_session);
}
