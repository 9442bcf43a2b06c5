//! REPLACE and UID REPLACE (RFC 8508): a message of the selected mailbox
//! replaced by a new one, in the same or another mailbox, atomically (the
//! store's `replace_message`). The answer is MOVE's shape (RFC 8508
//! §3.1): APPENDUID untagged, then the EXPUNGE (or VANISHED) of the old
//! message and any other changes, then OK.

use store::Account;
use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::AppendMessage;

use super::keywords::keywords_of;
use crate::error::{CommandError, Reply};
use crate::format::client_mailbox;
use crate::session::Session;
use crate::view::View;

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn replace(
        &mut self,
        tag: &str,
        account: &Account,
        view: &mut View,
        uid: bool,
        number: u32,
        raw: &[u8],
        message: AppendMessage,
    ) -> Reply {
        // The old message is expunged: not in a mailbox opened read-only.
        if view.read_only {
            return Err(CommandError::read_only());
        }
        let old = if uid {
            view.index_of(i64::from(number))
        } else {
            (number as usize).checked_sub(1).filter(|&index| index < view.len())
        };
        let Some(old_uid) = old.map(|index| view.uid(index)) else {
            return Err(CommandError::refused("No such message"));
        };
        let name = client_mailbox(raw, self.utf8).ok_or_else(|| CommandError::bad("Invalid mailbox name"))?;
        // RFC 8508 §3.3: as APPEND, TRYCREATE for a missing mailbox; the
        // old message stays then.
        let Some(target) = self.server.store.mailbox(account.id, &name).await? else {
            return Err(CommandError::try_create());
        };
        self.check_keywords(target.id, keywords_of(message.flags.iter()).iter())
            .await?;
        let mut messages = [message];
        if !self.catenate_all(tag, account, Some(view), &mut messages).await? {
            return Ok(crate::session::Flow::Continue);
        }
        let [message] = messages;
        let (content, flags, date, facts) = self.prepare_message(message).await?;
        let replaced = self
            .server
            .store
            .replace_message(view.mailbox.id, old_uid, target.id, content, flags, date, facts)
            .await?;
        let Some((uidvalidity, new_uid)) = replaced else {
            // Expunged by another session meanwhile: nothing was stored.
            self.report_changes(view, true, true).await?;
            return Err(CommandError::refused("The message to replace was expunged"));
        };
        self.untagged(&format!(
            "OK [APPENDUID {uidvalidity} {new_uid}] Replacement Message ready"
        ));
        self.report_changes(view, true, true).await?;
        self.ok(tag, "REPLACE completed")
    }
}
