//! The IMAP session target: a real `imapd::Server` on the thread's SQLite
//! store (see `world`), its account reset before every exec.

use std::net::SocketAddr;
use std::time::Duration;

use imapd::{ImapConfig, Server};

use crate::imap_check::check_imap;
use crate::transcript::{Transcript, Violation};

/// Small limits, so that one input reaches them.
pub const MAX_LITERAL: u64 = 16 * 1024;
/// The heap one session may hold: FETCH flushes its output once more than
/// 256 KiB wait (commands/fetch.rs), so the output buffer reaches 512 KiB
/// and growing it copies it (768 KiB for a moment); a command with its
/// literals (64 KiB), the input buffer (two reads of 64 KiB), the
/// selected mailbox's view and DEFLATE's state after COMPRESS (about
/// 300 KiB) come on top.
const MEMORY_BASE: usize = 2 * 1024 * 1024;

/// The session's settings: small limits, cleartext logins (no TLS here),
/// no timeouts that an exec could reach.
pub fn config() -> ImapConfig {
    ImapConfig {
        allow_cleartext_auth: true,
        login_timeout: Duration::from_secs(600),
        timeout: Duration::from_secs(600),
        max_literal: MAX_LITERAL,
        max_command: 4 * MAX_LITERAL,
        max_command_before_login: 4096,
        max_literals: 8,
        max_errors: 10,
        max_mailboxes: 20,
        max_keywords: 20,
        ..ImapConfig::default()
    }
}

/// Runs one input (see `input` for the encoding) and checks it.
pub fn run(data: &[u8]) -> Result<(), Violation> {
    session(data).map(drop)
}

/// [`run`], giving back the transcript of a session that passed.
pub fn session(data: &[u8]) -> Result<Transcript, Violation> {
    let peer = SocketAddr::from(([192, 0, 2, 1], 143));
    crate::world::run_on_store(
        data,
        |store, stream| {
            net::session(
                Server::new(config(), store, None, crate::world::throttle()),
                stream,
                peer,
                false,
            )
        },
        check_imap,
        MEMORY_BASE,
    )
}
