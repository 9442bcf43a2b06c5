//! IMAP codec (RFC 9051 IMAP4rev2, with RFC 3501 IMAP4rev1): commands from
//! bytes, literals included, with the limits that bound what a client can
//! make the server hold; modified UTF-7 mailbox names for rev1 clients.
//! Responses are built by the server from the helpers here.

mod append;
mod command;
mod context;
mod create;
mod dispatch;
mod fetch;
mod framer;
pub mod imap_url;
mod list;
mod metadata;
mod notify;
mod objects;
mod parser;
mod qresync;
mod quota;
mod search;
mod sequence;
mod sort;
mod store;
pub mod utf7;

pub use command::{AppendMessage, CatenatePart, Command, CommandBody, ListReturn, StatusItem, StoreMode};
pub use dispatch::parse_command;
pub use fetch::{FetchItem, Section, SectionText, url_section};
pub use framer::{Frame, Framer, Refusal};
pub use metadata::MetadataDepth;
pub use notify::{EventGroup, MailboxFilter, Notify, NotifyEvent};
pub use parser::{Limits, ParseError};
pub use qresync::{FetchModifiers, Qresync, SelectParams};
pub use search::{Date, SearchKey, SearchReturn};
pub use sequence::{SeqNumber, SequenceSet};
pub use sort::{PartialRange, SortCriterion, SortKey, ThreadAlgorithm};

/// Writes `text` as an IMAP string: quoted when it can be, else a literal.
pub fn string(out: &mut Vec<u8>, text: &[u8]) {
    // RFC 3501 §4.3: quoted strings are 7-bit, without CR, LF or NUL;
    // anything else (8-bit UTF-8 included) goes as a literal, which every
    // client reads whether or not it enabled UTF8=ACCEPT.
    let quotable = text.len() < 1024 && text.iter().all(|&b| (b' '..0x7f).contains(&b));
    if quotable {
        out.push(b'"');
        for &b in text {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(format!("{{{}}}\r\n", text.len()).as_bytes());
        out.extend_from_slice(text);
    }
}

/// Writes an nstring: NIL for `None`.
pub fn nstring(out: &mut Vec<u8>, text: Option<&[u8]>) {
    match text {
        Some(text) => string(out, text),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// Writes an astring (RFC 9051 §9): bare when every byte is an
/// ASTRING-CHAR, else as [`string`] writes it.
pub fn astring(out: &mut Vec<u8>, text: &[u8]) {
    if !text.is_empty() && text.iter().all(|&b| parser::is_astring_char(b)) {
        out.extend_from_slice(text);
    } else {
        string(out, text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn astrings_are_bare_only_when_they_can_be() {
        let written = |text: &[u8]| {
            let mut out = Vec::new();
            astring(&mut out, text);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(written(b"/private/comment"), "/private/comment");
        assert_eq!(written(b"a]b"), "a]b");
        assert_eq!(written(b"/private/a(b"), "\"/private/a(b\"");
        assert_eq!(written(b"/shared/x y"), "\"/shared/x y\"");
        assert_eq!(written(b"/private/%*\""), "\"/private/%*\\\"\"");
        assert_eq!(written(b""), "\"\"");
    }

    fn written(text: Option<&[u8]>) -> Vec<u8> {
        let mut out = Vec::new();
        nstring(&mut out, text);
        out
    }

    #[test]
    fn strings_are_quoted_or_literal() {
        assert_eq!(written(Some(b"a \"b\" \\c")), b"\"a \\\"b\\\" \\\\c\"");
        assert_eq!(written(Some("Grüße".as_bytes())), "{7}\r\nGrüße".as_bytes());
        assert_eq!(written(Some(b"two\r\nlines")), b"{10}\r\ntwo\r\nlines");
        assert_eq!(written(None), b"NIL");
    }
}
