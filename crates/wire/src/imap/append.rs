//! APPEND (RFC 9051 §6.3.12) and its message argument (`append-message`,
//! with the INTERNALDATE it may carry), shared with REPLACE (RFC 8508 §3),
//! and REPLACE itself.

use super::command::{AppendMessage, CatenatePart, CommandBody};
use super::dispatch::mailbox;
use super::parser::{Cursor, Limits, Step, bad};
use super::search::date;
use super::store::flag_list;

/// APPEND mailbox [flags] [date-time] literal, repeated for MULTIAPPEND.
pub(crate) fn append(c: &mut Cursor<'_>) -> Step<CommandBody> {
    let mailbox = mailbox(c)?;
    let mut messages = Vec::new();
    while c.maybe_space()? {
        messages.push(append_message(c)?);
    }
    if messages.is_empty() {
        return bad("APPEND needs a message");
    }
    Ok(CommandBody::Append { mailbox, messages })
}

/// `[flag-list SP] [date-time SP] literal` (a `~{n}` literal8 for BINARY,
/// RFC 3516 §4.4).
pub(crate) fn append_message(c: &mut Cursor<'_>) -> Step<AppendMessage> {
    let mut flags = Vec::new();
    let mut date = None;
    if c.peek() == Some(b'(') {
        flags = flag_list(c)?;
        c.space()?;
    }
    if c.peek() == Some(b'"') {
        date = Some(date_time(c)?);
        c.space()?;
    }
    if matches!(c.peek(), Some(b'C' | b'c')) {
        let word = c.keyword()?;
        if word != "CATENATE" {
            return bad(format!("APPEND needs a literal or CATENATE, not {word}"));
        }
        c.space()?;
        return Ok(AppendMessage {
            flags,
            date,
            content: Vec::new(),
            binary: false,
            catenate: catenate_parts(c)?,
        });
    }
    let binary = c.peek() == Some(b'~');
    if !matches!(c.peek(), Some(b'{' | b'~')) {
        return bad("APPEND needs the message as a literal");
    }
    let content = c.literal()?;
    Ok(AppendMessage {
        flags,
        date,
        content,
        binary,
        catenate: Vec::new(),
    })
}

/// `"(" cat-part *(SP cat-part) ")"`, cat-part = "TEXT" SP literal /
/// "URL" SP astring (RFC 4469 §5).
fn catenate_parts(c: &mut Cursor<'_>) -> Step<Vec<CatenatePart>> {
    let parts = c.list(|c| {
        let kind = c.keyword()?;
        c.space()?;
        match kind.as_str() {
            "TEXT" => {
                if !matches!(c.peek(), Some(b'{' | b'~')) {
                    return bad("CATENATE TEXT needs a literal");
                }
                Ok(CatenatePart::Text(c.literal()?))
            }
            "URL" => Ok(CatenatePart::Url(String::from_utf8_lossy(&c.astring()?).into_owned())),
            other => bad(format!("unknown CATENATE part {other}")),
        }
    })?;
    if parts.is_empty() {
        return bad("CATENATE needs at least one part");
    }
    Ok(parts)
}

/// date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
fn date_time(c: &mut Cursor<'_>) -> Step<i64> {
    let text = String::from_utf8(c.string()?).unwrap_or_default();
    let parsed = (|| {
        let (day_part, rest) = text.trim_start().split_once(' ')?;
        let (time, zone) = rest.split_once(' ')?;
        let day_bytes = format!("{day_part}\r\n");
        let mut day_cursor = Cursor::new(day_bytes.as_bytes(), Limits::default());
        let day = date(&mut day_cursor).ok()?;
        // Client text: read as bytes, never sliced at a byte position
        // that could fall inside a character (issue 12).
        let mut clock = time.split(':').map(two_digits);
        let (h, m, s) = (clock.next()??, clock.next()??, clock.next()??);
        if clock.next().is_some() || h > 23 || m > 59 || s > 60 {
            return None;
        }
        // zone = ("+" / "-") 4DIGIT
        let (sign, zone) = zone.as_bytes().split_first()?;
        let sign = match sign {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let (zh, zm) = match zone {
            [a, b, c, d] => (two_digits_of(*a, *b)?, two_digits_of(*c, *d)?),
            _ => return None,
        };
        let days = crate::date::days_from_civil(i64::from(day.year), i64::from(day.month), i64::from(day.day));
        Some(days * 86_400 + h * 3600 + m * 60 + s - sign * (zh * 3600 + zm * 60))
    })();
    parsed.map_or_else(
        || {
            bad(format!(
                "{text:?} is not a date-time like \"17-Jul-1996 02:44:25 -0700\""
            ))
        },
        Ok,
    )
}

/// Exactly two ASCII digits.
fn two_digits(text: &str) -> Option<i64> {
    match text.as_bytes() {
        [a, b] => two_digits_of(*a, *b),
        _ => None,
    }
}

fn two_digits_of(a: u8, b: u8) -> Option<i64> {
    (a.is_ascii_digit() && b.is_ascii_digit()).then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
}

/// `REPLACE SP seq-number SP mailbox SP append-message` (RFC 8508 §6);
/// `uid` for UID REPLACE, whose number is a UID.
pub(crate) fn replace(c: &mut Cursor<'_>, uid: bool) -> Step<CommandBody> {
    c.space()?;
    let number = c.number()?;
    if number == 0 {
        return bad("REPLACE needs a message number or UID, not 0");
    }
    c.space()?;
    let mailbox = c.astring()?;
    c.space()?;
    let message = append_message(c)?;
    Ok(CommandBody::Replace {
        uid,
        number,
        mailbox,
        message,
    })
}

#[cfg(test)]
mod tests {
    use crate::imap::{CatenatePart, CommandBody, Limits, parse_command};

    fn parse(line: &[u8]) -> Result<CommandBody, crate::imap::ParseError> {
        parse_command(line, Limits::default()).map(|(command, _)| command.body)
    }

    #[test]
    fn replace_and_uid_replace() {
        // RFC 8508 §3.1's example, its literal shortened.
        let CommandBody::Replace {
            uid,
            number,
            mailbox,
            message,
        } = parse(b"A003 REPLACE 4 Drafts (\\Seen \\Draft) {5+}\r\nhello\r\n").unwrap()
        else {
            panic!("not a REPLACE")
        };
        assert!(!uid);
        assert_eq!((number, mailbox.as_slice()), (4, b"Drafts".as_slice()));
        assert_eq!(message.flags, ["\\Seen", "\\Draft"]);
        assert_eq!(message.content, b"hello");
        let CommandBody::Replace { uid, number, .. } =
            parse(b"A004 UID REPLACE 2000 Drafts \"17-Jul-1996 02:44:25 -0700\" {1+}\r\nx\r\n").unwrap()
        else {
            panic!("not a UID REPLACE")
        };
        assert!(uid);
        assert_eq!(number, 2000);
    }

    #[test]
    fn catenate_with_multiappend() {
        // RFC 4469 §5's first example, shortened, then a plain message.
        let line = b"A003 APPEND Drafts (\\Seen \\Draft $MDNSent) CATENATE \
            (URL \"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER\" TEXT {4+}\r\nbody \
            URL \"/Drafts;UIDVALIDITY=385759045/;UID=30\") {1+}\r\nx\r\n";
        let CommandBody::Append { messages, .. } = parse(line).unwrap() else {
            panic!("not an APPEND")
        };
        assert_eq!(messages.len(), 2);
        assert_eq!(
            messages[0].catenate,
            [
                CatenatePart::Url("/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER".into()),
                CatenatePart::Text(b"body".to_vec()),
                CatenatePart::Url("/Drafts;UIDVALIDITY=385759045/;UID=30".into()),
            ]
        );
        assert!(messages[0].content.is_empty());
        assert_eq!(messages[1].content, b"x");
        for line in [
            &b"a APPEND Drafts CATENATE ()\r\n"[..],
            b"a APPEND Drafts CATENATE (TEXT \"x\")\r\n",
            b"a APPEND Drafts CATENATE (FOO \"x\")\r\n",
            b"a APPEND Drafts CONCATENATE (URL \"/a/;UID=1\")\r\n",
        ] {
            assert!(parse(line).is_err(), "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn bad_replaces() {
        for line in [
            &b"a REPLACE 1:2 Drafts {1+}\r\nx\r\n"[..],
            b"a REPLACE 0 Drafts {1+}\r\nx\r\n",
            b"a REPLACE 1 Drafts\r\n",
            b"a REPLACE 1 Drafts {1+}\r\nx {1+}\r\ny\r\n",
        ] {
            assert!(parse(line).is_err(), "{}", String::from_utf8_lossy(line));
        }
    }
}
