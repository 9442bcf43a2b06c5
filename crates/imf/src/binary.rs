//! Messages APPENDed as a literal8 (RFC 3516 §4.4) may hold parts with
//! Content-Transfer-Encoding: binary, NUL octets included. Such bytes
//! cannot be answered to BODY[...] or RFC822: an IMAP literal carries any
//! octet but NUL (RFC 9051 §4.3, `CHAR8`), and RFC 9051 §7.5.2 wants
//! non-textual data transfer-encoded. So, as Dovecot does on such an
//! APPEND, every leaf part whose transfer encoding is `binary` is stored
//! base64-encoded instead, its Content-Transfer-Encoding field saying so;
//! BINARY[part] decodes it back to the very bytes that were appended.

use base64::Engine;

use crate::header::{self, field_end, is_blank_line};
use crate::tree::{self, Kind, Part};

/// Base64 lines are 76 characters long (RFC 2045 §6.8).
const LINE: usize = 76;
const FIELD: &[u8] = b"Content-Transfer-Encoding: base64\r\n";

/// The message with its binary leaf parts base64-encoded; None when it
/// has none (it is then stored as it came).
pub(crate) fn encode_binary_parts(raw: &[u8]) -> Option<Vec<u8>> {
    let root = tree::parse(raw);
    let mut parts = Vec::new();
    binary_leaves(&root, &mut parts);
    if parts.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 2);
    let mut copied = 0;
    for part in parts {
        // The header, with its Content-Transfer-Encoding field replaced.
        let Some(field) = encoding_field(raw, part) else {
            continue;
        };
        out.extend_from_slice(&raw[copied..field.start]);
        out.extend_from_slice(FIELD);
        out.extend_from_slice(&raw[field.end..part.body.start]);
        let encoded = base64::engine::general_purpose::STANDARD.encode(&raw[part.body.clone()]);
        for (i, line) in encoded.as_bytes().chunks(LINE).enumerate() {
            if i > 0 {
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(line);
        }
        copied = part.body.end;
    }
    out.extend_from_slice(&raw[copied..]);
    Some(out)
}

/// The leaf parts below `part` (itself included) whose transfer encoding
/// is binary, in the order they appear.
fn binary_leaves<'p>(part: &'p Part, out: &mut Vec<&'p Part>) {
    match &part.kind {
        Kind::Leaf => {
            if part
                .mime
                .encoding
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(b"binary"))
            {
                out.push(part);
            }
        }
        Kind::Multipart(children) => children.iter().for_each(|child| binary_leaves(child, out)),
        Kind::Message(inner) => binary_leaves(inner, out),
    }
}

/// Where the part's first Content-Transfer-Encoding field is (the one its
/// encoding was read from), line break included.
fn encoding_field(raw: &[u8], part: &Part) -> Option<std::ops::Range<usize>> {
    let header = raw.get(part.header.clone())?;
    let mut pos = 0;
    while pos < header.len() && !is_blank_line(header, pos) {
        let end = field_end(header, pos);
        let field = header::fields(&header[pos..end]).next()?;
        if field.is("Content-Transfer-Encoding") {
            return Some(part.header.start + pos..part.header.start + end);
        }
        pos = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_parts_become_base64_and_decode_back() {
        let content: Vec<u8> = (0..=255u8).collect();
        let mut raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
            Content-Transfer-Encoding: binary\r\nContent-Type: application/octet-stream\r\n\r\n"
            .to_vec();
        raw.extend_from_slice(&content);
        raw.extend_from_slice(b"\r\n--b\r\nContent-Type: text/plain\r\n\r\ntext\r\n--b--\r\n");
        let stored = encode_binary_parts(&raw).unwrap();
        assert!(!stored.contains(&0));
        let expected_mime = b"Content-Transfer-Encoding: base64\r\nContent-Type: application/octet-stream\r\n\r\n";
        assert_eq!(
            crate::section(&stored, &[1], Some(&wire::imap::SectionText::Mime)).unwrap(),
            expected_mime
        );
        let body = crate::section(&stored, &[1], None).unwrap();
        assert!(body.split(|&b| b == b'\n').all(|line| line.len() <= LINE + 1));
        assert_eq!(crate::binary(&stored, &[1]), Ok(Some(content.clone())));
        assert_eq!(crate::section(&stored, &[2], None).unwrap(), b"text");
        // A single-part message; and one with nothing binary is left alone.
        let mut single = b"MIME-Version: 1.0\r\nContent-Transfer-Encoding: BINARY\r\n\r\n".to_vec();
        single.extend_from_slice(&content);
        assert_eq!(
            crate::binary(&encode_binary_parts(&single).unwrap(), &[1]),
            Ok(Some(content))
        );
        assert_eq!(
            encode_binary_parts(b"Content-Transfer-Encoding: 8bit\r\n\r\n\xff\r\n"),
            None
        );
        assert_eq!(
            encode_binary_parts(b"Content-Type: multipart/mixed\r\nContent-Transfer-Encoding: binary\r\n\r\nx"),
            None
        );
    }
}
