//! Waiting for the client while the rest of the server goes on: one wait
//! for the next input, the change bus and the server's stop together,
//! shared by IDLE (RFC 2177) and by the wait for the next command of a
//! session with NOTIFY set (RFC 5465 §3: notifications arrive while the
//! client sends nothing, not only in IDLE).

use std::future::pending;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use crate::session::Session;

/// What ended a wait.
pub(crate) enum Wake {
    /// Input arrived (or the read failed; a timeout is told as one).
    Input(Result<usize, net::ReadError>),
    /// The session's own bus listener: a mailbox's messages changed.
    Change(Result<store::MailboxId, RecvError>),
    /// NOTIFY's bus listener: a mailbox or a mailbox list changed.
    Notify(Result<store::ChangeEvent, RecvError>),
    /// The server stops: the client is told BYE (RFC 9051 §7.1.5).
    Stop,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// Waits until `deadline` (then `Input(Err(Timeout))`) for input, a
    /// change (on the session's listener only if `mailbox_changes`, on
    /// NOTIFY's whenever it is set) or the stop. Output must have been
    /// flushed before: the read is cancelled by the others (see
    /// `net::Connection::fill`), which every listener's `recv` survives.
    pub(crate) async fn wake(&mut self, deadline: Instant, mailbox_changes: bool) -> Wake {
        let timeout = self.config.timeout;
        let mut shutdown = self.conn.shutdown();
        let conn = &mut self.conn;
        let changes = self.changes.as_mut().filter(|_| mailbox_changes);
        let notify = self.notify.as_mut().map(|notifier| &mut notifier.changes);
        let wait = async {
            tokio::select! {
                read = conn.fill() => Wake::Input(read),
                change = async {
                    match changes {
                        Some(changes) => changes.recv().await,
                        None => pending().await,
                    }
                } => Wake::Change(change),
                event = async {
                    match notify {
                        Some(changes) => changes.recv_event().await,
                        None => pending().await,
                    }
                } => Wake::Notify(event),
                () = shutdown.requested() => Wake::Stop,
            }
        };
        tokio::time::timeout_at(deadline, wait)
            .await
            .unwrap_or(Wake::Input(Err(net::ReadError::Timeout(timeout))))
    }
}
