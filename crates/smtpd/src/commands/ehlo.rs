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
        let hostname = self.server.config.hostname.clone();
        let reply = if extended {
            let mut lines = vec![
                hostname,
                "PIPELINING".to_string(),
                format!("SIZE {}", self.server.config.max_message_size),
                "8BITMIME".to_string(),
                "SMTPUTF8".to_string(),
                "ENHANCEDSTATUSCODES".to_string(),
                "CHUNKING".to_string(),
                "BINARYMIME".to_string(),
                "DSN".to_string(),
            ];
            if self.server.tls.is_some() && !self.conn.is_tls() {
                lines.push("STARTTLS".to_string());
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

    /// AUTH is offered once the connection is encrypted, or in the clear
    /// only where the configuration allows it (RFC 8314 §3), and only
    /// until the client has authenticated.
    pub(crate) fn auth_offered(&self) -> bool {
        self.authenticated.is_none() && (self.conn.is_tls() || self.server.config.allow_cleartext_auth)
    }
}
