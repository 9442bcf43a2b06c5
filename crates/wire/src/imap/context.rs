//! CANCELUPDATE (RFC 5267 §4.3.5): `CANCELUPDATE 1*(SP quoted)`, the tags
//! of the searching commands whose updates should stop. The CONTEXT and
//! UPDATE return options themselves are parsed with the other RETURN
//! options (`search.rs`).

use super::parser::{Cursor, Step, bad};

/// What follows `CANCELUPDATE`: one or more quoted tags (RFC 5267 §5).
pub(crate) fn cancel_update(c: &mut Cursor<'_>) -> Step<super::CommandBody> {
    let mut tags = Vec::new();
    loop {
        c.space()?;
        // `quoted` only: a tag is short, and the grammar has no literal here.
        if c.peek() != Some(b'"') {
            return bad("CANCELUPDATE takes quoted tags");
        }
        let tag = c.string()?;
        tags.push(String::from_utf8_lossy(&tag).into_owned());
        if c.peek() != Some(b' ') {
            return Ok(super::CommandBody::CancelUpdate(tags));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::imap::dispatch::{test_fails as fails, test_parse as parse};
    use crate::imap::{CommandBody, SearchReturn};

    #[test]
    fn cancelupdate_takes_quoted_tags() {
        assert_eq!(
            parse("B04 CANCELUPDATE \"B01\"\r\n"),
            CommandBody::CancelUpdate(vec!["B01".into()])
        );
        assert_eq!(
            parse("x CANCELUPDATE \"a\" \"b c\"\r\n"),
            CommandBody::CancelUpdate(vec!["a".into(), "b c".into()])
        );
        assert!(fails("x CANCELUPDATE\r\n"));
        assert!(fails("x CANCELUPDATE B01\r\n"));
        assert!(fails("x CANCELUPDATE {3}\r\nB01\r\n"));
        assert!(fails("x CANCELUPDATE \"a\" \r\n"));
    }

    #[test]
    fn context_and_update_return_options() {
        let CommandBody::Search { returns, .. } = parse("A01 SEARCH RETURN (CONTEXT COUNT) UNDELETED\r\n") else {
            panic!()
        };
        assert_eq!(returns, Some(vec![SearchReturn::Context, SearchReturn::Count]));
        let CommandBody::Sort { returns, .. } = parse("B01 UID SORT RETURN (UPDATE) (DATE) UTF-8 ALL\r\n") else {
            panic!()
        };
        assert_eq!(returns, Some(vec![SearchReturn::Update]));
        // Once each (as Dovecot has it): a second UPDATE means nothing more.
        assert!(fails("B01 SEARCH RETURN (UPDATE UPDATE) ALL\r\n"));
    }
}
