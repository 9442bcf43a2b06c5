//! PREVIEW (RFC 8970): a short plain-text excerpt of a message for a
//! client's message list, computed once when the message is stored.
//!
//! The text comes from the first text/plain part that is not an
//! attachment, else from the first text/html part with its markup
//! removed; nested messages are not looked into (their text is not the
//! message's). Runs of white space become one space, and the result is
//! cut to 256 characters (RFC 8970 §3.2: "MUST NOT exceed 256
//! characters"), on a character boundary.

use crate::content_fields::ContentType;
use crate::decode;
use crate::tree::{self, Kind, Part};

/// RFC 8970 §3.2: the longest preview, in characters.
pub(crate) const MAX_CHARS: usize = 256;

/// The preview of a message; empty when it has no displayable text.
pub(crate) fn preview(raw: &[u8]) -> String {
    of_tree(raw, &tree::parse(raw))
}

/// [`preview`] of a message whose MIME tree is parsed already.
pub(crate) fn of_tree(raw: &[u8], root: &Part) -> String {
    let text = match find(root, "plain") {
        Some(part) => decoded(raw, part),
        None => match find(root, "html") {
            Some(part) => strip_html(&decoded(raw, part)),
            None => String::new(),
        },
    };
    collapse(&text)
}

/// The first leaf part of type text/`subtype` that is shown inline, in
/// the order a reader meets them; a missing or broken Content-Type counts
/// as text/plain (RFC 2045 §5.2).
fn find<'p>(part: &'p Part, subtype: &str) -> Option<&'p Part> {
    match &part.kind {
        Kind::Multipart(children) => children.iter().find_map(|child| find(child, subtype)),
        Kind::Message(_) => None,
        Kind::Leaf => {
            let attachment = part
                .mime
                .disposition
                .as_ref()
                .is_some_and(|(kind, _)| kind.eq_ignore_ascii_case(b"attachment"));
            let matches = match &part.mime.content_type {
                ContentType::Absent | ContentType::Invalid => subtype == "plain",
                ct => ct.is("text", Some(subtype)),
            };
            (matches && !attachment).then_some(part)
        }
    }
}

/// A part's body with its transfer encoding removed, in UTF-8.
fn decoded(raw: &[u8], part: &Part) -> String {
    let body = raw.get(part.body.clone()).unwrap_or_default();
    // An unknown transfer encoding is shown as it is, like SEARCH reads it.
    let data = decode::transfer_decode(part.mime.encoding.as_deref(), body).unwrap_or(body.into());
    decode::to_utf8(part.mime.content_type.param("charset"), &data)
}

/// The text of an HTML document: tags dropped (with the content of
/// `<style>`, `<script>` and `<head>`, which is not shown), a space where a
/// tag was, and the common character references decoded.
fn strip_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while at < html.len() {
        let Some(offset) = html[at..].find('<') else {
            out.push_str(&entities(&html[at..]));
            break;
        };
        out.push_str(&entities(&html[at..at + offset]));
        let tag = at + offset;
        let end = html[tag..].find('>').map_or(html.len(), |e| tag + e + 1);
        let name: String = lower[tag + 1..end]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        at = end;
        if matches!(name.as_str(), "style" | "script" | "head") {
            // Skip to the matching end tag, or to the end if there is none.
            let close = format!("</{name}");
            at = lower[at..].find(&close).map_or(html.len(), |c| {
                let from = at + c;
                html[from..].find('>').map_or(html.len(), |e| from + e + 1)
            });
        }
        out.push(' ');
    }
    out
}

/// Decodes the character references a preview meets most; others stay as
/// they are written.
fn entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        // A reference is short: look for its `;` in the next 12 bytes,
        // by byte (a character may straddle the 12th: a fuzz find, where
        // the str slice panicked on a message anyone can send).
        let Some(semi) = rest.as_bytes()[..rest.len().min(12)].iter().position(|&b| b == b';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..semi];
        let decoded = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ => name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// White space (and control characters) collapsed to single spaces, the
/// ends trimmed, at most [`MAX_CHARS`] characters.
fn collapse(text: &str) -> String {
    let words = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty());
    let mut out = String::new();
    for (i, word) in words.enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
        if out.len() >= MAX_CHARS * 4 {
            break;
        }
    }
    match out.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => out[..cut].trim_end().to_string(),
        None => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_collapsed() {
        let raw = b"Subject: x\r\n\r\nHello   there,\r\n\r\n\tthis is\r\nthe body.\r\n";
        assert_eq!(preview(raw), "Hello there, this is the body.");
    }

    #[test]
    fn alternative_prefers_the_plain_part() {
        let raw = b"Content-Type: multipart/alternative; boundary=b\r\n\r\n\
            --b\r\nContent-Type: text/html\r\n\r\n<p>From <b>HTML</b></p>\r\n\
            --b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
            Gr=FC=DFe from plain\r\n--b--\r\n";
        assert_eq!(preview(raw), "Grüße from plain");
    }

    #[test]
    fn html_only_loses_its_markup() {
        let raw = b"Content-Type: text/html; charset=utf-8\r\n\r\n\
            <html><head><title>T</title><style>p { color: red }</style></head>\
            <body><p>Caf&eacute; &amp; <i>cake</i>&nbsp;at&#32;4&#x21;</p><script>alert(1)</script></body></html>\r\n";
        assert_eq!(preview(raw), "Caf&eacute; & cake at 4!");
    }

    #[test]
    fn attachments_and_nested_messages_are_skipped() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n\
            --b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner text\r\n\
            --b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nattached\r\n\
            --b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0K\r\n--b--\r\n";
        assert_eq!(preview(raw), "");
    }

    #[test]
    fn long_text_is_cut_at_256_characters() {
        let mut raw = b"Content-Type: text/plain; charset=utf-8\r\n\r\n".to_vec();
        raw.extend("ä".repeat(300).as_bytes());
        let text = preview(&raw);
        assert_eq!(text.chars().count(), MAX_CHARS);
        assert!(text.chars().all(|c| c == 'ä'));
    }

    #[test]
    fn a_character_across_the_reference_window_is_kept() {
        // A fuzz find: the 12-byte window for `&name;` ended inside `€`.
        assert_eq!(
            entities("&sth\u{20ac}\u{20ac}\u{20ac};x &amp;"),
            "&sth\u{20ac}\u{20ac}\u{20ac};x &"
        );
    }

    #[test]
    fn no_body_no_preview() {
        assert_eq!(preview(b"Subject: only a header\r\n"), "");
        assert_eq!(preview(b""), "");
    }
}
