//! Text matching for SEARCH (RFC 9051 §6.4.4): case-insensitive substring
//! search in decoded text.
//!
//! - HEADER, SUBJECT, FROM, ... look at the top-level header only; values
//!   are unfolded and their encoded words decoded (RFC 2047), raw UTF-8 is
//!   taken as it is (RFC 6532).
//! - BODY looks at the content of the leaf parts that hold text (text/*,
//!   message/*, or no or an invalid Content-Type), with transfer encoding
//!   removed and the charset converted. Not at part headers, the headers of
//!   attached messages, or multipart preambles and epilogues: that is what
//!   Dovecot does, and those octets are framing, not content.
//! - TEXT adds every header of every part, decoded, to what BODY sees.
//!
//! Case is folded by Unicode lower-casing, so `GRÜSSE` finds `grüße` only
//! where lower-casing maps one to the other; needles are UTF-8.

use crate::decode;
use crate::header;
use crate::tree::{self, Kind, Part};

/// Folds case for comparison.
fn fold(text: &str) -> String {
    text.to_lowercase()
}

fn needle(needle: &[u8]) -> String {
    fold(&String::from_utf8_lossy(needle))
}

/// SEARCH HEADER / SUBJECT / FROM / TO / CC / BCC.
pub(crate) fn header_contains(raw: &[u8], field: &str, wanted: &[u8]) -> bool {
    let wanted = needle(wanted);
    // The fields stop at the blank line: only the top-level header is seen.
    header::fields(raw)
        .filter(|f| f.is(field))
        .any(|f| wanted.is_empty() || fold(&decode::rfc2047(&f.value())).contains(&wanted))
}

/// SEARCH BODY.
pub(crate) fn body_contains(raw: &[u8], wanted: &[u8]) -> bool {
    let wanted = needle(wanted);
    wanted.is_empty()
        || any_part(&tree::parse(raw), &mut |part| {
            body_text(raw, part).is_some_and(|t| t.contains(&wanted))
        })
}

/// SEARCH TEXT.
pub(crate) fn text_contains(raw: &[u8], wanted: &[u8]) -> bool {
    let wanted = needle(wanted);
    wanted.is_empty()
        || any_part(&tree::parse(raw), &mut |part| {
            header_text(raw, part).contains(&wanted) || body_text(raw, part).is_some_and(|t| t.contains(&wanted))
        })
}

/// Whether `test` holds for `part` or any part below it.
fn any_part(part: &Part, test: &mut impl FnMut(&Part) -> bool) -> bool {
    if test(part) {
        return true;
    }
    match &part.kind {
        Kind::Leaf => false,
        Kind::Multipart(children) => children.iter().any(|child| any_part(child, test)),
        Kind::Message(inner) => any_part(inner, test),
    }
}

/// A part's header as text: `Name: decoded value` per field, one per line.
fn header_text(raw: &[u8], part: &Part) -> String {
    let mut text = String::new();
    for field in header::fields(raw.get(part.header.clone()).unwrap_or_default()) {
        text.push_str(&String::from_utf8_lossy(field.name));
        text.push_str(": ");
        text.push_str(&decode::rfc2047(&field.value()));
        text.push_str("\r\n");
    }
    fold(&text)
}

/// A text part's content, decoded and folded; None for other parts.
fn body_text(raw: &[u8], part: &Part) -> Option<String> {
    if !part.is_searchable_text() {
        return None;
    }
    let body = raw.get(part.body.clone()).unwrap_or_default();
    // An unknown transfer encoding is searched as it is.
    let decoded = decode::transfer_decode(part.mime.encoding.as_deref(), body).unwrap_or(body.into());
    Some(fold(&decode::to_utf8(
        part.mime.content_type.param("charset"),
        &decoded,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &[u8] = b"Subject: =?ISO-8859-1?Q?Caf=E9?= au lait\r\nX-Fruit: kumquat\r\n\
        Content-Type: multipart/mixed; boundary=b\r\n\r\npreamble words\r\n\
        --b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
        Gr=FC=DFe, hyphen=\r\nated\r\n\
        --b\r\nContent-Type: application/pdf\r\nContent-ID: <pdf@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n\
        c2VjcmV0\r\n\
        --b--\r\nepilogue words\r\n";

    #[test]
    fn header_search_decodes() {
        assert!(header_contains(MESSAGE, "subject", "CAFÉ AU".as_bytes()));
        assert!(header_contains(MESSAGE, "X-Fruit", b""));
        assert!(!header_contains(MESSAGE, "X-Vegetable", b""));
        assert!(!header_contains(MESSAGE, "Content-ID", b""));
    }

    #[test]
    fn body_search_sees_decoded_text_parts_only() {
        assert!(body_contains(MESSAGE, "GRÜßE".as_bytes()));
        assert!(body_contains(MESSAGE, b"hyphenated"));
        assert!(!body_contains(MESSAGE, b"secret"));
        assert!(!body_contains(MESSAGE, b"preamble"));
        assert!(!body_contains(MESSAGE, b"epilogue"));
        assert!(!body_contains(MESSAGE, b"kumquat"));
    }

    #[test]
    fn text_search_adds_all_headers() {
        assert!(text_contains(MESSAGE, b"kumquat"));
        assert!(text_contains(MESSAGE, b"content-id"));
        assert!(text_contains(MESSAGE, "café".as_bytes()));
        assert!(!text_contains(MESSAGE, b"epilogue"));
        assert!(!text_contains(MESSAGE, b"secret"));
    }
}
