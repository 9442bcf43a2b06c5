//! The message identifiers that place a message in a thread: its own
//! Message-ID and those of the messages it answers (In-Reply-To and
//! References, RFC 5322 §3.6.4), for THREADID (RFC 8474 §5.2).

use crate::message_header::MessageHeader;

/// How many of the References a message is matched on: the last ones, its
/// nearest ancestors. A long References field (some lists carry hundreds)
/// costs no more than this.
pub(crate) const MAX_PARENTS: usize = 20;

/// The longest identifier kept; longer ones are not matched on.
const MAX_ID: usize = 250;

/// The message's own identifier, and those of its parents (In-Reply-To
/// first, then References from the nearest ancestor back), each without
/// its angle brackets and blanks, none repeated.
pub(crate) fn message_ids(header: &MessageHeader<'_>) -> (Option<String>, Vec<String>) {
    let own = header
        .text("Message-ID")
        .and_then(|value| ids(value).into_iter().next());
    let mut parents = Vec::new();
    if let Some(value) = header.text("In-Reply-To") {
        parents.extend(ids(value));
    }
    if let Some(value) = header.text("References") {
        parents.extend(ids(value).into_iter().rev());
    }
    let mut kept: Vec<String> = Vec::new();
    for id in parents {
        if Some(&id) != own.as_ref() && !kept.contains(&id) && kept.len() < MAX_PARENTS {
            kept.push(id);
        }
    }
    (own, kept)
}

/// The `<id-left@id-right>` identifiers of a field's value, in order,
/// without their angle brackets. Blanks inside are dropped (obsolete
/// syntax folds them, RFC 5322 §4.5.4); text between them that is no id
/// (the phrases old In-Reply-To fields carry, comments) is skipped. An id
/// needs an `@` with something on each side. SORT and THREAD (RFC 5256)
/// and THREADID (RFC 8474) read ids alike through this.
pub(crate) fn ids(value: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.iter().position(|&b| b == b'<') {
        rest = &rest[open + 1..];
        let Some(close) = rest.iter().position(|&b| b == b'>' || b == b'<') else {
            break;
        };
        if rest[close] == b'<' {
            continue;
        }
        let id: Vec<u8> = rest[..close]
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        rest = &rest[close + 1..];
        let valid =
            id.len() <= MAX_ID && id.first().is_some_and(|&b| b != b'@') && id.last().is_some_and(|&b| b != b'@');
        if valid && id.contains(&b'@') {
            out.push(String::from_utf8_lossy(&id).into_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message_ids(header: &[u8]) -> (Option<String>, Vec<String>) {
        super::message_ids(&MessageHeader::parse(header))
    }

    #[test]
    fn own_and_parents() {
        let header = b"Message-ID: <c@x.test>\r\nIn-Reply-To: <b@x.test>\r\n\
            References: <a@x.test>\r\n <b@x.test>\r\n\r\n";
        let (own, parents) = message_ids(header);
        assert_eq!(own.as_deref(), Some("c@x.test"));
        assert_eq!(parents, ["b@x.test", "a@x.test"]);
    }

    #[test]
    fn none_and_garbage() {
        assert_eq!(message_ids(b"Subject: x\r\n\r\n"), (None, Vec::new()));
        let (own, parents) = message_ids(b"Message-ID: no brackets\r\nReferences: <> <open\r\n\r\n");
        assert_eq!(own, None);
        assert!(parents.is_empty());
        assert_eq!(ids(b"<a@b> (comment) <no id> <@x> <y@> <<c @d>"), ["a@b", "c@d"]);
    }

    #[test]
    fn many_references_are_bounded() {
        let refs: String = (0..500).map(|i| format!("<{i}@x.test> ")).collect();
        let header = format!("References: {refs}\r\n\r\n");
        let (_, parents) = message_ids(header.as_bytes());
        assert_eq!(parents.len(), MAX_PARENTS);
        assert_eq!(parents[0], "499@x.test");
    }
}
