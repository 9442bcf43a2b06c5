//! Stateful fuzz targets for the three mail sessions (issue 22, point 3):
//! a fuzzer's bytes become a client's writes (see [`input`]), fed into a
//! real SMTP, POP3 or IMAP session over an in-memory connection (see
//! [`pipe`]) with an in-memory SMTP backend or a real SQLite store, and
//! the session's invariants are checked after every write (see the
//! `*_check` modules): replies in order and one per command, nothing after
//! the goodbye, no message accepted without its 250, continuation requests
//! only where one is due, and the session's memory within what its limits
//! allow (see [`alloc`]).
//!
//! The checkers are pure functions over a [`transcript::Transcript`], so
//! they are tested on their own with known bad transcripts. The
//! `*_session` functions are the fuzz targets' bodies: they panic with the
//! violation, which the fuzzer reports as a crash.
//!
//! Costs are paid once per thread: the runtime, the store (a new one in a
//! new directory every [`STORE_EXECS`] execs, so it stays small) and, once
//! per process, the password hash, made with argon2id's smallest
//! parameters so that a login costs microseconds, not the default's 19 MiB
//! and tens of milliseconds (an unknown user still costs the default's:
//! `auth` checks a dummy hash of its own then).

pub mod alloc;
pub mod driver;
pub mod imap;
pub mod imap_check;
pub mod input;
pub mod pipe;
pub mod pop3;
pub mod pop3_check;
pub mod smtp;
pub mod smtp_check;
pub mod transcript;
pub mod world;

use std::sync::OnceLock;

/// The password of every account in every target.
pub const PASSWORD: &str = "secret";
/// Execs on one store before it is replaced by a fresh one.
pub const STORE_EXECS: u64 = 2000;

/// The hash of [`PASSWORD`]: argon2id with the smallest parameters (8 KiB,
/// one pass), which `auth::verify_password` reads from the hash itself.
pub fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        use argon2::password_hash::PasswordHasher;
        let params = argon2::Params::new(8, 1, 1, None).unwrap_or_default();
        let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        match argon.hash_password_with_salt(PASSWORD.as_bytes(), b"session-fuzz-salt") {
            Ok(hash) => hash.to_string(),
            Err(e) => panic!("argon2 cannot hash: {e}"),
        }
    })
}

fn fail(target: &str, result: Result<(), transcript::Violation>) {
    if let Err(violation) = result {
        panic!("{target}: {violation}");
    }
}

/// The `smtp_session` target: one SMTP session (see [`smtp`]).
pub fn smtp_session(data: &[u8]) {
    fail("smtp_session", smtp::run(data));
}

/// The `pop3_session` target: one POP3 session (see [`pop3`]).
pub fn pop3_session(data: &[u8]) {
    fail("pop3_session", pop3::run(data));
}

/// The `imap_session` target: one IMAP session (see [`imap`]).
pub fn imap_session(data: &[u8]) {
    fail("imap_session", imap::run(data));
}
