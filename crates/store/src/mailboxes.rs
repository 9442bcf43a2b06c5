//! Mailboxes and the messages in them.

use rusqlite::OptionalExtension;

use crate::flags::Flags;
use crate::{AccountId, Error, MailboxId, MessageFacts, Result, Store};

/// A mailbox's IMAP state.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MailboxInfo {
    pub id: MailboxId,
    pub name: String,
    /// The RFC 6154 role: `\\Sent`, `\\Drafts`, `\\Trash`, `\\Junk`, `\\Archive`.
    pub special_use: Option<String>,
    pub uidvalidity: i64,
    pub uidnext: i64,
    pub highestmodseq: i64,
    pub subscribed: bool,
}

/// One message in a mailbox. Its content is `trace_headers` followed by the
/// blob; `size` counts both.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MessageEntry {
    pub uid: i64,
    pub size: i64,
    pub blob_hash: String,
    pub trace_headers: Vec<u8>,
    pub internal_date: i64,
}

impl Store {
    pub async fn inbox(&self, account: AccountId) -> Result<MailboxInfo> {
        sqlx::query_as(
            "SELECT id, name, special_use, uidvalidity, uidnext, highestmodseq, subscribed FROM mailbox_info
             WHERE account_id = $1 AND name = 'INBOX'",
        )
        .bind(account)
        .fetch_optional(&self.readers)
        .await?
        .ok_or_else(|| Error::NoInbox(account.to_string()))
    }

    /// An account's mailboxes, by name.
    pub async fn mailboxes(&self, account: AccountId) -> Result<Vec<MailboxInfo>> {
        Ok(sqlx::query_as(
            "SELECT id, name, special_use, uidvalidity, uidnext, highestmodseq, subscribed FROM mailbox_info
             WHERE account_id = $1 ORDER BY name",
        )
        .bind(account)
        .fetch_all(&self.readers)
        .await?)
    }

    /// The messages of a mailbox in UID order.
    pub async fn messages(&self, mailbox: MailboxId) -> Result<Vec<MessageEntry>> {
        Ok(sqlx::query_as(
            "SELECT uid, size, blob_hash, trace_headers, internal_date FROM messages
             WHERE mailbox_id = $1 ORDER BY uid",
        )
        .bind(mailbox)
        .fetch_all(&self.readers)
        .await?)
    }

    /// Removes messages from a mailbox, recording each expunged UID with the
    /// new MODSEQ (RFC 7162 §3.2.10 needs them for VANISHED).
    pub async fn expunge(&self, mailbox: MailboxId, uids: &[i64]) -> Result<()> {
        if uids.is_empty() {
            return Ok(());
        }
        let uids = uids.to_vec();
        self.batched(move |tx| Self::expunge_in(tx, mailbox, &uids)).await?;
        self.announce(mailbox);
        Ok(())
    }

    pub(crate) fn expunge_in(tx: &rusqlite::Connection, mailbox: MailboxId, uids: &[i64]) -> Result<()> {
        if uids.is_empty() {
            return Ok(());
        }
        let modseq = crate::imap::next_modseq(tx, mailbox)?;
        let mut delete = tx.prepare_cached("DELETE FROM messages WHERE mailbox_id = $1 AND uid = $2")?;
        let mut record =
            tx.prepare_cached("INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES ($1, $2, $3)")?;
        for &uid in uids {
            if delete.execute([mailbox, uid])? > 0 {
                record.execute([mailbox, uid, modseq])?;
            }
        }
        Ok(())
    }

    /// Appends a message to an account's INBOX inside a transaction;
    /// returns the mailbox, for the change bus.
    pub(crate) fn append_to_inbox(
        tx: &rusqlite::Connection,
        account: AccountId,
        blob_hash: &str,
        blob_size: i64,
        trace_headers: &[u8],
        internal_date: i64,
        facts: &MessageFacts,
    ) -> Result<MailboxId> {
        // Finding the INBOX and taking its next UID is one statement: local
        // delivery is the hottest write there is.
        let (mailbox, uid, modseq) = tx
            .prepare_cached(
                "UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1
                 WHERE account_id = $1 AND name = 'INBOX' RETURNING id, uidnext - 1, highestmodseq",
            )?
            .query_row([account], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .optional()?
            .ok_or_else(|| Error::NoInbox(account.to_string()))?;
        Self::insert_row(
            tx,
            mailbox,
            (uid, modseq),
            blob_hash,
            blob_size,
            trace_headers,
            internal_date,
            &Flags::default(),
            facts,
        )?;
        Ok(mailbox)
    }
}
