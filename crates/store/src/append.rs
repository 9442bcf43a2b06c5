//! Writing messages into mailboxes: APPEND, COPY and MOVE (RFC 6851),
//! EXPUNGE, and the row insertion that local delivery shares with them.

use crate::sql::OptionalExtension;

use crate::flags::Flags;
use crate::mailboxes::uidvalidity;
use crate::messages::{CONTENT_COLUMNS, CONTENT_WIDTH, MessageContent, MessageFacts, json_list};
use crate::object_ids;
use crate::quota::Added;
use crate::uidvalidity::next_uidvalidity;
use crate::{AccountId, Content, Error, MailboxId, Result, Store};

/// A message about to get a row in a mailbox: everything the row holds
/// besides the UID and MODSEQ the mailbox gives it.
pub(crate) struct NewMessage<'a> {
    pub blob_hash: &'a str,
    /// The content's size, without the trace fields.
    pub blob_size: i64,
    /// Trace header fields written for this recipient, shown before the
    /// content (empty for APPEND).
    pub trace_headers: &'a [u8],
    pub internal_date: i64,
    pub flags: &'a Flags,
    pub facts: &'a MessageFacts,
    /// The EMAILID and THREADID of the message this is a copy of (COPY,
    /// MOVE); None for new content, which gets new ones.
    pub ids: Option<(&'a str, &'a str)>,
}

impl NewMessage<'_> {
    /// The row's size: the trace fields and the content.
    pub(crate) fn size(&self) -> i64 {
        self.blob_size + self.trace_headers.len() as i64
    }
}

/// A message for [`Store::append_many`]: its content, flags, INTERNALDATE
/// and facts, as [`Store::append`] takes them.
pub type Appended = (Content, Flags, i64, MessageFacts);

impl Store {
    /// Stores a message in a mailbox (APPEND), with its content if small;
    /// refused with [`Error::OverQuota`] over the account's quota.
    pub async fn append(
        &self,
        mailbox: MailboxId,
        content: Content,
        flags: Flags,
        internal_date: i64,
        facts: MessageFacts,
    ) -> Result<(i64, i64)> {
        let (uidvalidity, uids) = self
            .append_many(mailbox, vec![(content, flags, internal_date, facts)])
            .await?;
        Ok((uidvalidity, uids[0]))
    }

    /// Stores messages in a mailbox in one transaction (MULTIAPPEND, RFC
    /// 3502 §6.3.11: all or none); returns the UIDVALIDITY and their UIDs.
    /// Over the account's quota none is stored.
    pub async fn append_many(&self, mailbox: MailboxId, messages: Vec<Appended>) -> Result<(i64, Vec<i64>)> {
        let store = self.content.clone();
        let policy = self.quota_policy();
        let (uidvalidity, uids, warned) = self
            .batched(move |tx| {
                let mut uids = Vec::with_capacity(messages.len());
                let mut added = Added::default();
                for (content, flags, internal_date, facts) in &messages {
                    uids.push(Self::append_in(
                        tx,
                        &*store,
                        mailbox,
                        content,
                        flags,
                        *internal_date,
                        facts,
                    )?);
                    added.add(content.blob().size as i64);
                }
                let warned = Self::settle_mailbox_quota(tx, mailbox, added, policy)?;
                Ok((uidvalidity(tx, mailbox)?, uids, warned))
            })
            .await?;
        self.announce(mailbox);
        if let Some(inbox) = warned.filter(|&inbox| inbox != mailbox) {
            self.announce(inbox);
        }
        Ok((uidvalidity, uids))
    }

    /// APPEND's write, inside a transaction: the content kept (if small)
    /// and a new message in `mailbox`; returns its UID.
    pub(crate) fn append_in(
        tx: &crate::sql::Db,
        store: &dyn crate::content_store::ContentStore,
        mailbox: MailboxId,
        content: &Content,
        flags: &Flags,
        internal_date: i64,
        facts: &MessageFacts,
    ) -> Result<i64> {
        content.keep(tx, store)?;
        let blob = content.blob();
        let message = NewMessage {
            blob_hash: &blob.hash,
            blob_size: blob.size as i64,
            trace_headers: b"",
            internal_date,
            flags,
            facts,
            ids: None,
        };
        let (uid, _) = Self::insert_message(tx, mailbox, &message)?;
        Self::note_training(tx, None, mailbox, &[&blob.hash])?;
        Ok(uid)
    }

    /// Inserts a message with the next UID and a new MODSEQ; returns the
    /// UID and the row id.
    fn insert_message(tx: &crate::sql::Db, mailbox: MailboxId, message: &NewMessage) -> Result<(i64, i64)> {
        let (uid, modseq) = tx
            .prepare_cached(
                "UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1,
                     message_count = message_count + 1, message_bytes = message_bytes + $1
                 WHERE id = $2 RETURNING uidnext - 1, highestmodseq",
            )?
            .query_row((message.size(), mailbox), |row| Ok((row.get(0)?, row.get(1)?)))?;
        let id = Self::insert_row(tx, mailbox, (uid, modseq), message)?;
        Ok((uid, id))
    }

    /// Inserts a message row with a UID and MODSEQ already taken from its
    /// mailbox, whose `message_count` and `message_bytes` the caller
    /// raised in that same statement (see `quota`); returns the row id.
    fn insert_row(
        tx: &crate::sql::Db,
        mailbox: MailboxId,
        (uid, modseq): (i64, i64),
        message: &NewMessage,
    ) -> Result<i64> {
        let NewMessage {
            blob_hash,
            blob_size: _,
            trace_headers,
            internal_date,
            flags,
            facts,
            ids,
        } = message;
        let (email_id, thread_id) = match ids {
            Some((email, thread)) => (email.to_string(), thread.to_string()),
            None => (object_ids::new_id('E')?, object_ids::thread_for(tx, mailbox, facts)?),
        };
        // RFC 8514: the save date is when the message was put into this
        // mailbox, by delivery, APPEND, COPY or MOVE alike.
        let save_date = crate::now();
        // SORT's date (migration 30): the Date field, else INTERNALDATE;
        // unknown (NULL) with the sort keys.
        let sent = facts
            .sort_keys
            .as_deref()
            .and_then(|keys| imf::SortKeys::from_stored_only(keys, imf::KeyFields::default()))
            .map(|keys| keys.sent.unwrap_or(*internal_date));
        let id: i64 = tx
            .prepare_cached(
                "INSERT INTO messages (mailbox_id, uid, modseq, blob_hash, trace_headers, size, internal_date, flags,
                                       envelope, body_structure, body, header,
                                       email_id, thread_id, header_message_id, save_date, preview, sent)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
                 RETURNING id",
            )?
            .query_row(
                crate::sql::params![
                    mailbox,
                    uid,
                    modseq,
                    blob_hash,
                    trace_headers,
                    message.size(),
                    internal_date,
                    flags.system,
                    facts.envelope,
                    facts.body_structure,
                    facts.body,
                    facts.header,
                    email_id,
                    thread_id,
                    facts.message_id,
                    save_date,
                    facts.preview,
                    sent,
                ],
                |row| row.get(0),
            )?;
        if let Some(fields) = &facts.search_fields {
            tx.prepare_cached("INSERT INTO message_search (message_id, fields) VALUES ($1, $2)")?
                .execute((id, fields))?;
        }
        if let Some(keys) = &facts.sort_keys {
            tx.prepare_cached("INSERT INTO message_sort_keys (message_id, keys) VALUES ($1, $2)")?
                .execute((id, keys))?;
        }
        // A new row has no keywords yet; most messages arrive without any.
        if !flags.keywords.is_empty() {
            Self::write_keywords(tx, id, &flags.keywords)?;
        }
        Ok(id)
    }

    /// Copies messages to another mailbox; returns (old UID, new UID)
    /// pairs and the target's UIDVALIDITY, for COPYUID (RFC 4315).
    pub async fn copy_messages(&self, from: MailboxId, uids: &[i64], to: MailboxId) -> Result<(i64, Vec<(i64, i64)>)> {
        let uids = uids.to_vec();
        let policy = self.quota_policy();
        let (uidvalidity, pairs, warned) = self
            .batched(move |tx| {
                let (pairs, added) = Self::copy_in(tx, from, &uids, to)?;
                let warned = Self::settle_mailbox_quota(tx, to, added, policy)?;
                Ok((uidvalidity(tx, to)?, pairs, warned))
            })
            .await?;
        self.announce(to);
        if let Some(inbox) = warned.filter(|&inbox| inbox != to) {
            self.announce(inbox);
        }
        Ok((uidvalidity, pairs))
    }

    /// Copies messages into `to`; returns the UID pairs and what the
    /// copies add to the account.
    fn copy_in(tx: &crate::sql::Db, from: MailboxId, uids: &[i64], to: MailboxId) -> Result<(Vec<(i64, i64)>, Added)> {
        /// A message to copy: its content (UID first), system flags,
        /// search fields, keywords (space-separated), sort keys and
        /// Message-ID.
        type CopiedRow = (
            MessageContent,
            i64,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        // One read for all the messages (the content's columns, then their
        // system flags, search fields and keywords) and one UID range and
        // MODSEQ for the copies: statements per message are round trips on
        // PostgreSQL (8192 copies took half a minute under load).
        let rows: Vec<CopiedRow> = tx
            .prepare_cached(&format!(
                "SELECT {CONTENT_COLUMNS}, flags,
                        (SELECT fields FROM message_search WHERE message_id = messages.id),
                        (SELECT string_agg(keyword, ' ') FROM message_keywords WHERE message_id = messages.id),
                        (SELECT keys FROM message_sort_keys WHERE message_id = messages.id),
                        header_message_id
                 FROM messages WHERE mailbox_id = $1 AND uid IN (SELECT value FROM json_each($2)) ORDER BY uid"
            ))?
            .query_map((from, json_list(uids)), |row| {
                Ok((
                    MessageContent::from_row(row)?,
                    row.get(CONTENT_WIDTH)?,
                    row.get(CONTENT_WIDTH + 1)?,
                    row.get(CONTENT_WIDTH + 2)?,
                    row.get(CONTENT_WIDTH + 3)?,
                    row.get(CONTENT_WIDTH + 4)?,
                ))
            })?
            .collect::<Result<_>>()?;
        if rows.is_empty() {
            return Ok((Vec::new(), Added::default()));
        }
        let count = rows.len() as i64;
        let mut added = Added::default();
        for (content, ..) in &rows {
            added.add(content.size);
        }
        let (first_uid, modseq): (i64, i64) = tx
            .prepare_cached(
                "UPDATE mailboxes SET uidnext = uidnext + $1, highestmodseq = highestmodseq + 1,
                     message_count = message_count + $1, message_bytes = message_bytes + $2
                 WHERE id = $3 RETURNING uidnext - $1, highestmodseq",
            )?
            .query_row((count, added.bytes, to), |row| Ok((row.get(0)?, row.get(1)?)))?;
        let mut pairs = Vec::with_capacity(rows.len());
        let mut contents = Vec::with_capacity(rows.len());
        for (new_uid, (content, system, search_fields, keywords, sort_keys, message_id)) in (first_uid..).zip(rows) {
            let keywords = keywords.map_or_else(Vec::new, |k| k.split(' ').map(str::to_string).collect());
            let flags = Flags { system, keywords };
            let facts = MessageFacts {
                envelope: content.envelope.unwrap_or_default(),
                body_structure: content.body_structure.unwrap_or_default(),
                body: content.body.unwrap_or_default(),
                header: content.header,
                search_fields,
                sort_keys,
                preview: content.preview.unwrap_or_default(),
                message_id,
                parents: Vec::new(),
            };
            // A copy is the same content in the same thread (RFC 8474
            // §5.1, §5.2); rows a migration left without ids get new ones.
            let ids = content.email_id.as_deref().zip(content.thread_id.as_deref());
            let message = NewMessage {
                blob_hash: &content.blob_hash,
                blob_size: content.size - content.trace_headers.len() as i64,
                trace_headers: &content.trace_headers,
                internal_date: content.internal_date,
                flags: &flags,
                facts: &facts,
                ids,
            };
            Self::insert_row(tx, to, (new_uid, modseq), &message)?;
            pairs.push((content.uid, new_uid));
            contents.push(content.blob_hash);
        }
        let contents: Vec<&str> = contents.iter().map(String::as_str).collect();
        Self::note_training(tx, Some(from), to, &contents)?;
        Ok((pairs, added))
    }

    /// Moves messages (RFC 6851): copy and expunge in one transaction.
    pub async fn move_messages(&self, from: MailboxId, uids: &[i64], to: MailboxId) -> Result<(i64, Vec<(i64, i64)>)> {
        let uids = uids.to_vec();
        let moved = self
            .batched(move |tx| {
                // Within the account: usage does not change, and MOVE is
                // never refused for quota (RFC 9208 §5: only what adds).
                let (pairs, _) = Self::copy_in(tx, from, &uids, to)?;
                let moved: Vec<i64> = pairs.iter().map(|(old, _)| *old).collect();
                Self::expunge_in(tx, from, &moved)?;
                Ok((uidvalidity(tx, to)?, pairs))
            })
            .await?;
        self.announce(from);
        self.announce(to);
        Ok(moved)
    }

    /// Removes messages from a mailbox, recording each expunged UID with the
    /// new MODSEQ (RFC 7162 §3.2.10 needs them for VANISHED).
    pub async fn expunge(&self, mailbox: MailboxId, uids: &[i64]) -> Result<()> {
        if uids.is_empty() {
            return Ok(());
        }
        let uids = uids.to_vec();
        let policy = self.quota_policy();
        self.batched(move |tx| {
            let removed = Self::expunge_in(tx, mailbox, &uids)?;
            // Usage fell: the warning may come again at the next crossing.
            Self::settle_mailbox_quota(tx, mailbox, removed, policy)
        })
        .await?;
        self.announce(mailbox);
        Ok(())
    }

    /// Deletes messages from a mailbox; returns what that removed from
    /// the account (negative).
    pub(crate) fn expunge_in(tx: &crate::sql::Db, mailbox: MailboxId, uids: &[i64]) -> Result<Added> {
        if uids.is_empty() {
            return Ok(Added::default());
        }
        let modseq = next_modseq(tx, mailbox)?;
        // Two statements however many: a statement per message is a round
        // trip each on PostgreSQL (8192 of them took 1.6 s of CPU).
        let (deleted, sizes): (Vec<i64>, Vec<i64>) = tx
            .prepare_cached(
                "DELETE FROM messages WHERE mailbox_id = $1 AND uid IN (SELECT value FROM json_each($2))
                 RETURNING uid, size",
            )?
            .query_map((mailbox, json_list(uids)), |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<Vec<(i64, i64)>>>()?
            .into_iter()
            .unzip();
        let removed = Added {
            bytes: -sizes.iter().sum::<i64>(),
            messages: -(sizes.len() as i64),
            largest: 0,
        };
        tx.prepare_cached(
            "UPDATE mailboxes SET message_count = message_count + $1, message_bytes = message_bytes + $2
             WHERE id = $3",
        )?
        .execute((removed.messages, removed.bytes, mailbox))?;
        // `WHERE true`: SQLite would read ON CONFLICT as a join's ON.
        tx.prepare_cached(
            "INSERT INTO expunged (mailbox_id, uid, modseq)
             SELECT CAST($1 AS BIGINT), value, CAST($2 AS BIGINT) FROM json_each($3) WHERE true
             ON CONFLICT (mailbox_id, uid) DO UPDATE SET modseq = excluded.modseq",
        )?
        .execute((mailbox, modseq, json_list(&deleted)))?;
        Ok(removed)
    }

    /// Appends a message to an account's INBOX inside a transaction;
    /// returns the mailbox, for the change bus.
    pub(crate) fn append_to_inbox(tx: &crate::sql::Db, account: AccountId, message: &NewMessage) -> Result<MailboxId> {
        // Finding the INBOX and taking its next UID is one statement: local
        // delivery is the hottest write there is.
        let (mailbox, uid, modseq) = tx
            .prepare_cached(
                "UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1,
                     message_count = message_count + 1, message_bytes = message_bytes + $1
                 WHERE account_id = $2 AND name = 'INBOX' RETURNING id, uidnext - 1, highestmodseq",
            )?
            .query_row((message.size(), account), |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .optional()?
            .ok_or_else(|| Error::NoInbox(account.to_string()))?;
        Self::insert_row(tx, mailbox, (uid, modseq), message)?;
        Ok(mailbox)
    }
}

impl Store {
    /// Appends a message to an account's Junk mailbox: the one with the
    /// `\\Junk` role (RFC 6154), else the one named Junk, else a new Junk
    /// with that role (the user may have deleted it). Returns the mailbox.
    pub(crate) fn append_to_junk(tx: &crate::sql::Db, account: AccountId, message: &NewMessage) -> Result<MailboxId> {
        let find = |sql: &str| -> Result<Option<MailboxId>> {
            tx.prepare_cached(sql)?
                .query_row([account], |row| row.get(0))
                .optional()
        };
        let existing = match find(
            "SELECT id FROM mailboxes WHERE account_id = $1 AND special_use = '\\Junk' ORDER BY id LIMIT 1",
        )? {
            Some(id) => Some(id),
            None => find("SELECT id FROM mailboxes WHERE account_id = $1 AND name = 'Junk'")?,
        };
        let mailbox = match existing {
            Some(id) => id,
            None => tx
                .prepare_cached(
                    "INSERT INTO mailboxes (account_id, name, special_use, uidvalidity, object_id)
                     VALUES ($1, 'Junk', '\\Junk', $2, $3) RETURNING id",
                )?
                .query_row(
                    (account, next_uidvalidity(tx, crate::now())?, object_ids::new_id('M')?),
                    |row| row.get(0),
                )?,
        };
        Self::append_to_id(tx, mailbox, message)
    }

    /// Appends a message to a mailbox known by its id.
    pub(crate) fn append_to_id(tx: &crate::sql::Db, mailbox: MailboxId, message: &NewMessage) -> Result<MailboxId> {
        let (uid, modseq) = tx
            .prepare_cached(
                "UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1,
                     message_count = message_count + 1, message_bytes = message_bytes + $1
                 WHERE id = $2 RETURNING uidnext - 1, highestmodseq",
            )?
            .query_row((message.size(), mailbox), |row| Ok((row.get(0)?, row.get(1)?)))?;
        Self::insert_row(tx, mailbox, (uid, modseq), message)?;
        Ok(mailbox)
    }
}

/// Takes the next MODSEQ of a mailbox (RFC 7162 §3.1.1: one per change).
pub(crate) fn next_modseq(tx: &crate::sql::Db, mailbox: MailboxId) -> Result<i64> {
    tx.prepare_cached("UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = $1 RETURNING highestmodseq")?
        .query_row([mailbox], |row| row.get(0))
}
