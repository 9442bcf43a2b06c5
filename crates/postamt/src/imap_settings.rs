//! `[imap]`: the IMAP server's timeouts and limits, each defaulting to
//! imapd's own (`imapd::ImapConfig::default`), and how they and
//! `[auth] allow_cleartext` become the server's configuration.

use std::time::Duration;

use serde::Deserialize;

use crate::config::Config;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Imap {
    /// Seconds a client may stay silent before logging in.
    pub login_timeout: u64,
    /// Seconds a logged-in client may stay silent (RFC 9051 §5.4: at least 30 minutes).
    pub timeout: u64,
    /// The largest literal, and so the largest message APPEND takes.
    pub max_literal: u64,
    /// The largest command after login, in bytes, literals included.
    /// Default: `max_literal` plus 1 MiB, room for one message of the
    /// largest size with its APPEND line, or several smaller ones
    /// (MULTIAPPEND, RFC 3502).
    pub max_command: Option<u64>,
    /// The largest command before login, in bytes, literals included
    /// (default 8192): LOGIN, AUTHENTICATE and ID fit with room to spare,
    /// and an unknown client gets no more (RFC 9051 §7.1: TOOBIG).
    pub max_command_before_login: u64,
    /// The most literals one command may hold (default 1000): each costs
    /// an allocation; MULTIAPPEND needs one per message, other commands
    /// a few.
    pub max_literals: usize,
    /// BAD answers in a row before the session ends (default 50); a
    /// command answered OK or NO starts the count again.
    pub max_errors: u32,
    /// Sessions one user may have open at once.
    pub max_sessions_per_user: usize,
    /// Characters in a LIST's patterns together, the reference name
    /// counted with each; more get BAD (issue 12, attack 3). Default 1024.
    pub max_list_pattern: usize,
    /// `*` and `%` in a LIST's patterns together; more get BAD. Default 32.
    pub max_list_wildcards: usize,
    /// Distinct items in one FETCH; more get BAD, repeats are answered
    /// once (issue 12, attack 4). Default 100.
    pub max_fetch_items: usize,
    /// IMAP commands whose CPU work (LIST's matching) runs on the blocking
    /// pool at once, all sessions together. Default 4.
    pub heavy_tasks: usize,
    /// The longest mailbox name, in bytes of UTF-8, the full hierarchical
    /// name counted (default 1024; Dovecot allows 4096). CREATE and RENAME
    /// beyond it get NO [LIMIT] (issue 13, defect 9).
    pub max_mailbox_name: usize,
    /// Mailboxes one account may have, parents CREATE makes included
    /// (default 1000). More get NO [LIMIT] (issue 13, defect 9).
    pub max_mailboxes: usize,
    /// Distinct keywords the messages of one mailbox may carry (default
    /// 256): every selected session is sent the whole list again each
    /// time one is added. STORE, APPEND, COPY and MOVE that would add one
    /// more get NO [LIMIT]; PERMANENTFLAGS then no longer offers `\*`.
    pub max_keywords: usize,
    /// The longest keyword, in bytes (default 128); longer: NO [LIMIT].
    pub max_keyword_length: usize,
    /// The largest METADATA value in bytes (RFC 5464; default 64 KiB).
    pub max_metadata_value: usize,
    /// METADATA entries of one account (default 1000).
    pub max_metadata_entries: usize,
    /// Bytes of one account's METADATA entries together (default 1 MiB).
    pub max_metadata_total: usize,
    /// Mailboxes one NOTIFY may watch for message events (RFC 5465;
    /// default 2000): more at NOTIFY SET get NO [LIMIT], more later end
    /// NOTIFY with NOTIFICATIONOVERFLOW.
    pub max_notify_mailboxes: usize,
    /// Bytes of notifications sent at once before NOTIFY gives up with
    /// NOTIFICATIONOVERFLOW (RFC 5465 §5.8; default 1 MiB).
    pub max_notify_output: usize,
    /// Event groups and mailbox names in one NOTIFY SET together
    /// (default 1000); more get BAD.
    pub max_notify_filters: usize,
    /// Search and sort results one session keeps up to date at once
    /// (RFC 5267 §4: RETURN (UPDATE); default 10); past it the command
    /// is answered with NOUPDATE.
    pub max_update_contexts: usize,
    /// Messages a session's updating contexts beyond its first may hold
    /// together (default 100 000); past it, NOUPDATE.
    pub max_update_context_messages: usize,
}

impl Default for Imap {
    fn default() -> Self {
        let defaults = imapd::ImapConfig::default();
        Imap {
            login_timeout: defaults.login_timeout.as_secs(),
            timeout: defaults.timeout.as_secs(),
            max_literal: defaults.max_literal,
            max_command: None,
            max_command_before_login: defaults.max_command_before_login,
            max_literals: defaults.max_literals,
            max_errors: defaults.max_errors,
            max_sessions_per_user: defaults.max_sessions_per_user,
            max_list_pattern: defaults.max_list_pattern,
            max_list_wildcards: defaults.max_list_wildcards,
            max_fetch_items: defaults.max_fetch_items,
            heavy_tasks: defaults.heavy_tasks,
            max_mailbox_name: defaults.max_mailbox_name,
            max_mailboxes: defaults.max_mailboxes,
            max_keywords: defaults.max_keywords,
            max_keyword_length: defaults.max_keyword_length,
            max_metadata_value: defaults.max_metadata_value,
            max_metadata_entries: defaults.max_metadata_entries,
            max_metadata_total: defaults.max_metadata_total,
            max_notify_mailboxes: defaults.max_notify_mailboxes,
            max_notify_output: defaults.max_notify_output,
            max_notify_filters: defaults.max_notify_filters,
            max_update_contexts: defaults.max_update_contexts,
            max_update_context_messages: defaults.max_update_context_messages,
        }
    }
}

impl Config {
    pub fn imap(&self) -> imapd::ImapConfig {
        imapd::ImapConfig {
            allow_cleartext_auth: self.auth.allow_cleartext,
            login_timeout: Duration::from_secs(self.imap.login_timeout),
            timeout: Duration::from_secs(self.imap.timeout),
            max_literal: self.imap.max_literal,
            max_command: self
                .imap
                .max_command
                .unwrap_or(self.imap.max_literal.saturating_add(1024 * 1024)),
            max_command_before_login: self.imap.max_command_before_login,
            max_literals: self.imap.max_literals,
            max_errors: self.imap.max_errors,
            max_sessions_per_user: self.imap.max_sessions_per_user,
            max_list_pattern: self.imap.max_list_pattern,
            max_list_wildcards: self.imap.max_list_wildcards,
            max_fetch_items: self.imap.max_fetch_items,
            heavy_tasks: self.imap.heavy_tasks,
            max_mailbox_name: self.imap.max_mailbox_name,
            max_mailboxes: self.imap.max_mailboxes,
            max_keywords: self.imap.max_keywords,
            max_keyword_length: self.imap.max_keyword_length,
            max_metadata_value: self.imap.max_metadata_value,
            max_metadata_entries: self.imap.max_metadata_entries,
            max_metadata_total: self.imap.max_metadata_total,
            max_notify_mailboxes: self.imap.max_notify_mailboxes,
            max_notify_output: self.imap.max_notify_output,
            max_notify_filters: self.imap.max_notify_filters,
            max_update_contexts: self.imap.max_update_contexts,
            max_update_context_messages: self.imap.max_update_context_messages,
        }
    }
}
