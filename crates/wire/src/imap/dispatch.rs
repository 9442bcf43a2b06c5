//! From bytes to a [`Command`]: [`parse_command`] reads the tag, an
//! optional UID prefix and the command's name, hands the arguments to the
//! parser of the command's family, and turns whatever stopped it into the
//! answer the session gives (incomplete, too long, or BAD with the tag).
//! Longer commands' arguments are parsed in their own files (`fetch.rs`,
//! `search.rs`, `store.rs`, `list.rs`, `append.rs` and the extensions').

use super::command::{Command, CommandBody};
use super::parser::{Cursor, Limits, ParseError, Step, Stop, bad};
use super::qresync::{SelectParams, select_params};
use super::sequence::sequence_set;

/// Parses the first command in `buf`, literals included.
pub fn parse_command(buf: &[u8], limits: Limits) -> Result<(Command, usize), ParseError> {
    let mut c = Cursor::new(buf, limits);
    let result = command(&mut c);
    match result {
        // Over the limits however it came: the same answer as when its
        // prefixes arrived first.
        Ok(_) if c.longest_line.max(c.pos - c.line_start) > limits.max_line => Err(ParseError::LineTooLong),
        Ok(_) if c.pos as u64 > limits.max_command.saturating_add(1) => Err(ParseError::LineTooLong),
        Ok(command) => Ok((command, c.pos)),
        Err(Stop::Incomplete) => {
            let line = buf.len() - c.line_start;
            if (!c.in_literal && line >= limits.max_line) || buf.len() as u64 > limits.max_command {
                Err(ParseError::LineTooLong)
            } else {
                Err(ParseError::Incomplete { literals: c.literals })
            }
        }
        Err(Stop::Bad(reason)) => match line_end(buf, c.pos) {
            Some(consumed) => Err(ParseError::Bad {
                consumed,
                tag: leading_tag(buf),
                reason,
            }),
            None if buf.len() - c.line_start >= limits.max_line => Err(ParseError::LineTooLong),
            None => Err(ParseError::Incomplete { literals: c.literals }),
        },
        Err(Stop::LiteralTooBig { non_synchronising }) => match line_end(buf, c.pos) {
            Some(consumed) => Err(ParseError::LiteralTooBig {
                consumed,
                tag: leading_tag(buf),
                non_synchronising,
            }),
            None => Err(ParseError::Incomplete { literals: c.literals }),
        },
    }
}

/// Where the line holding `position` ends, after its LF.
fn line_end(buf: &[u8], position: usize) -> Option<usize> {
    let from = position.min(buf.len());
    buf[from..].iter().position(|&b| b == b'\n').map(|i| from + i + 1)
}

/// The tag of a command that could not be parsed, to answer it tagged.
pub(crate) fn leading_tag(buf: &[u8]) -> Option<String> {
    let end = buf.iter().position(|&b| !is_tag_char(b))?;
    (end > 0 && buf[end] == b' ').then(|| String::from_utf8_lossy(&buf[..end]).into_owned())
}

/// tag = 1*<any ASTRING-CHAR except "+">
fn is_tag_char(b: u8) -> bool {
    b > b' ' && b < 0x7f && !b"(){%*\"\\+".contains(&b)
}

fn command(c: &mut Cursor<'_>) -> Step<Command> {
    let tag = c.token(is_tag_char, "a tag")?.to_string();
    c.space()?;
    let mut name = c.keyword()?;
    let uid = name == "UID";
    if uid {
        c.space()?;
        name = c.keyword()?;
        if !matches!(
            name.as_str(),
            "FETCH" | "STORE" | "COPY" | "MOVE" | "SEARCH" | "EXPUNGE" | "SORT" | "THREAD" | "REPLACE"
        ) {
            return bad(format!("UID {name} is not a command"));
        }
    }
    let body = body(c, &name, uid)?;
    c.end()?;
    Ok(Command { tag, body })
}

/// A mailbox name argument.
pub(crate) fn mailbox(c: &mut Cursor<'_>) -> Step<Vec<u8>> {
    c.space()?;
    c.astring()
}

/// The arguments of the command called `name`. The commands come in the
/// four families of RFC 9051 §9's grammar (`command-any`,
/// `command-nonauth`, `command-auth`, `command-select`), IMAP4rev1's LSUB
/// and CHECK (RFC 3501 §9) and the extensions' commands with the family of
/// the state they need; whether a session's state allows a command is the
/// server's to check, not the parser's. Each family answers `None` for a
/// name it does not have, before reading anything.
fn body(c: &mut Cursor<'_>, name: &str, uid: bool) -> Step<CommandBody> {
    if let Some(body) = any_state(c, name)? {
        return Ok(body);
    }
    if let Some(body) = not_authenticated(c, name)? {
        return Ok(body);
    }
    if let Some(body) = authenticated(c, name)? {
        return Ok(body);
    }
    if let Some(body) = selected(c, name, uid)? {
        return Ok(body);
    }
    bad(format!("unknown command {name}"))
}

/// `command-any`: valid in every state, with ID (RFC 2971).
fn any_state(c: &mut Cursor<'_>, name: &str) -> Step<Option<CommandBody>> {
    Ok(Some(match name {
        "CAPABILITY" => CommandBody::Capability,
        "NOOP" => CommandBody::Noop,
        "LOGOUT" => CommandBody::Logout,
        "ID" => id(c)?,
        _ => return Ok(None),
    }))
}

/// `command-nonauth`: before the client has logged in.
fn not_authenticated(c: &mut Cursor<'_>, name: &str) -> Step<Option<CommandBody>> {
    Ok(Some(match name {
        "STARTTLS" => CommandBody::StartTls,
        "AUTHENTICATE" => authenticate(c)?,
        "LOGIN" => {
            c.space()?;
            let user = c.astring_text()?;
            c.space()?;
            let password = c.astring_text()?;
            CommandBody::Login { user, password }
        }
        _ => return Ok(None),
    }))
}

/// `command-auth`: once logged in, whether or not a mailbox is selected.
fn authenticated(c: &mut Cursor<'_>, name: &str) -> Step<Option<CommandBody>> {
    Ok(Some(match name {
        "NAMESPACE" => CommandBody::Namespace,
        "IDLE" => CommandBody::Idle,
        "NOTIFY" => CommandBody::Notify(super::notify::notify(c)?),
        "ENABLE" => {
            let mut capabilities = Vec::new();
            while c.maybe_space()? {
                capabilities.push(c.keyword()?);
            }
            if capabilities.is_empty() {
                return bad("ENABLE needs a capability");
            }
            CommandBody::Enable(capabilities)
        }
        "SELECT" | "EXAMINE" => {
            let mailbox = mailbox(c)?;
            let params = if c.maybe_space()? {
                select_params(c)?
            } else {
                SelectParams::default()
            };
            if name == "SELECT" {
                CommandBody::Select { mailbox, params }
            } else {
                CommandBody::Examine { mailbox, params }
            }
        }
        "CREATE" => CommandBody::Create {
            mailbox: mailbox(c)?,
            uses: super::create::create_params(c)?,
        },
        "DELETE" => CommandBody::Delete { mailbox: mailbox(c)? },
        "SUBSCRIBE" => CommandBody::Subscribe { mailbox: mailbox(c)? },
        "UNSUBSCRIBE" => CommandBody::Unsubscribe { mailbox: mailbox(c)? },
        "RENAME" => {
            let from = mailbox(c)?;
            CommandBody::Rename { from, to: mailbox(c)? }
        }
        "LIST" => super::list::list(c)?,
        "LSUB" => super::list::lsub(c)?,
        "STATUS" => super::list::status(c)?,
        "APPEND" => super::append::append(c)?,
        "GETQUOTA" | "GETQUOTAROOT" | "SETQUOTA" => super::quota::quota_command(c, name)?,
        "GETMETADATA" => super::metadata::getmetadata(c)?,
        "SETMETADATA" => super::metadata::setmetadata(c)?,
        "COMPRESS" => {
            c.space()?;
            CommandBody::Compress(c.keyword()?)
        }
        _ => return Ok(None),
    }))
}

/// `command-select`: with a mailbox selected; the only family that takes
/// the UID prefix (`uid`).
fn selected(c: &mut Cursor<'_>, name: &str, uid: bool) -> Step<Option<CommandBody>> {
    Ok(Some(match name {
        "CLOSE" => CommandBody::Close,
        "UNSELECT" => CommandBody::Unselect,
        "CANCELUPDATE" => super::context::cancel_update(c)?,
        "CHECK" => CommandBody::Noop,
        "EXPUNGE" if uid => {
            c.space()?;
            CommandBody::Expunge {
                uids: Some(sequence_set(c)?),
            }
        }
        "EXPUNGE" => CommandBody::Expunge { uids: None },
        "REPLACE" => super::append::replace(c, uid)?,
        "SEARCH" => super::search::search_command(c, uid)?,
        "SORT" => super::sort::sort(c, uid)?,
        "THREAD" => super::sort::thread(c, uid)?,
        "FETCH" => super::fetch::fetch_command(c, uid)?,
        "STORE" => super::store::store(c, uid)?,
        "COPY" | "MOVE" => {
            c.space()?;
            let set = sequence_set(c)?;
            let mailbox = mailbox(c)?;
            if name == "COPY" {
                CommandBody::Copy { uid, set, mailbox }
            } else {
                CommandBody::Move { uid, set, mailbox }
            }
        }
        _ => return Ok(None),
    }))
}

/// `AUTHENTICATE mechanism [initial-response]`.
fn authenticate(c: &mut Cursor<'_>) -> Step<CommandBody> {
    c.space()?;
    let mechanism = c.keyword()?;
    let initial_response = if c.maybe_space()? {
        // RFC 4959 SASL-IR: base64, or "=" for an empty response.
        Some(
            c.token(
                |b| b.is_ascii_alphanumeric() || b"+/=".contains(&b),
                "a base64 response",
            )?
            .as_bytes()
            .to_vec(),
        )
    } else {
        None
    };
    Ok(CommandBody::Authenticate {
        mechanism,
        initial_response,
    })
}

/// `ID (field value ...)` or `ID NIL` (RFC 2971 §3.1).
fn id(c: &mut Cursor<'_>) -> Step<CommandBody> {
    c.space()?;
    if c.peek() == Some(b'(') {
        let mut fields = Vec::new();
        c.open()?;
        while !c.close()? {
            if !fields.is_empty() {
                c.space()?;
            }
            let key = String::from_utf8_lossy(&c.string()?).into_owned();
            c.space()?;
            let value = c.nstring()?.map(|v| String::from_utf8_lossy(&v).into_owned());
            fields.push((key, value));
            if fields.len() > 30 {
                return bad("too many ID fields");
            }
        }
        Ok(CommandBody::Id(Some(fields)))
    } else if c.keyword()? == "NIL" {
        Ok(CommandBody::Id(None))
    } else {
        bad("ID takes a list or NIL")
    }
}

/// For the parser's tests: a whole command's body; panics unless
/// `input` parses and is used up.
#[cfg(test)]
pub(crate) fn test_parse(input: &str) -> CommandBody {
    let (command, used) = parse_command(input.as_bytes(), Limits::default()).unwrap();
    assert_eq!(used, input.len(), "{input:?}");
    command.body
}

/// For the parser's tests: whether `input` is refused.
#[cfg(test)]
pub(crate) fn test_fails(input: &str) -> bool {
    parse_command(input.as_bytes(), Limits::default()).is_err()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imap::{
        FetchItem, ListReturn, SearchKey, SearchReturn, SectionText, SeqNumber, SequenceSet, StatusItem, StoreMode,
    };

    use super::test_parse as parse;

    fn error(input: &str) -> ParseError {
        parse_command(input.as_bytes(), Limits::default()).unwrap_err()
    }

    #[test]
    fn simple_commands_and_tags() {
        let (command, _) = parse_command(b"a001 capability\r\n", Limits::default()).unwrap();
        assert_eq!((command.tag.as_str(), command.body), ("a001", CommandBody::Capability));
        assert_eq!(parse("x NOOP\r\n"), CommandBody::Noop);
        assert_eq!(parse("x IDLE\r\n"), CommandBody::Idle);
        assert_eq!(
            parse("x UID EXPUNGE 3:5\r\n"),
            CommandBody::Expunge {
                uids: Some(SequenceSet::Ranges(vec![(SeqNumber::Value(3), SeqNumber::Value(5))]))
            }
        );
        assert_eq!(
            parse("x ENABLE IMAP4rev2 utf8=accept\r\n"),
            CommandBody::Enable(vec!["IMAP4REV2".into(), "UTF8=ACCEPT".into()])
        );
    }

    #[test]
    fn login_with_quoted_and_literal_strings() {
        assert_eq!(
            parse("a LOGIN alice \"pa ss\\\"word\"\r\n"),
            CommandBody::Login {
                user: "alice".into(),
                password: "pa ss\"word".into()
            }
        );
        assert_eq!(
            parse("a LOGIN {5}\r\nalice {3+}\r\npwd\r\n"),
            CommandBody::Login {
                user: "alice".into(),
                password: "pwd".into()
            }
        );
    }

    #[test]
    fn a_literal_size_not_ending_its_line_is_no_literal() {
        // Over the limit and followed by CRLF: a literal refused by size.
        assert!(matches!(
            error("a LOGIN {999999999}\r\n"),
            ParseError::LiteralTooBig { consumed: 21, .. }
        ));
        // Followed by anything else it announces nothing: the command is
        // bad, as the framer (which sees no literal) expects (a fuzz find).
        assert!(matches!(error("a LOGIN {999999999}x\r\n"), ParseError::Bad { .. }));
        assert!(matches!(error("a LOGIN {999999999}\rx\n"), ParseError::Bad { .. }));
    }

    #[test]
    fn synchronising_literals_are_counted_for_continuations() {
        let input = b"a LOGIN {5}\r\nalice {3}\r\npwd\r\n";
        assert_eq!(
            parse_command(&input[..13], Limits::default()),
            Err(ParseError::Incomplete { literals: 1 })
        );
        assert_eq!(
            parse_command(&input[..24], Limits::default()),
            Err(ParseError::Incomplete { literals: 2 })
        );
        for cut in 0..input.len() {
            assert!(
                matches!(
                    parse_command(&input[..cut], Limits::default()),
                    Err(ParseError::Incomplete { .. })
                ),
                "cut {cut}"
            );
        }
        assert!(parse_command(input, Limits::default()).is_ok());
    }

    #[test]
    fn append_with_flags_date_and_multiappend() {
        let CommandBody::Append { mailbox, messages } =
            parse("a APPEND Sent (\\Seen $Junk) \"17-Jul-1996 02:44:25 -0700\" {5+}\r\nhello ~{3+}\r\nb\0n\r\n")
        else {
            panic!("not an APPEND")
        };
        assert_eq!(mailbox, b"Sent");
        assert_eq!(messages[0].flags, ["\\Seen", "$Junk"]);
        assert_eq!(messages[0].date, Some(837_596_665));
        assert_eq!(messages[0].content, b"hello");
        assert!(!messages[0].binary && messages[1].binary);
        assert_eq!(messages[1].content, b"b\0n");
    }

    #[test]
    fn fetch_items_sections_and_partials() {
        let CommandBody::Fetch { uid, items, .. } = parse(
            "a UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From Subject)] BODY[1.2.MIME] BINARY[2]<0.100> RFC822.SIZE)\r\n",
        ) else {
            panic!("not a FETCH")
        };
        assert!(uid);
        assert_eq!(items[0], FetchItem::Flags);
        let FetchItem::BodySection {
            section,
            peek: true,
            partial: None,
        } = &items[1]
        else {
            panic!("{:?}", items[1])
        };
        assert_eq!(
            section.text,
            Some(SectionText::HeaderFields(vec!["From".into(), "Subject".into()]))
        );
        let FetchItem::BodySection { section, .. } = &items[2] else {
            panic!()
        };
        assert_eq!(
            (section.part.as_slice(), &section.text),
            (&[1, 2][..], &Some(SectionText::Mime))
        );
        assert_eq!(
            items[3],
            FetchItem::Binary {
                part: vec![2],
                partial: Some((0, 100)),
                peek: false
            }
        );
        let CommandBody::Fetch { items, .. } = parse("a FETCH 2 ALL\r\n") else {
            panic!()
        };
        assert_eq!(items.len(), 4);
        let CommandBody::Fetch { items, .. } = parse("a FETCH 2 BODY[]\r\n") else {
            panic!()
        };
        assert!(
            matches!(&items[0], FetchItem::BodySection { section, .. } if section.part.is_empty() && section.text.is_none())
        );
    }

    #[test]
    fn search_keys_nest() {
        let CommandBody::Search { returns, key, .. } = parse(
            "a SEARCH RETURN (MIN COUNT) CHARSET UTF-8 OR FROM alice (SINCE 1-Feb-2026 NOT SEEN) UID 1:5 LARGER 100\r\n",
        ) else {
            panic!()
        };
        assert_eq!(returns, Some(vec![SearchReturn::Min, SearchReturn::Count]));
        let SearchKey::And(keys) = key else { panic!("{key:?}") };
        assert!(matches!(&keys[0], SearchKey::Or(left, right)
            if **left == SearchKey::From(b"alice".to_vec()) && matches!(**right, SearchKey::And(_))));
        assert_eq!(keys[2], SearchKey::Larger(100));
        assert_eq!(
            parse("a SEARCH 2,4:*\r\n"),
            CommandBody::Search {
                uid: false,
                returns: None,
                charset: None,
                key: SearchKey::Sequence(SequenceSet::Ranges(vec![
                    (SeqNumber::Value(2), SeqNumber::Value(2)),
                    (SeqNumber::Value(4), SeqNumber::Largest)
                ]))
            }
        );
    }

    #[test]
    fn store_list_status_and_id() {
        assert_eq!(
            parse("a STORE 1:3 +FLAGS.SILENT (\\Deleted)\r\n"),
            CommandBody::Store {
                uid: false,
                set: SequenceSet::Ranges(vec![(SeqNumber::Value(1), SeqNumber::Value(3))]),
                mode: StoreMode::Add,
                silent: true,
                flags: vec!["\\Deleted".into()],
                unchanged_since: None,
            }
        );
        let CommandBody::List {
            selection,
            patterns,
            returns,
            ..
        } = parse("a LIST (SUBSCRIBED) \"\" (\"*\" %) RETURN (CHILDREN STATUS (MESSAGES UNSEEN))\r\n")
        else {
            panic!()
        };
        assert_eq!(selection, ["SUBSCRIBED"]);
        assert_eq!(patterns, [b"*".to_vec(), b"%".to_vec()]);
        assert_eq!(
            returns[1],
            ListReturn::Status(vec![StatusItem::Messages, StatusItem::Unseen])
        );
        assert_eq!(
            parse("a STATUS INBOX (UIDNEXT SIZE)\r\n"),
            CommandBody::Status {
                mailbox: b"INBOX".to_vec(),
                items: vec![StatusItem::UidNext, StatusItem::Size]
            }
        );
        assert_eq!(
            parse("a ID (\"name\" \"mutt\" \"version\" NIL)\r\n"),
            CommandBody::Id(Some(vec![
                ("name".into(), Some("mutt".into())),
                ("version".into(), None)
            ]))
        );
    }

    #[test]
    fn bad_commands_report_tag_and_length() {
        for input in [
            "a FOO\r\n",
            "a FETCH 0 FLAGS\r\n",
            "a FETCH 1 BODY[99.HEADER.FOO]\r\n",
            "a LOGIN\r\n",
            "a SEARCH SINCE 31-Foo-2026\r\n",
            "a STORE 1 FLAGS\r\n",
            "a UID LOGIN x y\r\n",
        ] {
            match error(input) {
                ParseError::Bad { consumed, tag, .. } => {
                    assert_eq!(consumed, input.len(), "{input:?}");
                    assert_eq!(tag.as_deref(), Some("a"));
                }
                other => panic!("{input:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn client_text_is_never_sliced_inside_a_character() {
        // Issue 12: a non-ASCII time zone (or clock) panicked the session.
        for input in [
            "a APPEND INBOX \"01-Jan-2020 00:00:00 é123\" {1+}\r\nx\r\n",
            "a APPEND INBOX \"01-Jan-2020 0é:00:00 +0100\" {1+}\r\nx\r\n",
            "a APPEND INBOX \"01-Jan-2020 00:00:00 +01é\" {1+}\r\nx\r\n",
        ] {
            assert!(
                matches!(error(input), ParseError::Bad { tag: Some(tag), .. } if tag == "a"),
                "{input:?}"
            );
        }
    }

    #[test]
    fn tilde_is_an_atom_char_outside_append_data() {
        // Issue 13, defect 3: `~` starts a literal8 only in APPEND.
        assert_eq!(
            parse("a SELECT ~foo\r\n"),
            CommandBody::Select {
                mailbox: b"~foo".to_vec(),
                params: SelectParams::default()
            }
        );
        let CommandBody::List {
            reference, patterns, ..
        } = parse("a LIST ~ref ~foo/%\r\n")
        else {
            panic!()
        };
        assert_eq!((reference, patterns), (b"~ref".to_vec(), vec![b"~foo/%".to_vec()]));
        assert_eq!(
            parse("a LOGIN ~user ~pass\r\n"),
            CommandBody::Login {
                user: "~user".into(),
                password: "~pass".into()
            }
        );
        let CommandBody::Append { mailbox, messages } = parse("a APPEND ~box ~{2}\r\n\0\x01\r\n") else {
            panic!()
        };
        assert_eq!((mailbox, messages[0].binary), (b"~box".to_vec(), true));
        assert_eq!(messages[0].content, b"\0\x01");
        // Elsewhere `~{n}` is no literal: a clear BAD, nothing else.
        assert!(matches!(error("a SELECT ~{3}\r\nabc\r\n"), ParseError::Bad { tag: Some(t), .. } if t == "a"));
        assert!(matches!(error("a APPEND x \"hello\"\r\n"), ParseError::Bad { .. }));
    }

    #[test]
    fn list_selection_options_are_checked() {
        // Issue 13, defect 4 (RFC 5258 §3.1).
        for input in [
            "a LIST (XFOO) \"\" \"\"\r\n",
            "a LIST (RECURSIVEMATCH) \"\" %\r\n",
            "a LIST (REMOTE RECURSIVEMATCH) \"\" %\r\n",
            "a LIST (SUBSCRIBED) \"\" % RETURN (XFOO)\r\n",
        ] {
            assert!(matches!(error(input), ParseError::Bad { .. }), "{input:?}");
        }
        for input in [
            "a LIST () \"\" %\r\n",
            "a LIST (REMOTE) \"\" %\r\n",
            "a LIST (subscribed recursivematch) \"\" %\r\n",
            "a LIST (SPECIAL-USE RECURSIVEMATCH) \"\" %\r\n",
            "a LIST (REMOTE SUBSCRIBED RECURSIVEMATCH) \"\" % RETURN (CHILDREN)\r\n",
        ] {
            assert!(matches!(parse(input), CommandBody::List { .. }), "{input:?}");
        }
    }

    #[test]
    fn a_quoted_string_cut_by_a_line_end_is_bad_up_to_that_end() {
        let input = "a LOGIN \"alice\r\nb NOOP\r\n";
        assert!(matches!(error(input), ParseError::Bad { consumed: 16, .. }));
    }

    #[test]
    fn limits_hold_against_hostile_input() {
        let limits = Limits {
            max_line: 100,
            max_literal: 1000,
            max_depth: 4,
            max_command: 10_000,
            max_literals: 10,
        };
        assert_eq!(parse_command(&[b'x'; 200], limits), Err(ParseError::LineTooLong));
        let huge = b"a APPEND INBOX {9223372036854775808}\r\n";
        assert_eq!(
            parse_command(huge, limits),
            Err(ParseError::LiteralTooBig {
                consumed: huge.len(),
                tag: Some("a".into()),
                non_synchronising: false
            })
        );
        let huge_plus = b"a APPEND INBOX {5000+}\r\n";
        assert!(matches!(
            parse_command(huge_plus, limits),
            Err(ParseError::LiteralTooBig {
                non_synchronising: true,
                ..
            })
        ));
        let deep = format!("a SEARCH {}ALL{}\r\n", "(".repeat(10), ")".repeat(10));
        assert!(matches!(
            parse_command(deep.as_bytes(), limits),
            Err(ParseError::Bad { .. })
        ));
        // A literal's data may be longer than a line.
        let long_literal = format!("a LOGIN {{500}}\r\n{} x\r\n", "u".repeat(500));
        assert!(parse_command(long_literal.as_bytes(), limits).is_ok());
    }
}
