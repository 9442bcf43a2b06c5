//! The committed seed corpus is exactly what `common` generates, and every
//! seed runs clean through its target and reaches what it was written
//! for. `SESSION_FUZZ_WRITE_SEEDS=1 cargo test -p session-fuzz --test
//! seeds` rewrites the files.

mod common;

use std::path::PathBuf;

use session_fuzz::transcript::Transcript;

fn corpus(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

fn committed(target: &str, seeds: &[common::Seed]) {
    let dir = corpus(target);
    if std::env::var_os("SESSION_FUZZ_WRITE_SEEDS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, data) in seeds {
            std::fs::write(dir.join(name), data).unwrap();
        }
    }
    for (name, data) in seeds {
        let file = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{target}/{name}: {e}"));
        assert_eq!(
            &file, data,
            "{target}/{name} differs from tests/common; rewrite the seeds"
        );
    }
}

fn server_text(t: &Transcript) -> String {
    String::from_utf8_lossy(&t.server()).into_owned()
}

fn seed(seeds: &[common::Seed], name: &str) -> Vec<u8> {
    seeds.iter().find(|(n, _)| *n == name).unwrap().1.clone()
}

#[test]
fn smtp_seeds() {
    let seeds = common::smtp();
    committed("smtp_session", &seeds);
    for (name, data) in &seeds {
        session_fuzz::smtp::session(data).unwrap_or_else(|v| panic!("{name}: {v}"));
    }
    let text = server_text(&session_fuzz::smtp::session(&seed(&seeds, "pipelining")).unwrap());
    assert!(text.contains("250 2.0.0 Ok: queued as Q1"), "{text}");
    let text = server_text(&session_fuzz::smtp::session(&seed(&seeds, "bdat")).unwrap());
    assert!(text.contains("queued as"), "{text}");
    let text = server_text(&session_fuzz::smtp::session(&seed(&seeds, "auth_plain_submission")).unwrap());
    assert!(text.contains("235 2.7.0") && text.contains("queued as"), "{text}");
    let text = server_text(&session_fuzz::smtp::session(&seed(&seeds, "auth_plain_challenge")).unwrap());
    assert!(text.contains("334 ") && text.contains("235 2.7.0"), "{text}");
}

#[test]
fn pop3_seeds() {
    let seeds = common::pop3();
    committed("pop3_session", &seeds);
    for (name, data) in &seeds {
        session_fuzz::pop3::session(data).unwrap_or_else(|v| panic!("{name}: {v}"));
    }
    let text = server_text(&session_fuzz::pop3::session(&seed(&seeds, "top_retr")).unwrap());
    assert!(
        text.contains("..starts with a dot") && text.contains("\r\nfirst\r\n.\r\n"),
        "{text}"
    );
    let text = server_text(&session_fuzz::pop3::session(&seed(&seeds, "auth_continuation")).unwrap());
    assert!(text.contains("+ \r\n+OK Logged in"), "{text}");
}

#[test]
fn imap_seeds() {
    let seeds = common::imap();
    committed("imap_session", &seeds);
    for (name, data) in &seeds {
        session_fuzz::imap::session(data).unwrap_or_else(|v| panic!("{name}: {v}"));
    }
    let text = server_text(&session_fuzz::imap::session(&seed(&seeds, "login_select_fetch")).unwrap());
    assert!(text.contains("BODYSTRUCTURE ((") && text.contains("a4 OK"), "{text}");
    let text = server_text(&session_fuzz::imap::session(&seed(&seeds, "append_literal")).unwrap());
    assert!(
        text.contains("+ ") && text.contains("a2 OK") && text.contains("a3 OK"),
        "{text}"
    );
    let text = server_text(&session_fuzz::imap::session(&seed(&seeds, "idle_done")).unwrap());
    assert!(text.contains("+ idling") && text.contains("a3 OK"), "{text}");
    let text = server_text(&session_fuzz::imap::session(&seed(&seeds, "authenticate")).unwrap());
    assert!(text.contains("a2 OK"), "{text}");
    let text = server_text(&session_fuzz::imap::session(&seed(&seeds, "copy_move_expunge")).unwrap());
    assert!(text.contains("a4 OK") && text.contains("a6 OK"), "{text}");
}

/// The lines the server said in each step: what idleness detection
/// decides (contents differ between runs: UIDVALIDITY, object ids).
fn shape(t: &Transcript) -> Vec<usize> {
    t.steps
        .iter()
        .map(|s| s.received.iter().filter(|&&b| b == b'\n').count())
        .collect()
}

/// The same input is cut into the same steps every time: a session is
/// idle only when it waits for input, never while the store works for it.
#[test]
fn steps_are_the_same_every_run() {
    type Session = fn(&[u8]) -> Result<Transcript, session_fuzz::transcript::Violation>;
    let targets: [(Vec<common::Seed>, Session); 3] = [
        (common::smtp(), session_fuzz::smtp::session),
        (common::pop3(), session_fuzz::pop3::session),
        (common::imap(), session_fuzz::imap::session),
    ];
    for (seeds, session) in targets {
        for (name, data) in &seeds {
            let first = shape(&session(data).unwrap());
            for _ in 0..5 {
                assert_eq!(shape(&session(data).unwrap()), first, "{name}");
            }
        }
    }
}
