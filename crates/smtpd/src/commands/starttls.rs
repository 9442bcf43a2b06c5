//! STARTTLS, RFC 3207.

use tokio::io::{AsyncRead, AsyncWrite};
use wire::smtp::Reply;

use crate::backend::Backend;
use crate::error::{Error, Handled};
use crate::session::{Flow, Session};

impl<S, B> Session<S, B>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    B: Backend,
{
    pub(crate) async fn starttls(&mut self) -> Handled {
        let Some(acceptor) = self.server.tls.clone() else {
            return Err(Error::refused(502, "5.5.1", "STARTTLS is not available"));
        };
        if self.conn.is_tls() {
            return Err(Error::refused(503, "5.5.1", "TLS is already active"));
        }
        if !self.conn.buffered().is_empty() {
            // Commands sent with STARTTLS in one write were sent in the
            // clear and must not be run as if they came over TLS
            // (CVE-2011-0411); such a client is not to be trusted further.
            tracing::warn!("commands pipelined after STARTTLS, disconnecting");
            self.reply(Reply::new(
                554,
                "5.5.1",
                "Commands after STARTTLS must wait for its reply",
            ));
            return Ok(Flow::Close);
        }
        self.reply(Reply::new(220, "2.0.0", "Ready to start TLS"));
        if let Err(e) = self.conn.start_tls(&acceptor).await {
            tracing::info!(error = %e, "TLS handshake failed");
            return Ok(Flow::Close);
        }
        // RFC 3207 §4.2: forget everything learnt before TLS.
        self.helo = None;
        self.transaction = None;
        self.authenticated = None;
        Ok(Flow::Continue)
    }
}
