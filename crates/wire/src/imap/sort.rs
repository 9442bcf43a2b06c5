//! SORT and THREAD (RFC 5256 §4, with RFC 5957's DISPLAYFROM/DISPLAYTO
//! and RFC 5267's ESORT return options), and the PARTIAL return option of
//! SEARCH and SORT (RFC 9394 §3).

use super::parser::{Cursor, Step, bad};
use super::search::{SearchKey, SearchReturn, search_keys, search_return};

/// One sort key (RFC 5256 §3, RFC 5957 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Arrival,
    Cc,
    Date,
    From,
    Size,
    Subject,
    To,
    DisplayFrom,
    DisplayTo,
}

/// `["REVERSE" SP] sort-key`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortCriterion {
    pub reverse: bool,
    pub key: SortKey,
}

/// THREAD algorithms (RFC 5256 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadAlgorithm {
    OrderedSubject,
    References,
}

/// The PARTIAL range (RFC 9394 §3): 1-based positions in the result,
/// both positive (counted from the first) or both negative (counted from
/// the last), as the client wrote them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialRange {
    pub first: i64,
    pub last: i64,
}

impl PartialRange {
    /// The 0-based, end-exclusive slice of `len` results it selects; None
    /// when it selects nothing.
    pub fn slice(self, len: usize) -> Option<std::ops::Range<usize>> {
        let len = len as i64;
        let (low, high) = (self.first.min(self.last), self.first.max(self.last));
        let (start, end) = if low > 0 {
            (low - 1, high)
        } else {
            // -1 is the last result: -high..-low from the end.
            (len + low, len + high + 1)
        };
        let (start, end) = (start.clamp(0, len), end.clamp(0, len));
        (start < end).then_some(start as usize..end as usize)
    }
}

impl std::fmt::Display for PartialRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.first, self.last)
    }
}

/// `partial-range-first / partial-range-last` (RFC 9394 §5): `1:500`,
/// `-1:-100`; zero and mixed signs are not ranges.
pub(crate) fn partial_range(c: &mut Cursor<'_>) -> Step<PartialRange> {
    let negative = c.peek() == Some(b'-');
    let end = |c: &mut Cursor<'_>| -> Step<i64> {
        if negative {
            c.expect(b'-', "a negative position")?;
        }
        let n = i64::from(c.number()?);
        if n == 0 {
            return bad("PARTIAL positions start at 1");
        }
        Ok(if negative { -n } else { n })
    };
    let first = end(c)?;
    c.expect(b':', "a PARTIAL range like 1:100")?;
    let last = end(c)?;
    Ok(PartialRange { first, last })
}

/// What follows `SORT ` or `UID SORT `: `[RETURN (...) SP] (criteria)
/// SP charset SP search-keys`.
pub(crate) fn sort(c: &mut Cursor<'_>, uid: bool) -> Step<super::CommandBody> {
    c.space()?;
    let mut returns = None;
    if c.peek() != Some(b'(') {
        if c.keyword()? != "RETURN" {
            return bad("SORT takes RETURN options or sort criteria");
        }
        c.space()?;
        returns = Some(search_return(c)?);
        c.space()?;
    }
    let criteria = c.list(sort_criterion)?;
    if criteria.is_empty() {
        return bad("SORT needs at least one sort key");
    }
    let (charset, key) = charset_and_keys(c)?;
    Ok(super::CommandBody::Sort {
        uid,
        returns,
        criteria,
        charset,
        key,
    })
}

/// What follows `THREAD ` or `UID THREAD `: `algorithm SP charset SP
/// search-keys`.
pub(crate) fn thread(c: &mut Cursor<'_>, uid: bool) -> Step<super::CommandBody> {
    c.space()?;
    let algorithm = match c.keyword()?.as_str() {
        "ORDEREDSUBJECT" => ThreadAlgorithm::OrderedSubject,
        "REFERENCES" => ThreadAlgorithm::References,
        other => return bad(format!("unknown THREAD algorithm {other}")),
    };
    let (charset, key) = charset_and_keys(c)?;
    Ok(super::CommandBody::Thread {
        uid,
        algorithm,
        charset,
        key,
    })
}

/// `SP charset 1*(SP search-key)`: unlike SEARCH's, the charset is not
/// optional (RFC 5256 §4).
fn charset_and_keys(c: &mut Cursor<'_>) -> Step<(String, SearchKey)> {
    c.space()?;
    let charset = c.astring_text()?;
    c.space()?;
    Ok((charset, search_keys(c)?))
}

fn sort_criterion(c: &mut Cursor<'_>) -> Step<SortCriterion> {
    let mut word = c.keyword()?;
    let reverse = word == "REVERSE";
    if reverse {
        c.space()?;
        word = c.keyword()?;
    }
    let key = match word.as_str() {
        "ARRIVAL" => SortKey::Arrival,
        "CC" => SortKey::Cc,
        "DATE" => SortKey::Date,
        "FROM" => SortKey::From,
        "SIZE" => SortKey::Size,
        "SUBJECT" => SortKey::Subject,
        "TO" => SortKey::To,
        "DISPLAYFROM" => SortKey::DisplayFrom,
        "DISPLAYTO" => SortKey::DisplayTo,
        other => return bad(format!("unknown sort key {other}")),
    };
    Ok(SortCriterion { reverse, key })
}

/// RFC 9394 §3: at most one of ALL and PARTIAL in a RETURN list; UPDATE
/// once (RFC 5267 §4.3, as Dovecot checks it).
pub(crate) fn check_returns(returns: &[SearchReturn]) -> Step<()> {
    let paging = returns
        .iter()
        .filter(|r| matches!(r, SearchReturn::All | SearchReturn::Partial(_)))
        .count();
    if paging > 1 {
        return bad("RETURN takes at most one of ALL and PARTIAL");
    }
    if returns.iter().filter(|r| **r == SearchReturn::Update).count() > 1 {
        return bad("RETURN takes UPDATE once");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::imap::{CommandBody, SearchKey, SearchReturn, SequenceSet};

    use super::*;

    use crate::imap::dispatch::{test_fails as fails, test_parse as parse};

    #[test]
    fn sort_with_criteria_charset_and_keys() {
        assert_eq!(
            parse("a SORT (REVERSE DATE subject displayfrom) UTF-8 ALL\r\n"),
            CommandBody::Sort {
                uid: false,
                returns: None,
                criteria: vec![
                    SortCriterion {
                        reverse: true,
                        key: SortKey::Date
                    },
                    SortCriterion {
                        reverse: false,
                        key: SortKey::Subject
                    },
                    SortCriterion {
                        reverse: false,
                        key: SortKey::DisplayFrom
                    },
                ],
                charset: "UTF-8".into(),
                key: SearchKey::All,
            }
        );
        let CommandBody::Sort { uid, key, charset, .. } =
            parse("a UID SORT (ARRIVAL CC FROM SIZE TO DISPLAYTO) \"US-ASCII\" UNDELETED FROM \"x\"\r\n")
        else {
            panic!()
        };
        assert!(uid);
        assert_eq!(charset, "US-ASCII");
        assert_eq!(
            key,
            SearchKey::And(vec![SearchKey::Undeleted, SearchKey::From(b"x".to_vec())])
        );
    }

    #[test]
    fn esort_and_partial_return_options() {
        let CommandBody::Sort { returns, .. } =
            parse("a SORT RETURN (MIN MAX COUNT PARTIAL -1:-10) (DATE) UTF-8 1:5\r\n")
        else {
            panic!()
        };
        assert_eq!(
            returns,
            Some(vec![
                SearchReturn::Min,
                SearchReturn::Max,
                SearchReturn::Count,
                SearchReturn::Partial(PartialRange { first: -1, last: -10 }),
            ])
        );
        let CommandBody::Search { returns, .. } = parse("a SEARCH RETURN (PARTIAL 1:500) ALL\r\n") else {
            panic!()
        };
        assert_eq!(
            returns,
            Some(vec![SearchReturn::Partial(PartialRange { first: 1, last: 500 })])
        );
        // One of ALL and PARTIAL; no zero, no mixed signs.
        assert!(fails("a SEARCH RETURN (ALL PARTIAL 1:5) ALL\r\n"));
        assert!(fails("a SORT RETURN (PARTIAL 1:5 PARTIAL 6:9) (DATE) UTF-8 ALL\r\n"));
        assert!(fails("a SEARCH RETURN (PARTIAL 0:5) ALL\r\n"));
        assert!(fails("a SEARCH RETURN (PARTIAL -1:5) ALL\r\n"));
        assert!(fails("a SEARCH RETURN (PARTIAL 1:-5) ALL\r\n"));
    }

    #[test]
    fn thread_algorithms() {
        assert_eq!(
            parse("a THREAD REFERENCES UTF-8 SINCE 1-Feb-1994\r\n"),
            CommandBody::Thread {
                uid: false,
                algorithm: ThreadAlgorithm::References,
                charset: "UTF-8".into(),
                key: SearchKey::Since(crate::imap::Date {
                    year: 1994,
                    month: 2,
                    day: 1
                }),
            }
        );
        assert_eq!(
            parse("a UID THREAD orderedsubject us-ascii 2:*\r\n"),
            CommandBody::Thread {
                uid: true,
                algorithm: ThreadAlgorithm::OrderedSubject,
                charset: "us-ascii".into(),
                key: SearchKey::Sequence(SequenceSet::Ranges(vec![(
                    crate::imap::SeqNumber::Value(2),
                    crate::imap::SeqNumber::Largest
                )])),
            }
        );
    }

    #[test]
    fn malformed_sort_and_thread() {
        assert!(fails("a SORT () UTF-8 ALL\r\n"));
        assert!(fails("a SORT (DATE) ALL\r\n"));
        assert!(fails("a SORT (REVERSE) UTF-8 ALL\r\n"));
        assert!(fails("a SORT (NAME) UTF-8 ALL\r\n"));
        assert!(fails("a SORT DATE UTF-8 ALL\r\n"));
        assert!(fails("a THREAD REFS UTF-8 ALL\r\n"));
        assert!(fails("a THREAD REFERENCES UTF-8\r\n"));
    }

    #[test]
    fn partial_slices() {
        let range = |first, last| PartialRange { first, last };
        assert_eq!(range(1, 3).slice(10), Some(0..3));
        assert_eq!(range(3, 1).slice(10), Some(0..3));
        assert_eq!(range(8, 20).slice(10), Some(7..10));
        assert_eq!(range(11, 20).slice(10), None);
        assert_eq!(range(-1, -1).slice(10), Some(9..10));
        assert_eq!(range(-1, -3).slice(10), Some(7..10));
        assert_eq!(range(-5, -20).slice(10), Some(0..6));
        assert_eq!(range(-11, -20).slice(10), None);
        assert_eq!(range(1, 5).slice(0), None);
    }
}
