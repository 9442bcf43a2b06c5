//! The reads of a selected mailbox that holds only its UIDs (issue 20:
//! a session's memory must not grow with the mailbox beyond a few bytes a
//! message): the UIDs themselves, the flags and MODSEQs of the messages a
//! command names when it names them, and the messages with or without a
//! system flag by the partial indexes of migration 28, so that SELECT's
//! first unseen, SEARCH UNSEEN and EXPUNGE read only those messages.

use crate::messages::{META_SELECT, MessageMeta, json_list, meta_from_row};
use crate::{MailboxId, Result, Store};

/// The messages a partial index lists (migration 28).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marked {
    /// Without \Seen.
    Unseen,
    /// With \Deleted.
    Deleted,
}

impl Marked {
    /// The index's own term: a query uses a partial index only when its
    /// WHERE has the index's predicate (SQLite "Partial Indexes" §2.2;
    /// PostgreSQL docs 11.8).
    fn term(self) -> &'static str {
        match self {
            Marked::Unseen => "flags & 1 = 0",
            Marked::Deleted => "flags & 8 <> 0",
        }
    }

    /// The table to read, named with its index for SQLite: without
    /// statistics SQLite rates the wider `messages_meta` (migration 29),
    /// which also gives UIDs in order, as good, and would read all of a
    /// mailbox's entries to find its few unseen ones.
    fn table(self, db: &crate::sql::Db) -> &'static str {
        match (db.is_postgres(), self) {
            (true, _) => "messages",
            (false, Marked::Unseen) => "messages INDEXED BY messages_unseen",
            (false, Marked::Deleted) => "messages INDEXED BY messages_deleted",
        }
    }
}

impl Store {
    /// The UIDs of a mailbox's messages, ascending: all a view keeps of
    /// each (IMAP UIDs are 32-bit, RFC 9051 §2.3.1.1), read from the
    /// (mailbox_id, uid) index without touching the rows.
    pub async fn message_uids(&self, mailbox: MailboxId) -> Result<Vec<u32>> {
        self.point_reads
            .scan(move |connection| {
                let mut select =
                    connection.prepare_cached("SELECT uid FROM messages WHERE mailbox_id = $1 ORDER BY uid")?;
                let rows = select.query_map([mailbox], |row| row.get::<i64>(0))?;
                rows.map(|uid| uid.map(to_u32)).collect::<crate::Result<Vec<_>>>()
            })
            .await
    }

    /// The flags, MODSEQ, size and date of the messages with these UIDs,
    /// in UID order; expunged ones are missing from the answer.
    pub async fn message_metas(&self, mailbox: MailboxId, uids: &[i64]) -> Result<Vec<MessageMeta>> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let uids = json_list(uids);
        self.point_reads
            .scan(move |connection| {
                let mut select = connection.prepare_cached(&format!(
                    "{META_SELECT} AND m.uid IN (SELECT value FROM json_each($2)) ORDER BY m.uid"
                ))?;
                let rows = select.query_map((mailbox, uids), meta_from_row)?;
                rows.collect::<crate::Result<Vec<_>>>()
            })
            .await
    }

    /// As [`Store::message_metas`], for the messages with UIDs from
    /// `first` to `last`: one range scan, for commands that walk the view
    /// a batch at a time (SEARCH).
    pub async fn message_metas_between(&self, mailbox: MailboxId, first: i64, last: i64) -> Result<Vec<MessageMeta>> {
        self.point_reads
            .scan(move |connection| {
                let mut select =
                    connection.prepare_cached(&format!("{META_SELECT} AND m.uid BETWEEN $2 AND $3 ORDER BY m.uid"))?;
                let rows = select.query_map([mailbox, first, last], meta_from_row)?;
                rows.collect::<crate::Result<Vec<_>>>()
            })
            .await
    }

    /// The UIDs of the messages `marked` so, ascending, from its partial
    /// index: as many rows read as there are such messages.
    pub async fn marked_uids(&self, mailbox: MailboxId, marked: Marked) -> Result<Vec<i64>> {
        self.point_reads
            .scan(move |connection| {
                let mut select = connection.prepare_cached(&format!(
                    "SELECT uid FROM {} WHERE mailbox_id = $1 AND {} ORDER BY uid",
                    marked.table(connection),
                    marked.term()
                ))?;
                let rows = select.query_map([mailbox], |row| row.get(0))?;
                rows.collect::<crate::Result<Vec<i64>>>()
            })
            .await
    }

    /// The lowest UID `marked` so, if any: one probe of its partial index
    /// (SELECT's `[UNSEEN n]`, RFC 3501 §7.1).
    pub async fn first_marked(&self, mailbox: MailboxId, marked: Marked) -> Result<Option<i64>> {
        self.point_reads
            .scan(move |connection| {
                connection
                    .prepare_cached(&format!(
                        "SELECT MIN(uid) FROM {} WHERE mailbox_id = $1 AND {}",
                        marked.table(connection),
                        marked.term()
                    ))?
                    .query_row([mailbox], |row| row.get(0))
            })
            .await
    }
}

/// A stored UID as IMAP has it: 32 bits (RFC 9051 §2.3.1.1); UIDs are
/// taken from `mailboxes.uidnext`, which never passes that.
fn to_u32(uid: i64) -> u32 {
    u32::try_from(uid).unwrap_or(u32::MAX)
}
