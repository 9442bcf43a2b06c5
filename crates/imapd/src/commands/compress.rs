//! COMPRESS=DEFLATE (RFC 4978): valid in every state (its grammar puts it
//! in `command-any`, §5), on plain and TLS connections alike; rustls never
//! compresses, so only our own DEFLATE makes it COMPRESSIONACTIVE (§3).
//! The compression itself is `net::Connection`'s (see net's deflate.rs
//! for its memory and its limits on a compression bomb).

use tokio::io::{AsyncRead, AsyncWrite};

use crate::error::{CommandError, Reply};
use crate::session::{Flow, Session};

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    pub(crate) async fn compress(&mut self, tag: &str, mechanism: &str) -> Reply {
        if mechanism != "DEFLATE" {
            return Err(CommandError::bad("Only COMPRESS DEFLATE is supported"));
        }
        if self.conn.is_compressed() {
            return Err(CommandError::no("COMPRESSIONACTIVE", "DEFLATE is active already"));
        }
        // §3: the tagged OK goes out uncompressed, everything after it
        // compressed; the client compresses from its next command on.
        self.tagged(tag, "OK", None, "DEFLATE active");
        if let Err(e) = self.conn.start_compression().await {
            tracing::info!(error = %e, "could not start compression");
            return Err(CommandError::Disconnect);
        }
        Ok(Flow::Continue)
    }
}
