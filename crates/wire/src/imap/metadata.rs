//! GETMETADATA and SETMETADATA (RFC 5464 §4.2, §4.3) and their entry
//! names (§3.2): checked here, so the server sees only valid names, and
//! lower-cased, entry names being case-insensitive.

use super::command::CommandBody;
use super::parser::{Cursor, Step, bad};

/// How far below each entry GETMETADATA looks (RFC 5464 §4.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataDepth {
    Zero,
    One,
    Infinity,
}

/// `GETMETADATA [(options)] mailbox entries`, after the command name.
/// RFC 5464's own examples (§4.2.1, §4.2.2) put the options after the
/// mailbox, as clients copied from them may: both orders are accepted.
pub(crate) fn getmetadata(c: &mut Cursor<'_>) -> Step<CommandBody> {
    c.space()?;
    let (mut max_size, mut depth) = (None, MetadataDepth::Zero);
    if c.peek() == Some(b'(') {
        c.open()?;
        options(c, &mut max_size, &mut depth)?;
        c.space()?;
    }
    let mailbox = c.astring()?;
    c.space()?;
    let mut entries = Vec::new();
    if c.peek() == Some(b'(') {
        c.open()?;
        if c.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
            options(c, &mut max_size, &mut depth)?;
            c.space()?;
            if c.peek() == Some(b'(') {
                c.open()?;
                entry_list(c, &mut entries)?;
            } else {
                bare_entries(c, &mut entries)?;
            }
        } else {
            entry_list(c, &mut entries)?;
        }
    } else {
        bare_entries(c, &mut entries)?;
    }
    Ok(CommandBody::GetMetadata {
        mailbox,
        max_size,
        depth,
        entries,
    })
}

/// The options after their "(" through ")": MAXSIZE n, DEPTH 0/1/infinity.
fn options(c: &mut Cursor<'_>, max_size: &mut Option<u64>, depth: &mut MetadataDepth) -> Step<()> {
    loop {
        match c.keyword()?.as_str() {
            "MAXSIZE" => {
                c.space()?;
                *max_size = Some(c.number64()?);
            }
            "DEPTH" => {
                c.space()?;
                *depth = match c.keyword()?.as_str() {
                    "0" => MetadataDepth::Zero,
                    "1" => MetadataDepth::One,
                    "INFINITY" => MetadataDepth::Infinity,
                    _ => return bad("DEPTH is 0, 1 or infinity"),
                };
            }
            _ => return bad("unknown GETMETADATA option"),
        }
        if c.close()? {
            return Ok(());
        }
        c.space()?;
    }
}

/// Entries after their "(" through ")", at least one.
fn entry_list(c: &mut Cursor<'_>, entries: &mut Vec<String>) -> Step<()> {
    loop {
        entries.push(entry(c, true)?);
        if c.close()? {
            return Ok(());
        }
        c.space()?;
    }
}

/// One entry by the grammar (§5); §4.4.1's examples send several.
fn bare_entries(c: &mut Cursor<'_>, entries: &mut Vec<String>) -> Step<()> {
    entries.push(entry(c, true)?);
    while c.maybe_space()? {
        entries.push(entry(c, true)?);
    }
    Ok(())
}

/// `SETMETADATA mailbox (entry value ...)`, after the command name; a
/// value is an nstring or a literal8 (NIL removes the entry).
pub(crate) fn setmetadata(c: &mut Cursor<'_>) -> Step<CommandBody> {
    c.space()?;
    let mailbox = c.astring()?;
    c.space()?;
    let entries = c.list(|c| {
        let name = entry(c, false)?;
        c.space()?;
        let value = if c.peek() == Some(b'~') {
            Some(c.literal()?)
        } else {
            c.nstring()?
        };
        Ok((name, value))
    })?;
    if entries.is_empty() {
        return bad("SETMETADATA needs an entry");
    }
    Ok(CommandBody::SetMetadata { mailbox, entries })
}

/// An entry name (RFC 5464 §3.2): /private or /shared, then components
/// of printable ASCII without `*` or `%`, no empty component, no
/// trailing `/`. The bare /private and /shared name only the roots
/// GETMETADATA may look below.
fn entry(c: &mut Cursor<'_>, root_allowed: bool) -> Step<String> {
    let name = c.astring()?;
    if !name
        .iter()
        .all(|&b| (b' ' + 1..0x7f).contains(&b) && b != b'*' && b != b'%')
    {
        return bad("entry names are printable ASCII without * or %");
    }
    let name = String::from_utf8_lossy(&name).to_ascii_lowercase();
    let rest = match name.strip_prefix("/private").or_else(|| name.strip_prefix("/shared")) {
        Some("") if root_allowed => return Ok(name),
        Some(rest) if rest.starts_with('/') => &rest[1..],
        _ => return bad("entry names begin with /private/ or /shared/"),
    };
    if rest.is_empty() || rest.split('/').any(str::is_empty) {
        return bad("entry names have no empty components");
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imap::{Limits, parse_command};

    fn parse(line: &str) -> Result<CommandBody, String> {
        parse_command(line.as_bytes(), Limits::default())
            .map(|(command, _)| command.body)
            .map_err(|e| format!("{e:?}"))
    }

    #[test]
    fn getmetadata_with_options_and_entry_lists() {
        assert_eq!(
            parse("a GETMETADATA (MAXSIZE 1024 DEPTH infinity) INBOX (/Shared/Comment /private)\r\n"),
            Ok(CommandBody::GetMetadata {
                mailbox: b"INBOX".to_vec(),
                max_size: Some(1024),
                depth: MetadataDepth::Infinity,
                entries: vec!["/shared/comment".into(), "/private".into()],
            })
        );
        assert_eq!(
            parse("a GETMETADATA \"\" (DEPTH 1) /shared/admin\r\n"),
            Ok(CommandBody::GetMetadata {
                mailbox: Vec::new(),
                max_size: None,
                depth: MetadataDepth::One,
                entries: vec!["/shared/admin".into()],
            })
        );
    }

    #[test]
    fn setmetadata_values_are_strings_literals_or_nil() {
        assert_eq!(
            parse("a SETMETADATA INBOX (/private/comment \"x\" /shared/comment NIL /private/a ~{2}\r\n\0b)\r\n"),
            Ok(CommandBody::SetMetadata {
                mailbox: b"INBOX".to_vec(),
                entries: vec![
                    ("/private/comment".into(), Some(b"x".to_vec())),
                    ("/shared/comment".into(), None),
                    ("/private/a".into(), Some(b"\0b".to_vec())),
                ],
            })
        );
    }

    #[test]
    fn bad_entry_names_are_refused() {
        for name in [
            "/other/x",
            "/private/",
            "/private//x",
            "/private/x/",
            "\"/private/a*\"",
            "/shared",
        ] {
            assert!(
                parse(&format!("a SETMETADATA INBOX ({name} NIL)\r\n")).is_err(),
                "{name}"
            );
        }
        assert!(parse("a GETMETADATA (DEPTH 2) INBOX /private\r\n").is_err());
        assert!(parse("a GETMETADATA INBOX ()\r\n").is_err());
    }
}
