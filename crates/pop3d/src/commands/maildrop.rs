//! The TRANSACTION state's listing and marking commands (RFC 1939 §5) and
//! QUIT, which enters the UPDATE state (RFC 1939 §6).

use tokio::io::{AsyncRead, AsyncWrite};

use crate::error::{Error, Handled};
use crate::session::{Flow, Maildrop, Session};

/// RFC 1939 §7 UIDL: unique and stable for the maildrop's life; the
/// mailbox's UIDVALIDITY and the message's UID give exactly that.
fn unique_id(maildrop: &Maildrop, uid: i64) -> String {
    format!("{:08x}{:08x}", maildrop.mailbox.uidvalidity, uid)
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    pub(crate) fn stat(&mut self, maildrop: &Maildrop) -> Flow {
        let (count, size) = maildrop.live().fold((0, 0), |(n, s), (_, m)| (n + 1, s + m.size));
        self.ok(&format!("{count} {size}"))
    }

    pub(crate) fn list(&mut self, maildrop: &Maildrop, n: Option<u32>) -> Handled {
        self.listing(maildrop, n, |_, m| m.size.to_string())
    }

    pub(crate) fn uidl(&mut self, maildrop: &Maildrop, n: Option<u32>) -> Handled {
        self.listing(maildrop, n, |maildrop, m| unique_id(maildrop, m.uid))
    }

    /// One message's line for `n`, or a multi-line listing of every live
    /// message (RFC 1939 §5 LIST and §7 UIDL share this shape).
    fn listing(
        &mut self,
        maildrop: &Maildrop,
        n: Option<u32>,
        value: impl Fn(&Maildrop, &store::MessageMeta) -> String,
    ) -> Handled {
        if let Some(n) = n {
            let message = maildrop.get(n).ok_or_else(Error::no_such_message)?;
            let line = format!("{n} {}", value(maildrop, message));
            return Ok(self.ok(&line));
        }
        let mut body = String::new();
        for (number, message) in maildrop.live() {
            body.push_str(&format!("{number} {}\r\n", value(maildrop, message)));
        }
        body.push_str(".\r\n");
        self.ok("Listing follows");
        self.conn.send(body.as_bytes());
        Ok(Flow::Continue)
    }

    pub(crate) fn dele(&mut self, maildrop: &mut Maildrop, n: u32) -> Handled {
        maildrop.get(n).ok_or_else(Error::no_such_message)?;
        maildrop.deleted[n as usize - 1] = true;
        Ok(self.ok("Marked for deletion"))
    }

    pub(crate) fn rset(&mut self, maildrop: &mut Maildrop) -> Flow {
        maildrop.deleted.iter_mut().for_each(|d| *d = false);
        self.ok("Deletion marks removed")
    }

    /// QUIT: in TRANSACTION, the UPDATE state deletes the marked messages
    /// (RFC 1939 §6); the session ends either way. A failed deletion is
    /// reported without counting as the client's error: it ends the
    /// session all the same.
    pub(crate) async fn quit(&mut self, maildrop: Option<&Maildrop>) -> Flow {
        let Some(maildrop) = maildrop else {
            self.ok("Bye");
            return Flow::Close;
        };
        let uids: Vec<i64> = maildrop
            .messages
            .iter()
            .zip(&maildrop.deleted)
            .filter(|(_, deleted)| **deleted)
            .map(|(m, _)| m.uid)
            .collect();
        match self.server.store.expunge(maildrop.mailbox.id, &uids).await {
            Ok(()) => {
                tracing::info!(deleted = uids.len(), "maildrop updated");
                self.ok(&format!("Bye, {} messages deleted", uids.len()));
            }
            Err(e) => {
                tracing::error!(error = %e, "deleting messages failed");
                wire::pop3::status_line(
                    self.conn.output(),
                    false,
                    Some("SYS/TEMP"),
                    "Messages could not be deleted",
                );
            }
        }
        Flow::Close
    }
}
