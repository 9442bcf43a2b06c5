//! Message flags: the system flags of RFC 9051 §2.3.2 as a bit set, and
//! keywords. (\Recent is per session, not stored.)

/// The system flags, as stored in `messages.flags`.
pub const SEEN: i64 = 1;
pub const ANSWERED: i64 = 2;
pub const FLAGGED: i64 = 4;
pub const DELETED: i64 = 8;
pub const DRAFT: i64 = 16;

const SYSTEM: [(i64, &str); 5] = [
    (SEEN, "\\Seen"),
    (ANSWERED, "\\Answered"),
    (FLAGGED, "\\Flagged"),
    (DELETED, "\\Deleted"),
    (DRAFT, "\\Draft"),
];

/// The order of keywords, case-insensitive as RFC 9051 §2.3.2 compares
/// them; keywords are ASCII atoms, so this needs no lower-case copy.
pub fn keyword_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes()
        .map(|b| b.to_ascii_lowercase())
        .cmp(b.bytes().map(|b| b.to_ascii_lowercase()))
}

/// A message's flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    pub system: i64,
    /// Keywords, as first written, sorted and without duplicates
    /// (compared case-insensitively, as RFC 9051 §2.3.2 asks).
    pub keywords: Vec<String>,
}

impl Flags {
    /// Reads IMAP flag names; unknown system flags (like \Recent) are
    /// ignored, since a client cannot set them.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Flags {
        let mut flags = Flags::default();
        for name in names {
            let name = name.as_ref();
            if let Some(system) = name.strip_prefix('\\') {
                if let Some((bit, _)) = SYSTEM.iter().find(|(_, n)| n[1..].eq_ignore_ascii_case(system)) {
                    flags.system |= bit;
                }
            } else {
                flags.keywords.push(name.to_string());
            }
        }
        // Sorted, then duplicates dropped: no comparison of each with all
        // the others, however many a command names. The sort is stable,
        // so the first spelling stays.
        flags.keywords.sort_by(|a, b| keyword_order(a, b));
        flags.keywords.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        flags
    }

    /// The flag names, system flags first.
    pub fn names(&self) -> Vec<String> {
        self.system_names()
            .map(str::to_string)
            .chain(self.keywords.iter().cloned())
            .collect()
    }

    /// The names of the system flags set, in the order `names` gives them.
    pub fn system_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        SYSTEM
            .iter()
            .filter(|(bit, _)| self.system & bit != 0)
            .map(|(_, name)| *name)
    }

    pub fn has(&self, bit: i64) -> bool {
        self.system & bit != 0
    }

    pub fn has_keyword(&self, keyword: &str) -> bool {
        self.keywords.iter().any(|k| k.eq_ignore_ascii_case(keyword))
    }

    /// `self` with `other` added.
    pub fn with(&self, other: &Flags) -> Flags {
        let mut names = self.names();
        names.extend(other.names());
        Flags::from_names(&names)
    }

    /// `self` with `other` taken away.
    pub fn without(&self, other: &Flags) -> Flags {
        Flags {
            system: self.system & !other.system,
            keywords: self
                .keywords
                .iter()
                .filter(|k| !other.has_keyword(k))
                .cloned()
                .collect(),
        }
    }
}

/// How a flag change applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagChange {
    Replace,
    Add,
    Remove,
}

use crate::append::next_modseq;
use crate::messages::{META_SELECT, MessageMeta, json_list, meta_from_row};
use crate::{MailboxId, Result, Store};

impl Store {
    /// Changes the flags of messages. `unchanged_since` (RFC 7162 §3.1.3)
    /// leaves alone, and reports, those modified after it. Returns the
    /// messages changed, with their new flags and MODSEQ, and the UIDs that
    /// failed the UNCHANGEDSINCE test.
    pub async fn store_flags(
        &self,
        mailbox: MailboxId,
        uids: &[i64],
        change: FlagChange,
        flags: &Flags,
        unchanged_since: Option<i64>,
    ) -> Result<(Vec<MessageMeta>, Vec<i64>)> {
        let (uids, flags) = (uids.to_vec(), flags.clone());
        let (changed, failed) = self
            .batched(move |tx| Self::change_flags(tx, mailbox, &uids, change, &flags, unchanged_since))
            .await?;
        if !changed.is_empty() {
            self.announce(mailbox);
        }
        Ok((changed, failed))
    }

    /// Sets \Seen on messages (a FETCH of their bodies, RFC 9051 §6.4.5):
    /// one group-commit job however many they are. Returns those changed,
    /// with their new flags and MODSEQ.
    pub async fn add_seen(&self, mailbox: MailboxId, uids: &[i64]) -> Result<Vec<MessageMeta>> {
        let seen = Flags {
            system: SEEN,
            keywords: Vec::new(),
        };
        let (changed, _) = self.store_flags(mailbox, uids, FlagChange::Add, &seen, None).await?;
        Ok(changed)
    }

    fn change_flags(
        tx: &crate::sql::Db,
        mailbox: MailboxId,
        uids: &[i64],
        change: FlagChange,
        flags: &Flags,
        unchanged_since: Option<i64>,
    ) -> Result<(Vec<MessageMeta>, Vec<i64>)> {
        // Read inside the write transaction, so that two sessions changing
        // the same message's flags at once cannot lose one change.
        let current = tx
            .prepare_cached(&format!(
                "{META_SELECT} AND m.uid IN (SELECT value FROM json_each($2)) ORDER BY m.uid"
            ))?
            .query_map((mailbox, json_list(uids)), meta_from_row)?
            .collect::<crate::Result<Vec<_>>>()?;
        let mut changed = Vec::new();
        let mut failed = Vec::new();
        let mut modseq = None;
        // Messages whose keywords stay as they were, by their new system
        // flags: one UPDATE for each set of flags, not one per message (a
        // round trip each on PostgreSQL).
        let mut by_system: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
        for message in current {
            if unchanged_since.is_some_and(|limit| message.modseq > limit) {
                failed.push(message.uid);
                continue;
            }
            let new = match change {
                FlagChange::Replace => flags.clone(),
                FlagChange::Add => message.flags.with(flags),
                FlagChange::Remove => message.flags.without(flags),
            };
            if new == message.flags {
                continue;
            }
            let next = match modseq {
                Some(value) => value,
                None => {
                    let value = next_modseq(tx, mailbox)?;
                    modseq = Some(value);
                    value
                }
            };
            if new.keywords == message.flags.keywords {
                by_system.entry(new.system).or_default().push(message.uid);
            } else {
                let id: i64 = tx
                    .prepare_cached(
                        "UPDATE messages SET flags = $1, modseq = $2 WHERE mailbox_id = $3 AND uid = $4 RETURNING id",
                    )?
                    .query_row((new.system, next, mailbox, message.uid), |row| row.get(0))?;
                Self::write_keywords(tx, id, &new.keywords)?;
            }
            changed.push(MessageMeta {
                flags: new,
                modseq: next,
                ..message
            });
        }
        if let Some(next) = modseq {
            let mut update = tx.prepare_cached(
                "UPDATE messages SET flags = $1, modseq = $2
                 WHERE mailbox_id = $3 AND uid IN (SELECT value FROM json_each($4))",
            )?;
            for (system, uids) in by_system {
                update.execute((system, next, mailbox, json_list(&uids)))?;
            }
        }
        Ok((changed, failed))
    }

    pub(crate) fn write_keywords(tx: &crate::sql::Db, message: i64, keywords: &[String]) -> Result<()> {
        tx.prepare_cached("DELETE FROM message_keywords WHERE message_id = $1")?
            .execute([message])?;
        let mut insert = tx.prepare_cached("INSERT INTO message_keywords (message_id, keyword) VALUES ($1, $2)")?;
        for keyword in keywords {
            insert.execute((message, keyword))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MessageFacts;

    /// A store with alice's INBOX holding `n` messages, those at the
    /// indexes in `seen` already \Seen.
    async fn inbox(n: usize, seen: &[usize]) -> (tempfile::TempDir, Store, MailboxId) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        store.add_domain("example.test").await.unwrap();
        let account = store.add_account("alice@example.test", "hash").await.unwrap();
        let inbox = store.mailbox(account, "INBOX").await.unwrap().unwrap().id;
        for i in 0..n {
            let content = store
                .put_content(format!("Subject: {i}\r\n\r\nbody\r\n").into_bytes())
                .await
                .unwrap();
            let flags = if seen.contains(&i) {
                Flags::from_names(&["\\Seen"])
            } else {
                Flags::default()
            };
            store
                .append(inbox, content, flags, 0, MessageFacts::default())
                .await
                .unwrap();
        }
        (dir, store, inbox)
    }

    /// A FETCH of many bodies marks them \Seen in one write (issue 15):
    /// one group-commit job for the batch, not one per message.
    #[tokio::test]
    async fn add_seen_is_one_job_for_many_messages() {
        let (_dir, store, inbox) = inbox(40, &[3]).await;
        let uids: Vec<i64> = (1..=40).collect();
        let (_, jobs_before) = store.commit_stats();
        let changed = store.add_seen(inbox, &uids).await.unwrap();
        let (_, jobs_after) = store.commit_stats();
        assert_eq!(jobs_after - jobs_before, 1, "one job for 40 messages");
        // The one already \Seen is not changed; the others all are, with
        // one new MODSEQ.
        assert_eq!(changed.len(), 39);
        assert!(changed.iter().all(|m| m.flags.has(SEEN) && m.uid != 4));
        assert!(changed.iter().all(|m| m.modseq == changed[0].modseq));
        let listed = store.message_list(inbox).await.unwrap();
        assert!(listed.iter().all(|m| m.flags.has(SEEN)));
    }

    /// Messages already \Seen (or gone) are left alone: nothing changed,
    /// no MODSEQ spent.
    #[tokio::test]
    async fn add_seen_leaves_seen_messages_alone() {
        let (_dir, store, inbox) = inbox(2, &[0, 1]).await;
        let before = store.message_list(inbox).await.unwrap();
        let changed = store.add_seen(inbox, &[1, 2, 99]).await.unwrap();
        assert!(changed.is_empty(), "{changed:?}");
        assert_eq!(store.message_list(inbox).await.unwrap(), before);
    }

    #[test]
    fn reads_writes_and_combines() {
        let flags = Flags::from_names(&["\\seen", "$Junk", "\\Flagged", "$junk", "\\Recent"]);
        assert_eq!(flags.system, SEEN | FLAGGED);
        assert_eq!(flags.names(), ["\\Seen", "\\Flagged", "$Junk"]);
        let more = flags.with(&Flags::from_names(&["\\Deleted", "Work"]));
        assert_eq!(more.names(), ["\\Seen", "\\Flagged", "\\Deleted", "$Junk", "Work"]);
        assert_eq!(
            more.without(&Flags::from_names(&["\\Seen", "$JUNK"])).names(),
            ["\\Flagged", "\\Deleted", "Work"]
        );
    }
}
