//! Running a compiled script on one message for one recipient (RFC 5228
//! §2.10): commands run in order, actions are collected, and at the end
//! the collected actions, with the implicit keep unless something
//! cancelled it, are what the host carries out.
//!
//! A run is bounded in every dimension the script controls: steps of work
//! ([`Limits::steps`], charged by commands and by every character
//! compared), actions, redirects, include depth, variable sizes. When a
//! bound is hit or the script fails at run time, the result is the one
//! safe thing: keep the message in INBOX (§2.10.6), with the reason.

mod actions;
mod date;
pub(crate) mod exec;
mod tests;

use std::sync::Arc;

pub use actions::{Action, VacationReply};

use crate::program::{BodyTransform, Program};

/// What a script can read of the message being delivered. The host
/// implements it over its MIME parser.
pub trait Mail {
    /// The header fields of the message, in order: the name as written
    /// and the value after the colon, unfolded.
    fn fields(&self) -> Vec<(String, String)>;
    /// The size of the message in octets (RFC 5228 §5.9).
    fn size(&self) -> u64;
    /// A field value with its encoded words decoded (RFC 2047), as tests
    /// compare it (RFC 5228 §2.7.2).
    fn decode(&self, value: &str) -> String;
    /// The addresses of an address field value, in order; groups give
    /// their members.
    fn addresses(&self, value: &str) -> Vec<MailAddress>;
    /// A date field value as seconds since 1970 (UTC) and the zone it
    /// was written in, in minutes east of UTC.
    fn date(&self, value: &str) -> Option<(i64, i32)>;
    /// The text the body test looks at (RFC 5173 §5).
    fn body(&self, transform: &BodyTransform) -> Vec<String>;
}

/// One address: `local@domain`; domain empty when there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAddress {
    pub local: String,
    pub domain: String,
}

/// The SMTP envelope of this delivery (RFC 5228 §5.4).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Envelope {
    /// The reverse-path without brackets, empty for the null path.
    pub from: String,
    /// The recipient this script runs for.
    pub to: String,
    /// The authenticated submitter, if any ("auth" envelope part).
    pub auth: Option<String>,
}

/// What a script asks of the server it runs in.
pub trait Host {
    /// RFC 5490 §3.1.
    fn mailbox_exists(&self, name: &str) -> bool;
    /// RFC 8579 §3: whether a mailbox has these special uses (`mailbox`
    /// None: whether any mailbox has each of them).
    fn special_use_exists(&self, mailbox: Option<&str>, uses: &[String]) -> bool;
    /// RFC 7352: whether `key` was recorded by an earlier delivery within
    /// its period. The run reports the keys to record in
    /// [`Outcome::duplicates`]; the host records them once the delivery
    /// is done.
    fn duplicate_seen(&self, key: &str) -> bool;
    /// The compiled script that `include` names (RFC 6609), or None when
    /// there is no such script.
    fn include(&self, global: bool, name: &str) -> Option<Arc<Program>>;
    /// An environment item (RFC 5183 §4), lower-case name.
    fn environment(&self, name: &str) -> Option<String>;
    /// Now, as seconds since 1970 and the local zone in minutes east of
    /// UTC (RFC 5260 §5: currentdate; the default zone of date).
    fn now(&self) -> (i64, i32);
}

/// The bounds of one run. The defaults suit mail filters of real users
/// with a wide margin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Steps of work: one per command and test, one per character of
    /// every comparison.
    pub steps: u64,
    /// Actions collected (fileinto, redirect, vacation, ...).
    pub actions: usize,
    /// Redirects per message (Dovecot's default: 4).
    pub redirects: usize,
    /// How deep includes may nest, and how many scripts one run may
    /// include in all.
    pub include_depth: usize,
    pub includes: usize,
    /// Header edits (addheader, deleteheader) per run.
    pub header_edits: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            steps: 10_000_000,
            actions: 32,
            redirects: 4,
            include_depth: 8,
            includes: 32,
            header_edits: 64,
        }
    }
}

/// Why a run stopped before its end; the message is then kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeError(pub String);

impl std::fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A key the duplicate test asks the host to record once the delivery
/// is done (RFC 7352 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    /// The handle, a NUL, then the message's id.
    pub key: String,
    /// How long the key counts as seen, in seconds (§3.1 `:seconds`).
    pub seconds: u64,
    /// `:last` (§3.1): the period runs from this delivery, so a key
    /// already recorded is recorded anew; without it, from the first
    /// delivery that recorded it, which a later one does not extend.
    pub last: bool,
}

/// What the host does with the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub actions: Vec<Action>,
    /// The header fields as editheader left them, when it changed them
    /// (RFC 5293): the message is delivered with these.
    pub edited_header: Option<Vec<(String, String)>>,
    /// Keys for the duplicate test to record (RFC 7352 §3).
    pub duplicates: Vec<DuplicateKey>,
    /// Set when the script failed: `actions` is then a plain keep.
    pub error: Option<RuntimeError>,
}

/// Runs `program` for one recipient of one message.
pub fn run(program: &Program, mail: &dyn Mail, envelope: &Envelope, host: &dyn Host, limits: &Limits) -> Outcome {
    let mut run = exec::Run::new(mail, envelope, host, limits);
    match run.script(program) {
        Ok(()) => run.finish(),
        Err(error) => Outcome {
            actions: vec![Action::Keep { flags: Vec::new() }],
            edited_header: None,
            duplicates: Vec::new(),
            error: Some(error),
        },
    }
}
