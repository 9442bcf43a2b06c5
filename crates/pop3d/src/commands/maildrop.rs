//! The TRANSACTION state's listing and marking commands (RFC 1939 §5) and
//! QUIT, which enters the UPDATE state (RFC 1939 §6).

use tokio::io::{AsyncRead, AsyncWrite};

use crate::session::{Flow, Maildrop, Outcome, Session, State};

/// RFC 1939 §7 UIDL: unique and stable for the maildrop's life; the
/// mailbox's UIDVALIDITY and the message's UID give exactly that.
fn unique_id(maildrop: &Maildrop, uid: i64) -> String {
    format!("{:08x}{:08x}", maildrop.mailbox.uidvalidity, uid)
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    fn maildrop(&self) -> Option<&Maildrop> {
        match &self.state {
            State::Transaction(maildrop) => Some(maildrop),
            State::Authorization { .. } => None,
        }
    }

    pub(crate) fn stat(&mut self) -> Flow {
        let Some(maildrop) = self.maildrop() else {
            return Flow::Continue;
        };
        let (count, size) = maildrop.live().fold((0, 0), |(n, s), (_, m)| (n + 1, s + m.size));
        self.ok(&format!("{count} {size}"))
    }

    pub(crate) fn list(&mut self, n: Option<u32>) -> Flow {
        self.listing(n, |_, m| m.size.to_string())
    }

    pub(crate) fn uidl(&mut self, n: Option<u32>) -> Flow {
        self.listing(n, |maildrop, m| unique_id(maildrop, m.uid))
    }

    /// LIST and UIDL: one message, or all that are not marked deleted.
    fn listing(&mut self, n: Option<u32>, value: impl Fn(&Maildrop, &store::MessageMeta) -> String) -> Flow {
        let Some(maildrop) = self.maildrop() else {
            return Flow::Continue;
        };
        match n {
            Some(n) => match maildrop.get(n) {
                Some(message) => {
                    let line = format!("{n} {}", value(maildrop, message));
                    self.ok(&line)
                }
                None => self.error(None, "No such message"),
            },
            None => {
                let mut body = String::new();
                for (number, message) in maildrop.live() {
                    body.push_str(&format!("{number} {}\r\n", value(maildrop, message)));
                }
                body.push_str(".\r\n");
                self.ok("Listing follows");
                self.conn.send(body.as_bytes());
                Flow::Continue
            }
        }
    }

    pub(crate) fn dele(&mut self, n: u32) -> Flow {
        let State::Transaction(maildrop) = &mut self.state else {
            return Flow::Continue;
        };
        if maildrop.get(n).is_none() {
            return self.error(None, "No such message");
        }
        maildrop.deleted[n as usize - 1] = true;
        self.ok("Marked for deletion")
    }

    pub(crate) fn rset(&mut self) -> Flow {
        let State::Transaction(maildrop) = &mut self.state else {
            return Flow::Continue;
        };
        maildrop.deleted.iter_mut().for_each(|d| *d = false);
        self.ok("Deletion marks removed")
    }

    /// In TRANSACTION, QUIT removes the marked messages (the UPDATE state);
    /// if that fails, none are lost and the client is told (RFC 1939 §6).
    pub(crate) async fn quit(&mut self) -> Outcome {
        let State::Transaction(maildrop) = &self.state else {
            self.ok("Bye");
            return Ok(Flow::Close);
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
        Ok(Flow::Close)
    }
}
