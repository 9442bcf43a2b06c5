//! Entry point for the `sieve_script` fuzz target in `fuzz/`, kept here so
//! that `cargo test` replays its committed corpus on stable Rust. Scripts
//! come from users over ManageSieve: whatever the bytes, compiling ends in
//! a program or an error that names a line of the script, a program
//! survives the round trip through its stored form, and running it on a
//! message ends within its limits with actions a host can carry out.

use std::sync::Arc;

use crate::interpret::{Action, Envelope, Host, Limits, run};
use crate::mail::ParsedMail;
use crate::program::Program;

const MESSAGE: &[u8] = b"From: Sender <sender@example.com>\r\nTo: me+box@example.org\r\n\
    Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= [list] hello\r\nDate: Wed, 2 Dec 2026 10:44:13 +0100\r\n\
    Message-ID: <1@example.com>\r\nX-Spam-Score: 7\r\n\r\nbody text\r\n";

struct Nothing;

impl Host for Nothing {
    fn mailbox_exists(&self, name: &str) -> bool {
        name == "INBOX"
    }
    fn special_use_exists(&self, _: Option<&str>, _: &[String]) -> bool {
        false
    }
    fn duplicate_seen(&self, key: &str) -> bool {
        key.len().is_multiple_of(2)
    }
    fn include(&self, _: bool, name: &str) -> Option<Arc<Program>> {
        if name != "self" {
            return None;
        }
        crate::compile("require \"include\"; include \"self\";")
            .ok()
            .map(Arc::new)
    }
    fn environment(&self, name: &str) -> Option<String> {
        (name == "name").then(|| "postamt".to_string())
    }
    fn now(&self) -> (i64, i32) {
        (1_796_208_253, 60)
    }
}

/// Checks one input; a violated property panics.
pub fn script(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let program = match crate::compile(&text) {
        Ok(program) => program,
        Err(error) => {
            let lines = text.matches('\n').count() + 1;
            assert!(
                error.line >= 1 && error.line as usize <= lines,
                "{error} in {lines} lines"
            );
            return;
        }
    };
    let stored = serde_json::to_string(&program).expect("a program serialises");
    let loaded: Program = serde_json::from_str(&stored).expect("a stored program loads");
    assert_eq!(loaded, program);
    let limits = Limits {
        steps: 20_000,
        ..Limits::default()
    };
    let envelope = Envelope {
        from: "sender@example.com".into(),
        to: "me+box@example.org".into(),
        auth: None,
    };
    let outcome = run(&program, &ParsedMail::new(MESSAGE), &envelope, &Nothing, &limits);
    assert!(outcome.actions.len() <= limits.actions + 1);
    let redirects = outcome
        .actions
        .iter()
        .filter(|a| matches!(a, Action::Redirect { .. }))
        .count();
    assert!(redirects <= limits.redirects);
    if !program.may_reject() {
        assert!(!outcome.actions.iter().any(|a| matches!(a, Action::Reject { .. })));
    }
    if outcome.error.is_some() {
        assert_eq!(outcome.actions, [Action::Keep { flags: Vec::new() }]);
    }
    for action in &outcome.actions {
        if let Action::Vacation(reply) = action {
            let message = reply.message("id@example.org", 0);
            // Every line of the reply ends in CRLF.
            assert!(message.windows(2).filter(|w| w[1] == b'\n').all(|w| w[0] == b'\r'));
        }
    }
}
