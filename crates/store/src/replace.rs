//! REPLACE (RFC 8508): a new message appended and the message it replaces
//! expunged, in one transaction, so that no session ever sees both or
//! neither.

use crate::mailboxes::uidvalidity;
use crate::sql::OptionalExtension;
use crate::{Content, Flags, MailboxId, MessageFacts, Result, Store};

impl Store {
    /// Appends `content` to `to` (as [`Store::append`]) and expunges the
    /// message `old_uid` of `from` (as [`Store::expunge`]), atomically
    /// (RFC 8508 §3.3). Returns the new message's UIDVALIDITY and UID, or
    /// None, with nothing changed, when the old message is gone already
    /// (expunged by another session).
    #[allow(clippy::too_many_arguments)]
    pub async fn replace_message(
        &self,
        from: MailboxId,
        old_uid: i64,
        to: MailboxId,
        content: Content,
        flags: Flags,
        internal_date: i64,
        facts: MessageFacts,
    ) -> Result<Option<(i64, i64)>> {
        let store = self.content.clone();
        let replaced = self
            .batched(move |tx| {
                let exists = tx
                    .prepare_cached("SELECT 1 FROM messages WHERE mailbox_id = $1 AND uid = $2")?
                    .query_row((from, old_uid), |_| Ok(()))
                    .optional()?
                    .is_some();
                if !exists {
                    return Ok(None);
                }
                let uid = Self::append_in(tx, &*store, to, &content, &flags, internal_date, &facts)?;
                Self::expunge_in(tx, from, &[old_uid])?;
                Ok(Some((uidvalidity(tx, to)?, uid)))
            })
            .await?;
        if replaced.is_some() {
            self.announce(from);
            if to != from {
                self.announce(to);
            }
        }
        Ok(replaced)
    }
}
