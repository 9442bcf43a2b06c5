//! IMAP commands (RFC 9051 §6, with the IMAP4rev1 commands of RFC 3501 and
//! the extensions postamt offers): a tagged line, with any literals, to a
//! [`Command`].

use super::fetch::{FetchItem, fetch_items};
use super::parser::{Cursor, Limits, ParseError, Step, Stop, bad};
use super::qresync::{FetchModifiers, SelectParams, fetch_modifiers, select_params};
use super::quota::quota_command;
use super::search::{SearchKey, SearchReturn, date, search_keys, search_return};
use super::sequence::{SequenceSet, sequence_set};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub tag: String,
    pub body: CommandBody,
}

/// How STORE changes flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    Replace,
    Add,
    Remove,
}

/// STATUS data items (RFC 9051 §6.3.11, RFC 7162 HIGHESTMODSEQ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusItem {
    Messages,
    UidNext,
    UidValidity,
    Unseen,
    Deleted,
    Size,
    Recent,
    HighestModSeq,
    /// RFC 9208 §4.3.
    DeletedStorage,
    /// RFC 8474 §4.
    MailboxId,
    /// RFC 7889 §3.
    AppendLimit,
}

/// LIST-EXTENDED return options (RFC 5258, RFC 6154, RFC 5819).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListReturn {
    Subscribed,
    Children,
    SpecialUse,
    Status(Vec<StatusItem>),
}

/// One message of an APPEND (several with MULTIAPPEND, RFC 3502).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessage {
    pub flags: Vec<String>,
    /// INTERNALDATE as seconds since the epoch.
    pub date: Option<i64>,
    pub content: Vec<u8>,
    /// Sent as `~{n}` (RFC 3516): may hold any octet.
    pub binary: bool,
    /// CATENATE (RFC 4469 §5): the parts the message is made of, in
    /// order; `content` is empty then.
    pub catenate: Vec<CatenatePart>,
}

/// One part of a CATENATE (RFC 4469 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatenatePart {
    /// `TEXT literal`: the bytes as sent.
    Text(Vec<u8>),
    /// `URL astring`: message data of this account (see
    /// [`super::imap_url`]), as the client wrote it.
    Url(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandBody {
    Capability,
    Noop,
    Logout,
    StartTls,
    Authenticate {
        mechanism: String,
        initial_response: Option<Vec<u8>>,
    },
    Login {
        user: String,
        password: String,
    },
    Enable(Vec<String>),
    Select {
        mailbox: Vec<u8>,
        params: SelectParams,
    },
    Examine {
        mailbox: Vec<u8>,
        params: SelectParams,
    },
    /// REPLACE and UID REPLACE (RFC 8508): `number` is a sequence number,
    /// or a UID with `uid`.
    Replace {
        uid: bool,
        number: u32,
        mailbox: Vec<u8>,
        message: AppendMessage,
    },
    Create {
        mailbox: Vec<u8>,
        /// CREATE-SPECIAL-USE (RFC 6154 §3): `(USE (\Drafts))`.
        uses: Vec<String>,
    },
    Delete {
        mailbox: Vec<u8>,
    },
    Rename {
        from: Vec<u8>,
        to: Vec<u8>,
    },
    Subscribe {
        mailbox: Vec<u8>,
    },
    Unsubscribe {
        mailbox: Vec<u8>,
    },
    List {
        selection: Vec<String>,
        reference: Vec<u8>,
        patterns: Vec<Vec<u8>>,
        returns: Vec<ListReturn>,
    },
    Lsub {
        reference: Vec<u8>,
        pattern: Vec<u8>,
    },
    Namespace,
    Status {
        mailbox: Vec<u8>,
        items: Vec<StatusItem>,
    },
    Append {
        mailbox: Vec<u8>,
        messages: Vec<AppendMessage>,
    },
    Idle,
    Close,
    Unselect,
    Expunge {
        uids: Option<SequenceSet>,
    },
    Search {
        uid: bool,
        returns: Option<Vec<SearchReturn>>,
        charset: Option<String>,
        key: SearchKey,
    },
    /// SORT and UID SORT (RFC 5256, RFC 5267 ESORT).
    Sort {
        uid: bool,
        returns: Option<Vec<SearchReturn>>,
        criteria: Vec<super::SortCriterion>,
        charset: String,
        key: SearchKey,
    },
    /// THREAD and UID THREAD (RFC 5256).
    Thread {
        uid: bool,
        algorithm: super::ThreadAlgorithm,
        charset: String,
        key: SearchKey,
    },
    Fetch {
        uid: bool,
        set: SequenceSet,
        items: Vec<FetchItem>,
        modifiers: FetchModifiers,
    },
    Store {
        uid: bool,
        set: SequenceSet,
        mode: StoreMode,
        silent: bool,
        flags: Vec<String>,
        unchanged_since: Option<u64>,
    },
    Copy {
        uid: bool,
        set: SequenceSet,
        mailbox: Vec<u8>,
    },
    Move {
        uid: bool,
        set: SequenceSet,
        mailbox: Vec<u8>,
    },
    Id(Option<Vec<(String, Option<String>)>>),
    /// NOTIFY (RFC 5465).
    Notify(super::notify::Notify),
    /// RFC 9208 §4.1.1.
    GetQuota {
        root: Vec<u8>,
    },
    /// RFC 9208 §4.1.2.
    GetQuotaRoot {
        mailbox: Vec<u8>,
    },
    /// RFC 9208 §4.1.3: resource names (upper-cased) and limits.
    SetQuota {
        root: Vec<u8>,
        limits: Vec<(String, u64)>,
    },
    /// COMPRESS (RFC 4978): the mechanism's name, upper-cased.
    Compress(String),
    /// GETMETADATA (RFC 5464 §4.2); "" is the server. Entry names are
    /// checked and lower-cased (see `metadata.rs`).
    GetMetadata {
        mailbox: Vec<u8>,
        max_size: Option<u64>,
        depth: super::MetadataDepth,
        entries: Vec<String>,
    },
    /// SETMETADATA (RFC 5464 §4.3): None removes the entry.
    SetMetadata {
        mailbox: Vec<u8>,
        entries: Vec<(String, Option<Vec<u8>>)>,
    },
    /// CANCELUPDATE (RFC 5267 §4.3.5): the tags whose updates end.
    CancelUpdate(Vec<String>),
}

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
fn mailbox(c: &mut Cursor<'_>) -> Step<Vec<u8>> {
    c.space()?;
    c.astring()
}

/// The arguments of the command called `name`: one arm per command, in the
/// order of RFC 9051 §6 and its extensions. Kept whole (longer than our
/// 100-line rule) because the list reads as the grammar's `command-any /
/// command-auth / command-nonauth / command-select` alternatives (RFC 9051
/// §9); each arm is a line or two, and longer ones call a helper.
fn body(c: &mut Cursor<'_>, name: &str, uid: bool) -> Step<CommandBody> {
    Ok(match name {
        "CAPABILITY" => CommandBody::Capability,
        "NOOP" => CommandBody::Noop,
        "LOGOUT" => CommandBody::Logout,
        "STARTTLS" => CommandBody::StartTls,
        "NAMESPACE" => CommandBody::Namespace,
        "IDLE" => CommandBody::Idle,
        "NOTIFY" => CommandBody::Notify(super::notify::notify(c)?),
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
        "AUTHENTICATE" => {
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
            CommandBody::Authenticate {
                mechanism,
                initial_response,
            }
        }
        "LOGIN" => {
            c.space()?;
            let user = c.astring_text()?;
            c.space()?;
            let password = c.astring_text()?;
            CommandBody::Login { user, password }
        }
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
        "REPLACE" => super::append::replace(c, uid)?,
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
        "LIST" => list(c)?,
        "LSUB" => {
            c.space()?;
            let reference = c.astring()?;
            c.space()?;
            CommandBody::Lsub {
                reference,
                pattern: list_mailbox(c)?,
            }
        }
        "STATUS" => {
            let mailbox = mailbox(c)?;
            c.space()?;
            CommandBody::Status {
                mailbox,
                items: status_items(c)?,
            }
        }
        "APPEND" => append(c)?,
        "GETQUOTA" | "GETQUOTAROOT" | "SETQUOTA" => quota_command(c, name)?,
        "SEARCH" => {
            let mut returns = None;
            let mut charset = None;
            c.space()?;
            let mut start = c.pos;
            let mut word = c.keyword().unwrap_or_default();
            if word == "RETURN" {
                c.space()?;
                returns = Some(search_return(c)?);
                c.space()?;
                start = c.pos;
                word = c.keyword().unwrap_or_default();
            }
            if word == "CHARSET" {
                c.space()?;
                charset = Some(c.astring_text()?);
                c.space()?;
            } else {
                c.pos = start;
            }
            CommandBody::Search {
                uid,
                returns,
                charset,
                key: search_keys(c)?,
            }
        }
        "SORT" => super::sort::sort(c, uid)?,
        "THREAD" => super::sort::thread(c, uid)?,
        "FETCH" => {
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
            CommandBody::Fetch {
                uid,
                set,
                items,
                modifiers,
            }
        }
        "STORE" => store(c, uid)?,
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
        "GETMETADATA" => super::metadata::getmetadata(c)?,
        "SETMETADATA" => super::metadata::setmetadata(c)?,
        "COMPRESS" => {
            c.space()?;
            CommandBody::Compress(c.keyword()?)
        }
        "ID" => {
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
                CommandBody::Id(Some(fields))
            } else if c.keyword()? == "NIL" {
                CommandBody::Id(None)
            } else {
                return bad("ID takes a list or NIL");
            }
        }
        other => return bad(format!("unknown command {other}")),
    })
}

/// list-mailbox = 1*list-char / string (list-char adds % * ] to atoms)
fn list_mailbox(c: &mut Cursor<'_>) -> Step<Vec<u8>> {
    match c.peek() {
        Some(b'"' | b'{') => c.string(),
        _ => Ok(c
            .token(
                |b| b > b' ' && b < 0x7f && !b"(){\"\\".contains(&b),
                "a mailbox pattern",
            )?
            .as_bytes()
            .to_vec()),
    }
}

/// LIST [(selection)] reference pattern(s) [RETURN (options)] (RFC 5258).
fn list(c: &mut Cursor<'_>) -> Step<CommandBody> {
    c.space()?;
    let mut selection = Vec::new();
    if c.peek() == Some(b'(') {
        selection = c.list(|c| c.keyword())?;
        c.space()?;
        check_selection(&selection)?;
    }
    let reference = c.astring()?;
    c.space()?;
    let patterns = if c.peek() == Some(b'(') {
        c.list(list_mailbox)?
    } else {
        vec![list_mailbox(c)?]
    };
    let mut returns = Vec::new();
    if c.maybe_space()? {
        if c.keyword()? != "RETURN" {
            return bad("expected RETURN");
        }
        c.space()?;
        c.open()?;
        while !c.close()? {
            if !returns.is_empty() {
                c.space()?;
            }
            returns.push(match c.keyword()?.as_str() {
                "SUBSCRIBED" => ListReturn::Subscribed,
                "CHILDREN" => ListReturn::Children,
                "SPECIAL-USE" => ListReturn::SpecialUse,
                "STATUS" => {
                    c.space()?;
                    ListReturn::Status(status_items(c)?)
                }
                other => return bad(format!("unknown LIST return option {other}")),
            });
        }
    }
    Ok(CommandBody::List {
        selection,
        reference,
        patterns,
        returns,
    })
}

/// RFC 5258 §3.1 (and SPECIAL-USE, RFC 6154 §2): only the selection
/// options we know, and RECURSIVEMATCH only with one that selects (not
/// alone, not with REMOTE alone); anything else is BAD.
fn check_selection(selection: &[String]) -> Step<()> {
    for option in selection {
        if !matches!(
            option.as_str(),
            "SUBSCRIBED" | "REMOTE" | "RECURSIVEMATCH" | "SPECIAL-USE"
        ) {
            return bad(format!("unknown LIST selection option {option}"));
        }
    }
    let recursive = selection.iter().any(|o| o == "RECURSIVEMATCH");
    let selecting = selection.iter().any(|o| o == "SUBSCRIBED" || o == "SPECIAL-USE");
    if recursive && !selecting {
        return bad("RECURSIVEMATCH needs another selection option, such as SUBSCRIBED");
    }
    Ok(())
}

fn status_items(c: &mut Cursor<'_>) -> Step<Vec<StatusItem>> {
    c.list(|c| {
        Ok(match c.keyword()?.as_str() {
            "MESSAGES" => StatusItem::Messages,
            "UIDNEXT" => StatusItem::UidNext,
            "UIDVALIDITY" => StatusItem::UidValidity,
            "UNSEEN" => StatusItem::Unseen,
            "DELETED" => StatusItem::Deleted,
            "SIZE" => StatusItem::Size,
            "RECENT" => StatusItem::Recent,
            "HIGHESTMODSEQ" => StatusItem::HighestModSeq,
            "DELETED-STORAGE" => StatusItem::DeletedStorage,
            "MAILBOXID" => StatusItem::MailboxId,
            "APPENDLIMIT" => StatusItem::AppendLimit,
            other => return bad(format!("unknown STATUS item {other}")),
        })
    })
}

/// flag = "\" atom / atom (keywords)
fn flag(c: &mut Cursor<'_>) -> Step<String> {
    let system = c.peek() == Some(b'\\');
    if system {
        c.pos += 1;
    }
    let name = c.atom()?;
    Ok(if system { format!("\\{name}") } else { name.to_string() })
}

pub(crate) fn flag_list(c: &mut Cursor<'_>) -> Step<Vec<String>> {
    c.list(flag)
}

/// APPEND mailbox [flags] [date-time] literal, repeated for MULTIAPPEND.
fn append(c: &mut Cursor<'_>) -> Step<CommandBody> {
    let mailbox = mailbox(c)?;
    let mut messages = Vec::new();
    while c.maybe_space()? {
        messages.push(super::append::append_message(c)?);
    }
    if messages.is_empty() {
        return bad("APPEND needs a message");
    }
    Ok(CommandBody::Append { mailbox, messages })
}

/// date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
pub(crate) fn date_time(c: &mut Cursor<'_>) -> Step<i64> {
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

/// STORE set [(UNCHANGEDSINCE n)] [+|-]FLAGS[.SILENT] flags
fn store(c: &mut Cursor<'_>, uid: bool) -> Step<CommandBody> {
    c.space()?;
    let set = sequence_set(c)?;
    c.space()?;
    let mut unchanged_since = None;
    if c.peek() == Some(b'(') {
        c.open()?;
        if c.keyword()? != "UNCHANGEDSINCE" {
            return bad("unknown STORE modifier");
        }
        c.space()?;
        unchanged_since = Some(c.number64()?);
        if !c.close()? {
            return bad("expected )");
        }
        c.space()?;
    }
    let item = c.token(
        |b| b.is_ascii_alphabetic() || b == b'.' || b == b'+' || b == b'-',
        "FLAGS",
    )?;
    let item = item.to_ascii_uppercase();
    let (mode, rest) = match item.as_bytes().first() {
        Some(b'+') => (StoreMode::Add, &item[1..]),
        Some(b'-') => (StoreMode::Remove, &item[1..]),
        _ => (StoreMode::Replace, item.as_str()),
    };
    let silent = match rest {
        "FLAGS" => false,
        "FLAGS.SILENT" => true,
        _ => return bad("STORE changes FLAGS, +FLAGS or -FLAGS (optionally .SILENT)"),
    };
    c.space()?;
    let flags = if c.peek() == Some(b'(') {
        flag_list(c)?
    } else {
        let mut flags = vec![flag(c)?];
        while c.maybe_space()? {
            flags.push(flag(c)?);
        }
        flags
    };
    Ok(CommandBody::Store {
        uid,
        set,
        mode,
        silent,
        flags,
        unchanged_since,
    })
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
    use crate::imap::{SectionText, SeqNumber};

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
