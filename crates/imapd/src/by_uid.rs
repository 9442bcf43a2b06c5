//! Pairs messages a command names with the rows the store read for them,
//! both in UID order: walked side by side in one pass, with no map. A
//! message whose row is missing was expunged by another session meanwhile.

/// Each of `messages` (anything, with its UID; ascending) beside its row
/// from `rows` (ascending by `uid_of`), or None.
pub(crate) fn beside<T, R>(
    messages: impl IntoIterator<Item = (T, i64)>,
    rows: impl IntoIterator<Item = R>,
    uid_of: impl Fn(&R) -> i64,
) -> impl Iterator<Item = (T, Option<R>)> {
    let mut rows = rows.into_iter().peekable();
    messages.into_iter().map(move |(message, uid)| {
        while rows.next_if(|row| uid_of(row) < uid).is_some() {}
        (message, rows.next_if(|row| uid_of(row) == uid))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_meet_their_messages_and_gaps_are_none() {
        let messages = [("a", 2), ("b", 5), ("c", 7), ("d", 9)];
        let rows = [1, 2, 3, 7, 9, 10];
        let paired: Vec<_> = beside(messages, rows, |&row| row).collect();
        assert_eq!(paired, [("a", Some(2)), ("b", None), ("c", Some(7)), ("d", Some(9))]);
    }
}
