//! UIDONLY (RFC 9586): once a client has enabled it, it names messages by
//! UID only and is told of them by UID only. This module holds the two
//! rules that says: which commands are refused because they name (or
//! answer with) message sequence numbers (§3, tagged `BAD [UIDREQUIRED]`,
//! §3.2), and the form of a message's data, `* uid UIDFETCH (...)`
//! instead of `* n FETCH (...)` (§3.3). Expunges are told as VANISHED,
//! which `View` does as it does for QRESYNC (§3.4).

use wire::imap::{CommandBody, FetchItem, SearchKey, SequenceSet};

use crate::error::CommandError;
use crate::view::Extensions;

/// Whether a command names or answers with message sequence numbers, and
/// so must be refused once UIDONLY is on (RFC 9586 §3): FETCH, STORE,
/// COPY, MOVE, SEARCH, SORT, THREAD and REPLACE without UID; a search key
/// that is a sequence set (in UID SEARCH, UID SORT and UID THREAD too: it
/// means message numbers there as well); and QRESYNC's sequence match
/// data (RFC 7162 §3.2.5.2), pairs of message numbers and UIDs. EXPUNGE
/// names no message and is allowed (it answers with VANISHED).
pub(crate) fn needs_uids(body: &CommandBody) -> bool {
    match body {
        CommandBody::Fetch { uid, .. }
        | CommandBody::Store { uid, .. }
        | CommandBody::Copy { uid, .. }
        | CommandBody::Move { uid, .. }
        | CommandBody::Replace { uid, .. } => !uid,
        CommandBody::Search { uid, key, .. }
        | CommandBody::Sort { uid, key, .. }
        | CommandBody::Thread { uid, key, .. } => !uid || names_numbers(key),
        CommandBody::Select { params, .. } | CommandBody::Examine { params, .. } => {
            params.qresync.as_ref().is_some_and(|q| q.seq_match.is_some())
        }
        _ => false,
    }
}

/// A search key that is a sequence set of message numbers, anywhere in
/// the search program. `$` is the saved result (RFC 5182), a set of
/// messages, not numbers: allowed.
fn names_numbers(key: &SearchKey) -> bool {
    match key {
        SearchKey::Sequence(set) => !matches!(set, SequenceSet::Saved),
        SearchKey::Not(inner) => names_numbers(inner),
        SearchKey::Or(a, b) => names_numbers(a) || names_numbers(b),
        SearchKey::And(keys) => keys.iter().any(names_numbers),
        _ => false,
    }
}

/// The tagged answer to a command [`needs_uids`] refuses (RFC 9586 §3.2).
pub(crate) fn uid_required() -> CommandError {
    CommandError::bad_with(
        "UIDREQUIRED",
        "UIDONLY is enabled: name messages by UID (UID FETCH, UID STORE, UID SEARCH ...)",
    )
}

/// The start of a message's data up to its open parenthesis: `* n FETCH (`
/// with its sequence number `number`, or once UIDONLY is on `* uid
/// UIDFETCH (` (RFC 9586 §3.3), the only response that names a message.
pub(crate) fn fetch_prefix(number: usize, uid: i64, ext: Extensions) -> String {
    if ext.uidonly {
        format!("* {uid} UIDFETCH (")
    } else {
        format!("* {number} FETCH (")
    }
}

/// A UIDFETCH response carries the UID in front, so the UID item in it
/// would only repeat it (RFC 9586 §3.3; Cyrus leaves it out too): taken
/// out of the items answered, unless it is the only one, as a message's
/// data has at least one item (RFC 9051 §9 `msg-att`).
pub(crate) fn drop_uid_item(items: &mut Vec<FetchItem>) {
    if items.iter().any(|item| *item != FetchItem::Uid) {
        items.retain(|item| *item != FetchItem::Uid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::imap::SeqNumber;

    fn set(a: u32, b: u32) -> SequenceSet {
        SequenceSet::Ranges(vec![(SeqNumber::Value(a), SeqNumber::Value(b))])
    }

    #[test]
    fn sequence_number_keys_anywhere_in_the_program() {
        assert!(names_numbers(&SearchKey::Sequence(set(1, 5))));
        assert!(!names_numbers(&SearchKey::Sequence(SequenceSet::Saved)));
        assert!(!names_numbers(&SearchKey::Uid(set(1, 5))));
        let deep = SearchKey::And(vec![
            SearchKey::Seen,
            SearchKey::Or(
                Box::new(SearchKey::Draft),
                Box::new(SearchKey::Not(Box::new(SearchKey::Sequence(set(2, 2))))),
            ),
        ]);
        assert!(names_numbers(&deep));
    }

    #[test]
    fn the_uid_item_goes_unless_it_is_alone() {
        let mut items = vec![FetchItem::Uid, FetchItem::Flags];
        drop_uid_item(&mut items);
        assert_eq!(items, [FetchItem::Flags]);
        let mut alone = vec![FetchItem::Uid];
        drop_uid_item(&mut alone);
        assert_eq!(alone, [FetchItem::Uid]);
    }
}
