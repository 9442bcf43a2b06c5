//! SORT and UID SORT (RFC 5256 §3, §4), with DISPLAYFROM/DISPLAYTO
//! (RFC 5957), ESORT's RETURN options answered by ESEARCH (RFC 5267 §3)
//! and PARTIAL (RFC 9394). The messages are those SEARCH would find
//! (`search.rs`); their keys come from the store (`sort_keys.rs`); the
//! ordering runs on the blocking pool.

use std::cmp::Ordering;
use std::fmt::Write as _;

use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::{SearchKey, SearchReturn, SortCriterion, SortKey};

use crate::commands::context::wants_update;
use crate::commands::search::{esearch_line, saved_result};
use crate::commands::sort_keys::Keyed;
use crate::error::{CommandError, Reply};
use crate::session::Session;
use crate::view::View;

/// The charsets SORT, THREAD (and SEARCH) take: what the needles are
/// compared in (RFC 5256 §4 requires US-ASCII and UTF-8).
pub(crate) fn check_charset(charset: &str) -> Result<(), CommandError> {
    if charset.eq_ignore_ascii_case("UTF-8") || charset.eq_ignore_ascii_case("US-ASCII") {
        Ok(())
    } else {
        Err(CommandError::no("BADCHARSET (UTF-8 US-ASCII)", "Unsupported charset"))
    }
}

/// A SORT command's parts.
pub(crate) struct SortCommand<'a> {
    pub uid: bool,
    pub returns: Option<Vec<SearchReturn>>,
    pub criteria: &'a [SortCriterion],
    pub charset: &'a str,
    pub key: &'a SearchKey,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    pub(crate) async fn sort(&mut self, tag: &str, view: &mut View, command: SortCommand<'_>) -> Reply {
        check_charset(command.charset)?;
        self.check_update_tag(tag, command.returns.as_deref())?;
        let found = self.matching(view, command.key).await?;
        let keyed = self.keyed(view, &found).await?;
        let criteria = command.criteria.to_vec();
        // Sorting indexes, not the keyed messages: a Keyed is a few hundred
        // bytes, and moving 100 000 of them about in a merge sort cost more
        // than the comparisons. The order is total (ties end at the
        // sequence number), so an unstable sort gives the same answer.
        let (keyed, order) = self
            .heavy(move |_| {
                let mut order: Vec<usize> = (0..keyed.len()).collect();
                order.sort_unstable_by(|&a, &b| compare(&keyed[a], &keyed[b], &criteria));
                (keyed, order)
            })
            .await?;
        let sorted: Vec<(i64, i64)> = order.iter().map(|&i| (keyed[i].number, keyed[i].uid)).collect();
        let uid = command.uid;
        if wants_update(command.returns.as_deref()) {
            let mut keyed: Vec<Option<Keyed>> = keyed.into_iter().map(Some).collect();
            let in_order = order.iter().filter_map(|&i| keyed[i].take()).collect();
            let sorted = Some((command.criteria.to_vec(), in_order));
            self.keep_context(tag, view, (uid, command.key), &found, sorted);
        }
        let numbers: Vec<i64> = sorted.iter().map(|(n, u)| if uid { *u } else { *n }).collect();
        match command.returns {
            // RFC 5256 §4: `* SORT 2 84 882`, in sort order.
            None => {
                let mut line = String::from("SORT");
                for number in &numbers {
                    // Writing into a String cannot fail.
                    let _ = write!(line, " {number}");
                }
                self.untagged(&line);
            }
            Some(returns) => {
                if returns.contains(&SearchReturn::Save) {
                    self.saved = saved_result(&sorted, &returns);
                }
                // RFC 5182 §2.1: SAVE alone answers nothing but OK.
                if returns.is_empty() || returns.iter().any(|r| *r != SearchReturn::Save) {
                    self.untagged(&esearch_line(tag, uid, &returns, &numbers));
                }
            }
        }
        self.report_changes(view, false, false).await?;
        self.ok(tag, "SORT completed")
    }
}

/// The order of two messages under `criteria`; ties broken by sequence
/// number (RFC 5256 §3: "the order in which they appear in the mailbox").
pub(crate) fn compare(a: &Keyed, b: &Keyed, criteria: &[SortCriterion]) -> Ordering {
    for criterion in criteria {
        let order = match criterion.key {
            SortKey::Arrival => a.internal_date.cmp(&b.internal_date),
            SortKey::Cc => a.keys.cc.cmp(&b.keys.cc),
            SortKey::Date => a.sent().cmp(&b.sent()),
            SortKey::From => a.keys.from.cmp(&b.keys.from),
            SortKey::Size => a.size.cmp(&b.size),
            SortKey::Subject => a.keys.subject.cmp(&b.keys.subject),
            SortKey::To => a.keys.to.cmp(&b.keys.to),
            SortKey::DisplayFrom => a.keys.display_from.cmp(&b.keys.display_from),
            SortKey::DisplayTo => a.keys.display_to.cmp(&b.keys.display_to),
        };
        let order = if criterion.reverse { order.reverse() } else { order };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.number.cmp(&b.number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyed(number: i64, header: &str, size: i64, internal_date: i64) -> Keyed {
        Keyed {
            number,
            uid: number * 10,
            size,
            internal_date,
            keys: imf::sort_keys(header.as_bytes()),
        }
    }

    fn sorted(messages: &[Keyed], criteria: &[(bool, SortKey)]) -> Vec<i64> {
        let criteria: Vec<SortCriterion> = criteria
            .iter()
            .map(|&(reverse, key)| SortCriterion { reverse, key })
            .collect();
        let mut order: Vec<&Keyed> = messages.iter().collect();
        order.sort_by(|a, b| compare(a, b, &criteria));
        order.iter().map(|k| k.number).collect()
    }

    #[test]
    fn every_key_and_reverse() {
        let messages = [
            keyed(
                1,
                "From: Zoe <a@x>\r\nTo: b@x\r\nCc: c@x\r\nSubject: Re: beta\r\nDate: 2 Jan 2020 00:00 +0000\r\n\r\n",
                30,
                5,
            ),
            keyed(
                2,
                "From: b@x\r\nTo: Alf <z@x>\r\nSubject: alpha\r\nDate: 1 Jan 2020 23:00 -0200\r\n\r\n",
                10,
                9,
            ),
            keyed(
                3,
                "From: \"\" <C@x>\r\nTo: a@x\r\nCc: a@x\r\nSubject: [l] Gamma\r\n\r\n",
                20,
                1,
            ),
        ];
        let forward = |key| sorted(&messages, &[(false, key)]);
        assert_eq!(forward(SortKey::Arrival), [3, 1, 2]);
        assert_eq!(forward(SortKey::Size), [2, 3, 1]);
        // 2's Date is 2 Jan 01:00 UTC, after 1's midnight; 3 has none and
        // takes its INTERNALDATE (the oldest).
        assert_eq!(forward(SortKey::Date), [3, 1, 2]);
        assert_eq!(forward(SortKey::Subject), [2, 1, 3]);
        // Local parts, case-insensitively: a, b, C.
        assert_eq!(forward(SortKey::From), [1, 2, 3]);
        assert_eq!(forward(SortKey::To), [3, 1, 2]);
        // No Cc sorts as the empty string, first.
        assert_eq!(forward(SortKey::Cc), [2, 3, 1]);
        // Display names: "b@x" (no name), "C@x" (empty name), "Zoe".
        assert_eq!(forward(SortKey::DisplayFrom), [2, 3, 1]);
        // "ALF", "A@X", "B@X".
        assert_eq!(forward(SortKey::DisplayTo), [3, 2, 1]);
        assert_eq!(sorted(&messages, &[(true, SortKey::Size)]), [1, 3, 2]);
    }

    #[test]
    fn ties_go_to_the_next_key_then_the_sequence_number() {
        let messages = [
            keyed(1, "Subject: same\r\n\r\n", 5, 0),
            keyed(2, "Subject: Re: SAME\r\n\r\n", 9, 0),
            keyed(3, "Subject: same\r\n\r\n", 5, 0),
        ];
        assert_eq!(sorted(&messages, &[(false, SortKey::Subject)]), [1, 2, 3]);
        assert_eq!(
            sorted(&messages, &[(false, SortKey::Subject), (true, SortKey::Size)]),
            [2, 1, 3]
        );
        // REVERSE applies to its key only, not to the final tie-break.
        assert_eq!(sorted(&messages, &[(true, SortKey::Subject)]), [1, 2, 3]);
    }

    #[test]
    fn charsets() {
        assert!(check_charset("utf-8").is_ok());
        assert!(check_charset("US-ASCII").is_ok());
        assert!(check_charset("ISO-8859-1").is_err());
    }
}
