//! FETCH items and SEARCH keys of OBJECTID (RFC 8474 §5-§6: EMAILID,
//! THREADID), SAVEDATE (RFC 8514 §4-§5) and PREVIEW (RFC 8970 §3).

use super::fetch::FetchItem;
use super::parser::{Cursor, Step, bad};
use super::search::{Date, SearchKey, date};

/// The FETCH item named `word` if it is one of these; `c` is past the word.
pub(crate) fn fetch_item(word: &str, c: &mut Cursor<'_>) -> Option<Step<FetchItem>> {
    Some(Ok(match word {
        "EMAILID" => FetchItem::EmailId,
        "THREADID" => FetchItem::ThreadId,
        "SAVEDATE" => FetchItem::SaveDate,
        "PREVIEW" => return Some(preview(c)),
        _ => return None,
    }))
}

/// `PREVIEW [SP "(" preview-mod *(SP preview-mod) ")"]`, preview-mod =
/// "LAZY" (RFC 8970 §6); an unknown modifier is a BAD (§3.1).
fn preview(c: &mut Cursor<'_>) -> Step<FetchItem> {
    // The modifier list follows a space; a space followed by anything
    // else belongs to the next item.
    if c.peek() != Some(b' ') || c.peek_at(1) != Some(b'(') {
        return Ok(FetchItem::Preview { lazy: false });
    }
    c.space()?;
    let modifiers = c.list(|c| c.keyword())?;
    if modifiers.is_empty() {
        return bad("PREVIEW needs a modifier in its parentheses");
    }
    let mut lazy = false;
    for modifier in modifiers {
        match modifier.as_str() {
            "LAZY" => lazy = true,
            other => return bad(format!("unknown PREVIEW modifier {other}")),
        }
    }
    Ok(FetchItem::Preview { lazy })
}

/// The SEARCH key named `word` if it is one of these; `c` is past it.
pub(crate) fn search_key(word: &str, c: &mut Cursor<'_>) -> Option<Step<SearchKey>> {
    let on_date = |c: &mut Cursor<'_>| -> Step<Date> {
        c.space()?;
        date(c)
    };
    Some(match word {
        "EMAILID" => object_id(c).map(SearchKey::EmailId),
        "THREADID" => object_id(c).map(SearchKey::ThreadId),
        "SAVEDBEFORE" => on_date(c).map(SearchKey::SavedBefore),
        "SAVEDON" => on_date(c).map(SearchKey::SavedOn),
        "SAVEDSINCE" => on_date(c).map(SearchKey::SavedSince),
        "SAVEDATESUPPORTED" => Ok(SearchKey::SaveDateSupported),
        _ => return None,
    })
}

/// SP objectid: 1*255(ALPHA / DIGIT / "_" / "-") (RFC 8474 §7).
fn object_id(c: &mut Cursor<'_>) -> Step<String> {
    c.space()?;
    let id = c.token(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-', "an object id")?;
    if id.len() > 255 {
        return bad("object ids are at most 255 characters");
    }
    Ok(id.to_string())
}

#[cfg(test)]
mod tests {
    use crate::imap::{CommandBody, FetchItem, Limits, SearchKey, parse_command};

    fn body(line: &str) -> CommandBody {
        let line = format!("{line}\r\n");
        parse_command(line.as_bytes(), Limits::default()).unwrap().0.body
    }

    fn fetch_items(line: &str) -> Vec<FetchItem> {
        match body(line) {
            CommandBody::Fetch { items, .. } => items,
            other => panic!("not a FETCH: {other:?}"),
        }
    }

    fn search(line: &str) -> SearchKey {
        match body(line) {
            CommandBody::Search { key, .. } => key,
            other => panic!("not a SEARCH: {other:?}"),
        }
    }

    #[test]
    fn fetch_items_parse() {
        assert_eq!(
            fetch_items("a FETCH 1 (EMAILID THREADID SAVEDATE PREVIEW UID)"),
            [
                FetchItem::EmailId,
                FetchItem::ThreadId,
                FetchItem::SaveDate,
                FetchItem::Preview { lazy: false },
                FetchItem::Uid
            ]
        );
        // RFC 8970 §4's example: PREVIEW (LAZY) beside other items.
        assert_eq!(
            fetch_items("a FETCH 1:3 (PREVIEW (LAZY) UID)"),
            [FetchItem::Preview { lazy: true }, FetchItem::Uid]
        );
        assert_eq!(fetch_items("a FETCH 1 PREVIEW"), [FetchItem::Preview { lazy: false }]);
    }

    #[test]
    fn bad_preview_modifiers_are_refused() {
        for line in ["a FETCH 1 (PREVIEW (FUZZY))\r\n", "a FETCH 1 (PREVIEW ())\r\n"] {
            assert!(parse_command(line.as_bytes(), Limits::default()).is_err(), "{line}");
        }
    }

    #[test]
    fn search_keys_parse() {
        assert_eq!(
            search("a SEARCH EMAILID Ea1b2-c_3"),
            SearchKey::EmailId("Ea1b2-c_3".into())
        );
        assert_eq!(
            search("a UID SEARCH THREADID T64b478a75b7ea9"),
            SearchKey::ThreadId("T64b478a75b7ea9".into())
        );
        assert!(matches!(
            search("a SEARCH SAVEDSINCE 1-Feb-2026 SAVEDATESUPPORTED"),
            SearchKey::And(keys) if matches!(keys.as_slice(), [SearchKey::SavedSince(_), SearchKey::SaveDateSupported])
        ));
        assert!(matches!(
            search("a SEARCH SAVEDBEFORE 1-Feb-2026"),
            SearchKey::SavedBefore(_)
        ));
        assert!(matches!(search("a SEARCH SAVEDON 1-Feb-2026"), SearchKey::SavedOn(_)));
        assert!(parse_command(b"a SEARCH EMAILID E/x\r\n", Limits::default()).is_err());
    }
}
