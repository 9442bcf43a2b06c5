//! UIDVALIDITY for new mailboxes (RFC 9051 §2.3.1.1): unique per store for
//! its whole life, so never the one a client cached for a mailbox of the
//! same name that was deleted, even in the same second, after a restart,
//! or with the clock set back (issue 13, defect 2; docs/design.md).

use crate::sql::OptionalExtension;

use crate::{Error, Result};

/// The next UIDVALIDITY: the current time in seconds, or one more than the
/// last value handed out if that is larger. The counter is a row of the
/// database, advanced in the transaction that creates the mailbox, so it
/// only ever grows; the time keeps the values large, as clients that
/// compare them across stores expect. Call it only for a mailbox that is
/// really inserted: every call uses up a value for the whole store.
///
/// UIDVALIDITY is a nz-number, at most 2^32-1 (RFC 9051 §9); once the
/// counter reaches that, no mailbox can be made any more, and the caller
/// gets `MailboxLimit` (NO [LIMIT]) rather than a value that a client would
/// see wrapped or refuse.
pub(crate) fn next_uidvalidity(tx: &crate::sql::Db, now: i64) -> Result<i64> {
    tx.prepare_cached(
        "UPDATE uidvalidity_counter SET last = CASE WHEN last + 1 > $1 THEN last + 1 ELSE $1 END
         WHERE id = 1 AND CASE WHEN last + 1 > $1 THEN last + 1 ELSE $1 END <= $2 RETURNING last",
    )?
    .query_row([now, i64::from(u32::MAX)], |row| row.get(0))
    .optional()?
    .ok_or_else(|| Error::MailboxLimit("No UIDVALIDITY values are left in this store".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_only_grow_whatever_the_clock_says() {
        let db = crate::sql::Db::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        db.execute_batch(include_str!("../migrations/0001_initial.sql"))
            .unwrap();
        db.execute_batch(include_str!("../migrations/0009_uidvalidity.sql"))
            .unwrap();
        let start: i64 = db
            .query_row("SELECT last FROM uidvalidity_counter", (), |row| row.get(0))
            .unwrap();
        assert!(start >= 1_700_000_000, "starts at the current time: {start}");
        let future = start + 1000;
        assert_eq!(next_uidvalidity(&db, future).unwrap(), future);
        // The same second, twice more: one more each time.
        assert_eq!(next_uidvalidity(&db, future).unwrap(), future + 1);
        assert_eq!(next_uidvalidity(&db, future).unwrap(), future + 2);
        // The clock set back by an hour: still above every value before.
        assert_eq!(next_uidvalidity(&db, future - 3600).unwrap(), future + 3);
        // Time catching up and passing the counter: the time again.
        assert_eq!(next_uidvalidity(&db, future + 50).unwrap(), future + 50);
    }

    #[test]
    fn values_never_exceed_u32_max() {
        let db = crate::sql::Db::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        db.execute_batch(include_str!("../migrations/0001_initial.sql"))
            .unwrap();
        db.execute_batch(include_str!("../migrations/0009_uidvalidity.sql"))
            .unwrap();
        let max = i64::from(u32::MAX);
        db.execute("UPDATE uidvalidity_counter SET last = $1", [max - 2])
            .unwrap();
        assert_eq!(next_uidvalidity(&db, 0).unwrap(), max - 1);
        assert_eq!(next_uidvalidity(&db, 0).unwrap(), max);
        assert!(matches!(next_uidvalidity(&db, 0), Err(Error::MailboxLimit(_))));
        // Refused, the counter stays where it was.
        assert!(matches!(next_uidvalidity(&db, 0), Err(Error::MailboxLimit(_))));
        let last: i64 = db
            .query_row("SELECT last FROM uidvalidity_counter", (), |row| row.get(0))
            .unwrap();
        assert_eq!(last, max);
        // A clock beyond 2106 does not push it over either.
        db.execute("UPDATE uidvalidity_counter SET last = 5", ()).unwrap();
        assert!(matches!(next_uidvalidity(&db, max + 1), Err(Error::MailboxLimit(_))));
    }

    #[test]
    fn the_counter_starts_above_every_uidvalidity_in_use() {
        let db = crate::sql::Db::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        db.execute_batch(include_str!("../migrations/0001_initial.sql"))
            .unwrap();
        // A mailbox made while the clock was a year ahead.
        let ahead = crate::now() + 365 * 86_400;
        db.execute_batch(&format!(
            "INSERT INTO domains (name, created_at) VALUES ('example.test', 0);
             INSERT INTO accounts (domain_id, local_part, password_hash, created_at) VALUES (1, 'a', 'h', 0);
             INSERT INTO mailboxes (account_id, name, uidvalidity) VALUES (1, 'INBOX', {ahead});"
        ))
        .unwrap();
        db.execute_batch(include_str!("../migrations/0009_uidvalidity.sql"))
            .unwrap();
        assert_eq!(next_uidvalidity(&db, crate::now()).unwrap(), ahead + 1);
    }
}
