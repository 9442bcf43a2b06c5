//! Mailboxes and the messages in them.

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
            "SELECT id, name, special_use, uidvalidity, uidnext, highestmodseq, subscribed FROM mailboxes
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
            "SELECT id, name, special_use, uidvalidity, uidnext, highestmodseq, subscribed FROM mailboxes
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
        let mut tx = self.write().await?;
        Self::expunge_in(&mut tx, mailbox, uids).await?;
        tx.commit().await?;
        self.announce(mailbox);
        Ok(())
    }

    pub(crate) async fn expunge_in(tx: &mut sqlx::SqliteConnection, mailbox: MailboxId, uids: &[i64]) -> Result<()> {
        if uids.is_empty() {
            return Ok(());
        }
        let modseq: i64 = sqlx::query_scalar(
            "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = $1 RETURNING highestmodseq",
        )
        .bind(mailbox)
        .fetch_one(&mut *tx)
        .await?;
        for uid in uids {
            let deleted = sqlx::query("DELETE FROM messages WHERE mailbox_id = $1 AND uid = $2")
                .bind(mailbox)
                .bind(uid)
                .execute(&mut *tx)
                .await?;
            if deleted.rows_affected() > 0 {
                sqlx::query("INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES ($1, $2, $3)")
                    .bind(mailbox)
                    .bind(uid)
                    .bind(modseq)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        Ok(())
    }

    /// Appends a message to an account's INBOX inside a transaction;
    /// returns the mailbox, for the change bus.
    pub(crate) async fn append_to_inbox(
        tx: &mut sqlx::SqliteConnection,
        account: AccountId,
        blob_hash: &str,
        blob_size: i64,
        trace_headers: &[u8],
        internal_date: i64,
        facts: &MessageFacts,
    ) -> Result<MailboxId> {
        // Finding the INBOX and taking its next UID is one statement: local
        // delivery is the hottest write there is.
        let (mailbox, uid, modseq): (MailboxId, i64, i64) = sqlx::query_as(
            "UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1
             WHERE account_id = $1 AND name = 'INBOX' RETURNING id, uidnext - 1, highestmodseq",
        )
        .bind(account)
        .fetch_optional(&mut *tx)
        .await?
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
        )
        .await?;
        Ok(mailbox)
    }
}
