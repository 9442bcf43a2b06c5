//! SELECT and EXAMINE, CLOSE and UNSELECT, EXPUNGE and UID EXPUNGE
//! (RFC 9051 §6.3.2, §6.4).

use store::flag;
use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::SequenceSet;

use crate::format::client_mailbox;
use crate::session::{Flow, Outcome, Session, State};
use crate::view::View;

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    pub(crate) async fn select(&mut self, tag: &str, raw: &[u8], read_only: bool) -> Outcome {
        let account = match std::mem::replace(&mut self.state, State::NotAuthenticated) {
            State::Authenticated { account } | State::Selected { account, .. } => account,
            State::NotAuthenticated => return Ok(Flow::Continue),
        };
        let name = client_mailbox(raw, self.utf8).unwrap_or_default();
        let mailbox = match self.server.store.mailbox(account.id, &name).await {
            Ok(Some(mailbox)) => mailbox,
            Ok(None) => {
                self.state = State::Authenticated { account };
                return self.no(tag, Some("NONEXISTENT"), "No such mailbox");
            }
            Err(e) => {
                self.state = State::Authenticated { account };
                return self.server_error(tag, &e);
            }
        };
        let view = match View::open(
            &self.server.store,
            mailbox,
            read_only,
            !self.rev2,
            self.server.config.max_keywords,
        )
        .await
        {
            Ok(view) => view,
            Err(e) => {
                self.state = State::Authenticated { account };
                return self.server_error(tag, &e);
            }
        };
        // Drop what the bus said about the old mailbox.
        if let Some(changes) = &mut self.changes {
            *changes = changes.resubscribe();
        }
        let exists = view.messages.len();
        let recent = view.recent.len();
        let first_unseen = view.messages.iter().position(|m| !m.flags.has(flag::SEEN));
        let (uidvalidity, uidnext) = (view.mailbox.uidvalidity, view.mailbox.uidnext);
        let mut flags = Vec::new();
        view.write_flags(&mut flags);
        self.state = State::Selected { account, view };
        self.untagged(&format!("{exists} EXISTS"));
        if !self.rev2 {
            // IMAP4rev1 only (RFC 3501 §7.3.2).
            self.untagged(&format!("{recent} RECENT"));
            if let Some(index) = first_unseen {
                self.untagged(&format!("OK [UNSEEN {}] First unseen", index + 1));
            }
        }
        // With the keywords the mailbox's messages use (RFC 9051 §7.3.5).
        self.conn.send(&flags);
        self.untagged(&format!("OK [UIDVALIDITY {uidvalidity}] UIDs valid"));
        self.untagged(&format!("OK [UIDNEXT {uidnext}] Predicted next UID"));
        let code = if read_only { "READ-ONLY" } else { "READ-WRITE" };
        self.tagged(
            tag,
            "OK",
            Some(code),
            if read_only {
                "EXAMINE completed"
            } else {
                "SELECT completed"
            },
        );
        Ok(Flow::Continue)
    }

    /// CLOSE expunges silently first (RFC 9051 §6.4.1); UNSELECT does not.
    pub(crate) async fn close(&mut self, tag: &str, expunge: bool) -> Outcome {
        let State::Selected { account, view } = std::mem::replace(&mut self.state, State::NotAuthenticated) else {
            return Ok(Flow::Continue);
        };
        if expunge && !view.read_only {
            let deleted: Vec<i64> = match self.server.store.message_list(view.mailbox.id).await {
                Ok(messages) => messages
                    .iter()
                    .filter(|m| m.flags.has(flag::DELETED))
                    .map(|m| m.uid)
                    .collect(),
                Err(e) => {
                    self.state = State::Selected { account, view };
                    return self.server_error(tag, &e);
                }
            };
            if let Err(e) = self.server.store.expunge(view.mailbox.id, &deleted).await {
                self.state = State::Selected { account, view };
                return self.server_error(tag, &e);
            }
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
    pub(crate) async fn expunge(&mut self, tag: &str, uids: Option<SequenceSet>) -> Outcome {
        let State::Selected { view, .. } = &mut self.state else {
            return Ok(Flow::Continue);
        };
        if view.read_only {
            return self.no(tag, Some("READ-ONLY"), "Mailbox is read-only");
        }
        // Ascending, as the view is: looked up by binary search.
        let allowed: Option<Vec<i64>> = uids.map(|set| {
            view.select(&set, true, &self.saved)
                .into_iter()
                .map(|i| view.messages[i].uid)
                .collect()
        });
        let deleted: Vec<i64> = match self.server.store.message_list(view.mailbox.id).await {
            Ok(messages) => messages
                .iter()
                .filter(|m| m.flags.has(flag::DELETED))
                .filter(|m| allowed.as_ref().is_none_or(|a| a.binary_search(&m.uid).is_ok()))
                .map(|m| m.uid)
                .collect(),
            Err(e) => return self.server_error(tag, &e),
        };
        if let Err(e) = self.server.store.expunge(view.mailbox.id, &deleted).await {
            return self.server_error(tag, &e);
        }
        self.report_changes(true, true).await?;
        self.ok(tag, "EXPUNGE completed")
    }
}
