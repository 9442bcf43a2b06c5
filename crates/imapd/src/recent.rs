//! The messages a session shows as \Recent (IMAP4rev1, RFC 3501 §2.3.2),
//! as UID ranges: the store hands out recent messages a range at a time
//! (`Store::claim_recent`), so a session that first sees 100 000 new
//! messages keeps one range, not 100 000 UIDs (issue 20, point 5).

/// Ascending, disjoint UID ranges, and how many of the view's messages
/// they hold (expunged ones leave the count, not the ranges: the view
/// never asks about a UID it no longer holds).
#[derive(Debug, Default)]
pub(crate) struct Recent {
    ranges: Vec<(i64, i64)>,
    len: usize,
}

impl Recent {
    /// Whether the message with this UID is recent.
    pub fn contains(&self, uid: &i64) -> bool {
        let at = self.ranges.partition_point(|&(_, until)| until <= *uid);
        self.ranges.get(at).is_some_and(|&(from, _)| from <= *uid)
    }

    /// How many of the view's messages are recent: RECENT's count.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Adds the UIDs `from..until` not held already, of which the view
    /// holds `count(from, until)`; ranges only grow upwards (claims move
    /// forward), so what overlaps is below the last range's end.
    pub fn add(&mut self, from: i64, until: i64, count: impl Fn(i64, i64) -> usize) {
        let from = self.ranges.last().map_or(from, |&(_, end)| from.max(end));
        if from >= until {
            return;
        }
        self.len += count(from, until);
        match self.ranges.last_mut() {
            Some(last) if last.1 == from => last.1 = until,
            _ => self.ranges.push((from, until)),
        }
    }

    /// The message with this UID was expunged (and the client told).
    pub fn remove(&mut self, uid: i64) {
        if self.contains(&uid) {
            self.len -= 1;
        }
    }

    /// Heap bytes held.
    #[cfg(test)]
    pub fn heap_bytes(&self) -> usize {
        self.ranges.capacity() * size_of::<(i64, i64)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ranges that overlap what is held add only what is new, adjacent
    /// ones merge, and the count follows the view's messages.
    #[test]
    fn ranges_grow_and_count_the_views_messages() {
        let uids = [1, 2, 3, 5, 8, 9];
        let count = |from: i64, until: i64| uids.iter().filter(|u| (from..until).contains(*u)).count();
        let mut recent = Recent::default();
        recent.add(2, 6, count);
        assert_eq!(recent.len(), 3);
        recent.add(4, 9, count);
        assert_eq!((recent.len(), recent.ranges.len()), (4, 1), "2..9 in one range");
        recent.add(1, 3, count);
        assert_eq!(recent.len(), 4, "nothing below the ranges' end is added again");
        assert!(recent.contains(&2) && recent.contains(&8) && !recent.contains(&1) && !recent.contains(&9));
        recent.remove(3);
        recent.remove(1);
        assert_eq!(recent.len(), 3);
    }
}
