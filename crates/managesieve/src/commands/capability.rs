//! CAPABILITY (RFC 5804 §2.4), which is also the greeting (§1.7) and
//! the answer after STARTTLS (§2.2): one line per capability, then OK.

use tokio::io::{AsyncRead, AsyncWrite};

use crate::response::string;
use crate::session::{Flow, Session, State};

/// The SASL mechanisms offered (§2.1), where passwords are allowed.
pub(crate) const MECHANISMS: &str = "PLAIN LOGIN";

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// Queues the capability list and OK.
    pub(crate) fn capability(&mut self, state: &State) -> Flow {
        let redirects = self.config.max_redirects.to_string();
        let extensions = sieve::EXTENSIONS.join(" ");
        let tls_offered = self.server.tls.is_some() && !self.conn.is_tls();
        // §1.7: the list may be empty only while STARTTLS is offered, which
        // is how a client learns to use it first.
        let mechanisms = if self.auth_allowed() { MECHANISMS } else { "" };
        let mut lines: Vec<(&str, Option<&str>)> = vec![
            ("IMPLEMENTATION", Some("postamt")),
            ("SASL", Some(mechanisms)),
            ("SIEVE", Some(&extensions)),
        ];
        if tls_offered && matches!(state, State::NotAuthenticated) {
            lines.push(("STARTTLS", None));
        }
        lines.push(("MAXREDIRECTS", Some(&redirects)));
        // RFC 5804 §2.14: UNAUTHENTICATE is advertised.
        lines.push(("UNAUTHENTICATE", None));
        if let State::Authenticated(user) = state {
            // §1.7: OWNER, the identity logged in as.
            lines.push(("OWNER", Some(&user.address)));
        }
        lines.push(("VERSION", Some("1.0")));
        let out = self.conn.output();
        for (name, value) in lines {
            string(out, name.as_bytes());
            if let Some(value) = value {
                out.push(b' ');
                string(out, value.as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        }
        self.ok(None, "")
    }
}
