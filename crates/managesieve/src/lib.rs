//! The ManageSieve server (RFC 5804): users upload, check, list, fetch,
//! rename, delete and activate their Sieve scripts (RFC 5228) from their
//! mail client. Scripts are compiled by the `sieve` crate as they arrive,
//! so a script with an error is refused with the line it is on, and the
//! store keeps the compiled form that delivery runs.
//!
//! Passwords are accepted only over TLS (STARTTLS, RFC 5804 §2.2) unless
//! the configuration allows them in the clear, and every login goes
//! through the `auth` crate's throttle shared with SMTP, IMAP and POP3.

#![forbid(unsafe_code)]

mod codec;
mod commands;
mod error;
#[doc(hidden)]
pub mod fuzz;
mod response;
mod scripts;
mod server;
mod session;

use std::time::Duration;

pub use scripts::Scripts;
pub use server::Server;

#[derive(Debug, Clone)]
pub struct ManageSieveConfig {
    /// Allow AUTHENTICATE without TLS. Off by default: passwords must not
    /// cross the network in the clear (RFC 5804 §2.1, ENCRYPT-NEEDED).
    pub allow_cleartext_auth: bool,
    /// Idle time before login.
    pub login_timeout: Duration,
    /// Idle time after login; a whole command (its literal included) must
    /// also arrive within it.
    pub timeout: Duration,
    /// Longest command line, not counting the octets of its literals
    /// (RFC 5804 §4 keeps quoted strings to 1024 octets).
    pub max_line_length: usize,
    /// Protocol errors per session before the server hangs up.
    pub max_errors: u32,
    /// What one account may store: the number of scripts and the largest
    /// (RFC 5804 §1.3 QUOTA/MAXSCRIPTS and QUOTA/MAXSIZE). A literal
    /// larger than `max_size` is refused before it is read.
    pub limits: store::SieveLimits,
    /// Redirects one message may get from a script (the MAXREDIRECTS
    /// capability of RFC 5804 §1.7); a script with more is stored with a
    /// warning.
    pub max_redirects: usize,
}

impl Default for ManageSieveConfig {
    fn default() -> Self {
        ManageSieveConfig {
            allow_cleartext_auth: false,
            login_timeout: Duration::from_secs(60),
            timeout: Duration::from_secs(600),
            max_line_length: 4096,
            max_errors: 20,
            limits: store::SieveLimits {
                max_scripts: 32,
                max_size: sieve::MAX_SCRIPT_SIZE,
            },
            max_redirects: 4,
        }
    }
}
