//! Sequence sets resolved once into sorted, disjoint ranges: whether a
//! number is in the set is then a binary search, not a walk over every
//! range as written, and a saved result (`$`, RFC 5182) is kept ascending
//! for the same reason. Walking each message through each range made
//! UID EXPUNGE, FETCH, STORE and SEARCH with a set of 10 000 ranges over
//! a big mailbox O(n·m) (issue 12).

use wire::imap::SequenceSet;

pub(crate) struct Ranges(Vec<(u32, u32)>);

impl Ranges {
    /// The numbers `set` names, `*` being `largest` (RFC 9051 §9: `a:b`
    /// with a > b is `b:a`). `$` names none here: see [`in_saved`].
    pub(crate) fn of(set: &SequenceSet, largest: u32) -> Ranges {
        let SequenceSet::Ranges(written) = set else {
            return Ranges(Vec::new());
        };
        let mut ranges: Vec<(u32, u32)> = written
            .iter()
            .map(|(a, b)| {
                let (a, b) = (a.resolve(largest), b.resolve(largest));
                (a.min(b), a.max(b))
            })
            .collect();
        ranges.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
        for (low, high) in ranges {
            match merged.last_mut() {
                Some(last) if low <= last.1.saturating_add(1) => last.1 = last.1.max(high),
                _ => merged.push((low, high)),
            }
        }
        Ranges(merged)
    }

    pub(crate) fn contains(&self, n: u32) -> bool {
        // The first range that does not end before `n`.
        let at = self.0.partition_point(|&(_, high)| high < n);
        self.0.get(at).is_some_and(|&(low, _)| low <= n)
    }
}

/// Whether `uid` is in a saved search result, which is kept ascending.
pub(crate) fn in_saved(saved: &[i64], uid: i64) -> bool {
    saved.binary_search(&uid).is_ok()
}

/// `1:3,7` from numbers: runs that go up by one become ranges, the order
/// is kept (a SORT's ALL is in sort order, RFC 5267 §3.2).
pub(crate) fn compress(numbers: &[i64]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < numbers.len() {
        let start = numbers[i];
        while i + 1 < numbers.len() && numbers[i + 1] == numbers[i] + 1 {
            i += 1;
        }
        parts.push(if numbers[i] == start {
            start.to_string()
        } else {
            format!("{start}:{}", numbers[i])
        });
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use wire::imap::SeqNumber::{Largest, Value};

    use super::*;

    #[test]
    fn resolves_merges_and_finds() {
        let set = SequenceSet::Ranges(vec![
            (Value(9), Largest),
            (Value(5), Value(3)),
            (Value(1), Value(1)),
            (Value(4), Value(6)),
            (Value(20), Value(20)),
        ]);
        let ranges = Ranges::of(&set, 12);
        assert_eq!(ranges.0, [(1, 1), (3, 6), (9, 12), (20, 20)]);
        let hits: Vec<u32> = (0..=21).filter(|&n| ranges.contains(n)).collect();
        assert_eq!(hits, [1, 3, 4, 5, 6, 9, 10, 11, 12, 20]);
        assert!(!Ranges::of(&SequenceSet::Saved, 12).contains(1));
        assert!(Ranges::of(&SequenceSet::Ranges(vec![(Value(u32::MAX), Value(1))]), 0).contains(u32::MAX));
        assert!(in_saved(&[2, 4, 8], 4) && !in_saved(&[2, 4, 8], 5));
    }

    #[test]
    fn compresses_runs() {
        assert_eq!(compress(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(compress(&[]), "");
        assert_eq!(compress(&[5, 3, 4, 2, 1]), "5,3:4,2,1");
    }
}
