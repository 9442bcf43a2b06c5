//! SELECT and EXAMINE, CLOSE and UNSELECT, EXPUNGE and UID EXPUNGE
//! (RFC 9051 §6.3.2, §6.4).

use store::{Account, flag};
use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::SequenceSet;

use crate::error::{CommandError, Reply};
use crate::format::client_mailbox;
use crate::session::{Flow, Session, State};
use crate::view::View;

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// Selects the mailbox named `raw`; the session is left authenticated
    /// if that fails, the old mailbox closed either way (RFC 9051 §6.3.2).
    pub(crate) async fn select(&mut self, tag: &str, raw: &[u8], read_only: bool, account: Account) -> Reply {
        match self.open_view(raw, read_only, &account).await {
            Ok(view) => {
                self.announce_selected(tag, &view);
                self.state = State::Selected { account, view };
                Ok(Flow::Continue)
            }
            Err(e) => {
                self.state = State::Authenticated { account };
                Err(e)
            }
        }
    }

    async fn open_view(&mut self, raw: &[u8], read_only: bool, account: &Account) -> Result<View, CommandError> {
        let name = client_mailbox(raw, self.utf8).unwrap_or_default();
        let Some(mailbox) = self.server.store.mailbox(account.id, &name).await? else {
            return Err(CommandError::nonexistent());
        };
        let config = &self.config;
        let view = View::open(&self.server.store, mailbox, read_only, !self.rev2, config.max_keywords).await?;
        // Drop what the bus said about the old mailbox.
        if let Some(changes) = &mut self.changes {
            *changes = changes.resubscribe();
        }
        Ok(view)
    }

    /// The answer to SELECT and EXAMINE (RFC 9051 §7.1, §7.3).
    fn announce_selected(&mut self, tag: &str, view: &View) {
        let first_unseen = view.messages.iter().position(|m| !m.flags.has(flag::SEEN));
        self.untagged(&format!("{} EXISTS", view.messages.len()));
        if !self.rev2 {
            // IMAP4rev1 only (RFC 3501 §7.3.2).
            self.untagged(&format!("{} RECENT", view.recent.len()));
            if let Some(index) = first_unseen {
                self.untagged(&format!("OK [UNSEEN {}] First unseen", index + 1));
            }
        }
        // With the keywords the mailbox's messages use (RFC 9051 §7.3.5).
        let mut flags = Vec::new();
        view.write_flags(&mut flags);
        self.conn.send(&flags);
        self.untagged(&format!("OK [UIDVALIDITY {}] UIDs valid", view.mailbox.uidvalidity));
        // RFC 8474 §4.2.
        self.untagged(&format!("OK [MAILBOXID ({})] Ok", view.mailbox.object_id));
        self.untagged(&format!("OK [UIDNEXT {}] Predicted next UID", view.mailbox.uidnext));
        let (code, text) = if view.read_only {
            ("READ-ONLY", "EXAMINE completed")
        } else {
            ("READ-WRITE", "SELECT completed")
        };
        self.tagged(tag, "OK", Some(code), text);
    }

    /// CLOSE expunges silently first (RFC 9051 §6.4.1); UNSELECT does not.
    /// The mailbox stays selected if the expunge fails.
    pub(crate) async fn close(&mut self, tag: &str, expunge: bool, account: Account, view: View) -> Reply {
        if expunge
            && !view.read_only
            && let Err(e) = self.expunge_deleted(&view, None).await
        {
            self.state = State::Selected { account, view };
            return Err(e.into());
        }
        self.state = State::Authenticated { account };
        self.ok(
            tag,
            if expunge {
                "CLOSE completed"
            } else {
                "UNSELECT completed"
            },
        )
    }

    /// EXPUNGE, or UID EXPUNGE limited to `uids` (RFC 4315).
    pub(crate) async fn expunge(&mut self, tag: &str, view: &mut View, uids: Option<SequenceSet>) -> Reply {
        if view.read_only {
            return Err(CommandError::read_only());
        }
        // Ascending, as the view is: looked up by binary search.
        let allowed: Option<Vec<i64>> = uids.map(|set| {
            view.select(&set, true, &self.saved)
                .into_iter()
                .map(|i| view.messages[i].uid)
                .collect()
        });
        self.expunge_deleted(view, allowed.as_deref()).await?;
        self.report_changes(view, true, true).await?;
        self.ok(tag, "EXPUNGE completed")
    }

    /// Expunges the messages of the view's mailbox marked \Deleted now
    /// (whoever marked them), of those `allowed` if given (ascending).
    async fn expunge_deleted(&self, view: &View, allowed: Option<&[i64]>) -> Result<(), store::Error> {
        let messages = self.server.store.message_list(view.mailbox.id).await?;
        let deleted: Vec<i64> = messages
            .iter()
            .filter(|m| m.flags.has(flag::DELETED))
            .filter(|m| allowed.is_none_or(|a| a.binary_search(&m.uid).is_ok()))
            .map(|m| m.uid)
            .collect();
        self.server.store.expunge(view.mailbox.id, &deleted).await
    }
}
