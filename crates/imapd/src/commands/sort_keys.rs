//! The sort and thread keys of the messages a SORT or THREAD selected:
//! read in one query from what the store keeps per message
//! (`message_sort_keys`), and only for messages stored without them (by an
//! older version) worked out from their stored header a batch at a time.
//! Parsing the keys is CPU work that grows with the mailbox: it runs on
//! the blocking pool (`heavy.rs`).

use imf::SortKeys;
use store::StoredSortKeys;
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
    pub keys: SortKeys,
}

impl Keyed {
    /// RFC 5256 §2.2: the Date field in UTC, else INTERNALDATE.
    pub fn sent(&self) -> i64 {
        self.keys.sent.unwrap_or(self.internal_date)
    }
}

/// A selected message before its keys are read: the stored form if any.
struct Pending {
    number: i64,
    uid: i64,
    size: i64,
    internal_date: i64,
    stored: Option<String>,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// The keys of the `found` messages ((sequence number, UID), mailbox
    /// order), in the same order.
    pub(crate) async fn keyed(&mut self, view: &View, found: &[(i64, i64)]) -> Result<Vec<Keyed>, CommandError> {
        let mut stored = self.server.store.sort_keys(view.mailbox.id).await?;
        let pending: Vec<Pending> = found
            .iter()
            .map(|&(number, uid)| {
                let (size, internal_date, stored) = stored_keys(&mut stored, uid);
                Pending {
                    number,
                    uid,
                    size,
                    internal_date,
                    stored,
                }
            })
            .collect();
        drop(stored);
        let mut keyed: Vec<(Keyed, bool)> = self
            .heavy(move |_| {
                pending
                    .into_iter()
                    .map(|p| {
                        let keys = p.stored.as_deref().and_then(SortKeys::from_stored);
                        let known = keys.is_some();
                        let keyed = Keyed {
                            number: p.number,
                            uid: p.uid,
                            size: p.size,
                            internal_date: p.internal_date,
                            keys: keys.unwrap_or_default(),
                        };
                        (keyed, known)
                    })
                    .collect()
            })
            .await?;
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
                    keyed[i].0.keys = keys;
                }
            }
        }
        Ok(())
    }
}

/// The size, internal date and stored keys of `uid` in a UID-ordered
/// listing; zeros and no keys for one expunged meanwhile.
fn stored_keys(stored: &mut [StoredSortKeys], uid: i64) -> (i64, i64, Option<String>) {
    match stored.binary_search_by_key(&uid, |s| s.uid) {
        Ok(at) => (stored[at].size, stored[at].internal_date, stored[at].keys.take()),
        Err(_) => (0, 0, None),
    }
}
