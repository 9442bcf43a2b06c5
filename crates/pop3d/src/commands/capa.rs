//! CAPA, RFC 2449 §5: what this session can do now.

use tokio::io::{AsyncRead, AsyncWrite};

use crate::session::{Flow, Session};

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// The capabilities (RFC 2449 §5); the login ones only before login.
    pub(crate) fn capa(&mut self, authorization: bool) -> Flow {
        let mut lines = vec!["TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE"];
        if authorization {
            // Offer password logins only where they are allowed, so a client
            // learns to use STLS first (RFC 2595 §6).
            if self.auth_allowed() {
                lines.extend(["USER", "SASL PLAIN"]);
            }
            if self.server.tls.is_some() && !self.conn.is_tls() {
                lines.push("STLS");
            }
        }
        lines.push("IMPLEMENTATION postamt");
        self.ok("Capability list follows");
        let out = self.conn.output();
        for line in lines {
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b".\r\n");
        Flow::Continue
    }
}
