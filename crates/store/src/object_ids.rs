//! Object identifiers (RFC 8474): MAILBOXID, EMAILID and THREADID, made
//! when a mailbox or a message is first stored.
//!
//! The identifiers are random (a letter for the kind, then 24 hex
//! digits, within RFC 8474 §4's `objectid` grammar): they tell nothing
//! about other users, other mailboxes or how many there are. An EMAILID
//! names one content (RFC 8474 §5.1): COPY and MOVE carry it to the copy,
//! as they carry the THREADID. Content delivered or appended again gets
//! a new EMAILID: RFC 8474 §5.1 allows, not asks for, a shared one, and
//! postamt files each delivery into one mailbox only.
//!
//! THREADID (RFC 8474 §5.2): a new message takes the thread of the first
//! stored message of the same account whose Message-ID it names in
//! In-Reply-To or References (or shares), else it starts a thread of its
//! own. A reply that arrives before the message it answers starts its own
//! thread, which the original then does not join: threads are made at
//! delivery and never merged.

use ring::rand::{SecureRandom, SystemRandom};

use crate::sql::OptionalExtension;
use crate::{Error, MailboxId, MessageFacts, Result};

/// A new identifier of the kind `prefix` names: `M` for a mailbox, `E`
/// for a message's content, `T` for a thread.
pub(crate) fn new_id(prefix: char) -> Result<String> {
    let mut bytes = [0u8; 12];
    SystemRandom::new().fill(&mut bytes).map_err(|_| {
        Error::io(
            std::path::Path::new("object id"),
            std::io::Error::other("the system random generator failed"),
        )
    })?;
    let mut id = String::with_capacity(25);
    id.push(prefix);
    id.extend(bytes.iter().map(|byte| format!("{byte:02x}")));
    Ok(id)
}

/// The THREADID of a message about to be stored in `mailbox`: that of the
/// earliest message of the mailbox's account with a Message-ID the new
/// one names, or a new one (see the module's comment).
pub(crate) fn thread_for(tx: &crate::sql::Db, mailbox: MailboxId, facts: &MessageFacts) -> Result<String> {
    let ids: Vec<&String> = facts.message_id.iter().chain(&facts.parents).collect();
    if ids.is_empty() {
        return new_id('T');
    }
    // One statement for all of them (at most imf's bound on parents and
    // the message's own), its placeholders after the mailbox's `$1`.
    //
    // The messages come first and are found by their Message-ID index;
    // their mailboxes are then checked against the account. Written as an
    // inner JOIN, SQLite's planner (without statistics) took the other
    // order once a message named five ids or more: the account's
    // mailboxes, then every message of each through `messages_modseq`,
    // reading each row for its Message-ID; a walk over the whole mailbox
    // for every message stored, which made importing a big INBOX
    // quadratic. SQLite keeps the left table of a CROSS JOIN as the outer
    // loop ("The SQLite Query Optimizer Overview", §"Manual Control Of
    // Query Plans Using CROSS JOIN"); for PostgreSQL it is the inner join
    // it was. `query_plans` holds the plan to this.
    let placeholders: Vec<String> = (2..ids.len() + 2).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT m.thread_id FROM messages m CROSS JOIN mailboxes b
         WHERE b.id = m.mailbox_id
           AND b.account_id = (SELECT account_id FROM mailboxes WHERE id = $1)
           AND m.header_message_id IN ({}) AND m.thread_id IS NOT NULL
         ORDER BY m.id LIMIT 1",
        placeholders.join(", ")
    );
    let mut params: Vec<&dyn crate::sql::Value> = vec![&mailbox];
    params.extend(ids.iter().map(|id| *id as &dyn crate::sql::Value));
    let found: Option<String> = tx
        .prepare_cached(&sql)?
        .query_row(params.as_slice(), |row| row.get(0))
        .optional()?;
    match found {
        Some(thread) => Ok(thread),
        None => new_id('T'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_fit_the_objectid_grammar_and_differ() {
        let a = new_id('E').unwrap();
        let b = new_id('E').unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 25);
        // RFC 8474 §4: objectid = 1*255(ALPHA / DIGIT / "_" / "-")
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-'));
        assert!(a.starts_with('E'));
    }
}
