//! STATUS counts (RFC 9051 §6.3.11) and \Recent: which session shows a
//! message as recent first (RFC 3501 §2.3.2).

use crate::sql::OptionalExtension;

use crate::{MailboxId, MailboxInfo, Result, Store};

/// STATUS counts (RFC 9051 §6.3.11).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxStatus {
    pub messages: i64,
    pub unseen: i64,
    pub deleted: i64,
    pub size: i64,
    /// Octets of the messages flagged \\Deleted (RFC 9208 §4.3).
    pub deleted_storage: i64,
    pub uidnext: i64,
    pub uidvalidity: i64,
    pub highestmodseq: i64,
    /// Messages not yet shown as \Recent to any session (filled on request).
    pub recent: i64,
    /// MAILBOXID (RFC 8474 §4).
    pub object_id: String,
}

impl Store {
    /// The counts and the mailbox's UIDNEXT, UIDVALIDITY and
    /// HIGHESTMODSEQ read in one statement, so from one snapshot: read
    /// apart, a message appended in between showed in UIDNEXT and not in
    /// MESSAGES (a NOTIFY STATUS of MESSAGES 1 UIDNEXT 3 for a mailbox
    /// of two messages).
    pub async fn mailbox_status(&self, mailbox: &MailboxInfo) -> Result<MailboxStatus> {
        let id = mailbox.id;
        let read = self
            .point_reads
            .scan(move |c| {
                c.prepare_cached(
                    "SELECT n.messages, n.unseen, n.deleted, n.size, n.deleted_storage,
                            i.uidnext, i.uidvalidity, i.highestmodseq, i.object_id
                     FROM (SELECT COUNT(*) AS messages,
                                  COALESCE(SUM(CASE WHEN flags & 1 = 0 THEN 1 ELSE 0 END), 0) AS unseen,
                                  COALESCE(SUM(CASE WHEN flags & 8 <> 0 THEN 1 ELSE 0 END), 0) AS deleted,
                                  CAST(COALESCE(SUM(size), 0) AS BIGINT) AS size,
                                  CAST(COALESCE(SUM(CASE WHEN flags & 8 <> 0 THEN size ELSE 0 END), 0) AS BIGINT)
                                      AS deleted_storage
                           FROM messages WHERE mailbox_id = $1) n,
                          mailbox_info i
                     WHERE i.id = $1",
                )?
                .query_row([id], |row| {
                    Ok(MailboxStatus {
                        messages: row.get(0)?,
                        unseen: row.get(1)?,
                        deleted: row.get(2)?,
                        size: row.get(3)?,
                        deleted_storage: row.get(4)?,
                        uidnext: row.get(5)?,
                        uidvalidity: row.get(6)?,
                        highestmodseq: row.get(7)?,
                        recent: 0,
                        object_id: row.get::<Option<String>>(8)?.unwrap_or_default(),
                    })
                })
                .optional()
            })
            .await?;
        // A mailbox deleted meanwhile: nothing in it, as last known.
        Ok(read.unwrap_or_else(|| MailboxStatus {
            uidnext: mailbox.uidnext,
            uidvalidity: mailbox.uidvalidity,
            highestmodseq: mailbox.highestmodseq,
            object_id: mailbox.object_id.clone(),
            ..MailboxStatus::default()
        }))
    }

    /// Claims the messages below UID `until` that no session has shown as
    /// \Recent yet (RFC 3501 §2.3.2: exactly one session sees each message
    /// as recent). `until` is the UID after the last message the caller
    /// holds: one that arrived after it read the messages is left for
    /// whoever shows it first. Returns the claimed UID range, `from..until`.
    pub async fn claim_recent(&self, mailbox: MailboxId, until: i64) -> Result<(i64, i64)> {
        self.batched(move |tx| {
            let from: i64 = tx
                .prepare_cached("SELECT recent_uid FROM mailboxes WHERE id = $1")?
                .query_row([mailbox], |row| row.get(0))?;
            if until <= from {
                return Ok((from, from));
            }
            tx.prepare_cached("UPDATE mailboxes SET recent_uid = $1 WHERE id = $2")?
                .execute([until, mailbox])?;
            Ok((from, until))
        })
        .await
    }

    /// The first UID no session has claimed as recent: a read-only
    /// (EXAMINE) session shows the ones from here as \Recent without
    /// claiming them (RFC 3501 §6.3.2).
    pub async fn unclaimed_from(&self, mailbox: MailboxId) -> Result<i64> {
        let from: Option<i64> = self.point_reads.read(|c| {
            c.prepare_cached("SELECT recent_uid FROM mailboxes WHERE id = $1")?
                .query_row([mailbox], |row| row.get(0))
                .optional()
        })?;
        Ok(from.unwrap_or(i64::MAX))
    }

    /// How many messages of a mailbox no session has claimed as recent.
    pub async fn unclaimed_recent(&self, mailbox: MailboxId) -> Result<i64> {
        self.point_reads
            .scan(move |c| {
                c.prepare_cached(
                    "SELECT COUNT(*) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
                     WHERE m.mailbox_id = $1 AND m.uid >= b.recent_uid",
                )?
                .query_row([mailbox], |row| row.get(0))
            })
            .await
    }
}
