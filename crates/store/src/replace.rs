//! REPLACE (RFC 8508): a new message appended and the message it replaces
//! expunged, in one transaction, so that no session ever sees both or
//! neither.

use crate::mailboxes::uidvalidity;
use crate::quota::Added;
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
        let policy = self.quota_policy();
        let replaced = self
            .batched(move |tx| {
                let old_size: Option<i64> = tx
                    .prepare_cached("SELECT size FROM messages WHERE mailbox_id = $1 AND uid = $2")?
                    .query_row((from, old_uid), |row| row.get(0))
                    .optional()?;
                let Some(old_size) = old_size else {
                    return Ok(None);
                };
                let uid = Self::append_in(tx, &*store, to, &content, &flags, internal_date, &facts)?;
                Self::expunge_in(tx, from, &[old_uid])?;
                // One message in, one out, within the account: refused over
                // the quota only if it grew (RFC 9208 §5).
                let new_size = content.blob().size as i64;
                let added = Added {
                    bytes: new_size - old_size,
                    messages: 0,
                    largest: new_size,
                };
                let warned = Self::settle_mailbox_quota(tx, to, added, policy)?;
                Ok(Some((uidvalidity(tx, to)?, uid, warned)))
            })
            .await?;
        let Some((uidvalidity, uid, warned)) = replaced else {
            return Ok(None);
        };
        self.announce(from);
        for other in [Some(to), warned] {
            if let Some(mailbox) = other.filter(|&m| m != from) {
                self.announce(mailbox);
            }
        }
        Ok(Some((uidvalidity, uid)))
    }
}
