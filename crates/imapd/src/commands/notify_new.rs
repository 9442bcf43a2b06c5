//! The selected mailbox brought up to date, with what NOTIFY's MessageNew
//! asks for new messages (RFC 5465 §5.2): the EXISTS of a new message is
//! followed by a FETCH of the items MessageNew named, on every path that
//! may be the one to find it first: the end of any command (NOOP, FETCH,
//! SEARCH, ...), the start of IDLE and IDLE's own wake-ups, and NOTIFY's
//! wait between commands. Only one of them finds a given message new (the
//! view then shows it), so its FETCH is sent once.

use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::FetchItem;

use crate::error::CommandError;
use crate::session::{Disconnect, Session};
use crate::view::View;

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// `Session::sync_view` (EXISTS, EXPUNGE as `expunges` allows, FETCH
    /// FLAGS, ADDTO/REMOVEFROM),
    /// then the FETCH items `fetch` of each message new to the client.
    pub(crate) async fn sync_selected(
        &mut self,
        view: &mut View,
        expunges: bool,
        fetch: &[FetchItem],
    ) -> Result<(), CommandError> {
        let last = view.last_uid();
        let mut out = Vec::new();
        // With the updating contexts (RFC 5267 §4.4) kept up too.
        let synced = self.sync_view(view, &mut out, expunges).await;
        self.conn.send(&out);
        synced?;
        if fetch.is_empty() {
            return Ok(());
        }
        let new = view.indexes_above(last);
        if new.is_empty() {
            return Ok(());
        }
        self.fetch_notified(view, &new, fetch).await
    }

    /// [`Session::sync_selected`] with the FETCH items of the NOTIFY in
    /// effect, if it watches the selected mailbox. A failure of ours is
    /// logged: the command that reports changes goes on.
    pub(crate) async fn report_selected(&mut self, view: &mut View, expunges: bool) -> Result<(), Disconnect> {
        let fetch = self
            .notify
            .as_ref()
            .and_then(|notifier| notifier.selected.as_ref())
            .map(|interest| interest.fetch.clone())
            .unwrap_or_default();
        match self.sync_selected(view, expunges, &fetch).await {
            Ok(()) => Ok(()),
            Err(CommandError::Disconnect) => Err(Disconnect),
            Err(CommandError::Server(error)) => {
                tracing::error!(%error, "could not refresh the mailbox");
                Ok(())
            }
            // A FETCH item that could not be answered (UNKNOWN-CTE).
            Err(_) => {
                tracing::debug!("a MessageNew FETCH left out");
                Ok(())
            }
        }
    }
}
