//! What a search reads of each message besides its content, now that the
//! view keeps only UIDs (issue 20, point 5): the flags, size, date and
//! MODSEQ only for keys that look at them, and UNSEEN or DELETED alone
//! answered from the store's partial indexes (a read of the matching
//! messages, not of every one: `Store::marked_uids`).

use store::Marked;
use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::SearchKey;

use crate::error::CommandError;
use crate::session::Session;
use crate::view::View;

/// Whether a key looks at a message's flags, size, date or MODSEQ, read
/// from the store; the rest needs only UIDs, numbers, \Recent and content.
pub(crate) fn reads_meta(key: &SearchKey) -> bool {
    match key {
        SearchKey::All
        | SearchKey::Uid(_)
        | SearchKey::Sequence(_)
        | SearchKey::Recent
        | SearchKey::Old
        | SearchKey::Bcc(_)
        | SearchKey::Cc(_)
        | SearchKey::From(_)
        | SearchKey::To(_)
        | SearchKey::Subject(_)
        | SearchKey::Header(..)
        | SearchKey::Body(_)
        | SearchKey::Text(_)
        | SearchKey::SentBefore(_)
        | SearchKey::SentOn(_)
        | SearchKey::SentSince(_) => false,
        SearchKey::Not(inner) => reads_meta(inner),
        SearchKey::Or(a, b) => reads_meta(a) || reads_meta(b),
        SearchKey::And(keys) => keys.iter().any(reads_meta),
        _ => true,
    }
}

/// The partial index that alone answers `key`, if one does.
fn marked_key(key: &SearchKey) -> Option<Marked> {
    match key {
        SearchKey::Unseen => Some(Marked::Unseen),
        SearchKey::Deleted => Some(Marked::Deleted),
        SearchKey::And(keys) if keys.len() == 1 => marked_key(&keys[0]),
        _ => None,
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// The matches of UNSEEN or DELETED alone ((sequence number, UID), in
    /// mailbox order), from the store's index of such messages; None for
    /// any other key. A match the view does not hold (it arrived after
    /// the view was brought up to date) is not the client's yet.
    pub(crate) async fn matching_marked(
        &self,
        view: &View,
        key: &SearchKey,
    ) -> Result<Option<Vec<(i64, i64)>>, CommandError> {
        let Some(marked) = marked_key(key) else {
            return Ok(None);
        };
        let uids = self.server.store.marked_uids(view.mailbox.id, marked).await?;
        let found = uids
            .into_iter()
            .filter_map(|uid| Some((view.index_of(uid)? as i64 + 1, uid)))
            .collect();
        Ok(Some(found))
    }
}
