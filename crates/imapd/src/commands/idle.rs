//! IDLE (RFC 2177, RFC 9051 §6.3.13): updates as they happen, until DONE.

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast;
use wire::line::{find_line, strip_eol};

use crate::error::{CommandError, Reply};
use crate::session::{Disconnect, Session};
use crate::view::View;
use crate::waiting::Wake;

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
        let deadline = tokio::time::Instant::now() + self.config.timeout;
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
            match self.wake(deadline, view.is_some()).await {
                Wake::Input(Ok(_)) => {}
                Wake::Input(Err(e)) => return Err(self.read_failed(e).await.into()),
                Wake::Stop => return Err(self.conn.end_for_stop().await.into()),
                // NOTIFY's events are reported in IDLE too, expunges of
                // the selected mailbox included (IDLE allows them).
                Wake::Notify(event) => self.notified(event, view.as_deref_mut(), true).await?,
                Wake::Change(change) => {
                    let Some(view) = view.as_deref_mut() else {
                        continue;
                    };
                    let ours = match change {
                        Ok(mailbox) => mailbox == view.mailbox.id,
                        Err(broadcast::error::RecvError::Lagged(_)) => true,
                        Err(broadcast::error::RecvError::Closed) => false,
                    };
                    if ours {
                        // NOTIFY's listener may hear of it second: the
                        // MessageNew FETCH goes with this EXISTS.
                        self.report_selected(view, true).await?;
                        self.conn.flush().await.map_err(|_| Disconnect)?;
                    }
                }
            }
        }
    }
}
