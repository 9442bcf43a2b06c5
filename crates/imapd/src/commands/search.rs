//! SEARCH and UID SEARCH (RFC 9051 §6.4.4) with ESEARCH answers and
//! RETURN options (RFC 4731), SAVE (RFC 5182) and PARTIAL (RFC 9394).
//! Text criteria look into the decoded message (the `imf` crate); the rest
//! into the view and the flags, sizes and dates read from the store a
//! batch at a time (`search_flags`). SORT and THREAD select their
//! messages here too.

use std::collections::HashMap;

use store::{MailboxId, MessageContent, MessageMeta, flag};
use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::{Date, SearchKey, SearchReturn, SequenceSet};

use crate::commands::condstore::{answer_modseq, uses_modseq};
use crate::commands::context::wants_update;
use crate::commands::fetch::CONTENT_BATCH;
use crate::commands::objects;
use crate::commands::search_flags::reads_meta;
use crate::error::{CommandError, Reply};
use crate::ranges::{Ranges, compress, in_saved};
use crate::session::Session;
use crate::view::View;

/// How much of each message a search must read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Needs {
    /// Flags, sizes, dates and numbers: the view and the narrow reads of
    /// `search_flags`.
    Nothing,
    /// FROM, TO, CC, BCC, SUBJECT: the fields stored with each message.
    StoredFields,
    /// Other header criteria (HEADER, SENT*): the header section.
    Header,
    /// BODY and TEXT: the whole message.
    Everything,
}

/// Messages whose stored fields one query loads.
const FIELDS_BATCH: usize = 4096;

fn needs(key: &SearchKey) -> Needs {
    // A needle with a line feed could span two stored values.
    let field = |needle: &[u8]| {
        if needle.contains(&b'\n') {
            Needs::Header
        } else {
            Needs::StoredFields
        }
    };
    match key {
        SearchKey::Bcc(s) | SearchKey::Cc(s) | SearchKey::From(s) | SearchKey::To(s) | SearchKey::Subject(s) => {
            field(s)
        }
        SearchKey::Header(name, s) if imf::is_stored_field(name) => field(s),
        SearchKey::Header(..) | SearchKey::SentBefore(_) | SearchKey::SentOn(_) | SearchKey::SentSince(_) => {
            Needs::Header
        }
        SearchKey::Body(_) | SearchKey::Text(_) => Needs::Everything,
        // Kept in the stored row, which comes with the header.
        key if objects::needs_row(key) => Needs::Header,
        SearchKey::Not(inner) => needs(inner),
        SearchKey::Or(a, b) => needs(a).max(needs(b)),
        SearchKey::And(keys) => keys.iter().map(needs).max().unwrap_or(Needs::Nothing),
        _ => Needs::Nothing,
    }
}

/// The UTC calendar date of a Unix time.
fn date_of(unix: i64) -> Date {
    let (year, month, day) = wire::date::civil_from_days(unix.div_euclid(86_400));
    Date {
        year: year.clamp(0, 9999) as u16,
        month: month as u8,
        day: day as u8,
    }
}

struct Candidate<'a> {
    meta: &'a MessageMeta,
    /// 1-based sequence number.
    number: u32,
    raw: Option<&'a [u8]>,
    /// The stored fields (see `imf::stored_field_contains`), when they
    /// answer for this message.
    fields: Option<&'a str>,
    /// The stored row, when the search loaded it.
    content: Option<&'a MessageContent>,
    /// \Recent in this session.
    recent: bool,
    /// The key's sets, resolved once for all messages.
    sets: &'a Sets,
}

/// The UID and sequence-number sets of a search key, each resolved once
/// (see `ranges.rs`), found by the address where the key holds them.
type Sets = HashMap<usize, Ranges>;

fn resolve_sets(key: &SearchKey, largest_uid: u32, largest_number: u32, sets: &mut Sets) {
    match key {
        SearchKey::Uid(set) => {
            sets.insert(std::ptr::from_ref(set).addr(), Ranges::of(set, largest_uid));
        }
        SearchKey::Sequence(set) => {
            sets.insert(std::ptr::from_ref(set).addr(), Ranges::of(set, largest_number));
        }
        SearchKey::Not(inner) => resolve_sets(inner, largest_uid, largest_number, sets),
        SearchKey::Or(a, b) => {
            resolve_sets(a, largest_uid, largest_number, sets);
            resolve_sets(b, largest_uid, largest_number, sets);
        }
        SearchKey::And(keys) => keys
            .iter()
            .for_each(|k| resolve_sets(k, largest_uid, largest_number, sets)),
        _ => {}
    }
}

/// Whether a set of the key holds `n`.
fn in_set(c: &Candidate<'_>, set: &SequenceSet, n: u32) -> bool {
    c.sets
        .get(&std::ptr::from_ref(set).addr())
        .is_some_and(|ranges| ranges.contains(n))
}

/// Whether a header field contains `needle`: from the stored fields when
/// they can tell, else from the header.
fn field_contains(c: &Candidate<'_>, field: &str, needle: &[u8]) -> bool {
    c.fields
        .and_then(|fields| imf::stored_field_contains(fields, field, needle))
        .unwrap_or_else(|| imf::header_contains(c.raw.unwrap_or_default(), field, needle))
}

fn matches(key: &SearchKey, c: &Candidate<'_>, saved: &[i64]) -> bool {
    let flags = &c.meta.flags;
    let raw = c.raw.unwrap_or_default();
    let sent = || imf::sent_date(raw);
    match key {
        SearchKey::All => true,
        SearchKey::Answered => flags.has(flag::ANSWERED),
        SearchKey::Deleted => flags.has(flag::DELETED),
        SearchKey::Draft => flags.has(flag::DRAFT),
        SearchKey::Flagged => flags.has(flag::FLAGGED),
        SearchKey::Seen => flags.has(flag::SEEN),
        SearchKey::Unanswered => !flags.has(flag::ANSWERED),
        SearchKey::Undeleted => !flags.has(flag::DELETED),
        SearchKey::Undraft => !flags.has(flag::DRAFT),
        SearchKey::Unflagged => !flags.has(flag::FLAGGED),
        SearchKey::Unseen => !flags.has(flag::SEEN),
        SearchKey::Recent => c.recent,
        SearchKey::New => c.recent && !flags.has(flag::SEEN),
        SearchKey::Old => !c.recent,
        SearchKey::Keyword(k) => flags.has_keyword(k),
        SearchKey::Unkeyword(k) => !flags.has_keyword(k),
        SearchKey::Bcc(s) => field_contains(c, "Bcc", s),
        SearchKey::Cc(s) => field_contains(c, "Cc", s),
        SearchKey::From(s) => field_contains(c, "From", s),
        SearchKey::To(s) => field_contains(c, "To", s),
        SearchKey::Subject(s) => field_contains(c, "Subject", s),
        SearchKey::Header(field, s) => field_contains(c, field, s),
        SearchKey::Body(s) => imf::body_contains(raw, s),
        SearchKey::Text(s) => imf::text_contains(raw, s),
        SearchKey::Before(d) => date_of(c.meta.internal_date) < *d,
        SearchKey::On(d) => date_of(c.meta.internal_date) == *d,
        SearchKey::Since(d) => date_of(c.meta.internal_date) >= *d,
        // Without a Date field a message counts as very old, as Dovecot
        // has it (RFC 3501 leaves it open).
        SearchKey::SentBefore(d) => sent().is_none_or(|s| s < *d),
        SearchKey::SentOn(d) => sent().is_some_and(|s| s == *d),
        SearchKey::SentSince(d) => sent().is_some_and(|s| s >= *d),
        SearchKey::Larger(n) => c.meta.size as u64 > *n,
        SearchKey::Smaller(n) => (c.meta.size as u64) < *n,
        SearchKey::Uid(set) => match set {
            SequenceSet::Saved => in_saved(saved, c.meta.uid),
            _ => in_set(c, set, c.meta.uid as u32),
        },
        SearchKey::Sequence(set) => match set {
            SequenceSet::Saved => in_saved(saved, c.meta.uid),
            _ => in_set(c, set, c.number),
        },
        SearchKey::ModSeq(m) => c.meta.modseq as u64 >= *m,
        key @ (SearchKey::EmailId(_)
        | SearchKey::ThreadId(_)
        | SearchKey::SavedBefore(_)
        | SearchKey::SavedOn(_)
        | SearchKey::SavedSince(_)
        | SearchKey::SaveDateSupported) => {
            objects::matches(key, c.content, c.meta.internal_date, date_of).unwrap_or(false)
        }
        SearchKey::Not(inner) => !matches(inner, c, saved),
        SearchKey::Or(a, b) => matches(a, c, saved) || matches(b, c, saved),
        SearchKey::And(keys) => keys.iter().all(|k| matches(k, c, saved)),
    }
}

/// What a batch of messages brings to a search: stored fields, and the
/// content of those that have none, each by UID.
#[derive(Default)]
struct Loaded {
    fields: HashMap<i64, String>,
    contents: HashMap<i64, MessageContent>,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    pub(crate) async fn search(
        &mut self,
        tag: &str,
        view: &mut View,
        uid: bool,
        returns: Option<Vec<SearchReturn>>,
        key: &SearchKey,
    ) -> Reply {
        self.check_update_tag(tag, returns.as_deref())?;
        let by_modseq = uses_modseq(key);
        if by_modseq {
            // RFC 7162 §3.1: a CONDSTORE enabling command.
            self.enable_condstore(Some(view));
        }
        let found = self.matching(view, key).await?;
        if wants_update(returns.as_deref()) {
            self.keep_context(tag, view, (uid, key), &found, None);
        }
        let esearch = returns.is_some() || self.rev2;
        let returns = returns.unwrap_or_default();
        if returns.contains(&SearchReturn::Save) {
            self.saved = saved_result(&found, &returns);
        }
        let numbers: Vec<i64> = found.iter().map(|(n, u)| if uid { *u } else { *n }).collect();
        // RFC 7162 §3.1.6, §3.1.10: with the MODSEQ key, the highest
        // MODSEQ of what is returned.
        let modseq = if by_modseq {
            // Read again for the matches: the view keeps no MODSEQs.
            let uids: Vec<i64> = found.iter().map(|(_, uid)| *uid).collect();
            let metas = self.server.store.message_metas(view.mailbox.id, &uids).await?;
            let modseqs: Vec<i64> = metas.iter().map(|m| m.modseq).collect();
            answer_modseq(&modseqs, &returns)
        } else {
            None
        };
        // RFC 5182 §2.1: SAVE alone asks for no ESEARCH answer, only the
        // saved result.
        let save_only = !returns.is_empty() && returns.iter().all(|r| *r == SearchReturn::Save);
        if !esearch {
            let list: Vec<String> = numbers.iter().map(i64::to_string).collect();
            let mut line = format!("SEARCH {}", list.join(" "));
            if let Some(modseq) = modseq {
                line.push_str(&format!(" (MODSEQ {modseq})"));
            }
            self.untagged(line.trim_end());
        } else if !save_only {
            let mut line = esearch_line(tag, uid, &returns, &numbers);
            if let Some(modseq) = modseq {
                line.push_str(&format!(" MODSEQ {modseq}"));
            }
            self.untagged(&line);
        }
        self.report_changes(view, false, false).await?;
        self.ok(tag, "SEARCH completed")
    }

    /// The messages of the view that match `key`: (sequence number, UID),
    /// in mailbox order.
    pub(crate) async fn matching(&self, view: &View, key: &SearchKey) -> Result<Vec<(i64, i64)>, CommandError> {
        if let Some(found) = self.matching_marked(view, key).await? {
            return Ok(found);
        }
        // What SORT and THREAD of a whole mailbox ask: the view has it.
        if *key == SearchKey::All {
            return Ok((0..view.len())
                .map(|index| (index as i64 + 1, view.uid(index)))
                .collect());
        }
        let all: Vec<usize> = (0..view.len()).collect();
        self.matching_in(view, key, &all).await
    }

    /// Those of the messages at `indexes` (ascending) that match `key`:
    /// (sequence number, UID), in mailbox order. An updating context
    /// (RFC 5267 §4.3) looks only at the messages that changed.
    pub(crate) async fn matching_in(
        &self,
        view: &View,
        key: &SearchKey,
        indexes: &[usize],
    ) -> Result<Vec<(i64, i64)>, CommandError> {
        let needs = needs(key);
        let reads_meta = reads_meta(key);
        let largest_uid = u32::try_from(view.last_uid()).unwrap_or(0);
        let mut sets = Sets::new();
        resolve_sets(key, largest_uid, view.len() as u32, &mut sets);
        let mut found = Vec::new();
        // Stored fields are small: many per query. Contents (header, facts)
        // are not: fewer.
        let batch = if needs == Needs::StoredFields {
            FIELDS_BATCH
        } else {
            CONTENT_BATCH
        };
        // What the search reads comes a batch at a time: one or two
        // queries, bounded memory.
        for chunk in indexes.chunks(batch) {
            let uids: Vec<i64> = chunk.iter().map(|&index| view.uid(index)).collect();
            // Neighbours in the view: a range scan reads no message that is
            // not asked for, whatever the gaps between UIDs.
            let neighbours = chunk.len() == chunk[chunk.len() - 1] - chunk[0] + 1;
            let mut loaded = if needs == Needs::Nothing {
                Loaded::default()
            } else {
                self.load(view.mailbox.id, &uids, needs, neighbours).await?
            };
            let mut metas = HashMap::new();
            if reads_meta {
                let store = &self.server.store;
                let read = if neighbours {
                    store
                        .message_metas_between(view.mailbox.id, uids[0], uids[uids.len() - 1])
                        .await?
                } else {
                    store.message_metas(view.mailbox.id, &uids).await?
                };
                metas = read.into_iter().map(|meta| (meta.uid, meta)).collect();
            }
            for (&index, &uid) in chunk.iter().zip(&uids) {
                let meta = match metas.remove(&uid) {
                    Some(meta) => meta,
                    // Expunged by another session meanwhile: not a match.
                    None if reads_meta => continue,
                    None => MessageMeta::bare(uid),
                };
                let meta = &meta;
                let fields = loaded.fields.remove(&meta.uid);
                let content = loaded.contents.remove(&meta.uid);
                // Expunged by another session meanwhile: not a match.
                if needs != Needs::Nothing && fields.is_none() && content.is_none() {
                    continue;
                }
                let raw = match &content {
                    Some(content) => Some(self.raw(content, needs <= Needs::Header).await?),
                    None => None,
                };
                let candidate = Candidate {
                    meta,
                    number: index as u32 + 1,
                    raw: raw.as_deref(),
                    fields: fields.as_deref(),
                    content: content.as_ref(),
                    recent: view.recent.contains(&meta.uid),
                    sets: &sets,
                };
                if matches(key, &candidate, &self.saved) {
                    found.push((index as i64 + 1, meta.uid));
                }
            }
        }
        Ok(found)
    }

    /// What a search needs of the messages `uids` (ascending), in as few
    /// queries as it can. `neighbours`: no other message of the view lies
    /// between them.
    async fn load(
        &self,
        mailbox: MailboxId,
        uids: &[i64],
        needs: Needs,
        neighbours: bool,
    ) -> Result<Loaded, CommandError> {
        let mut loaded = Loaded::default();
        let mut unstored: Vec<i64> = uids.to_vec();
        // The range scan reads every message between the first and last:
        // worth it only where they are most of it (a context's few changed
        // messages are not, RFC 5267 §4.3).
        if let (Needs::StoredFields, Some(first), Some(last)) = (needs, uids.first(), uids.last())
            && (neighbours || (last - first) as usize <= 2 * uids.len())
        {
            let found = self.server.store.search_contents(mailbox, *first, *last).await?;
            loaded.fields = found
                .into_iter()
                // Fields an older version stored answer where they cannot
                // miss anything; for the rest the header is read.
                .filter_map(|c| Some((c.uid, c.search_fields.filter(|f| imf::stored_fields_usable(f))?)))
                .collect();
            unstored.retain(|uid| !loaded.fields.contains_key(uid));
        }
        for uids in unstored.chunks(CONTENT_BATCH) {
            let found = self.server.store.message_contents(mailbox, uids).await?;
            loaded
                .contents
                .extend(found.into_iter().map(|content| (content.uid, content)));
        }
        Ok(loaded)
    }
}

/// The UIDs SAVE keeps for `$`, ascending as the view is (for
/// `in_saved`), from the matches in the order the command returns them
/// (mailbox order for SEARCH, sort order for SORT). RFC 5182 §2.1: with
/// MIN and/or MAX but neither ALL nor COUNT, only those messages are
/// saved; RFC 9394 §3.2 likewise has PARTIAL save only its page.
/// Otherwise every match.
pub(crate) fn saved_result(found: &[(i64, i64)], returns: &[SearchReturn]) -> Vec<i64> {
    let has = |r: SearchReturn| returns.contains(&r);
    let partial = returns.iter().find_map(|r| match r {
        SearchReturn::Partial(range) => Some(*range),
        _ => None,
    });
    let uids: Vec<i64> = found.iter().map(|(_, u)| *u).collect();
    let mut kept = if (has(SearchReturn::Min) || has(SearchReturn::Max) || partial.is_some())
        && !has(SearchReturn::All)
        && !has(SearchReturn::Count)
    {
        let mut kept: Vec<i64> = [
            uids.first().copied().filter(|_| has(SearchReturn::Min)),
            uids.last().copied().filter(|_| has(SearchReturn::Max)),
        ]
        .into_iter()
        .flatten()
        .collect();
        if let Some(range) = partial.and_then(|p| p.slice(uids.len())) {
            kept.extend_from_slice(&uids[range]);
        }
        kept
    } else {
        uids
    };
    kept.sort_unstable();
    kept.dedup();
    kept
}

/// `ESEARCH (TAG "t") ...` (RFC 4731 §3.1) with what `returns` asks
/// for, of `numbers` in the order the command returns them: MIN and MAX
/// are the first and last of that order (RFC 5267 §3.2 for SORT).
pub(crate) fn esearch_line(tag: &str, uid: bool, returns: &[SearchReturn], numbers: &[i64]) -> String {
    // RFC 4731 §3.1: an empty RETURN list means ALL; so does one with
    // only CONTEXT, a hint that asks for nothing (RFC 5267 §4.2, as
    // Dovecot has it). UPDATE alone asks for no results now (§4.3).
    let wanted: Vec<SearchReturn> = if returns.iter().all(|r| *r == SearchReturn::Context) {
        vec![SearchReturn::All]
    } else {
        returns.to_vec()
    };
    let mut line = format!("ESEARCH (TAG \"{tag}\")");
    if uid {
        line.push_str(" UID");
    }
    for option in wanted {
        match option {
            SearchReturn::Min if !numbers.is_empty() => line.push_str(&format!(" MIN {}", numbers[0])),
            SearchReturn::Max if !numbers.is_empty() => line.push_str(&format!(" MAX {}", numbers[numbers.len() - 1])),
            SearchReturn::All if !numbers.is_empty() => line.push_str(&format!(" ALL {}", compress(numbers))),
            SearchReturn::Count => line.push_str(&format!(" COUNT {}", numbers.len())),
            // RFC 9394 §3.1: the range as asked, and the page or NIL.
            SearchReturn::Partial(range) => {
                let page = range
                    .slice(numbers.len())
                    .map_or_else(|| "NIL".to_string(), |slice| compress(&numbers[slice]));
                line.push_str(&format!(" PARTIAL ({range} {page})"));
            }
            _ => {}
        }
    }
    line
}
