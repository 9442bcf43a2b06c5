//! IDLE (RFC 2177, RFC 9051 §6.3.13): updates as they happen, until DONE.

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast;
use wire::line::{find_line, strip_eol};

use crate::error::{CommandError, Reply};
use crate::session::{Disconnect, Session};
use crate::view::View;

enum Event {
    Input(Result<usize, net::ReadError>),
    Change(Result<store::MailboxId, broadcast::error::RecvError>),
    /// The server stops: an idle client is told BYE (RFC 9051 §7.1.5).
    Stop,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// IDLE, with `view` the selected mailbox whose changes it reports.
    pub(crate) async fn idle(&mut self, tag: &str, mut view: Option<&mut View>) -> Reply {
        if let Some(view) = view.as_deref_mut() {
            self.report_changes(view, true, false).await?;
        }
        self.conn.send(b"+ idling\r\n");
        // The inactivity timeout counts from this command, the client's
        // last: changes reported meanwhile are not the client's doing and
        // must not keep a session alive for ever (issue 12). RFC 2177 asks
        // clients to send DONE and IDLE again within 29 minutes.
        let timeout = self.config.timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let mut shutdown = self.conn.shutdown();
        loop {
            // A line from the client ends IDLE; only DONE may be sent.
            if let Ok(Some(n)) = find_line(self.conn.buffered(), 1024) {
                let done = strip_eol(&self.conn.buffered()[..n]).eq_ignore_ascii_case(b"DONE");
                self.conn.consume(n);
                if done {
                    return self.ok(tag, "IDLE terminated");
                }
                return Err(CommandError::bad("Expected DONE"));
            }
            if self.conn.buffered().len() >= 1024 {
                return Err(CommandError::bad("Expected DONE"));
            }
            // Nothing may be left to write when the read below can be
            // cancelled by a change (see Connection::fill).
            self.conn.flush().await.map_err(|_| Disconnect)?;
            let event = {
                let conn = &mut self.conn;
                let wait = async {
                    match &mut self.changes {
                        Some(changes) => tokio::select! {
                            read = conn.fill() => Event::Input(read),
                            change = changes.recv() => Event::Change(change),
                            () = shutdown.requested() => Event::Stop,
                        },
                        None => tokio::select! {
                            read = conn.fill() => Event::Input(read),
                            () = shutdown.requested() => Event::Stop,
                        },
                    }
                };
                tokio::time::timeout_at(deadline, wait)
                    .await
                    .unwrap_or(Event::Input(Err(net::ReadError::Timeout(timeout))))
            };
            match event {
                Event::Input(Ok(_)) => {}
                Event::Input(Err(e)) => return Err(self.read_failed(e).await.into()),
                Event::Stop => return Err(self.conn.end_for_stop().await.into()),
                Event::Change(change) => {
                    let Some(view) = view.as_deref_mut() else {
                        continue;
                    };
                    let ours = match change {
                        Ok(mailbox) => mailbox == view.mailbox.id,
                        Err(broadcast::error::RecvError::Lagged(_)) => true,
                        Err(broadcast::error::RecvError::Closed) => false,
                    };
                    if ours {
                        let mut out = Vec::new();
                        if let Err(e) = view.sync(&self.server.store, &mut out, true, self.ext).await {
                            tracing::error!(error = %e, "could not refresh the mailbox");
                        }
                        self.conn.send(&out);
                        self.conn.flush().await.map_err(|_| Disconnect)?;
                    }
                }
            }
        }
    }
}
