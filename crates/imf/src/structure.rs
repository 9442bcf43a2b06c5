//! BODY and BODYSTRUCTURE (RFC 9051 §7.5.2 and its `body` grammar in §9).
//!
//! Types, subtypes, parameters and disposition types are reported as
//! written (they are case-insensitive); defaults are written in lower case:
//! text/plain with charset us-ascii for a part without Content-Type or with
//! an invalid one (RFC 2045 §5.2), a charset of us-ascii for text parts
//! without one (RFC 2046 §4.1.2), 7bit without Content-Transfer-Encoding
//! (RFC 2045 §6.1). Sizes are octets as stored, line counts are line
//! breaks in the body. BODYSTRUCTURE always carries all extension data.

use crate::content_fields::{ContentType, MimeFields};
use crate::envelope;
use crate::imap;
use crate::message_header::MessageHeader;
use crate::tree::{Kind, Part};

/// Writes the structure of `part`; `extended` selects BODYSTRUCTURE.
pub(crate) fn write(out: &mut Vec<u8>, raw: &[u8], part: &Part, extended: bool) {
    out.push(b'(');
    match &part.kind {
        Kind::Multipart(children) => multipart(out, raw, part, children, extended),
        _ => single(out, raw, part, extended),
    }
    out.push(b')');
}

fn multipart(out: &mut Vec<u8>, raw: &[u8], part: &Part, children: &[Part], extended: bool) {
    for child in children {
        write(out, raw, child, extended);
    }
    out.push(b' ');
    let (sub, params) = match &part.mime.content_type {
        ContentType::Valid { sub, params, .. } => (sub.as_slice(), Some(params)),
        // Not reached: only a valid multipart Content-Type makes a multipart.
        _ => (&b"mixed"[..], None),
    };
    imap::string(out, sub);
    if extended {
        out.push(b' ');
        write_params(out, params.map(Vec::as_slice).unwrap_or_default(), false);
        common_extension(out, &part.mime);
    }
}

fn single(out: &mut Vec<u8>, raw: &[u8], part: &Part, extended: bool) {
    let mime = &part.mime;
    let is_message = matches!(part.kind, Kind::Message(_));
    let text;
    if is_message {
        out.extend_from_slice(b"\"message\" \"rfc822\"");
        text = false;
    } else if let ContentType::Valid { main, sub, .. } = &mime.content_type {
        imap::string(out, main);
        out.push(b' ');
        imap::string(out, sub);
        text = main.eq_ignore_ascii_case(b"text");
    } else {
        out.extend_from_slice(b"\"text\" \"plain\"");
        text = true;
    }
    out.push(b' ');
    let params = match &mime.content_type {
        ContentType::Valid { params, .. } => params.as_slice(),
        _ => &[],
    };
    write_params(out, params, text);
    out.push(b' ');
    imap::nstring(out, mime.id.as_deref());
    out.push(b' ');
    imap::nstring(out, mime.description.as_deref());
    out.push(b' ');
    match &mime.encoding {
        Some(encoding) => imap::string(out, encoding),
        None => out.extend_from_slice(b"\"7bit\""),
    }
    out.extend_from_slice(format!(" {}", part.body.len()).as_bytes());
    if text {
        out.extend_from_slice(format!(" {}", part.lines).as_bytes());
    } else if let Kind::Message(child) = &part.kind {
        out.push(b' ');
        envelope::write(
            out,
            &MessageHeader::parse(raw.get(child.header.clone()).unwrap_or_default()),
        );
        out.push(b' ');
        write(out, raw, child, extended);
        out.extend_from_slice(format!(" {}", part.lines).as_bytes());
    }
    if extended {
        out.push(b' ');
        imap::nstring(out, mime.md5.as_deref());
        common_extension(out, mime);
    }
}

/// `("name" "value" ...)` or NIL; text parts get charset us-ascii when they
/// name none (RFC 2046 §4.1.2).
fn write_params(out: &mut Vec<u8>, params: &[(Vec<u8>, Vec<u8>)], default_charset: bool) {
    let has_charset = params.iter().any(|(name, _)| name.eq_ignore_ascii_case(b"charset"));
    if params.is_empty() && !default_charset {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        imap::string(out, name);
        out.push(b' ');
        imap::string(out, value);
    }
    if default_charset && !has_charset {
        if !params.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(b"\"charset\" \"us-ascii\"");
    }
    out.push(b')');
}

/// Disposition, language and location, common to all extension data.
fn common_extension(out: &mut Vec<u8>, mime: &MimeFields) {
    out.push(b' ');
    match &mime.disposition {
        Some((kind, params)) => {
            out.push(b'(');
            imap::string(out, kind);
            out.push(b' ');
            write_params(out, params, false);
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    }
    out.push(b' ');
    match &mime.language {
        Some(tags) => {
            out.push(b'(');
            for (i, tag) in tags.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                imap::string(out, tag);
            }
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    }
    out.push(b' ');
    imap::nstring(out, mime.location.as_deref());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree;

    fn structure(raw: &str, extended: bool) -> String {
        let part = tree::parse(raw.as_bytes());
        let mut out = Vec::new();
        write(&mut out, raw.as_bytes(), &part, extended);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plain_message_defaults() {
        let raw = "Subject: x\r\n\r\nhello\r\nworld\r\n";
        assert_eq!(
            structure(raw, true),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 14 2 NIL NIL NIL NIL)"
        );
        assert_eq!(
            structure(raw, false),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 14 2)"
        );
    }

    #[test]
    fn invalid_content_type_is_text_plain() {
        let raw = "Content-Type: text; charset=iso-8859-1\r\n\r\nx\r\n";
        assert_eq!(
            structure(raw, false),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1)"
        );
    }

    #[test]
    fn multipart_with_message() {
        let raw = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: image/gif\r\n\
                   Content-Disposition: attachment; filename=a.gif\r\n\r\nGIF\r\n--b\r\n\
                   Content-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nbody\r\n--b--\r\n";
        assert_eq!(
            structure(raw, true),
            "((\"image\" \"gif\" NIL NIL NIL \"7bit\" 3 NIL (\"attachment\" (\"filename\" \"a.gif\")) NIL NIL)\
             (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 19 (NIL \"in\" NIL NIL NIL NIL NIL NIL NIL NIL) \
             (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 4 0 NIL NIL NIL NIL) 2 NIL NIL NIL NIL) \
             \"mixed\" (\"boundary\" \"b\") NIL NIL NIL)"
        );
    }
}
