//! The SMTP server (RFC 5321) in its three roles: `smtp` (port 25, the MX:
//! mail for hosted domains, relaying only for trusted networks or
//! authenticated users), `submission` (587, STARTTLS) and `submissions`
//! (465, implicit TLS, RFC 8314), where users must authenticate first
//! (RFC 6409). It decides per recipient and hands each accepted message to
//! the queue through the narrow [`Backend`] interface; it never writes a
//! mailbox, and replies 250 only once the backend has the message durably.

#![forbid(unsafe_code)]

mod backend;
mod client_memory;
mod commands;
mod error;
mod fixups;
pub mod fuzz;
mod params;
mod rate_limit;
mod received;
mod server;
mod session;

use std::time::Duration;

pub use backend::{AcceptError, Backend, BackendError, Client, Envelope, Filing, Login, RcptVerdict};
pub use client_memory::{ClientMemory, Remembered, Standing, client_key};
pub use server::{Role, Server};

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
    /// Clients that may relay without authenticating.
    pub trusted_networks: Vec<net::Network>,
    /// Offer AUTH without TLS. Off by default (RFC 8314 §3).
    pub allow_cleartext_auth: bool,
    /// Leave the client's address out of the Received header of mail that
    /// authenticated users submit.
    pub hide_client_ip: bool,
    /// On the MX port, wait this long before the greeting; a client that
    /// talks in the meantime breaks RFC 5321 §4.3.1 and is disconnected.
    pub pregreet_wait: Duration,
    /// How long a client that waited (or logged in) skips the wait.
    pub pregreet_pass_ttl: Duration,
    /// How long a client that talked first is refused at once.
    pub pregreet_fail_ttl: Duration,
    /// Client verdicts kept in memory at most (see `ClientMemory`).
    pub pregreet_memory: usize,
    /// Rate limits (see `rate_limit`); 0 is none.
    pub limits: RateLimits,
}

/// How much one user or one client may do (issue 17); 0 is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Messages an authenticated user may send per hour.
    pub user_messages_per_hour: u64,
    /// Recipients an authenticated user may send to per hour.
    pub user_recipients_per_hour: u64,
    /// Connections one client address may open per minute on port 25.
    pub client_connections_per_minute: u64,
    /// Messages one client address may send per minute on port 25.
    pub client_messages_per_minute: u64,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            user_messages_per_hour: 500,
            user_recipients_per_hour: 2000,
            // Off on port 25 by default, as in Postfix (anvil): a busy
            // sending host must not be slowed by a guess of ours.
            client_connections_per_minute: 0,
            client_messages_per_minute: 0,
        }
    }
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
            trusted_networks: Vec::new(),
            allow_cleartext_auth: false,
            hide_client_ip: false,
            pregreet_wait: Duration::from_millis(300),
            pregreet_pass_ttl: Duration::from_secs(24 * 3600),
            pregreet_fail_ttl: Duration::from_secs(3600),
            pregreet_memory: 100_000,
            limits: RateLimits::default(),
        }
    }
}
