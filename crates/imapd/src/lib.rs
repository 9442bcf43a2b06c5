//! The IMAP server: IMAP4rev2 (RFC 9051) with IMAP4rev1 (RFC 3501)
//! behaviour for clients that do not enable rev2, on the `imap` port
//! (STARTTLS) and `imaps` (implicit TLS, RFC 8314). Sessions read and
//! change the store; what other sessions and delivery change reaches them
//! through the store's change bus, reported at the moments RFC 9051 §7.5.1
//! allows.

#![forbid(unsafe_code)]

mod by_uid;
mod commands;
mod error;
mod format;
mod heavy;
mod listing;
mod metadata_watch;
mod notifier;
mod pattern;
mod ranges;
mod recent;
mod server;
mod session;
#[cfg(test)]
mod tests;
mod thread;
mod uidonly;
mod view;
mod waiting;

use std::time::Duration;

pub use server::Server;

#[derive(Debug, Clone)]
pub struct ImapConfig {
    /// Allow LOGIN and AUTHENTICATE without TLS (RFC 8314 §3 says no).
    pub allow_cleartext_auth: bool,
    /// Idle time before login.
    pub login_timeout: Duration,
    /// Idle time after login; RFC 9051 §5.4 asks for at least 30 minutes.
    pub timeout: Duration,
    /// Largest literal (and so the largest APPEND).
    pub max_literal: u64,
    /// Largest command after login, literals included (issue 12).
    pub max_command: u64,
    /// Largest command before login, literals included: LOGIN, ID and
    /// AUTHENTICATE need little, and whoever sends more has not shown who
    /// they are (issue 12, attack 2).
    pub max_command_before_login: u64,
    /// Most literals in one command (each is an allocation of its own).
    pub max_literals: usize,
    /// Protocol errors (BAD answers) in a row before the server hangs up;
    /// any command answered OK or NO starts the count again.
    pub max_errors: u32,
    /// Sessions one account may have at once (each holds memory and a
    /// change-bus subscription; Dovecot's default is 10 per user and address).
    pub max_sessions_per_user: usize,
    /// Characters in a LIST's patterns together, the reference name
    /// counted with each (issue 12, attack 3); more get BAD. Clients send
    /// `*`, `%` or a name with one of them, a few at most.
    pub max_list_pattern: usize,
    /// `*` and `%` in a LIST's patterns together; more get BAD.
    pub max_list_wildcards: usize,
    /// Distinct items in one FETCH (issue 12, attack 4); more get BAD.
    /// Repeated items are answered once and do not count. Mail clients
    /// ask for about ten.
    pub max_fetch_items: usize,
    /// Commands whose CPU work (LIST's matching) runs on the blocking
    /// pool at once, all sessions together; more wait their turn, so no
    /// number of sessions takes more threads than this.
    pub heavy_tasks: usize,
    /// The longest mailbox name in bytes (UTF-8, the whole hierarchical
    /// name); CREATE or RENAME to a longer one gets NO [LIMIT].
    pub max_mailbox_name: usize,
    /// Mailboxes one account may have; a CREATE or RENAME that would make
    /// more (parents included) gets NO [LIMIT].
    pub max_mailboxes: usize,
    /// Distinct keywords the messages of one mailbox may carry: every
    /// session lists them all in FLAGS, again each time one is added
    /// (RFC 9051 §7.3.5). STORE, APPEND, COPY or MOVE that would add one
    /// more get NO [LIMIT], and PERMANENTFLAGS drops `\*` once there are
    /// this many (RFC 9051 §7.1, §2.3.2).
    pub max_keywords: usize,
    /// The longest keyword in bytes; a longer one gets NO [LIMIT].
    pub max_keyword_length: usize,
    /// Mailboxes one NOTIFY may watch for message events (RFC 5465): each
    /// is a STATUS to read and remember. More at NOTIFY SET get
    /// NO [LIMIT]; more later (mailboxes created meanwhile) end NOTIFY with
    /// NOTIFICATIONOVERFLOW.
    pub max_notify_mailboxes: usize,
    /// Bytes of notifications sent at once (after missed changes, every
    /// watched mailbox's STATUS; a slow client makes the bus lag) before
    /// the server gives up and sends NOTIFICATIONOVERFLOW (RFC 5465 §5.8)
    /// instead, ending NOTIFY: the client looks afresh.
    pub max_notify_output: usize,
    /// Event groups and the mailbox names in their filters, together, in
    /// one NOTIFY SET (RFC 5465 §6): each change of the mailbox list
    /// matches every mailbox against them. More get BAD. Clients name a
    /// few.
    pub max_notify_filters: usize,
    /// The largest METADATA value in bytes (RFC 5464 §4.3: NO [METADATA
    /// MAXSIZE n]); §4.1 asks for at least 1024.
    pub max_metadata_value: usize,
    /// METADATA entries of one account, server and mailboxes together
    /// (NO [METADATA TOOMANY]); §4.1 asks for at least 10 per mailbox.
    pub max_metadata_entries: usize,
    /// Bytes of one account's METADATA names and values together (NO
    /// [LIMIT]).
    pub max_metadata_total: usize,
    /// Updating contexts (SEARCH or SORT with RETURN (UPDATE), RFC 5267
    /// §4.3) one session may keep: each holds its result (SORT's with the
    /// sort keys) and searches again what changes. Past this many, UPDATE
    /// is answered NO [NOUPDATE] (§4.3.1: at least one must be offered).
    pub max_update_contexts: usize,
    /// Messages all of a session's updating contexts may hold together
    /// beyond its first (which RFC 5267 §4.3.1 has a server offer, and
    /// which the mailbox bounds): a SORT context keeps a few hundred bytes
    /// of keys per message, so ten of them over a big mailbox would be
    /// the session's largest cost. Past it, UPDATE is NO [NOUPDATE].
    pub max_update_context_messages: usize,
}

impl Default for ImapConfig {
    fn default() -> Self {
        ImapConfig {
            allow_cleartext_auth: false,
            login_timeout: Duration::from_secs(60),
            timeout: Duration::from_secs(31 * 60),
            max_literal: 64 * 1024 * 1024,
            max_command: 65 * 1024 * 1024,
            max_command_before_login: 8 * 1024,
            max_literals: 1000,
            max_errors: 50,
            max_sessions_per_user: 20,
            max_list_pattern: 1024,
            max_list_wildcards: 32,
            max_fetch_items: 100,
            heavy_tasks: 4,
            max_mailbox_name: 1024,
            max_mailboxes: 1000,
            max_keywords: 256,
            max_keyword_length: 128,
            max_notify_mailboxes: 2000,
            max_notify_output: 1024 * 1024,
            max_notify_filters: 1000,
            max_metadata_value: 64 * 1024,
            max_metadata_entries: 1000,
            max_metadata_total: 1024 * 1024,
            // Dovecot's limit too.
            max_update_contexts: 10,
            max_update_context_messages: 100_000,
        }
    }
}
