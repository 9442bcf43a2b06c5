//! The POP3 session target: a real `pop3d::Server` on the thread's store
//! (see `world`), its account reset before every exec.

use std::net::SocketAddr;
use std::time::Duration;

use pop3d::{Pop3Config, Server};

use crate::pop3_check::check_pop3;
use crate::transcript::{Transcript, Violation};

/// The command line limit (RFC 2449 §4 says 255 for commands; SASL
/// responses need more).
pub const MAX_LINE: usize = 1024;
/// The heap one session may hold: the connection's
/// buffers, the maildrop's listing, a message read for RETR.
const MEMORY_BASE: usize = 512 * 1024;

/// The session's settings: small limits, cleartext logins (no TLS here).
pub fn config() -> Pop3Config {
    Pop3Config {
        allow_cleartext_auth: true,
        login_timeout: Duration::from_secs(600),
        timeout: Duration::from_secs(600),
        max_line_length: MAX_LINE,
        max_errors: 10,
    }
}

/// Runs one input (see `input` for the encoding) and checks it.
pub fn run(data: &[u8]) -> Result<(), Violation> {
    session(data).map(drop)
}

/// [`run`], giving back the transcript of a session that passed.
pub fn session(data: &[u8]) -> Result<Transcript, Violation> {
    let peer = SocketAddr::from(([192, 0, 2, 1], 110));
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
        |transcript| check_pop3(transcript, MAX_LINE),
        MEMORY_BASE,
    )
}
