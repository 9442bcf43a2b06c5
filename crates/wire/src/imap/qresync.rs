//! The syntax CONDSTORE and QRESYNC add (RFC 7162 §7): SELECT/EXAMINE
//! parameters `(CONDSTORE)` and `(QRESYNC (uidvalidity modseq
//! [known-uids [(seq-match-data)]]))`, the FETCH modifiers `CHANGEDSINCE`
//! and `VANISHED`, and the MODSEQ search key with its optional entry name
//! and type.

use super::parser::{Cursor, Step, bad};
use super::sequence::{SeqNumber, SequenceSet, sequence_set};

/// The parameters of SELECT and EXAMINE (RFC 4466 §2.1 select-params).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectParams {
    /// `CONDSTORE` (RFC 7162 §3.1.8): a CONDSTORE enabling command.
    pub condstore: bool,
    /// `QRESYNC (...)` (RFC 7162 §3.2.5).
    pub qresync: Option<Qresync>,
}

/// What the client knew of the mailbox when it last synchronised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qresync {
    pub uidvalidity: u32,
    /// The last known MODSEQ (never 0: `mod-sequence-value`).
    pub modseq: u64,
    /// The UIDs the client knows; None means all of them.
    pub known_uids: Option<SequenceSet>,
    /// Sequence numbers and the UIDs the client has for them, pairwise
    /// (RFC 7162 §3.2.5.2).
    pub seq_match: Option<(SequenceSet, SequenceSet)>,
}

/// The largest MODSEQ there is (RFC 7162 §7: unsigned 63-bit).
const MAX_MODSEQ: u64 = i64::MAX as u64;

/// A mod-sequence-valzer: 0 to 2^63-1.
fn modseq_or_zero(c: &mut Cursor<'_>) -> Step<u64> {
    let n = c.number64()?;
    if n > MAX_MODSEQ {
        return bad("a MODSEQ is at most 9223372036854775807");
    }
    Ok(n)
}

/// A mod-sequence-value: 1 to 2^63-1.
fn modseq(c: &mut Cursor<'_>) -> Step<u64> {
    match modseq_or_zero(c)? {
        0 => bad("a MODSEQ here is at least 1"),
        n => Ok(n),
    }
}

/// A sequence set in which `*` and `$` are not allowed (known-uids,
/// seq-match-data).
fn explicit_set(c: &mut Cursor<'_>) -> Step<SequenceSet> {
    let set = sequence_set(c)?;
    match &set {
        SequenceSet::Ranges(ranges)
            if !ranges
                .iter()
                .any(|(a, b)| *a == SeqNumber::Largest || *b == SeqNumber::Largest) =>
        {
            Ok(set)
        }
        _ => bad("\"*\" and \"$\" are not allowed in QRESYNC sets"),
    }
}

/// `(param ...)` after SELECT or EXAMINE's mailbox.
pub(crate) fn select_params(c: &mut Cursor<'_>) -> Step<SelectParams> {
    let mut params = SelectParams::default();
    c.open()?;
    let mut first = true;
    while !c.close()? {
        if !first {
            c.space()?;
        }
        first = false;
        match c.keyword()?.as_str() {
            "CONDSTORE" => params.condstore = true,
            "QRESYNC" if params.qresync.is_none() => {
                c.space()?;
                params.qresync = Some(qresync(c)?);
            }
            "QRESYNC" => return bad("QRESYNC given twice"),
            other => return bad(format!("unknown SELECT parameter {other}")),
        }
    }
    Ok(params)
}

/// `(uidvalidity modseq [known-uids [(known-sequence-set known-uid-set)]])`
fn qresync(c: &mut Cursor<'_>) -> Step<Qresync> {
    c.open()?;
    let uidvalidity = c.number()?;
    if uidvalidity == 0 {
        return bad("UIDVALIDITY is never 0");
    }
    c.space()?;
    let modseq = modseq(c)?;
    let mut known_uids = None;
    let mut seq_match = None;
    if c.maybe_space()? {
        if c.peek() == Some(b'(') {
            seq_match = Some(seq_match_data(c)?);
        } else {
            known_uids = Some(explicit_set(c)?);
            if c.maybe_space()? {
                seq_match = Some(seq_match_data(c)?);
            }
        }
    }
    if !c.close()? {
        return bad("expected ) after the QRESYNC parameters");
    }
    Ok(Qresync {
        uidvalidity,
        modseq,
        known_uids,
        seq_match,
    })
}

fn seq_match_data(c: &mut Cursor<'_>) -> Step<(SequenceSet, SequenceSet)> {
    c.open()?;
    let numbers = explicit_set(c)?;
    c.space()?;
    let uids = explicit_set(c)?;
    if !c.close()? {
        return bad("expected ) after the sequence match data");
    }
    Ok((numbers, uids))
}

/// FETCH modifiers (RFC 4466 §2.4): CHANGEDSINCE and VANISHED, in any
/// order, each at most once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchModifiers {
    pub changed_since: Option<u64>,
    pub vanished: bool,
}

/// `(CHANGEDSINCE n [VANISHED])` after FETCH's items.
pub(crate) fn fetch_modifiers(c: &mut Cursor<'_>) -> Step<FetchModifiers> {
    let mut modifiers = FetchModifiers::default();
    c.open()?;
    let mut first = true;
    while !c.close()? {
        if !first {
            c.space()?;
        }
        first = false;
        match c.keyword()?.as_str() {
            "CHANGEDSINCE" if modifiers.changed_since.is_none() => {
                c.space()?;
                modifiers.changed_since = Some(modseq(c)?);
            }
            "VANISHED" if !modifiers.vanished => modifiers.vanished = true,
            "CHANGEDSINCE" | "VANISHED" => return bad("a FETCH modifier is given twice"),
            other => return bad(format!("unknown FETCH modifier {other}")),
        }
    }
    if first {
        return bad("empty FETCH modifier list");
    }
    Ok(modifiers)
}

/// The arguments of the MODSEQ search key: `["/flags/name" priv|shared|all]
/// modseq` (RFC 7162 §3.1.5). The entry name and type only matter to a
/// server keeping a MODSEQ per flag; postamt keeps one per message and
/// ignores them, as §3.1.5 asks of such servers.
pub(crate) fn search_modseq(c: &mut Cursor<'_>) -> Step<u64> {
    if c.peek() == Some(b'"') {
        let name = c.string()?;
        if !name.to_ascii_lowercase().starts_with(b"/flags/") || name.len() == 7 {
            return bad("a MODSEQ entry name is \"/flags/<flag>\"");
        }
        c.space()?;
        let kind = c.keyword()?;
        if !matches!(kind.as_str(), "PRIV" | "SHARED" | "ALL") {
            return bad("a MODSEQ entry type is priv, shared or all");
        }
        c.space()?;
    }
    modseq_or_zero(c)
}

#[cfg(test)]
mod tests {
    use crate::imap::{CommandBody, Limits, ParseError, SearchKey, parse_command};

    use super::*;

    use crate::imap::dispatch::test_parse as parse;

    fn is_bad(input: &str) -> bool {
        matches!(
            parse_command(input.as_bytes(), Limits::default()),
            Err(ParseError::Bad { .. })
        )
    }

    fn set(ranges: &[(u32, u32)]) -> SequenceSet {
        SequenceSet::Ranges(
            ranges
                .iter()
                .map(|&(a, b)| (SeqNumber::Value(a), SeqNumber::Value(b)))
                .collect(),
        )
    }

    fn params(input: &str) -> SelectParams {
        match parse(input) {
            CommandBody::Select { params, .. } | CommandBody::Examine { params, .. } => params,
            other => panic!("{other:?}"),
        }
    }

    /// The forms of RFC 7162 §3.1.8 and §3.2.5's examples.
    #[test]
    fn select_parameters() {
        assert_eq!(params("a SELECT INBOX\r\n"), SelectParams::default());
        assert!(params("a SELECT INBOX (CONDSTORE)\r\n").condstore);
        assert_eq!(
            params("A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n").qresync,
            Some(Qresync {
                uidvalidity: 67890007,
                modseq: 20050715194045000,
                known_uids: Some(set(&[(41, 41), (43, 211), (214, 541)])),
                seq_match: None,
            })
        );
        let qresync = params("B04 EXAMINE INBOX (qresync (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))\r\n")
            .qresync
            .unwrap();
        assert_eq!(qresync.known_uids, Some(set(&[(1, 29997)])));
        let (numbers, uids) = qresync.seq_match.unwrap();
        assert_eq!(numbers, set(&[(5000, 5000), (7500, 7500), (9000, 9000), (9990, 9999)]));
        let SequenceSet::Ranges(uids) = uids else { panic!() };
        assert_eq!(uids.len(), 13);
        // Without known UIDs, and both parameters.
        let both = params("a SELECT INBOX (CONDSTORE QRESYNC (1 2 (1:3 4:6)))\r\n");
        assert!(both.condstore);
        assert_eq!(both.qresync.unwrap().seq_match, Some((set(&[(1, 3)]), set(&[(4, 6)]))));
        assert_eq!(
            params("a SELECT INBOX (QRESYNC (1 2))\r\n").qresync.unwrap().known_uids,
            None
        );
    }

    #[test]
    fn select_parameters_out_of_the_grammar_are_bad() {
        for input in [
            "a SELECT INBOX (QRESYNC (0 5))\r\n",
            "a SELECT INBOX (QRESYNC (1 0))\r\n",
            "a SELECT INBOX (QRESYNC (1 9223372036854775808))\r\n",
            "a SELECT INBOX (QRESYNC (1 5 1:*))\r\n",
            "a SELECT INBOX (QRESYNC (1 5 $))\r\n",
            "a SELECT INBOX (QRESYNC (1 5 1:9 (1:* 1:9)))\r\n",
            "a SELECT INBOX (QRESYNC (1))\r\n",
            "a SELECT INBOX (QRESYNC (1 5) QRESYNC (1 5))\r\n",
            "a SELECT INBOX (FOO)\r\n",
        ] {
            assert!(is_bad(input), "{input:?}");
        }
    }

    #[test]
    fn fetch_modifiers_in_any_order() {
        let fetch = |input: &str| match parse(input) {
            CommandBody::Fetch { modifiers, .. } => modifiers,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            fetch("s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)\r\n").changed_since,
            Some(12345)
        );
        let both = FetchModifiers {
            changed_since: Some(12345),
            vanished: true,
        };
        assert_eq!(
            fetch("s100 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n"),
            both
        );
        assert_eq!(
            fetch("s100 UID FETCH 300:500 (FLAGS) (vanished changedsince 12345)\r\n"),
            both
        );
        // VANISHED alone parses: the session answers it with BAD (§3.2.6).
        assert!(fetch("a UID FETCH 1 FLAGS (VANISHED)\r\n").vanished);
        assert_eq!(fetch("a FETCH 1 FLAGS\r\n"), FetchModifiers::default());
        for input in [
            "a FETCH 1 FLAGS ()\r\n",
            "a FETCH 1 FLAGS (CHANGEDSINCE 0)\r\n",
            "a FETCH 1 FLAGS (CHANGEDSINCE 1 CHANGEDSINCE 2)\r\n",
            "a FETCH 1 FLAGS (XFOO)\r\n",
        ] {
            assert!(is_bad(input), "{input:?}");
        }
    }

    #[test]
    fn modseq_search_key_with_entry_name_and_type() {
        let key = |input: &str| match parse(input) {
            CommandBody::Search { key, .. } => key,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            key("a SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338\r\n"),
            SearchKey::ModSeq(620162338)
        );
        assert_eq!(key("t SEARCH MODSEQ 0\r\n"), SearchKey::ModSeq(0));
        assert!(matches!(
            key("t SEARCH OR NOT MODSEQ 720162338 LARGER 50000\r\n"),
            SearchKey::Or(..)
        ));
        for input in [
            "a SEARCH MODSEQ \"/flags/\\\\draft\" 5\r\n",
            "a SEARCH MODSEQ \"/other\" all 5\r\n",
            "a SEARCH MODSEQ \"/flags/x\" any 5\r\n",
        ] {
            assert!(is_bad(input), "{input:?}");
        }
    }
}
