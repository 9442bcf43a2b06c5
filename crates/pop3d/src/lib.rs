//! The POP3 server (RFC 1939 with RFC 2449 CAPA, RFC 2595 STLS, RFC 5034
//! SASL and RFC 8314 implicit TLS). The maildrop is the account's INBOX;
//! deletions take effect only in the UPDATE state after QUIT, so a dropped
//! connection deletes nothing.

#![forbid(unsafe_code)]

mod commands;
mod error;
mod locks;
mod server;
mod session;

use std::time::Duration;

pub use locks::MaildropLocks;
pub use server::Server;

#[derive(Debug, Clone)]
pub struct Pop3Config {
    /// Allow USER/PASS and AUTH without TLS. Off by default: passwords must
    /// not cross the network in the clear (RFC 8314 §3).
    pub allow_cleartext_auth: bool,
    /// Idle time before login.
    pub login_timeout: Duration,
    /// Idle time after login; RFC 1939 §3 asks for at least 10 minutes.
    pub timeout: Duration,
    /// Longest command line including CRLF (RFC 2449 §4 says 255 for
    /// commands; SASL responses may be longer).
    pub max_line_length: usize,
    /// Protocol errors per session before the server hangs up.
    pub max_errors: u32,
}

impl Default for Pop3Config {
    fn default() -> Self {
        Pop3Config {
            allow_cleartext_auth: false,
            login_timeout: Duration::from_secs(60),
            timeout: Duration::from_secs(600),
            max_line_length: 1024,
            max_errors: 20,
        }
    }
}
