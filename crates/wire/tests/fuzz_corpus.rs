//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the
//! fuzz entry points, so an input that once crashed a codec stays fixed.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{} fails", path.display());
        count += 1;
    }
    assert!(count > 0, "no corpus for {target}");
}

#[test]
fn smtp_command_corpus() {
    replay("smtp_command", wire::fuzz::smtp_command);
}

#[test]
fn smtp_data_corpus() {
    replay("smtp_data", wire::fuzz::smtp_data);
}

#[test]
fn smtp_response_corpus() {
    replay("smtp_response", wire::fuzz::smtp_response);
}

#[test]
fn imap_command_corpus() {
    replay("imap_command", wire::fuzz::imap_command);
}

#[test]
fn pop3_command_corpus() {
    replay("pop3_command", wire::fuzz::pop3_command);
}

#[test]
fn pop3_top_corpus() {
    replay("pop3_top", wire::fuzz::pop3_top);
}
