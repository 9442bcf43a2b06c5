//! Updating contexts (RFC 5267 §4.3): the results of SEARCH and SORT
//! commands given RETURN (UPDATE), kept by UID while the mailbox stays
//! selected, and the ESEARCH responses with ADDTO and REMOVEFROM that keep
//! the client's copy in step. A SEARCH result is a set in mailbox order
//! (context position 0, §4.3.3); a SORT result is a list in sort order
//! with each message's keys, so that a new message finds its position by
//! comparison alone. Sort keys never change once a message is stored, so
//! a flag change only ever adds or removes, never moves.
//!
//! This file holds the results and writes the responses; when they run
//! and what changed is `context.rs`'s.

use std::collections::{BTreeSet, HashSet};

use wire::imap::{SearchKey, SortCriterion};

use crate::commands::sort::compare;
use crate::commands::sort_keys::Keyed;
use crate::ranges::compress;

/// How a context's result is ordered.
pub(crate) enum Order {
    /// SEARCH: mailbox order.
    Mailbox,
    /// SORT: by these criteria, the results with their keys in that
    /// order; `Keyed::number` holds the UID, which orders ties as the
    /// sequence number does (RFC 5256 §3) and does not change.
    Sorted {
        criteria: Vec<SortCriterion>,
        keyed: Vec<Keyed>,
    },
}

/// One updating context.
pub(crate) struct Context {
    /// The searching command's tag, the correlator of its updates.
    pub tag: String,
    /// UID SEARCH or UID SORT: updates name UIDs, else sequence numbers
    /// (RFC 5267 §4.3.2).
    pub uid: bool,
    /// The search key, its sequence numbers and `$` turned into the UIDs
    /// they named when the command ran (see `context.rs`).
    pub key: SearchKey,
    /// The UIDs in the result.
    pub members: BTreeSet<i64>,
    pub order: Order,
}

impl Context {
    /// Takes the messages `gone` out of the result: the `REMOVEFROM` data
    /// item that says so (§4.3.4), numbered by `number`, if any was in it.
    pub fn remove(&mut self, gone: &HashSet<i64>, number: impl Fn(i64) -> i64) -> Option<String> {
        // Ascending, as the set is.
        let removed: Vec<i64> = self.members.iter().filter(|u| gone.contains(u)).copied().collect();
        if removed.is_empty() {
            return None;
        }
        for uid in &removed {
            self.members.remove(uid);
        }
        let pairs = match &mut self.order {
            Order::Mailbox => vec![(0, removed)],
            Order::Sorted { keyed, .. } => {
                // Runs of neighbours: each pair's position is where its
                // first message is once the pairs before it are applied.
                let positions: Vec<(usize, i64)> = keyed
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| gone.contains(&k.uid))
                    .map(|(at, k)| (at + 1, k.uid))
                    .collect();
                keyed.retain(|k| !gone.contains(&k.uid));
                let mut pairs = runs(&positions);
                let mut removed = 0;
                for (position, uids) in &mut pairs {
                    let length = uids.len();
                    *position -= removed;
                    removed += length;
                }
                pairs
            }
        };
        Some(format!("REMOVEFROM ({})", pair_list(&pairs, number)))
    }

    /// Puts the messages `added` (not in the result yet, with their keys
    /// for a SORT) into the result: the `ADDTO` data item (§4.3.3).
    pub fn add(&mut self, added: Vec<Keyed>, number: impl Fn(i64) -> i64) -> Option<String> {
        if added.is_empty() {
            return None;
        }
        self.members.extend(added.iter().map(|k| k.uid));
        let pairs = match &mut self.order {
            Order::Mailbox => {
                let mut uids: Vec<i64> = added.iter().map(|k| k.uid).collect();
                uids.sort_unstable();
                vec![(0, uids)]
            }
            Order::Sorted { criteria, keyed } => {
                let mut added = added;
                for k in &mut added {
                    k.number = k.uid;
                }
                added.sort_by(|a, b| compare(a, b, criteria));
                let new: HashSet<i64> = added.iter().map(|k| k.uid).collect();
                *keyed = merge(std::mem::take(keyed), added, criteria);
                // In ascending order of where they end up, each pair's
                // position is right when applied in turn.
                let positions: Vec<(usize, i64)> = keyed
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| new.contains(&k.uid))
                    .map(|(at, k)| (at + 1, k.uid))
                    .collect();
                runs(&positions)
            }
        };
        Some(format!("ADDTO ({})", pair_list(&pairs, number)))
    }

    /// `* ESEARCH (TAG "t") [UID] item...` (RFC 5267 §4.3.2).
    pub fn line(&self, items: &[String]) -> String {
        let uid = if self.uid { " UID" } else { "" };
        format!("* ESEARCH (TAG \"{}\"){uid} {}\r\n", self.tag, items.join(" "))
    }
}

/// Two lists in sort order made one.
fn merge(old: Vec<Keyed>, new: Vec<Keyed>, criteria: &[SortCriterion]) -> Vec<Keyed> {
    let mut merged = Vec::with_capacity(old.len() + new.len());
    let mut old = old.into_iter().peekable();
    let mut new = new.into_iter().peekable();
    loop {
        let take_new = match (old.peek(), new.peek()) {
            (Some(a), Some(b)) => compare(b, a, criteria).is_lt(),
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (None, None) => return merged,
        };
        merged.extend(if take_new { new.next() } else { old.next() });
    }
}

/// Positions (1-based, ascending) with their UIDs grouped into runs of
/// neighbours: (first position, UIDs).
fn runs(positions: &[(usize, i64)]) -> Vec<(usize, Vec<i64>)> {
    let mut runs: Vec<(usize, Vec<i64>)> = Vec::new();
    for &(position, uid) in positions {
        match runs.last_mut() {
            Some((start, uids)) if *start + uids.len() == position => uids.push(uid),
            _ => runs.push((position, vec![uid])),
        }
    }
    runs
}

/// `pos set pos set`: each set in the result's order.
fn pair_list(pairs: &[(usize, Vec<i64>)], number: impl Fn(i64) -> i64) -> String {
    pairs
        .iter()
        .map(|(position, uids)| {
            let numbers: Vec<i64> = uids.iter().map(|&uid| number(uid)).collect();
            format!("{position} {}", compress(&numbers))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The session's updating contexts, all on the selected mailbox.
#[derive(Default)]
pub(crate) struct Contexts {
    pub list: Vec<Context>,
    /// The MODSEQ after which changes are still to be looked at. Looking
    /// at a change twice changes nothing (a message is added only if it is
    /// not in the result, removed only if it is), so it may lag.
    pub modseq: i64,
}

impl Contexts {
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn has(&self, tag: &str) -> bool {
        self.list.iter().any(|c| c.tag == tag)
    }

    /// Keeps a new context, whose result is the view's at `modseq`.
    pub fn keep(&mut self, context: Context, modseq: i64) {
        if self.list.is_empty() {
            self.modseq = modseq;
        }
        self.list.push(context);
    }

    /// Ends the contexts of `tags`, all or (if one is unknown) none.
    pub fn cancel(&mut self, tags: &[String]) -> Result<(), String> {
        if let Some(unknown) = tags.iter().find(|t| !self.has(t)) {
            return Err(unknown.clone());
        }
        self.list.retain(|c| !tags.contains(&c.tag));
        Ok(())
    }

    /// The mailbox is no longer selected: every context ends (§4.3).
    pub fn clear(&mut self) {
        self.list.clear();
    }
}

#[cfg(test)]
mod tests {
    use wire::imap::SortKey;

    use super::*;

    fn keyed(uid: i64, size: i64) -> Keyed {
        Keyed {
            size,
            ..Keyed::bare(uid, uid)
        }
    }

    fn by_size(members: &[(i64, i64)]) -> Context {
        Context {
            tag: "B01".into(),
            uid: true,
            key: SearchKey::All,
            members: members.iter().map(|m| m.0).collect(),
            order: Order::Sorted {
                criteria: vec![SortCriterion {
                    reverse: false,
                    key: SortKey::Size,
                }],
                keyed: members.iter().map(|&(uid, size)| keyed(uid, size)).collect(),
            },
        }
    }

    fn order(context: &Context) -> Vec<i64> {
        match &context.order {
            Order::Sorted { keyed, .. } => keyed.iter().map(|k| k.uid).collect(),
            Order::Mailbox => context.members.iter().copied().collect(),
        }
    }

    /// Applies ADDTO/REMOVEFROM pairs as a client does (§4.3.3, §4.3.4).
    fn apply(list: &mut Vec<i64>, item: &str) {
        let (name, rest) = item.split_once(" (").unwrap();
        let words: Vec<&str> = rest.trim_end_matches(')').split(' ').collect();
        for pair in words.chunks(2) {
            let position: usize = pair[0].parse().unwrap();
            let uids: Vec<i64> = pair[1]
                .split(',')
                .flat_map(|part| match part.split_once(':') {
                    Some((a, b)) => (a.parse::<i64>().unwrap()..=b.parse().unwrap()).collect::<Vec<_>>(),
                    None => vec![part.parse().unwrap()],
                })
                .collect();
            if name == "ADDTO" {
                for (i, uid) in uids.into_iter().enumerate() {
                    list.insert(position - 1 + i, uid);
                }
            } else {
                assert_eq!(&list[position - 1..position - 1 + uids.len()], uids.as_slice());
                list.drain(position - 1..position - 1 + uids.len());
            }
        }
    }

    #[test]
    fn sorted_additions_land_where_a_client_puts_them() {
        let mut context = by_size(&[(1, 10), (2, 20), (3, 30)]);
        let mut client = order(&context);
        let item = context
            .add(vec![keyed(7, 5), keyed(8, 25), keyed(9, 26), keyed(10, 99)], |u| u)
            .unwrap();
        assert_eq!(item, "ADDTO (1 7 4 8:9 7 10)");
        apply(&mut client, &item);
        assert_eq!(client, order(&context));
        assert_eq!(client, [7, 1, 2, 8, 9, 3, 10]);
    }

    #[test]
    fn sorted_removals_name_positions_as_they_shift() {
        let mut context = by_size(&[(1, 10), (2, 20), (3, 30), (4, 40), (5, 50)]);
        let mut client = order(&context);
        let gone: HashSet<i64> = [2, 3, 5, 42].into();
        let item = context.remove(&gone, |u| u).unwrap();
        assert_eq!(item, "REMOVEFROM (2 2:3 3 5)");
        apply(&mut client, &item);
        assert_eq!(client, [1, 4]);
        assert_eq!(order(&context), client);
        assert_eq!(context.remove(&gone, |u| u), None);
    }

    /// Many rounds of additions and removals, sizes repeating so that
    /// ties go to the UID: a client applying every item in order always
    /// holds the server's list.
    #[test]
    fn a_client_applying_the_items_keeps_the_same_order() {
        let mut context = by_size(&[]);
        let mut client: Vec<i64> = Vec::new();
        let mut seed: u64 = 7;
        let mut next = move |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let mut uid = 0;
        for _ in 0..200 {
            let added: Vec<Keyed> = (0..next(4))
                .map(|_| {
                    uid += 1;
                    keyed(uid, next(10) as i64)
                })
                .collect();
            if let Some(item) = context.add(added, |u| u) {
                apply(&mut client, &item);
            }
            let gone: HashSet<i64> = context.members.iter().copied().filter(|_| next(5) == 0).collect();
            if let Some(item) = context.remove(&gone, |u| u) {
                apply(&mut client, &item);
            }
            assert_eq!(client, order(&context));
        }
        assert!(!client.is_empty());
    }

    #[test]
    fn search_results_use_position_zero_and_mailbox_order() {
        let mut context = Context {
            tag: "A".into(),
            uid: false,
            key: SearchKey::All,
            members: [3, 5].into(),
            order: Order::Mailbox,
        };
        let add = context.add(vec![keyed(9, 0), keyed(4, 0)], |u| u - 1).unwrap();
        assert_eq!(add, "ADDTO (0 3,8)");
        let remove = context.remove(&[3, 4].into(), |u| u - 1).unwrap();
        assert_eq!(remove, "REMOVEFROM (0 2:3)");
        assert_eq!(
            context.line(&[remove, add]),
            "* ESEARCH (TAG \"A\") REMOVEFROM (0 2:3) ADDTO (0 3,8)\r\n"
        );
    }

    #[test]
    fn cancel_is_all_or_nothing() {
        let mut contexts = Contexts::default();
        contexts.keep(by_size(&[]), 5);
        assert_eq!(contexts.cancel(&["B01".into(), "X".into()]), Err("X".into()));
        assert!(contexts.has("B01"));
        assert_eq!(contexts.cancel(&["B01".into()]), Ok(()));
        assert!(contexts.is_empty());
    }
}
