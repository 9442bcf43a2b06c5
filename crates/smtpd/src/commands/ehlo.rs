//! EHLO and HELO, RFC 5321 §4.1.1.1, and the extensions we announce.

use tokio::io::{AsyncRead, AsyncWrite};
use wire::smtp::Reply;

use crate::backend::Backend;
use crate::session::{Flow, Helo, Session};

impl<S, B> Session<S, B>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    B: Backend,
{
    /// Both reset any transaction (RFC 5321 §4.1.4).
    pub(crate) fn ehlo(&mut self, name: String, extended: bool) -> Flow {
        self.transaction = None;
        let hostname = self.config.hostname.clone();
        let reply = if extended {
            let mut lines = vec![
                hostname,
                "PIPELINING".to_string(),
                format!("SIZE {}", self.config.max_message_size),
                "8BITMIME".to_string(),
                "SMTPUTF8".to_string(),
                "ENHANCEDSTATUSCODES".to_string(),
                "CHUNKING".to_string(),
                "BINARYMIME".to_string(),
            ];
            if self.dsn_offered() {
                lines.push("DSN".to_string());
            }
            if self.server.tls.is_some() && !self.conn.is_tls() {
                lines.push("STARTTLS".to_string());
            }
            // RFC 8689 §2: REQUIRETLS is only for a session under TLS, so it
            // is offered there alone (after STARTTLS, or on port 465).
            if self.conn.is_tls() {
                lines.push("REQUIRETLS".to_string());
            }
            if self.auth_offered() {
                lines.push("AUTH PLAIN LOGIN".to_string());
            }
            Reply::plain(250, lines)
        } else {
            Reply::plain(250, vec![hostname])
        };
        self.helo = Some(Helo { name, extended });
        self.ok(reply)
    }

    /// DSN (RFC 3461) is offered on the submission ports, and on port 25
    /// only to clients that may relay. A stranger on port 25 must not be
    /// able to make us send a report (NOTIFY=SUCCESS, DELAY) to an address
    /// of their choosing: that is a way to make us talk to their server,
    /// and to send mail nobody asked for. Without DSN here, the stranger's
    /// own MTA reports "relayed" itself (RFC 3461 §6.2.1).
    pub(crate) fn dsn_offered(&self) -> bool {
        self.role.requires_auth() || self.may_relay()
    }

    /// DSN parameters are taken from clients that may relay; on the
    /// submission ports, MAIL needs AUTH first, so that is everyone there.
    pub(crate) fn may_request_dsn(&self) -> bool {
        self.may_relay()
    }

    /// AUTH is offered once the connection is encrypted, or in the clear
    /// only where the configuration allows it (RFC 8314 §3), and only
    /// until the client has authenticated.
    pub(crate) fn auth_offered(&self) -> bool {
        self.authenticated.is_none() && (self.conn.is_tls() || self.config.allow_cleartext_auth)
    }
}
