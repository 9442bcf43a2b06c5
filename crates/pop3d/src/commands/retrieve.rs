//! RETR and TOP (RFC 1939 §7): the message streams from its blob through
//! dot-stuffing, so a large message never sits whole in memory.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use wire::dot::DotStuffer;
use wire::pop3::TopFilter;

use crate::error::{Error, Handled};
use crate::session::{Flow, Maildrop, Session};

const CHUNK: usize = 64 * 1024;

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// RETR with `top_lines: None`, TOP with the number of body lines.
    pub(crate) async fn retrieve(&mut self, maildrop: &Maildrop, n: u32, top_lines: Option<u32>) -> Handled {
        let message = maildrop.get(n).cloned().ok_or_else(Error::no_such_message)?;
        let store = &self.server.store;
        let opened = async {
            let Some(location) = store.locate_message(maildrop.mailbox.id, message.uid)? else {
                // Expunged by another session (IMAP) since the listing.
                return Ok(None);
            };
            store.open_message(location.stored(), false).await.map(Some)
        };
        let mut file = opened
            .await
            .map_err(Error::store("Message content is unavailable"))?
            .ok_or_else(Error::no_such_message)?;
        self.ok(&format!("{} octets", message.size));
        let mut stuffer = DotStuffer::default();
        let mut top = top_lines.map(TopFilter::new);
        let mut done = false;
        let mut chunk = vec![0u8; CHUNK];
        while !done {
            let n = match file.read(&mut chunk).await {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    // The status line is out; all that is left is to hang up
                    // so the client cannot take a truncated message as whole.
                    tracing::error!(error = %e, uid = message.uid, "reading message content failed");
                    return Err(Error::Disconnect);
                }
            };
            done = self.emit(&chunk[..n], &mut stuffer, &mut top);
            if self.conn.pending_output() >= CHUNK {
                self.conn.flush().await.map_err(|_| Error::Disconnect)?;
            }
        }
        stuffer.finish(self.conn.output());
        Ok(Flow::Continue)
    }

    /// Queues a piece of the message; true once TOP has all it wants.
    fn emit(&mut self, bytes: &[u8], stuffer: &mut DotStuffer, top: &mut Option<TopFilter>) -> bool {
        let take = top.as_mut().map_or(bytes.len(), |filter| filter.take(bytes));
        stuffer.stuff(&bytes[..take], self.conn.output());
        take < bytes.len()
    }
}
