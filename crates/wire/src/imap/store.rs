//! STORE (RFC 9051 §6.4.6, with RFC 7162 §3.1.3's UNCHANGEDSINCE) and
//! the flags it and APPEND carry.

use super::command::{CommandBody, StoreMode};
use super::parser::{Cursor, Step, bad};
use super::sequence::sequence_set;

/// STORE set [(UNCHANGEDSINCE n)] [+|-]FLAGS[.SILENT] flags
pub(crate) fn store(c: &mut Cursor<'_>, uid: bool) -> Step<CommandBody> {
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
