//! CONDSTORE and QRESYNC (RFC 7162): what turns a session CONDSTORE-aware,
//! the resynchronisation a SELECT (QRESYNC ...) and a UID FETCH
//! (CHANGEDSINCE n VANISHED) answer with, and the MODSEQ that SEARCH adds
//! to its answer. The view keeps a MODSEQ per message and every expunged
//! UID is kept with the MODSEQ of its expunge (store `expunged`, never
//! pruned), so no mailbox answers NOMODSEQ and VANISHED (EARLIER) is
//! always exact.

use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::{Qresync, SearchKey, SearchReturn, SequenceSet};

use crate::error::CommandError;
use crate::ranges::{Ranges, compress};
use crate::session::Session;
use crate::view::View;

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// A CONDSTORE enabling command (RFC 7162 §3.1): from now on every
    /// untagged FETCH carries MODSEQ. Enabled while a mailbox is selected,
    /// the client has not heard its HIGHESTMODSEQ yet (SELECT gives it only
    /// once enabled, §3.1.2.1): it is told now, as Dovecot does.
    pub(crate) fn enable_condstore(&mut self, view: Option<&View>) {
        if self.ext.condstore {
            return;
        }
        self.ext.condstore = true;
        if let Some(view) = view {
            self.untagged(&format!("OK [HIGHESTMODSEQ {}] Highest", view.highest_modseq()));
        }
    }

    /// `* VANISHED (EARLIER) uids` (RFC 7162 §3.2.10.1) for the UIDs of
    /// `known` (all when None) expunged after `since`. Only UIDs the view
    /// no longer holds: one expunged after the view was read is still a
    /// message to the client, and is reported as VANISHED (without
    /// EARLIER) when the view catches up. Written first, before any FETCH
    /// (§3.2.6).
    pub(crate) async fn vanished_earlier(
        &mut self,
        view: &View,
        known: Option<&SequenceSet>,
        since: i64,
    ) -> Result<(), CommandError> {
        // `*` in a UID set is the largest UID in use; for what vanished,
        // the largest ever given, so that `1:*` names the expunged ones
        // above the last message too.
        let largest = u32::try_from(view.mailbox.uidnext - 1).unwrap_or(0);
        let known = known.map(|set| Ranges::of(set, largest));
        let expunged = self.server.store.expunged_since(view.mailbox.id, since).await?;
        let vanished: Vec<i64> = expunged
            .into_iter()
            .filter(|&uid| uid < view.mailbox.uidnext && view.index_of(uid).is_none())
            .filter(|&uid| known.as_ref().is_none_or(|r| r.contains(uid as u32)))
            .collect();
        if !vanished.is_empty() {
            self.untagged(&format!("VANISHED (EARLIER) {}", compress(&vanished)));
        }
        Ok(())
    }

    /// The resynchronisation of SELECT/EXAMINE (QRESYNC ...) (RFC 7162
    /// §3.2.5.1): what was expunged and whose flags changed since the
    /// client's MODSEQ, as `UID FETCH known-uids (FLAGS) (CHANGEDSINCE
    /// modseq VANISHED)` would answer. Nothing when the UIDVALIDITY is not
    /// the client's: its cache is void and it starts over.
    ///
    /// The sequence match data (§3.2.5.2) only helps a server that has
    /// forgotten some expunges; postamt keeps them all and answers exactly.
    pub(crate) async fn resynchronise(&mut self, view: &mut View, qresync: &Qresync) -> Result<(), CommandError> {
        if i64::from(qresync.uidvalidity) != view.mailbox.uidvalidity {
            return Ok(());
        }
        let since = i64::try_from(qresync.modseq).unwrap_or(i64::MAX);
        self.vanished_earlier(view, qresync.known_uids.as_ref(), since).await?;
        let largest = u32::try_from(view.last_uid()).unwrap_or(0);
        let known = qresync.known_uids.as_ref().map(|set| Ranges::of(set, largest));
        // What changed since, by the MODSEQ index: as many rows as changes.
        let mut changed = self.server.store.messages_changed_since(view.mailbox.id, since).await?;
        changed.retain(|m| view.index_of(m.uid).is_some() && known.as_ref().is_none_or(|r| r.contains(m.uid as u32)));
        let mut out = Vec::new();
        view.showing(&self.server.store, &changed, &mut out).await?;
        for message in &changed {
            if let Some(index) = view.index_of(message.uid) {
                out.extend_from_slice(view.flags_line(index, message, true, self.ext).as_bytes());
            }
        }
        self.conn.send(&out);
        Ok(())
    }
}

/// Whether a search key uses MODSEQ (a CONDSTORE enabling command whose
/// answer carries the highest MODSEQ found, RFC 7162 §3.1.5-3.1.6).
pub(crate) fn uses_modseq(key: &SearchKey) -> bool {
    match key {
        SearchKey::ModSeq(_) => true,
        SearchKey::Not(inner) => uses_modseq(inner),
        SearchKey::Or(a, b) => uses_modseq(a) || uses_modseq(b),
        SearchKey::And(keys) => keys.iter().any(uses_modseq),
        _ => false,
    }
}

/// The MODSEQ a SEARCH with the MODSEQ key answers with: the highest of
/// the messages returned (RFC 7162 §3.1.6), which with ESEARCH's MIN or
/// MAX alone are just those (RFC 4731 §3.2, RFC 7162 §3.1.10). `found`
/// holds the matches' MODSEQs in view order; None when nothing matched.
pub(crate) fn answer_modseq(found: &[i64], returns: &[SearchReturn]) -> Option<i64> {
    let has = |r: SearchReturn| returns.contains(&r);
    if (has(SearchReturn::Min) || has(SearchReturn::Max)) && !has(SearchReturn::All) && !has(SearchReturn::Count) {
        let ends = [
            found.first().filter(|_| has(SearchReturn::Min)),
            found.last().filter(|_| has(SearchReturn::Max)),
        ];
        return ends.into_iter().flatten().copied().max();
    }
    found.iter().copied().max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_modseq_of_what_is_returned() {
        let found = [7, 3, 9, 4];
        assert_eq!(answer_modseq(&found, &[]), Some(9));
        assert_eq!(answer_modseq(&found, &[SearchReturn::All]), Some(9));
        assert_eq!(answer_modseq(&found, &[SearchReturn::Min]), Some(7));
        assert_eq!(answer_modseq(&found, &[SearchReturn::Max]), Some(4));
        assert_eq!(answer_modseq(&found, &[SearchReturn::Min, SearchReturn::Max]), Some(7));
        assert_eq!(
            answer_modseq(&found, &[SearchReturn::Min, SearchReturn::Count]),
            Some(9)
        );
        assert_eq!(answer_modseq(&[], &[]), None);
        assert!(uses_modseq(&SearchKey::Or(
            Box::new(SearchKey::Not(Box::new(SearchKey::ModSeq(3)))),
            Box::new(SearchKey::Larger(5))
        )));
        assert!(!uses_modseq(&SearchKey::All));
    }
}
