//! The message argument of APPEND (RFC 9051 §6.3.12, `append-message`),
//! shared with REPLACE (RFC 8508 §3), and REPLACE itself.

use super::command::{AppendMessage, CommandBody, date_time, flag_list};
use super::parser::{Cursor, Step, bad};

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
    })
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
    use crate::imap::{CommandBody, Limits, parse_command};

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
