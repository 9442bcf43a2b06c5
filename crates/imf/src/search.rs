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

use crate::address;
use crate::decode;
use crate::header;
use crate::message_header::MessageHeader;
use crate::tree::{self, Kind, Part};

/// Folds case for comparison.
fn fold(text: &str) -> String {
    text.to_lowercase()
}

fn needle(needle: &[u8]) -> String {
    fold(&String::from_utf8_lossy(needle))
}

/// Fields that hold address lists (RFC 5322 §3.6.2, §3.6.3): SEARCH sees
/// them also as `address::searchable` writes them.
const ADDRESS_FIELDS: [&str; 6] = ["From", "To", "Cc", "Bcc", "Sender", "Reply-To"];

/// The texts of one field that SEARCH looks into, decoded and folded: the
/// value as written and, for an address field, its addresses written
/// plainly, so that comments, folding white space, quotes and encoded
/// words between the tokens of an address do not hide it (RFC 5322
/// §3.4.1, §4.4; issue 13 defect 7).
fn searchable(field: &header::Field<'_>) -> Vec<String> {
    let value = field.value();
    let mut texts = vec![fold(&decode::rfc2047(&value))];
    if ADDRESS_FIELDS.iter().any(|name| field.is(name)) {
        texts.push(fold(&address::searchable(&value)));
    }
    texts
}

/// SEARCH HEADER / SUBJECT / FROM / TO / CC / BCC.
pub(crate) fn header_contains(raw: &[u8], field: &str, wanted: &[u8]) -> bool {
    let wanted = needle(wanted);
    // The fields stop at the blank line: only the top-level header is seen.
    header::fields(raw)
        .filter(|f| f.is(field))
        .any(|f| wanted.is_empty() || searchable(&f).iter().any(|text| text.contains(&wanted)))
}

/// The fields SEARCH asks for most (FROM, TO, CC, BCC, SUBJECT), kept
/// decoded and folded with each message so those searches need not parse
/// its header again. Stored as one string: per field, in this order, an
/// empty section if the header lacks it, else PRESENT and its values
/// joined by line feeds; sections separated by SECTION; the whole string
/// starts with VERSION.
pub(crate) const STORED_FIELDS: [&str; 5] = ["From", "To", "Cc", "Bcc", "Subject"];
const SECTION: char = '\u{1}';
const PRESENT: char = '\u{2}';
/// Marks the form stored since addresses are also kept written plainly
/// (`searchable`). Fields stored before lack it; no stored string of the
/// old form starts with this (it starts with SECTION or PRESENT).
const VERSION: &str = "\u{3}2";

/// Whether stored fields can answer SEARCH: those of the form this code
/// writes, and those of the old form where the plain writing adds nothing
/// (Subject always; an address field with no comment, quote, escape or
/// group). Only the rest (a minority: addresses written unusually) send
/// SEARCH to the message's header, so a store upgraded with many messages
/// keeps searching from stored fields without rewriting them.
pub(crate) fn is_usable(stored: &str) -> bool {
    if stored.starts_with(VERSION) {
        return true;
    }
    let sections: Vec<&str> = stored.split(SECTION).collect();
    sections.len() == STORED_FIELDS.len()
        && sections
            .iter()
            .zip(STORED_FIELDS)
            .all(|(section, name)| name == "Subject" || !section.contains(['(', '"', '\\', ':', ';']))
}

/// The stored fields of a message (see [`STORED_FIELDS`]); None when a
/// value holds one of the separators (then SEARCH reads the header).
pub(crate) fn stored_fields(header: &MessageHeader<'_>) -> Option<String> {
    let mut stored = String::from(VERSION);
    for (index, name) in STORED_FIELDS.iter().enumerate() {
        if index > 0 {
            stored.push(SECTION);
        }
        let values: Vec<String> = header
            .searched
            .iter()
            .filter(|f| f.is(name))
            .flat_map(|f| searchable(f))
            .collect();
        if values.is_empty() {
            continue;
        }
        let joined = values.join("\n");
        if joined.contains([SECTION, PRESENT]) {
            return None;
        }
        stored.push(PRESENT);
        stored.push_str(&joined);
    }
    Some(stored)
}

/// [`header_contains`] answered from stored fields; None when they cannot
/// answer: another field, a needle with a line feed (which could match
/// across two values joined), or a malformed string.
pub(crate) fn stored_field_contains(stored: &str, field: &str, wanted: &[u8]) -> Option<bool> {
    let index = STORED_FIELDS.iter().position(|name| name.eq_ignore_ascii_case(field))?;
    let wanted = needle(wanted);
    if wanted.contains('\n') {
        return None;
    }
    let sections: Vec<&str> = stored.strip_prefix(VERSION).unwrap_or(stored).split(SECTION).collect();
    if sections.len() != STORED_FIELDS.len() {
        return None;
    }
    Some(match sections[index].strip_prefix(PRESENT) {
        None => false,
        Some(values) => wanted.is_empty() || values.contains(&wanted),
    })
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

    fn stored_fields(header: &[u8]) -> Option<String> {
        super::stored_fields(&MessageHeader::parse(header))
    }

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
    fn stored_fields_answer_as_the_header_does() {
        let raw = b"From: =?UTF-8?Q?J=C3=BCrgen?= <j@x.test>\r\nTo: a@x.test\r\nTo: B <b@x.test>\r\n\
            Subject: Hello there\r\nCc:\r\n\r\nbody\r\n";
        let stored = stored_fields(raw).unwrap();
        for field in ["From", "to", "CC", "Bcc", "Subject"] {
            for needle in [
                "", "jürgen", "JÜRGEN", "b@x", "a@x.test", "hello", "there", "nobody", "test\nb",
            ] {
                let expected = header_contains(raw, field, needle.as_bytes());
                match stored_field_contains(&stored, field, needle.as_bytes()) {
                    Some(answer) => assert_eq!(answer, expected, "{field} {needle:?}"),
                    None => assert!(needle.contains('\n'), "{field} {needle:?} left unanswered"),
                }
            }
        }
        // Only the five fields are stored; separators in a value make the
        // message fall back to its header.
        assert_eq!(stored_field_contains(&stored, "X-Other", b""), None);
        assert_eq!(stored_fields(b"Subject: =?UTF-8?Q?a=01b?=\r\n\r\n"), None);
    }

    #[test]
    fn address_search_sees_through_every_form() {
        // Issue 13 defect 7: each address form mime's parser accepts.
        let raw = "From: <user-from (comment)@ (comment) domain.org>\r\n\
            To: Team (the team): \"quoted local\"@x.test,\r\n (folded)\r\n\tBob\r\n <bob (c) . (c) b @ y (c) . test>;\r\n\
            Cc: =?UTF-8?Q?J=C3=BCrgen?= =?ISO-8859-1?Q?_M=FCller?= <jm@x.test>\r\n\
            Bcc: \"=?UTF-8?Q?Z=C3=B6e?=\" <\"z\\\"q\"@x.test>, hidden @ dom . test (Hidden Name)\r\n\r\nbody\r\n"
            .as_bytes();
        let hits: [(&str, &str); 12] = [
            ("From", "user-from@domain.org"),
            ("From", "USER-FROM@DOMAIN.ORG"),
            ("From", "<user-from@domain.org>"),
            ("To", "quoted local@x.test"),
            ("To", "bob.b@y.test"),
            ("To", "Bob <bob.b@y.test>"),
            ("To", "team"),
            ("Cc", "jürgen müller"),
            ("Cc", "jürgen müller <jm@x.test>"),
            ("Bcc", "zöe"),
            ("Bcc", "z\"q@x.test"),
            ("Bcc", "hidden@dom.test"),
        ];
        let stored = stored_fields(raw).unwrap();
        for (field, needle) in hits {
            assert!(header_contains(raw, field, needle.as_bytes()), "{field} {needle}");
            assert_eq!(
                stored_field_contains(&stored, field, needle.as_bytes()),
                Some(true),
                "{field} {needle}"
            );
        }
        // The field as written is still searched too, and nothing more.
        assert!(header_contains(raw, "From", b"(comment)@"));
        assert!(!header_contains(raw, "From", b"bob.b@y.test"));
        assert_eq!(stored_field_contains(&stored, "Cc", b"user-from"), Some(false));
    }

    #[test]
    fn fields_stored_in_the_old_form_answer_only_where_plain() {
        // Stored before addresses were written plainly: an address with a
        // comment (or quote, group) there cannot be trusted, and SEARCH
        // must read the header...
        let old = "\u{2}<user-from (comment)@ (comment) domain.org>\u{1}\u{1}\u{1}\u{1}";
        assert!(!is_usable(old));
        // ...but plain addresses and any Subject answer as they are, so an
        // upgraded store goes on searching from stored fields.
        let plain = "\u{2}bob example <bob@example.test>\u{1}\u{1}\u{1}\u{1}\u{2}re: (hello) \"you\"";
        assert!(is_usable(plain));
        assert_eq!(stored_field_contains(plain, "From", b"bob@example.test"), Some(true));
        assert_eq!(stored_field_contains(plain, "Subject", b"(HELLO)"), Some(true));
        assert_eq!(stored_field_contains(plain, "To", b"bob"), Some(false));
        assert!(is_usable(&stored_fields(b"From: a@b.test\r\n\r\n").unwrap()));
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
