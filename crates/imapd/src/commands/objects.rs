//! The FETCH answers and SEARCH matches of OBJECTID (RFC 8474), SAVEDATE
//! (RFC 8514) and PREVIEW (RFC 8970), from what the store keeps with
//! each message (see the store's `object_ids`).

use store::MessageContent;
use wire::imap::{Date, FetchItem, SearchKey};

use crate::format::date_time;

/// The answer to EMAILID, THREADID, SAVEDATE or PREVIEW for `content`;
/// `raw` is the whole message when its preview was not stored (messages
/// stored before previews were kept), else empty.
pub(crate) fn fetch_answer(item: &FetchItem, content: Option<&MessageContent>, raw: &[u8]) -> Vec<u8> {
    let id = |name: &str, id: Option<&String>| match id {
        Some(id) => format!("{name} ({id})"),
        // RFC 8474 §5.2 lets THREADID be NIL; the store gives every
        // message one, so this is only a row no migration reached.
        None => format!("{name} NIL"),
    };
    match item {
        FetchItem::EmailId => id("EMAILID", content.and_then(|c| c.email_id.as_ref())).into_bytes(),
        FetchItem::ThreadId => id("THREADID", content.and_then(|c| c.thread_id.as_ref())).into_bytes(),
        // RFC 8514 §4: NIL where the save date is not known.
        FetchItem::SaveDate => match content.and_then(|c| c.save_date) {
            Some(date) => format!("SAVEDATE {}", date_time(date)).into_bytes(),
            None => b"SAVEDATE NIL".to_vec(),
        },
        FetchItem::Preview { lazy } => {
            let mut out = b"PREVIEW ".to_vec();
            match content.and_then(|c| c.preview.clone()) {
                Some(text) => wire::imap::string(&mut out, text.as_bytes()),
                // RFC 8970 §3.1: with LAZY, NIL says "not available yet";
                // the client asks again without LAZY, and is answered from
                // the message.
                None if *lazy => out.extend_from_slice(b"NIL"),
                None => wire::imap::string(&mut out, imf::preview(raw).as_bytes()),
            }
            out
        }
        _ => Vec::new(),
    }
}

/// Whether `item` is answered by [`fetch_answer`].
pub(crate) fn is_object_item(item: &FetchItem) -> bool {
    matches!(
        item,
        FetchItem::EmailId | FetchItem::ThreadId | FetchItem::SaveDate | FetchItem::Preview { .. }
    )
}

/// Whether `key`, one of these extensions' keys, holds for `content`;
/// `date_of` turns Unix seconds into the calendar date SEARCH compares.
/// None for other keys.
pub(crate) fn matches(
    key: &SearchKey,
    content: Option<&MessageContent>,
    internal_date: i64,
    date_of: fn(i64) -> Date,
) -> Option<bool> {
    // A row without a save date (none after migration 24) counts as saved
    // when it arrived.
    let saved = || date_of(content.and_then(|c| c.save_date).unwrap_or(internal_date));
    Some(match key {
        SearchKey::EmailId(id) => content.and_then(|c| c.email_id.as_ref()) == Some(id),
        SearchKey::ThreadId(id) => content.and_then(|c| c.thread_id.as_ref()) == Some(id),
        SearchKey::SavedBefore(d) => saved() < *d,
        SearchKey::SavedOn(d) => saved() == *d,
        SearchKey::SavedSince(d) => saved() >= *d,
        // RFC 8514 §5: every mailbox here keeps save dates.
        SearchKey::SaveDateSupported => true,
        _ => return None,
    })
}

/// Whether SEARCH must load the stored row for `key` (not the message).
pub(crate) fn needs_row(key: &SearchKey) -> bool {
    matches!(
        key,
        SearchKey::EmailId(_)
            | SearchKey::ThreadId(_)
            | SearchKey::SavedBefore(_)
            | SearchKey::SavedOn(_)
            | SearchKey::SavedSince(_)
    )
}
