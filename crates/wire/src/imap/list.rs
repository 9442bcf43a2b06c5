//! The commands that list mailboxes: LIST (RFC 9051 §6.3.9, with
//! LIST-EXTENDED's selection and return options, RFC 5258), IMAP4rev1's
//! LSUB (RFC 3501 §6.3.9) and STATUS (RFC 9051 §6.3.11), whose data items
//! LIST can also return (RFC 5819).

use super::command::{CommandBody, ListReturn, StatusItem};
use super::dispatch::mailbox;
use super::parser::{Cursor, Step, bad};

/// `LSUB reference list-mailbox` (RFC 3501 §6.3.9).
pub(crate) fn lsub(c: &mut Cursor<'_>) -> Step<CommandBody> {
    c.space()?;
    let reference = c.astring()?;
    c.space()?;
    Ok(CommandBody::Lsub {
        reference,
        pattern: list_mailbox(c)?,
    })
}

/// `STATUS mailbox (status-att ...)`.
pub(crate) fn status(c: &mut Cursor<'_>) -> Step<CommandBody> {
    let mailbox = mailbox(c)?;
    c.space()?;
    Ok(CommandBody::Status {
        mailbox,
        items: status_items(c)?,
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
pub(crate) fn list(c: &mut Cursor<'_>) -> Step<CommandBody> {
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
