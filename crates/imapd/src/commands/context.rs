//! CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 §4): SEARCH and SORT with
//! RETURN (UPDATE) keep their result (`contexts.rs`), CANCELUPDATE ends
//! that, and every bringing up to date of the view also brings the
//! contexts up to date.
//!
//! What changed is read from the store by MODSEQ, as the view does (RFC
//! 7162's two questions), so a change costs each context O(changes):
//! the changed messages are searched again, nothing else. REMOVEFROM for
//! expunged messages goes before the view's EXPUNGE (numbered as the
//! client still numbers them, §4.3.4), ADDTO after EXISTS (§4.3.3).

use std::collections::{BTreeSet, HashSet};

use tokio::io::{AsyncRead, AsyncWrite};
use wire::imap::{SearchKey, SearchReturn, SeqNumber, SequenceSet, SortCriterion};

use crate::commands::contexts::{Context, Order};
use crate::commands::sort::key_fields;
use crate::commands::sort_keys::Keyed;
use crate::error::{CommandError, Reply};
use crate::session::Session;
use crate::view::View;

/// Whether a RETURN list asks for updates.
pub(crate) fn wants_update(returns: Option<&[SearchReturn]>) -> bool {
    returns.is_some_and(|r| r.contains(&SearchReturn::Update))
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// RFC 5267 §4.3: UPDATE under a tag whose updates still run "SHALL
    /// result in the server rejecting the searching command with a BAD".
    pub(crate) fn check_update_tag(&self, tag: &str, returns: Option<&[SearchReturn]>) -> Result<(), CommandError> {
        if wants_update(returns) && self.contexts.has(tag) {
            return Err(CommandError::bad("Tag reuse: that tag's updates are still running"));
        }
        Ok(())
    }

    /// Keeps the result of the searching command `tag` for updates, or
    /// says with NOUPDATE that it will not (§4.3.1: too many contexts);
    /// either way the command's other return options are answered.
    /// `found` is (sequence number, UID) in mailbox order; `sorted` the
    /// SORT's criteria and its messages in sort order.
    pub(crate) fn keep_context(
        &mut self,
        tag: &str,
        view: &View,
        (uid, key): (bool, &SearchKey),
        found: &[(i64, i64)],
        sorted: Option<(Vec<SortCriterion>, Vec<Keyed>)>,
    ) {
        if self.contexts.list.len() >= self.config.max_update_contexts {
            self.untagged(&format!("NO [NOUPDATE \"{tag}\"] Too many contexts"));
            return;
        }
        let held: usize = self.contexts.list.iter().map(|c| c.members.len()).sum();
        if !self.contexts.list.is_empty() && held + found.len() > self.config.max_update_context_messages {
            self.untagged(&format!("NO [NOUPDATE \"{tag}\"] Too many messages in contexts"));
            return;
        }
        let order = match sorted {
            None => Order::Mailbox,
            Some((criteria, mut keyed)) => {
                for k in &mut keyed {
                    k.number = k.uid;
                }
                Order::Sorted { criteria, keyed }
            }
        };
        let context = Context {
            tag: tag.to_string(),
            uid,
            key: freeze(key, view, &self.saved),
            members: found.iter().map(|&(_, uid)| uid).collect(),
            order,
        };
        self.contexts.keep(context, view.mailbox.highestmodseq);
    }

    /// CANCELUPDATE (§4.3.5): an unknown tag is an error, and then none
    /// of the others ends either.
    pub(crate) fn cancel_update(&mut self, tag: &str, tags: &[String]) -> Reply {
        if let Err(unknown) = self.contexts.cancel(tags) {
            return Err(CommandError::refused(format!(
                "No updates run under the tag {unknown:?}"
            )));
        }
        self.ok(tag, "CANCELUPDATE completed")
    }

    /// Brings the view up to date (`View::sync`, into `out`) and the
    /// contexts with it.
    pub(crate) async fn sync_view(
        &mut self,
        view: &mut View,
        out: &mut Vec<u8>,
        expunges: bool,
    ) -> Result<(), CommandError> {
        if self.contexts.is_empty() {
            return Ok(view.sync(&self.server.store, out, expunges, self.ext).await?);
        }
        let store = self.server.store.clone();
        let (mailbox, since) = (view.mailbox.id, self.contexts.modseq);
        // What the view will take out: what waits to be reported, and
        // what was expunged since; both only if the view shows it.
        let last = view.last_uid();
        let known: HashSet<i64> = store.expunged_since(mailbox, since).await?.into_iter().collect();
        let mut removed: BTreeSet<i64> = view
            .unreported_expunges()
            .chain(known.iter().copied())
            .filter(|&uid| view.index_of(uid).is_some())
            .collect();
        let mut synced = Vec::new();
        view.sync(&store, &mut synced, expunges, self.ext).await?;
        // Expunged while the view read: no earlier sync saw those, so
        // each one up to the last message it showed was in it.
        let expunged = store.expunged_since(mailbox, since).await?;
        removed.extend(expunged.iter().filter(|&&uid| uid <= last && !known.contains(&uid)));
        removed.retain(|&uid| view.index_of(uid).is_none());
        // The numbers the client still knows: the messages before it now,
        // and those taken out before it.
        let before_sync = |uid: i64| view.count_below(uid) as i64 + removed.range(..uid).count() as i64 + 1;
        let gone: HashSet<i64> = removed.iter().copied().collect();
        for context in &mut self.contexts.list {
            let uid = context.uid;
            if let Some(item) = context.remove(&gone, |u| if uid { u } else { before_sync(u) }) {
                out.extend_from_slice(context.line(&[item]).as_bytes());
            }
        }
        out.extend_from_slice(&synced);
        // Expunged but still shown (EXPUNGE waits, RFC 9051 §7.5.1): out
        // of the results now, reported later.
        let stale: HashSet<i64> = view
            .unreported_expunges()
            .chain(expunged)
            .filter(|&uid| view.index_of(uid).is_some())
            .collect();
        let changed = store.messages_changed_since(mailbox, since).await?;
        let mut indexes: Vec<usize> = changed
            .iter()
            .filter(|m| !stale.contains(&m.uid))
            .filter_map(|m| view.index_of(m.uid))
            .collect();
        indexes.sort_unstable();
        indexes.dedup();
        self.update_contexts(view, &stale, &indexes, out).await?;
        self.contexts.modseq = view.mailbox.highestmodseq;
        Ok(())
    }

    /// The contexts after the view was brought up to date: the `stale`
    /// messages leave them, and the changed ones at `indexes` are searched
    /// again, joining or leaving.
    async fn update_contexts(
        &mut self,
        view: &View,
        stale: &HashSet<i64>,
        indexes: &[usize],
        out: &mut Vec<u8>,
    ) -> Result<(), CommandError> {
        let mut contexts = std::mem::take(&mut self.contexts.list);
        let result = async {
            for context in &mut contexts {
                let matched: HashSet<i64> = self
                    .matching_in(view, &context.key, indexes)
                    .await?
                    .into_iter()
                    .map(|(_, uid)| uid)
                    .collect();
                let mut leaving = stale.clone();
                leaving.extend(
                    indexes
                        .iter()
                        .map(|&i| view.uid(i))
                        .filter(|uid| context.members.contains(uid) && !matched.contains(uid)),
                );
                let joining: Vec<(i64, i64)> = indexes
                    .iter()
                    .map(|&i| (i as i64 + 1, view.uid(i)))
                    .filter(|(_, uid)| matched.contains(uid) && !context.members.contains(uid))
                    .collect();
                let keyed = match &context.order {
                    Order::Sorted { criteria, .. } if !joining.is_empty() => {
                        self.keyed(view, &joining, key_fields(criteria)).await?
                    }
                    _ => joining.iter().map(|&(_, uid)| unkeyed(uid)).collect(),
                };
                let by_uid = context.uid;
                let number = |uid: i64| {
                    if by_uid {
                        uid
                    } else {
                        view.index_of(uid).map_or(0, |i| i as i64 + 1)
                    }
                };
                let items: Vec<String> = [context.remove(&leaving, number), context.add(keyed, number)]
                    .into_iter()
                    .flatten()
                    .collect();
                if !items.is_empty() {
                    out.extend_from_slice(context.line(&items).as_bytes());
                }
            }
            Ok::<(), CommandError>(())
        }
        .await;
        self.contexts.list = contexts;
        result
    }
}

/// A SEARCH result's message: its keys are never looked at.
fn unkeyed(uid: i64) -> Keyed {
    Keyed::bare(uid, uid)
}

/// The key with what only meant something when the command ran made
/// fixed: sequence numbers and `$` become the UIDs they named, and `*` in
/// a UID set the largest UID then (as Dovecot does for its contexts).
/// Messages that arrive later are judged by the rest of the key.
fn freeze(key: &SearchKey, view: &View, saved: &[i64]) -> SearchKey {
    let uids = |set: &SequenceSet, uid: bool| {
        let uids: Vec<i64> = view.select(set, uid, saved).into_iter().map(|i| view.uid(i)).collect();
        SearchKey::Uid(uid_set(&uids))
    };
    match key {
        SearchKey::Sequence(set) => uids(set, false),
        SearchKey::Uid(set @ SequenceSet::Saved) => uids(set, true),
        SearchKey::Uid(SequenceSet::Ranges(ranges)) => {
            let largest = u32::try_from(view.last_uid()).unwrap_or(u32::MAX);
            let fixed = |n: SeqNumber| SeqNumber::Value(n.resolve(largest));
            SearchKey::Uid(SequenceSet::Ranges(
                ranges.iter().map(|&(a, b)| (fixed(a), fixed(b))).collect(),
            ))
        }
        SearchKey::Not(inner) => SearchKey::Not(Box::new(freeze(inner, view, saved))),
        SearchKey::Or(a, b) => SearchKey::Or(Box::new(freeze(a, view, saved)), Box::new(freeze(b, view, saved))),
        SearchKey::And(keys) => SearchKey::And(keys.iter().map(|k| freeze(k, view, saved)).collect()),
        other => other.clone(),
    }
}

/// Ascending UIDs as ranges.
fn uid_set(uids: &[i64]) -> SequenceSet {
    let mut ranges: Vec<(SeqNumber, SeqNumber)> = Vec::new();
    for &uid in uids {
        let uid = uid as u32;
        match ranges.last_mut() {
            Some((_, SeqNumber::Value(high))) if *high + 1 == uid => *high = uid,
            _ => ranges.push((SeqNumber::Value(uid), SeqNumber::Value(uid))),
        }
    }
    SequenceSet::Ranges(ranges)
}
