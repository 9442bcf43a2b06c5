//! The sort and thread keys of the messages a SORT or THREAD selected:
//! read in one query from what the store keeps per message (the sent date
//! in the row's index, the rest in `message_sort_keys`), and only for
//! messages stored without them (by an older version) worked out from
//! their stored header a batch at a time. Reading the keys is CPU work
//! that grows with the mailbox: it runs on the blocking pool, as the
//! store hands over each row, and copies only the keys the command
//! compares; a SORT by DATE, ARRIVAL or SIZE reads no keys at all.

use imf::{KeyFields, SortKeys};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::by_uid;
use crate::commands::fetch::CONTENT_BATCH;
use crate::error::CommandError;
use crate::session::Session;
use crate::view::View;

/// One selected message with its keys.
pub(crate) struct Keyed {
    /// 1-based sequence number.
    pub number: i64,
    pub uid: i64,
    pub size: i64,
    pub internal_date: i64,
    /// RFC 5256 §2.2: the Date field in UTC, else INTERNALDATE.
    pub sent: i64,
    /// The keys the command compares, boxed (a SORT moves 100 000 of
    /// these about); None when it compares none of them.
    pub keys: Option<Box<SortKeys>>,
}

/// What a Keyed without keys compares as: every key empty.
static NO_KEYS: SortKeys = SortKeys {
    sent: None,
    subject: String::new(),
    reply_or_forward: false,
    from: String::new(),
    to: String::new(),
    cc: String::new(),
    display_from: String::new(),
    display_to: String::new(),
    message_id: None,
    references: Vec::new(),
};

impl Keyed {
    pub fn keys(&self) -> &SortKeys {
        self.keys.as_deref().unwrap_or(&NO_KEYS)
    }

    /// A message with neither keys nor size nor dates (one expunged
    /// meanwhile, or a member of a SEARCH context).
    pub fn bare(number: i64, uid: i64) -> Keyed {
        Keyed {
            number,
            uid,
            size: 0,
            internal_date: 0,
            sent: 0,
            keys: None,
        }
    }
}

/// A message's row as read: its date and keys, if stored and readable.
struct Stored {
    uid: i64,
    size: i64,
    internal_date: i64,
    sent: Option<i64>,
    keys: Option<Box<SortKeys>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// The keys of the `found` messages ((sequence number, UID), mailbox
    /// order), in the same order; of their keys, the `fields` asked for.
    pub(crate) async fn keyed(
        &mut self,
        view: &View,
        found: &[(i64, i64)],
        fields: KeyFields,
    ) -> Result<Vec<Keyed>, CommandError> {
        let (Some(&(_, first)), Some(&(_, last))) = (found.first(), found.last()) else {
            return Ok(Vec::new());
        };
        let strings = fields != KeyFields::default();
        let stored = self
            .server
            .store
            .read_sort_keys(view.mailbox.id, (first, last), strings, move |row| Stored {
                uid: row.uid,
                size: row.size,
                internal_date: row.internal_date,
                sent: row.sent,
                keys: row
                    .keys
                    .and_then(|keys| SortKeys::from_stored_only(keys, fields))
                    .map(Box::new),
            })
            .await?;
        let mut keyed = Vec::with_capacity(found.len());
        let messages = found.iter().map(|&(number, uid)| ((number, uid), uid));
        for ((number, uid), row) in by_uid::beside(messages, stored, |row| row.uid) {
            // Expunged meanwhile: no keys, and zeros.
            let Some(row) = row else {
                keyed.push((Keyed::bare(number, uid), false));
                continue;
            };
            // The date is in the row when the keys were stored.
            let known = row.sent.is_some() && (!strings || row.keys.is_some());
            let message = Keyed {
                number,
                uid,
                size: row.size,
                internal_date: row.internal_date,
                sent: row.sent.unwrap_or(row.internal_date),
                keys: row.keys,
            };
            keyed.push((message, known));
        }
        self.key_from_headers(view, &mut keyed).await?;
        Ok(keyed.into_iter().map(|(k, _)| k).collect())
    }

    /// Works out the keys of messages stored without them, from their
    /// headers, a bounded batch at a time.
    async fn key_from_headers(&mut self, view: &View, keyed: &mut [(Keyed, bool)]) -> Result<(), CommandError> {
        let missing: Vec<usize> = (0..keyed.len()).filter(|&i| !keyed[i].1).collect();
        for batch in missing.chunks(CONTENT_BATCH) {
            let uids: Vec<i64> = batch.iter().map(|&i| keyed[i].0.uid).collect();
            let contents = self.server.store.message_contents(view.mailbox.id, &uids).await?;
            let mut headers = Vec::with_capacity(contents.len());
            for content in &contents {
                headers.push((content.uid, self.raw(content, true).await?));
            }
            let keys: Vec<(i64, SortKeys)> = self
                .heavy(move |_| {
                    headers
                        .into_iter()
                        .map(|(uid, header)| (uid, imf::sort_keys(&header)))
                        .collect()
                })
                .await?;
            // Expunged meanwhile: it keeps empty keys, and sorts as a
            // message without any of those fields.
            for (uid, keys) in keys {
                if let Some(&i) = batch.iter().find(|&&i| keyed[i].0.uid == uid) {
                    let message = &mut keyed[i].0;
                    message.sent = keys.sent.unwrap_or(message.internal_date);
                    message.keys = Some(Box::new(keys));
                }
            }
        }
        Ok(())
    }
}
