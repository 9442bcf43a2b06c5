//! SELECT and EXAMINE, CLOSE and UNSELECT, EXPUNGE and UID EXPUNGE
//! (RFC 9051 §6.3.2, §6.4).

use store::{Account, Marked};
use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::{SelectParams, SequenceSet};

use crate::error::{CommandError, Reply};
use crate::format::client_mailbox;
use crate::session::{Flow, Session, State};
use crate::view::View;

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// Selects the mailbox named `raw` (read-only for EXAMINE), closing
    /// `previous`; the session is left authenticated if that fails, the
    /// old mailbox closed either way (RFC 9051 §6.3.2), and told so with
    /// `[CLOSED]` (RFC 7162 §3.2.11). QRESYNC without ENABLE QRESYNC is BAD
    /// (§3.2.5), and a BAD command changes nothing.
    pub(crate) async fn select(
        &mut self,
        tag: &str,
        raw: &[u8],
        (read_only, params): (bool, SelectParams),
        account: Account,
        previous: Option<Box<View>>,
    ) -> Reply {
        if params.qresync.is_some() && !self.ext.qresync {
            self.state = match previous {
                Some(view) => State::Selected { account, view },
                None => State::Authenticated { account },
            };
            return Err(CommandError::bad("QRESYNC needs ENABLE QRESYNC first"));
        }
        if previous.is_some() {
            self.untagged("OK [CLOSED] Previous mailbox closed");
        }
        // RFC 5267 §4.3: updates end with the mailbox's selection.
        self.contexts.clear();
        if params.condstore || params.qresync.is_some() {
            self.enable_condstore(None);
        }
        match self.open_view(raw, read_only, &account).await {
            Ok(mut view) => {
                if let Err(e) = self.announce_selected(&view).await {
                    self.state = State::Authenticated { account };
                    return Err(e.into());
                }
                // After the mailbox's state, before the tagged OK
                // (RFC 7162 §3.2.5.1).
                if let Some(qresync) = &params.qresync
                    && let Err(e) = self.resynchronise(&mut view, qresync).await
                {
                    self.state = State::Authenticated { account };
                    return Err(e);
                }
                let (code, text) = if view.read_only {
                    ("READ-ONLY", "EXAMINE completed")
                } else {
                    ("READ-WRITE", "SELECT completed")
                };
                self.tagged(tag, "OK", Some(code), text);
                self.state = State::Selected {
                    account,
                    view: Box::new(view),
                };
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

    /// The untagged answers to SELECT and EXAMINE (RFC 9051 §7.1, §7.3).
    async fn announce_selected(&mut self, view: &View) -> Result<(), store::Error> {
        self.untagged(&format!("{} EXISTS", view.len()));
        if !self.rev2 {
            // IMAP4rev1 only (RFC 3501 §7.3.2). The first unseen by the
            // store's index of unseen messages, not a walk of all; one
            // that arrived after the view was read is not the client's.
            let first = self.server.store.first_marked(view.mailbox.id, Marked::Unseen).await?;
            let first_unseen = first.and_then(|uid| view.index_of(uid));
            self.untagged(&format!("{} RECENT", view.recent.len()));
            // A message number: not told once UIDONLY is on (RFC 9586 §3).
            if let Some(index) = first_unseen.filter(|_| !self.ext.uidonly) {
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
        // RFC 7162 §3.1.2.1: once CONDSTORE is enabled. Every mailbox keeps
        // MODSEQs, so NOMODSEQ is never the answer.
        if self.ext.condstore {
            self.untagged(&format!("OK [HIGHESTMODSEQ {}] Highest", view.highest_modseq()));
        }
        Ok(())
    }

    /// CLOSE expunges silently first (RFC 9051 §6.4.1); UNSELECT does not.
    /// The mailbox stays selected if the expunge fails.
    pub(crate) async fn close(&mut self, tag: &str, expunge: bool, account: Account, view: Box<View>) -> Reply {
        if expunge
            && !view.read_only
            && let Err(e) = self.expunge_deleted(&view, None).await
        {
            self.state = State::Selected { account, view };
            return Err(e.into());
        }
        self.state = State::Authenticated { account };
        self.contexts.clear();
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
                .map(|i| view.uid(i))
                .collect()
        });
        let expunged = self.expunge_deleted(view, allowed.as_deref()).await?;
        self.report_changes(view, true, true).await?;
        // RFC 7162 §3.2.7, §3.2.9: the new HIGHESTMODSEQ once QRESYNC is on.
        if expunged > 0 && self.ext.qresync {
            let code = format!("HIGHESTMODSEQ {}", view.highest_modseq());
            self.tagged(tag, "OK", Some(&code), "EXPUNGE completed");
            return Ok(Flow::Continue);
        }
        self.ok(tag, "EXPUNGE completed")
    }

    /// Expunges the messages of the view's mailbox marked \Deleted now
    /// (whoever marked them), of those `allowed` if given (ascending);
    /// returns how many. They are read from the store's index of deleted
    /// messages: as many rows as there are such messages.
    async fn expunge_deleted(&self, view: &View, allowed: Option<&[i64]>) -> Result<usize, store::Error> {
        let mut deleted = self.server.store.marked_uids(view.mailbox.id, Marked::Deleted).await?;
        deleted.retain(|uid| allowed.is_none_or(|a| a.binary_search(uid).is_ok()));
        self.server.store.expunge(view.mailbox.id, &deleted).await?;
        Ok(deleted.len())
    }
}
