//! SEARCH and its keys (RFC 9051 §6.4.4, RFC 3501 §6.4.4 for rev1 keys,
//! RFC 7162 MODSEQ) and ESEARCH return options (RFC 4731, RFC 5182 SAVE,
//! RFC 9394 PARTIAL).

use super::command::CommandBody;
use super::parser::{Cursor, Step, bad};
use super::sequence::{SequenceSet, sequence_set};

/// A calendar date as SEARCH writes it (`1-Feb-2026`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchKey {
    All,
    Answered,
    Deleted,
    Draft,
    Flagged,
    Seen,
    Unanswered,
    Undeleted,
    Undraft,
    Unflagged,
    Unseen,
    /// IMAP4rev1 only (RFC 3501): \Recent and its companions.
    Recent,
    New,
    Old,
    Keyword(String),
    Unkeyword(String),
    Bcc(Vec<u8>),
    Cc(Vec<u8>),
    From(Vec<u8>),
    To(Vec<u8>),
    Subject(Vec<u8>),
    Body(Vec<u8>),
    Text(Vec<u8>),
    Header(String, Vec<u8>),
    Before(Date),
    On(Date),
    Since(Date),
    SentBefore(Date),
    SentOn(Date),
    SentSince(Date),
    Larger(u64),
    Smaller(u64),
    Uid(SequenceSet),
    Sequence(SequenceSet),
    ModSeq(u64),
    /// OBJECTID (RFC 8474 §6).
    EmailId(String),
    ThreadId(String),
    /// SAVEDATE (RFC 8514 §5).
    SavedBefore(Date),
    SavedOn(Date),
    SavedSince(Date),
    SaveDateSupported,
    Not(Box<SearchKey>),
    Or(Box<SearchKey>, Box<SearchKey>),
    /// Keys in parentheses, or the top-level list: all must hold.
    And(Vec<SearchKey>),
}

/// ESEARCH return options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchReturn {
    Min,
    Max,
    All,
    Count,
    Save,
    /// RFC 9394: a page of the result.
    Partial(super::sort::PartialRange),
    /// RFC 5267 §4.2: a hint that the client will search again; nothing
    /// to answer.
    Context,
    /// RFC 5267 §4.3: keep the result and report its changes.
    Update,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

/// date = date-text / DQUOTE date-text DQUOTE; date-text = d[d]-Mon-yyyy
pub(crate) fn date(c: &mut Cursor<'_>) -> Step<Date> {
    let quoted = c.peek() == Some(b'"');
    if quoted {
        c.pos += 1;
    }
    let text = c.token(|b| b.is_ascii_alphanumeric() || b == b'-', "a date")?;
    if quoted {
        c.expect(b'"', "a closing quote")?;
    }
    let parts: Vec<&str> = text.split('-').collect();
    let parsed = match parts.as_slice() {
        [day, month, year] if (1..=2).contains(&day.len()) && year.len() == 4 => {
            let day: u8 = day.parse().ok().filter(|d| (1..=31).contains(d)).unwrap_or(0);
            let month = MONTHS
                .iter()
                .position(|m| m.eq_ignore_ascii_case(month))
                .map(|m| m as u8 + 1);
            let year: Option<u16> = year.parse().ok();
            match (day, month, year) {
                (1.., Some(month), Some(year)) => Some(Date { year, month, day }),
                _ => None,
            }
        }
        _ => None,
    };
    parsed.map_or_else(|| bad(format!("{text:?} is not a date like 1-Feb-2026")), Ok)
}

/// `SEARCH [RETURN (options)] [CHARSET charset] keys`; `uid` for UID
/// SEARCH.
pub(crate) fn search_command(c: &mut Cursor<'_>, uid: bool) -> Step<CommandBody> {
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
    Ok(CommandBody::Search {
        uid,
        returns,
        charset,
        key: search_keys(c)?,
    })
}

/// The keys of a SEARCH: one or more, all of which must hold.
pub(crate) fn search_keys(c: &mut Cursor<'_>) -> Step<SearchKey> {
    let mut keys = vec![search_key(c)?];
    while c.maybe_space()? {
        keys.push(search_key(c)?);
    }
    Ok(if keys.len() == 1 {
        keys.remove(0)
    } else {
        SearchKey::And(keys)
    })
}

fn search_key(c: &mut Cursor<'_>) -> Step<SearchKey> {
    match c.peek() {
        Some(b'(') => {
            c.open()?;
            let mut keys = vec![search_key(c)?];
            while !c.close()? {
                c.space()?;
                keys.push(search_key(c)?);
            }
            return Ok(SearchKey::And(keys));
        }
        Some(b'0'..=b'9' | b'*' | b'$') => return Ok(SearchKey::Sequence(sequence_set(c)?)),
        _ => {}
    }
    let word = c.keyword()?;
    let string = |c: &mut Cursor<'_>| -> Step<Vec<u8>> {
        c.space()?;
        c.astring()
    };
    let on_date = |c: &mut Cursor<'_>| -> Step<Date> {
        c.space()?;
        date(c)
    };
    Ok(match word.as_str() {
        "ALL" => SearchKey::All,
        "ANSWERED" => SearchKey::Answered,
        "DELETED" => SearchKey::Deleted,
        "DRAFT" => SearchKey::Draft,
        "FLAGGED" => SearchKey::Flagged,
        "SEEN" => SearchKey::Seen,
        "UNANSWERED" => SearchKey::Unanswered,
        "UNDELETED" => SearchKey::Undeleted,
        "UNDRAFT" => SearchKey::Undraft,
        "UNFLAGGED" => SearchKey::Unflagged,
        "UNSEEN" => SearchKey::Unseen,
        "RECENT" => SearchKey::Recent,
        "NEW" => SearchKey::New,
        "OLD" => SearchKey::Old,
        "KEYWORD" | "UNKEYWORD" => {
            c.space()?;
            let flag = c.atom()?.to_string();
            if word == "KEYWORD" {
                SearchKey::Keyword(flag)
            } else {
                SearchKey::Unkeyword(flag)
            }
        }
        "BCC" => SearchKey::Bcc(string(c)?),
        "CC" => SearchKey::Cc(string(c)?),
        "FROM" => SearchKey::From(string(c)?),
        "TO" => SearchKey::To(string(c)?),
        "SUBJECT" => SearchKey::Subject(string(c)?),
        "BODY" => SearchKey::Body(string(c)?),
        "TEXT" => SearchKey::Text(string(c)?),
        "HEADER" => {
            c.space()?;
            let field = c.astring_text()?;
            SearchKey::Header(field, string(c)?)
        }
        "BEFORE" => SearchKey::Before(on_date(c)?),
        "ON" => SearchKey::On(on_date(c)?),
        "SINCE" => SearchKey::Since(on_date(c)?),
        "SENTBEFORE" => SearchKey::SentBefore(on_date(c)?),
        "SENTON" => SearchKey::SentOn(on_date(c)?),
        "SENTSINCE" => SearchKey::SentSince(on_date(c)?),
        "LARGER" | "SMALLER" => {
            c.space()?;
            let size = c.number64()?;
            if word == "LARGER" {
                SearchKey::Larger(size)
            } else {
                SearchKey::Smaller(size)
            }
        }
        "UID" => {
            c.space()?;
            SearchKey::Uid(sequence_set(c)?)
        }
        "MODSEQ" => {
            c.space()?;
            SearchKey::ModSeq(super::qresync::search_modseq(c)?)
        }
        "NOT" => {
            c.space()?;
            SearchKey::Not(Box::new(search_key(c)?))
        }
        "OR" => {
            c.space()?;
            let left = search_key(c)?;
            c.space()?;
            SearchKey::Or(Box::new(left), Box::new(search_key(c)?))
        }
        other => match super::objects::search_key(other, c) {
            Some(key) => key?,
            None => return bad(format!("unknown search key {other}")),
        },
    })
}

/// `RETURN (MIN MAX ...)` after SEARCH.
pub(crate) fn search_return(c: &mut Cursor<'_>) -> Step<Vec<SearchReturn>> {
    let returns = c.list(|c| {
        Ok(match c.keyword()?.as_str() {
            "MIN" => SearchReturn::Min,
            "MAX" => SearchReturn::Max,
            "ALL" => SearchReturn::All,
            "COUNT" => SearchReturn::Count,
            "SAVE" => SearchReturn::Save,
            "CONTEXT" => SearchReturn::Context,
            "UPDATE" => SearchReturn::Update,
            "PARTIAL" => {
                c.space()?;
                SearchReturn::Partial(super::sort::partial_range(c)?)
            }
            other => return bad(format!("unknown RETURN option {other}")),
        })
    })?;
    super::sort::check_returns(&returns)?;
    Ok(returns)
}
