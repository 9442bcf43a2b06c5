//! BODY[section] and BINARY[part] content (RFC 9051 §6.4.5, RFC 3516).
//!
//! Part numbers follow RFC 9051 §6.4.5: the parts of a multipart are
//! numbered from 1; a message that is not multipart has one part, 1, its
//! body; the parts of a message/rfc822 part are those of the message it
//! holds. MIME is a part's own header; HEADER and TEXT are those of the
//! message a message/rfc822 part holds (or of the whole message).

use wire::imap::SectionText;

use crate::UnknownEncoding;
use crate::decode;
use crate::header;
use crate::tree::{self, Kind, Part};

/// The part that `numbers` (all from 1) name below `root`.
pub(crate) fn find<'p>(root: &'p Part, numbers: &[u32]) -> Option<&'p Part> {
    let mut container = root;
    let mut found = None;
    for (i, &n) in numbers.iter().enumerate() {
        let index = usize::try_from(n).ok()?.checked_sub(1)?;
        let part = match &container.kind {
            Kind::Multipart(children) => children.get(index)?,
            // A single-part message's only part is its body.
            _ if index == 0 => container,
            _ => return None,
        };
        found = Some(part);
        if i + 1 < numbers.len() {
            container = match &part.kind {
                Kind::Message(inner) => inner,
                Kind::Multipart(_) => part,
                Kind::Leaf => return None,
            };
        }
    }
    found
}

/// BODY[section].
pub(crate) fn section(raw: &[u8], numbers: &[u32], text: Option<&SectionText>) -> Option<Vec<u8>> {
    let root = tree::parse(raw);
    let part = if numbers.is_empty() {
        None
    } else {
        Some(find(&root, numbers)?)
    };
    let bytes = |range: std::ops::Range<usize>| raw.get(range).map(<[u8]>::to_vec);
    let Some(text) = text else {
        return match part {
            Some(part) => bytes(part.body.clone()),
            None => Some(raw.to_vec()),
        };
    };
    if *text == SectionText::Mime {
        return bytes(part?.header.clone());
    }
    // HEADER and TEXT need a message: the whole one, or a message/rfc822 part.
    let message = match part {
        None => &root,
        Some(part) => match &part.kind {
            Kind::Message(inner) => inner,
            _ => return None,
        },
    };
    let header = raw.get(message.header.clone())?;
    match text {
        SectionText::Header => Some(header.to_vec()),
        SectionText::Text => bytes(message.body.clone()),
        SectionText::HeaderFields(names) => Some(filter(header, names, true)),
        SectionText::HeaderFieldsNot(names) => Some(filter(header, names, false)),
        SectionText::Mime => None,
    }
}

/// The fields of `header` that are (or are not) among `names`, as stored,
/// and the blank line that ends a header (RFC 9051 §6.4.5: "the subset of
/// the header ... including the delimiting blank line").
fn filter(header: &[u8], names: &[String], keep: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for field in header::fields(header) {
        if names.iter().any(|name| field.is(name)) == keep {
            out.extend_from_slice(field.raw);
            if !field.raw.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// BINARY[part]: the body with its Content-Transfer-Encoding removed.
pub(crate) fn binary(raw: &[u8], numbers: &[u32]) -> Result<Option<Vec<u8>>, UnknownEncoding> {
    if numbers.is_empty() {
        // The whole message has no transfer encoding of its own.
        return Ok(Some(raw.to_vec()));
    }
    let root = tree::parse(raw);
    let Some(part) = find(&root, numbers) else {
        return Ok(None);
    };
    let body = raw.get(part.body.clone()).unwrap_or_default();
    Ok(Some(
        decode::transfer_decode(part.mime.encoding.as_deref(), body)?.into_owned(),
    ))
}

/// Whether BINARY[part] can be answered: no such part, or one whose
/// Content-Transfer-Encoding `binary` undoes. Decodes nothing.
pub(crate) fn binary_decodable(raw: &[u8], numbers: &[u32]) -> bool {
    if numbers.is_empty() {
        return true;
    }
    let root = tree::parse(raw);
    find(&root, numbers).is_none_or(|part| decode::transfer_decode(part.mime.encoding.as_deref(), &[]).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NESTED: &str = "Subject: outer\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
        --b\r\nContent-Type: text/plain\r\n\r\none\r\n\
        --b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nX: y\r\n\r\ninner body\r\n\
        --b--\r\n";

    fn get(raw: &str, numbers: &[u32], text: Option<SectionText>) -> Option<String> {
        section(raw.as_bytes(), numbers, text.as_ref()).map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn part_numbers() {
        assert_eq!(get(NESTED, &[1], None).as_deref(), Some("one"));
        assert_eq!(
            get(NESTED, &[1], Some(SectionText::Mime)).as_deref(),
            Some("Content-Type: text/plain\r\n\r\n")
        );
        assert_eq!(
            get(NESTED, &[2], None).as_deref(),
            Some("Subject: inner\r\nX: y\r\n\r\ninner body")
        );
        assert_eq!(
            get(NESTED, &[2], Some(SectionText::Header)).as_deref(),
            Some("Subject: inner\r\nX: y\r\n\r\n")
        );
        assert_eq!(
            get(NESTED, &[2], Some(SectionText::Text)).as_deref(),
            Some("inner body")
        );
        assert_eq!(get(NESTED, &[2, 1], None).as_deref(), Some("inner body"));
        assert_eq!(get(NESTED, &[3], None), None);
        assert_eq!(get(NESTED, &[1, 1], None), None);
        assert_eq!(get(NESTED, &[1], Some(SectionText::Header)), None);
    }

    #[test]
    fn single_part_message() {
        let raw = "Subject: s\r\n\r\nbody";
        assert_eq!(get(raw, &[1], None).as_deref(), Some("body"));
        assert_eq!(
            get(raw, &[1], Some(SectionText::Mime)).as_deref(),
            Some("Subject: s\r\n\r\n")
        );
        assert_eq!(get(raw, &[2], None), None);
        assert_eq!(get(raw, &[], None).as_deref(), Some(raw));
    }

    #[test]
    fn header_fields_keep_order_and_end_with_blank_line() {
        let fields = vec!["subject".to_string(), "FROM".to_string()];
        assert_eq!(
            get(NESTED, &[], Some(SectionText::HeaderFields(fields.clone()))).as_deref(),
            Some("Subject: outer\r\n\r\n")
        );
        assert_eq!(
            get(
                "From: a\r\nX: 1\r\nSubject: b\r\n c",
                &[],
                Some(SectionText::HeaderFields(fields.clone()))
            )
            .as_deref(),
            Some("From: a\r\nSubject: b\r\n c\r\n\r\n")
        );
        assert_eq!(
            get(
                "From: a\r\nX: 1\r\n\r\n",
                &[],
                Some(SectionText::HeaderFieldsNot(fields))
            )
            .as_deref(),
            Some("X: 1\r\n\r\n")
        );
    }

    #[test]
    fn binary_decodes() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\naGk=\r\n\
                    --b\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin\r\n--b--\r\n";
        assert_eq!(binary(raw, &[1]), Ok(Some(b"hi".to_vec())));
        assert_eq!(binary(raw, &[2]), Err(UnknownEncoding));
        assert_eq!(binary(raw, &[3]), Ok(None));
        assert!(binary_decodable(raw, &[1]) && !binary_decodable(raw, &[2]) && binary_decodable(raw, &[3]));
    }
}
