//! The sort and thread keys of the messages a SORT or THREAD selected:
//! read in one query from what the store keeps per message
//! (`message_sort_keys`), and only for messages stored without them (by an
//! older version) worked out from their stored header a batch at a time.
//! Reading the keys is CPU work that grows with the mailbox: it runs on
//! the blocking pool, as the store hands over each row, and copies only
//! the keys the command compares.

use imf::{KeyFields, SortKeys};
use tokio::io::{AsyncRead, AsyncWrite};

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
    /// Boxed: a SORT moves 100 000 of these about, and the keys are most
    /// of a Keyed's size (its moves and fresh pages were a quarter of a
    /// SORT by DATE).
    pub keys: Box<SortKeys>,
}

impl Keyed {
    /// RFC 5256 §2.2: the Date field in UTC, else INTERNALDATE.
    pub fn sent(&self) -> i64 {
        self.keys.sent.unwrap_or(self.internal_date)
    }
}

/// A message's row as read: its keys, if stored and readable.
struct Stored {
    uid: i64,
    size: i64,
    internal_date: i64,
    keys: Option<Box<SortKeys>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// The keys of the `found` messages ((sequence number, UID), mailbox
    /// order), in the same order; of their keys, the `fields` asked for.
    /// The stored keys are read as the rows come, on the blocking pool, so
    /// that only those fields are ever copied.
    pub(crate) async fn keyed(
        &mut self,
        view: &View,
        found: &[(i64, i64)],
        fields: KeyFields,
    ) -> Result<Vec<Keyed>, CommandError> {
        let (Some(&(_, first)), Some(&(_, last))) = (found.first(), found.last()) else {
            return Ok(Vec::new());
        };
        let stored = self
            .server
            .store
            .read_sort_keys(view.mailbox.id, (first, last), move |row| Stored {
                uid: row.uid,
                size: row.size,
                internal_date: row.internal_date,
                keys: row
                    .keys
                    .and_then(|keys| SortKeys::from_stored_only(keys, fields))
                    .map(Box::new),
            })
            .await?;
        // Both in UID order: walked side by side.
        let mut stored = stored.into_iter().peekable();
        let mut keyed = Vec::with_capacity(found.len());
        for &(number, uid) in found {
            while stored.next_if(|row| row.uid < uid).is_some() {}
            // Expunged meanwhile: zeros, and no keys.
            let row = stored.next_if(|row| row.uid == uid);
            let (size, internal_date, keys) = row.map_or((0, 0, None), |r| (r.size, r.internal_date, r.keys));
            let known = keys.is_some();
            let keys = keys.unwrap_or_default();
            keyed.push((
                Keyed {
                    number,
                    uid,
                    size,
                    internal_date,
                    keys,
                },
                known,
            ));
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
                    *keyed[i].0.keys = keys;
                }
            }
        }
        Ok(())
    }
}
