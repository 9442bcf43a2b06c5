//! FETCH of only what the store keeps in a message's row: UID, FLAGS,
//! INTERNALDATE, RFC822.SIZE and MODSEQ. This is what clients send to
//! learn a whole mailbox's state (`FETCH 1:* (UID FLAGS)` on first sight
//! of a folder), so on a 100 000-message mailbox it is written straight
//! into the output buffer, a batch of rows read by one range scan of the
//! covering index (migration 29), with no per-message map, string or
//! format call. The answers are byte for byte those of the general path
//! (`fetch.rs`).

use store::MessageMeta;
use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::FetchItem;

use crate::by_uid;
use crate::error::CommandError;
use crate::format::date_time;
use crate::session::{Disconnect, Session};
use crate::view::View;

/// Whether every item is answered from the message's row alone.
pub(crate) fn only_row_items(items: &[FetchItem]) -> bool {
    items.iter().all(|item| {
        matches!(
            item,
            FetchItem::Uid | FetchItem::Flags | FetchItem::InternalDate | FetchItem::Rfc822Size | FetchItem::ModSeq
        )
    })
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// Answers the messages at `batch` (ascending view indexes) when
    /// [`only_row_items`] holds.
    pub(crate) async fn fetch_rows(
        &mut self,
        view: &mut View,
        batch: &[usize],
        items: &[FetchItem],
    ) -> Result<(), CommandError> {
        let (Some(&first), Some(&last)) = (batch.first(), batch.last()) else {
            return Ok(());
        };
        let mailbox = view.mailbox.id;
        // A run of the view (always so for `1:*`) is one range scan; the
        // store has no other messages between two UIDs the view holds, as
        // new messages get higher UIDs. Elsewhere, a probe per UID. UID
        // alone is the view's to answer, even for a message another
        // session expunged.
        let metas = if items.iter().all(|item| *item == FetchItem::Uid) {
            batch.iter().map(|&index| MessageMeta::bare(view.uid(index))).collect()
        } else if last - first + 1 == batch.len() {
            let (low, high) = (view.uid(first), view.uid(last));
            self.server.store.message_metas_between(mailbox, low, high).await?
        } else {
            let uids: Vec<i64> = batch.iter().map(|&index| view.uid(index)).collect();
            self.server.store.message_metas(mailbox, &uids).await?
        };
        if items.contains(&FetchItem::Flags) {
            let mut announce = Vec::new();
            view.showing(&self.server.store, &metas, &mut announce).await?;
            self.conn.send(&announce);
        }
        // Paired before the loop, which awaits (flushes) as it writes.
        let messages = batch.iter().map(|&index| (index, view.uid(index)));
        let paired: Vec<(usize, Option<&MessageMeta>)> = by_uid::beside(messages, &metas, |meta| meta.uid).collect();
        for (index, meta) in paired {
            // Expunged by another session: nothing left to show.
            let Some(meta) = meta else {
                continue;
            };
            let recent = view.shows_recent(meta.uid);
            write_row_answer(self.conn.output(), index + 1, meta, items, recent, self.ext.uidonly);
            if self.conn.pending_output() > 256 * 1024 {
                self.conn.flush().await.map_err(|_| Disconnect)?;
            }
        }
        Ok(())
    }
}

/// `* n FETCH (UID u FLAGS (...) ...)\r\n`, or `* u UIDFETCH (...)` under
/// UIDONLY (RFC 9586 §3.3), the items in the order asked.
fn write_row_answer(
    out: &mut Vec<u8>,
    number: usize,
    meta: &MessageMeta,
    items: &[FetchItem],
    recent: bool,
    uidonly: bool,
) {
    let mut digits = itoa::Buffer::new();
    out.extend_from_slice(b"* ");
    if uidonly {
        out.extend_from_slice(digits.format(meta.uid).as_bytes());
        out.extend_from_slice(b" UIDFETCH (");
    } else {
        out.extend_from_slice(digits.format(number).as_bytes());
        out.extend_from_slice(b" FETCH (");
    }
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        match item {
            FetchItem::Uid => {
                out.extend_from_slice(b"UID ");
                out.extend_from_slice(digits.format(meta.uid).as_bytes());
            }
            FetchItem::Flags => {
                out.extend_from_slice(b"FLAGS (");
                write_flags(out, meta, recent);
                out.push(b')');
            }
            FetchItem::InternalDate => {
                out.extend_from_slice(b"INTERNALDATE ");
                out.extend_from_slice(date_time(meta.internal_date).as_bytes());
            }
            FetchItem::Rfc822Size => {
                out.extend_from_slice(b"RFC822.SIZE ");
                out.extend_from_slice(digits.format(meta.size).as_bytes());
            }
            FetchItem::ModSeq => {
                out.extend_from_slice(b"MODSEQ (");
                out.extend_from_slice(digits.format(meta.modseq).as_bytes());
                out.push(b')');
            }
            // Not reached: `only_row_items` admits no other item.
            _ => {}
        }
    }
    out.extend_from_slice(b")\r\n");
}

/// The flag names as `View::flag_names` lists them, space-separated.
fn write_flags(out: &mut Vec<u8>, meta: &MessageMeta, recent: bool) {
    // Shortened from 'static to the keywords' lifetime, to chain them.
    let system = meta.flags.system_names().map(|name| name as &str);
    let keywords = meta.flags.keywords.iter().map(String::as_str);
    let recent = recent.then_some("\\Recent");
    for (i, name) in system.chain(keywords).chain(recent).enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(name.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::Flags;

    #[test]
    fn answers_as_the_general_path_writes_them() {
        let meta = MessageMeta {
            uid: 42,
            modseq: 7,
            flags: Flags::from_names(&["\\Seen", "\\Deleted", "$Junk"]),
            size: 1234,
            internal_date: 0,
        };
        let items = [
            FetchItem::Uid,
            FetchItem::Flags,
            FetchItem::InternalDate,
            FetchItem::Rfc822Size,
            FetchItem::ModSeq,
        ];
        let mut out = Vec::new();
        write_row_answer(&mut out, 3, &meta, &items, true, false);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "* 3 FETCH (UID 42 FLAGS (\\Seen \\Deleted $Junk \\Recent) \
             INTERNALDATE \"01-Jan-1970 00:00:00 +0000\" RFC822.SIZE 1234 MODSEQ (7))\r\n"
        );
        let mut out = Vec::new();
        let none = MessageMeta {
            flags: Flags::default(),
            ..meta
        };
        write_row_answer(&mut out, 3, &none, &[FetchItem::Flags], false, true);
        assert_eq!(String::from_utf8(out).unwrap(), "* 42 UIDFETCH (FLAGS ())\r\n");
    }

    #[test]
    fn only_row_items_are_taken() {
        assert!(only_row_items(&[FetchItem::Uid, FetchItem::Flags, FetchItem::ModSeq]));
        assert!(!only_row_items(&[FetchItem::Uid, FetchItem::Envelope]));
        assert!(!only_row_items(&[FetchItem::Flags, FetchItem::EmailId]));
    }
}
