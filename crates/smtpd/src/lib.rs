//! The SMTP server (RFC 5321): sessions on the `smtp` port (the MX role),
//! per-recipient policy, and the hand-over of each accepted message to the
//! queue through the narrow [`Backend`] interface. It never writes a
//! mailbox; it replies 250 to the final dot only once the backend has the
//! message durably.

mod backend;
mod commands;
mod received;
mod server;
mod session;

use std::time::Duration;

pub use backend::{Backend, BackendError, IncomingMessage, RcptVerdict};
pub use server::Server;

/// The settings a session needs; immutable once the server runs.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// Our name in the greeting, EHLO reply and Received headers.
    pub hostname: String,
    /// The largest message accepted, in bytes (SIZE, RFC 1870).
    pub max_message_size: usize,
    /// Recipients per message; more get 452 4.5.3 (RFC 5321 §4.5.3.1.10).
    pub max_recipients: usize,
    /// Longest command line including CRLF.
    pub max_line_length: usize,
    /// Protocol errors per session before 421 and disconnect.
    pub max_errors: u32,
    /// Idle time allowed while waiting for the client (RFC 5321 §4.5.3.2.7).
    pub timeout: Duration,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            hostname: "localhost".into(),
            max_message_size: 25 * 1024 * 1024,
            max_recipients: 100,
            max_line_length: 4096,
            max_errors: 20,
            timeout: Duration::from_secs(300),
        }
    }
}
