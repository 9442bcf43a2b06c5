//! FETCH (RFC 9051 §6.4.5) and its data items (RFC 3516 BINARY, RFC 7162
//! MODSEQ).

use super::command::CommandBody;
use super::parser::{Cursor, Step, bad};
use super::qresync::{FetchModifiers, fetch_modifiers};
use super::sequence::sequence_set;

/// What part of a message a BODY[...] or BINARY[...] item names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// MIME part numbers, `1.2.3`; empty for the whole message.
    pub part: Vec<u32>,
    pub text: Option<SectionText>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionText {
    Header,
    HeaderFields(Vec<String>),
    HeaderFieldsNot(Vec<String>),
    Text,
    /// The MIME header of a part (only after a part number).
    Mime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchItem {
    Flags,
    InternalDate,
    Rfc822Size,
    Envelope,
    /// BODY without a section: the non-extensible structure.
    Body,
    BodyStructure,
    Uid,
    ModSeq,
    /// RFC822, RFC822.HEADER, RFC822.TEXT (IMAP4rev1).
    Rfc822,
    Rfc822Header,
    Rfc822Text,
    /// BODY[section]<partial>; `peek` leaves \Seen alone.
    BodySection {
        section: Section,
        partial: Option<(u32, u32)>,
        peek: bool,
    },
    /// BINARY[part]<partial> (RFC 3516).
    Binary {
        part: Vec<u32>,
        partial: Option<(u32, u32)>,
        peek: bool,
    },
    BinarySize {
        part: Vec<u32>,
    },
    /// OBJECTID (RFC 8474 §5).
    EmailId,
    ThreadId,
    /// RFC 8514 §4.
    SaveDate,
    /// RFC 8970 §3; `lazy`: PREVIEW (LAZY).
    Preview {
        lazy: bool,
    },
}

/// `FETCH sequence-set items [modifiers]`; `uid` for UID FETCH.
pub(crate) fn fetch_command(c: &mut Cursor<'_>, uid: bool) -> Step<CommandBody> {
    c.space()?;
    let set = sequence_set(c)?;
    c.space()?;
    let items = fetch_items(c)?;
    // RFC 7162 §3.1.4.1, §3.2.6: (CHANGEDSINCE modseq [VANISHED])
    let modifiers = if c.maybe_space()? {
        fetch_modifiers(c)?
    } else {
        FetchModifiers::default()
    };
    Ok(CommandBody::Fetch {
        uid,
        set,
        items,
        modifiers,
    })
}

/// Reads the FETCH item argument: a macro, one item or a list.
pub(crate) fn fetch_items(c: &mut Cursor<'_>) -> Step<Vec<FetchItem>> {
    if c.peek() == Some(b'(') {
        return c.list(fetch_item);
    }
    let start = c.pos;
    let word = c
        .token(|b| b.is_ascii_alphanumeric() || b == b'.', "a FETCH item")?
        .to_ascii_uppercase();
    // RFC 9051 §6.4.5 macros.
    let macro_items = match word.as_str() {
        "ALL" => Some(vec![
            FetchItem::Flags,
            FetchItem::InternalDate,
            FetchItem::Rfc822Size,
            FetchItem::Envelope,
        ]),
        "FAST" => Some(vec![FetchItem::Flags, FetchItem::InternalDate, FetchItem::Rfc822Size]),
        "FULL" => Some(vec![
            FetchItem::Flags,
            FetchItem::InternalDate,
            FetchItem::Rfc822Size,
            FetchItem::Envelope,
            FetchItem::Body,
        ]),
        _ => None,
    };
    if let Some(items) = macro_items {
        return Ok(items);
    }
    c.pos = start;
    Ok(vec![fetch_item(c)?])
}

fn fetch_item(c: &mut Cursor<'_>) -> Step<FetchItem> {
    let word = c
        .token(|b| b.is_ascii_alphanumeric() || b == b'.', "a FETCH item")?
        .to_ascii_uppercase();
    let bracket = c.peek() == Some(b'[');
    Ok(match (word.as_str(), bracket) {
        ("FLAGS", false) => FetchItem::Flags,
        ("INTERNALDATE", false) => FetchItem::InternalDate,
        ("RFC822.SIZE", false) => FetchItem::Rfc822Size,
        ("ENVELOPE", false) => FetchItem::Envelope,
        ("BODY", false) => FetchItem::Body,
        ("BODYSTRUCTURE", false) => FetchItem::BodyStructure,
        ("UID", false) => FetchItem::Uid,
        ("MODSEQ", false) => FetchItem::ModSeq,
        ("RFC822", false) => FetchItem::Rfc822,
        ("RFC822.HEADER", false) => FetchItem::Rfc822Header,
        ("RFC822.TEXT", false) => FetchItem::Rfc822Text,
        ("BODY" | "BODY.PEEK", true) => {
            let section = section(c)?;
            let partial = partial(c)?;
            FetchItem::BodySection {
                section,
                partial,
                peek: word == "BODY.PEEK",
            }
        }
        ("BINARY" | "BINARY.PEEK", true) => {
            let part = binary_part(c)?;
            let partial = partial(c)?;
            FetchItem::Binary {
                part,
                partial,
                peek: word == "BINARY.PEEK",
            }
        }
        ("BINARY.SIZE", true) => FetchItem::BinarySize { part: binary_part(c)? },
        (word, false) if let Some(item) = super::objects::fetch_item(word, c) => item?,
        _ => return bad(format!("unknown FETCH item {word}")),
    })
}

/// A section as an IMAP URL's `;SECTION=` names it (RFC 5092 §3: the
/// FETCH section text without brackets, `1.2.MIME`); None if it is not one.
pub fn url_section(text: &str) -> Option<Section> {
    let bracketed = format!("[{text}]\r\n");
    let mut c = Cursor::new(bracketed.as_bytes(), super::parser::Limits::default());
    let section = section(&mut c).ok()?;
    (c.pos == bracketed.len() - 2).then_some(section)
}

/// `[` section-spec `]`
fn section(c: &mut Cursor<'_>) -> Step<Section> {
    c.expect(b'[', "[")?;
    let mut part = Vec::new();
    let mut text = None;
    if c.peek() != Some(b']') {
        let spec = c
            .token(|b| b.is_ascii_alphanumeric() || b == b'.', "a section")?
            .to_ascii_uppercase();
        let mut words = spec.split('.').peekable();
        while let Some(number) = words.peek().and_then(|w| w.parse::<u32>().ok()) {
            if number == 0 {
                return bad("section part numbers start at 1");
            }
            part.push(number);
            words.next();
        }
        let rest: Vec<&str> = words.collect();
        text = match rest.join(".").as_str() {
            "" => None,
            "HEADER" => Some(SectionText::Header),
            "TEXT" => Some(SectionText::Text),
            "MIME" if !part.is_empty() => Some(SectionText::Mime),
            "HEADER.FIELDS" | "HEADER.FIELDS.NOT" => {
                let not = rest.len() == 3;
                c.space()?;
                let fields = c.list(|c| c.astring_text())?;
                if fields.is_empty() {
                    return bad("HEADER.FIELDS needs at least one field name");
                }
                Some(if not {
                    SectionText::HeaderFieldsNot(fields)
                } else {
                    SectionText::HeaderFields(fields)
                })
            }
            other => return bad(format!("unknown section {other}")),
        };
    }
    c.expect(b']', "]")?;
    Ok(Section { part, text })
}

/// `[1.2.3]` for BINARY: part numbers only.
fn binary_part(c: &mut Cursor<'_>) -> Step<Vec<u32>> {
    c.expect(b'[', "[")?;
    let mut part = Vec::new();
    if c.peek() != Some(b']') {
        let spec = c.token(|b| b.is_ascii_digit() || b == b'.', "a part number")?;
        for number in spec.split('.') {
            match number.parse::<u32>() {
                Ok(n) if n > 0 => part.push(n),
                _ => return bad("bad part number"),
            }
        }
    }
    c.expect(b']', "]")?;
    Ok(part)
}

/// `<start.count>`
fn partial(c: &mut Cursor<'_>) -> Step<Option<(u32, u32)>> {
    if c.peek() != Some(b'<') {
        return Ok(None);
    }
    c.pos += 1;
    let start = c.number()?;
    c.expect(b'.', ".")?;
    let count = c.number()?;
    if count == 0 {
        return bad("a partial fetch needs a non-zero length");
    }
    c.expect(b'>', ">")?;
    Ok(Some((start, count)))
}

#[cfg(test)]
mod url_tests {
    use super::*;

    #[test]
    fn url_sections() {
        assert_eq!(
            url_section(""),
            Some(Section {
                part: vec![],
                text: None
            })
        );
        assert_eq!(
            url_section("1.2.MIME"),
            Some(Section {
                part: vec![1, 2],
                text: Some(SectionText::Mime)
            })
        );
        assert_eq!(url_section("HEADER").unwrap().text, Some(SectionText::Header));
        assert_eq!(url_section("1.X"), None);
        assert_eq!(url_section("1] junk"), None);
    }
}
