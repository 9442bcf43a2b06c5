//! Every metric the server keeps, with its label values: the one place to
//! look for what `/metrics` shows and where the label sets are bounded.

use crate::{Counter, Histogram};

/// The listeners, as `[listen]` names them.
const SERVICES: [&str; 10] = [
    "smtp",
    "submission",
    "submissions",
    "pop3",
    "pop3s",
    "imap",
    "imaps",
    "managesieve",
    "http",
    "https",
];

/// Connections accepted within the limits, counted by net's session
/// opening (and by the web listener for its own).
pub static CONNECTIONS: Counter<10> = Counter::new(
    "postamt_connections_total",
    "Connections accepted, by listener.",
    "service",
    SERVICES,
);

/// TLS handshakes that succeeded, implicit TLS and STARTTLS alike.
pub static TLS_HANDSHAKES: Counter<10> = Counter::new(
    "postamt_tls_handshakes_total",
    "TLS handshakes completed as server, by listener (implicit TLS and STARTTLS).",
    "service",
    SERVICES,
);

/// TLS handshakes that failed or timed out.
pub static TLS_HANDSHAKE_FAILURES: Counter<10> = Counter::new(
    "postamt_tls_handshake_failures_total",
    "TLS handshakes as server that failed or timed out, by listener.",
    "service",
    SERVICES,
);

/// Messages accepted over SMTP (the 250 after DATA or the last BDAT).
pub static SMTP_ACCEPTED: Counter<1> = Counter::new(
    "postamt_smtp_messages_accepted_total",
    "Messages accepted over SMTP (MX and submission).",
    "",
    [""],
);

/// Refusals at SMTP, of a recipient (RCPT) or of a message (MAIL, DATA),
/// permanent or temporary, by the policy that refused.
pub static SMTP_REFUSED: Counter<11> = Counter::new(
    "postamt_smtp_refusals_total",
    "Recipients or messages refused over SMTP, by reason.",
    "reason",
    [
        "unknown_recipient",
        "relay_denied",
        "rate_limit",
        "spam",
        "size",
        "auth_checks",
        "greylisted",
        "blocklisted",
        "quota",
        "sieve",
        "other",
    ],
);

/// What became of each delivery attempt of a queued recipient.
pub static DELIVERIES: Counter<4> = Counter::new(
    "postamt_deliveries_total",
    "Delivery attempts of queued recipients, by outcome: delivered to a local mailbox, delivered to a remote server, deferred, failed (bounced or expired).",
    "outcome",
    ["local", "remote", "deferred", "failed"],
);

/// Failed logins (wrong password, unknown user, or refused while locked out).
pub static LOGIN_FAILURES: Counter<4> = Counter::new(
    "postamt_login_failures_total",
    "Failed logins (wrong password, unknown user, or locked out), by protocol.",
    "protocol",
    ["smtp", "pop3", "imap", "managesieve"],
);

/// Time from BEGIN to COMMIT of each group commit of the store's writer.
pub static STORE_COMMIT: Histogram<10> = Histogram::new(
    "postamt_store_commit_seconds",
    "Time per group commit of the store's writer (all jobs of a batch, through COMMIT).",
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5],
);

pub(crate) fn render_all(out: &mut String) {
    CONNECTIONS.render(out);
    TLS_HANDSHAKES.render(out);
    TLS_HANDSHAKE_FAILURES.render(out);
    SMTP_ACCEPTED.render(out);
    SMTP_REFUSED.render(out);
    DELIVERIES.render(out);
    LOGIN_FAILURES.render(out);
    STORE_COMMIT.render(out);
}
