//! What a mail filter (Sieve, RFC 5228) reads of a message, from the same
//! parsers IMAP uses: the top-level header fields unfolded, values with
//! their encoded words decoded, the addresses of an address field, a
//! date-time with its zone, and the decoded text of the body's parts.

use crate::content_fields::ContentType;
use crate::tree::{self, Kind, Part};
use crate::{address, date, decode, header};

/// The top-level header fields in order: name as written, value unfolded
/// (RFC 5322 §2.2.3) with the blanks after the colon dropped.
pub fn header_fields(raw: &[u8]) -> Vec<(String, String)> {
    header::fields(raw)
        .map(|field| {
            (
                String::from_utf8_lossy(field.name).into_owned(),
                String::from_utf8_lossy(&field.value()).into_owned(),
            )
        })
        .collect()
}

/// A field value with its RFC 2047 encoded words decoded.
pub fn decode_text(value: &str) -> String {
    decode::rfc2047(value.as_bytes())
}

/// The mailboxes of an address-list value (RFC 5322 §3.4), group members
/// included, as local part (unquoted) and domain (empty when missing).
pub fn mailboxes(value: &str) -> Vec<(String, String)> {
    address::parse_list(value.as_bytes())
        .into_iter()
        .filter_map(|a| {
            // Group markers have no host; broken addresses carry the
            // MISSING_ stand-ins, which are no address to match.
            let host = a.host?;
            let mailbox = a.mailbox?;
            if host == b"MISSING_DOMAIN" || mailbox == b"MISSING_MAILBOX" {
                return None;
            }
            Some((
                String::from_utf8_lossy(&mailbox).into_owned(),
                String::from_utf8_lossy(&host).into_owned(),
            ))
        })
        .collect()
}

/// A date-time value (RFC 5322 §3.3) as seconds since 1970 in UTC and the
/// zone it was written in, in minutes east of UTC.
pub fn date_time(value: &str) -> Option<(i64, i32)> {
    let (time, offset) = date::parse_time_and_zone(value.as_bytes())?;
    Some((time, i32::try_from(offset / 60).ok()?))
}

/// Which parts' text [`body_texts`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyParts<'a> {
    /// The body as it is, no decoding (Sieve's `:raw`).
    Raw,
    /// The parts a text search looks into: text/*, message/* and untyped
    /// leaves (Sieve's `:text`).
    Text,
    /// Leaves whose type is one of these: `""` any, `"text"` a type,
    /// `"text/html"` one subtype (Sieve's `:content`).
    Types(&'a [String]),
}

/// The text of the body's parts, one string per part, transfer encoding
/// removed and the charset converted to UTF-8; of each part only its first
/// `limit` octets (as sent), so that a filter's memory does not grow with
/// the message.
pub fn body_texts(raw: &[u8], which: &BodyParts<'_>, limit: usize) -> Vec<String> {
    let root = tree::parse(raw);
    if *which == BodyParts::Raw {
        let body = raw.get(root.body.clone()).unwrap_or_default();
        return vec![String::from_utf8_lossy(&body[..body.len().min(limit)]).into_owned()];
    }
    let mut texts = Vec::new();
    collect(raw, &root, which, limit, &mut texts);
    texts
}

fn collect(raw: &[u8], part: &Part, which: &BodyParts<'_>, limit: usize, texts: &mut Vec<String>) {
    match &part.kind {
        Kind::Multipart(children) => children
            .iter()
            .for_each(|child| collect(raw, child, which, limit, texts)),
        Kind::Message(inner) => collect(raw, inner, which, limit, texts),
        Kind::Leaf => {
            let wanted = match which {
                BodyParts::Raw => false,
                BodyParts::Text => part.is_searchable_text(),
                BodyParts::Types(types) => types.iter().any(|t| type_matches(&part.mime.content_type, t)),
            };
            if wanted {
                let body = raw.get(part.body.clone()).unwrap_or_default();
                let body = &body[..body.len().min(limit)];
                let decoded = decode::transfer_decode(part.mime.encoding.as_deref(), body).unwrap_or(body.into());
                texts.push(decode::to_utf8(part.mime.content_type.param("charset"), &decoded));
            }
        }
    }
}

/// RFC 5173 §5.2: `""` any type, `main` one type, `main/sub` one subtype;
/// a part without a valid type is text/plain (RFC 2045 §5.2).
fn type_matches(content_type: &ContentType, wanted: &str) -> bool {
    if wanted.is_empty() {
        return true;
    }
    let (main, sub) = match wanted.split_once('/') {
        Some((main, sub)) => (main, Some(sub)),
        None => (wanted, None),
    };
    match content_type {
        ContentType::Valid { .. } => content_type.is(main, sub),
        _ => main.eq_ignore_ascii_case("text") && sub.is_none_or(|s| s.eq_ignore_ascii_case("plain")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &[u8] = b"From: =?UTF-8?Q?J=C3=BCrgen?= <j+x@Example.ORG>\r\n\
        To: team: a@x.test, \"b c\"@x.test;, broken\r\nSubject: two\r\n lines\r\n\
        Date: Wed, 2 Dec 2026 10:44:13 -0530\r\n\
        Content-Type: multipart/mixed; boundary=b\r\n\r\npreamble\r\n\
        --b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
        Gr=FC=DFe\r\n\
        --b\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n\
        --b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nc2VjcmV0\r\n\
        --b--\r\n";

    #[test]
    fn fields_are_unfolded_and_decodable() {
        let fields = header_fields(MESSAGE);
        assert_eq!(fields[2], ("Subject".to_string(), "two lines".to_string()));
        assert_eq!(decode_text(&fields[0].1), "Jürgen <j+x@Example.ORG>");
        assert_eq!(fields.len(), 5);
    }

    #[test]
    fn mailboxes_of_groups_and_quoted_locals() {
        assert_eq!(
            mailboxes("=?UTF-8?Q?J=C3=BCrgen?= <j+x@Example.ORG>"),
            [("j+x".into(), "Example.ORG".into())]
        );
        assert_eq!(
            mailboxes("team: a@x.test, \"b c\"@x.test;, broken"),
            [("a".to_string(), "x.test".to_string()), ("b c".into(), "x.test".into())]
        );
    }

    #[test]
    fn dates_keep_their_zone() {
        assert_eq!(
            date_time("Wed, 2 Dec 2026 10:44:13 -0530"),
            Some((1_796_208_253 + 330 * 60, -330))
        );
        assert_eq!(
            date_time("2 Dec 2026 10:44 EST"),
            Some((1_796_208_240 + 5 * 3600, -300))
        );
        assert_eq!(date_time("yesterday"), None);
    }

    #[test]
    fn body_texts_by_kind() {
        assert_eq!(
            body_texts(MESSAGE, &BodyParts::Text, usize::MAX),
            ["Grüße", "<p>hi</p>"]
        );
        let html = ["text/html".to_string()];
        assert_eq!(body_texts(MESSAGE, &BodyParts::Types(&html), usize::MAX), ["<p>hi</p>"]);
        let application = ["application".to_string()];
        assert_eq!(
            body_texts(MESSAGE, &BodyParts::Types(&application), usize::MAX),
            ["secret"]
        );
        assert_eq!(
            body_texts(MESSAGE, &BodyParts::Types(&[String::new()]), usize::MAX).len(),
            3
        );
        assert!(body_texts(MESSAGE, &BodyParts::Raw, usize::MAX)[0].starts_with("preamble\r\n--b\r\n"));
        let plain = b"Subject: x\r\n\r\nplain body";
        assert_eq!(body_texts(plain, &BodyParts::Text, usize::MAX), ["plain body"]);
        // Each part is read up to the limit only.
        assert_eq!(body_texts(plain, &BodyParts::Text, 5), ["plain"]);
        assert_eq!(body_texts(MESSAGE, &BodyParts::Raw, 8), ["preamble"]);
    }
}
