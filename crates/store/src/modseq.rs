//! What changed in a mailbox after a MODSEQ (RFC 7162): the messages
//! added or changed since, and the UIDs expunged since. Every change to a
//! mailbox's messages takes a new MODSEQ (delivery, APPEND, COPY, MOVE,
//! STORE, EXPUNGE), so these two reads tell a session everything it has
//! not seen, at a cost that grows with the changes, not with the mailbox
//! (issue 20: a flag change must not make every session of a 100 000
//! message mailbox read 100 000 rows).
//!
//! Expunged UIDs are kept for as long as their mailbox is (the `expunged`
//! table is never pruned), so the answer for any MODSEQ is complete.

use crate::messages::{META_SELECT, MessageMeta, meta_from_row};
use crate::{MailboxId, Result, Store};

impl Store {
    /// The messages of `mailbox` whose MODSEQ is above `modseq` (added or
    /// changed after it), in UID order: a range scan of the
    /// (mailbox_id, modseq) index.
    pub async fn messages_changed_since(&self, mailbox: MailboxId, modseq: i64) -> Result<Vec<MessageMeta>> {
        self.point_reads
            .scan(move |connection| {
                // Named for SQLite: without statistics it rates the wider
                // `messages_meta` (migration 29), which gives UID order for
                // free, as good, and walked every message of the mailbox
                // on each session's catching up (10 ms at 100 000).
                let table = match connection.is_postgres() {
                    true => "messages m",
                    false => "messages m INDEXED BY messages_modseq",
                };
                let select_meta = META_SELECT.replacen("messages m", table, 1);
                let mut select =
                    connection.prepare_cached(&format!("{select_meta} AND m.modseq > $2 ORDER BY m.uid"))?;
                let rows = select.query_map([mailbox, modseq], meta_from_row)?;
                rows.collect::<crate::Result<Vec<_>>>()
            })
            .await
    }

    /// The UIDs expunged from `mailbox` with a MODSEQ above `modseq`, in
    /// ascending order (RFC 7162 §3.2.10: what VANISHED reports).
    pub async fn expunged_since(&self, mailbox: MailboxId, modseq: i64) -> Result<Vec<i64>> {
        self.point_reads
            .scan(move |connection| {
                let mut select = connection
                    .prepare_cached("SELECT uid FROM expunged WHERE mailbox_id = $1 AND modseq > $2 ORDER BY uid")?;
                let rows = select.query_map([mailbox, modseq], |row| row.get(0))?;
                rows.collect::<crate::Result<Vec<i64>>>()
            })
            .await
    }
}
