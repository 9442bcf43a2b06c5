//! What the IMAP server asks of the store: mailboxes by name with their
//! hierarchy, message listings with flags and MODSEQ, flag changes, APPEND,
//! COPY and MOVE, and the parsed facts stored with each message. Every
//! change that others must see is announced on the change bus.

use rusqlite::OptionalExtension;

use crate::flags::Flags;
use crate::uidvalidity::next_uidvalidity;
use crate::{AccountId, Content, Error, MailboxId, MailboxInfo, Result, Store};

/// The facts computed from a message's content when it is stored, in IMAP
/// syntax (see the `mime` crate).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageFacts {
    pub envelope: String,
    pub body_structure: String,
    pub body: String,
    /// The content's header section, with the blank line that ends it;
    /// None when not worked out (the blob is then read instead).
    pub header: Option<Vec<u8>>,
    /// The fields SEARCH matches most, in the mime crate's format; None
    /// when not worked out (SEARCH then reads the header).
    pub search_fields: Option<String>,
}

/// One message as a mailbox view needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageMeta {
    pub uid: i64,
    pub modseq: i64,
    pub flags: Flags,
    pub size: i64,
    pub internal_date: i64,
}

/// Everything FETCH may need of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageContent {
    pub uid: i64,
    pub blob_hash: String,
    pub trace_headers: Vec<u8>,
    pub size: i64,
    pub internal_date: i64,
    pub envelope: Option<String>,
    pub body_structure: Option<String>,
    pub body: Option<String>,
    /// The blob's header section, when stored (see [`MessageFacts`]).
    pub header: Option<Vec<u8>>,
}

impl MessageContent {
    /// The message's header section as IMAP shows it (trace fields first),
    /// if the store has it without reading the blob.
    pub fn stored_header(&self) -> Option<Vec<u8>> {
        let header = self.header.as_ref()?;
        let mut raw = Vec::with_capacity(self.trace_headers.len() + header.len());
        raw.extend_from_slice(&self.trace_headers);
        raw.extend_from_slice(header);
        Some(raw)
    }
}

/// The columns of [`MessageContent`], in the order its fields are declared.
const CONTENT_COLUMNS: &str =
    "uid, blob_hash, trace_headers, size, internal_date, envelope, body_structure, body, header";

impl MessageContent {
    /// Reads the [`CONTENT_COLUMNS`] that begin a row.
    fn from_row(row: &rusqlite::Row) -> rusqlite::Result<MessageContent> {
        Ok(MessageContent {
            uid: row.get(0)?,
            blob_hash: row.get(1)?,
            trace_headers: row.get(2)?,
            size: row.get(3)?,
            internal_date: row.get(4)?,
            envelope: row.get(5)?,
            body_structure: row.get(6)?,
            body: row.get(7)?,
            header: row.get(8)?,
        })
    }
}

/// The stored search fields of a message (see [`MessageFacts`]), None
/// for messages stored before they were kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchContent {
    pub uid: i64,
    pub search_fields: Option<String>,
}

/// STATUS counts (RFC 9051 §6.3.11).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxStatus {
    pub messages: i64,
    pub unseen: i64,
    pub deleted: i64,
    pub size: i64,
    pub uidnext: i64,
    pub uidvalidity: i64,
    pub highestmodseq: i64,
    /// Messages not yet shown as \Recent to any session (filled on request).
    pub recent: i64,
}

/// How a flag change applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagChange {
    Replace,
    Add,
    Remove,
}

/// How far an account's mailboxes may grow (issue 13, defect 9): names
/// cost memory in every LIST, and each mailbox rows and work.
#[derive(Debug, Clone, Copy)]
pub struct MailboxLimits {
    /// Bytes in a mailbox's whole name.
    pub max_name: usize,
    /// Mailboxes of one account, INBOX and parents included; and names it
    /// subscribes to.
    pub max_mailboxes: usize,
}

impl MailboxLimits {
    /// A name of `len` bytes.
    fn check_name(&self, len: usize) -> Result<()> {
        if len > self.max_name {
            return Err(Error::MailboxLimit(format!(
                "Mailbox names are limited to {} bytes",
                self.max_name
            )));
        }
        Ok(())
    }

    /// `count` mailboxes, or subscriptions (`what`).
    fn check_count(&self, count: i64, what: &str) -> Result<()> {
        if count > self.max_mailboxes as i64 {
            return Err(Error::MailboxLimit(format!(
                "An account may have at most {} {what}",
                self.max_mailboxes
            )));
        }
        Ok(())
    }
}

/// The separator of mailbox hierarchy levels.
pub const SEPARATOR: char = '/';

/// INBOX is case-insensitive (RFC 9051 §5.1); every other name is exact.
pub fn canonical_name(name: &str) -> String {
    if name.eq_ignore_ascii_case("INBOX") {
        "INBOX".to_string()
    } else if let Some(rest) = name
        .get(..6)
        .filter(|p| p.eq_ignore_ascii_case("INBOX/"))
        .map(|_| &name[6..])
    {
        format!("INBOX/{rest}")
    } else {
        name.to_string()
    }
}

impl Store {
    /// A mailbox of an account by name.
    pub async fn mailbox(&self, account: AccountId, name: &str) -> Result<Option<MailboxInfo>> {
        Ok(sqlx::query_as(
            "SELECT id, name, special_use, uidvalidity, uidnext, highestmodseq, subscribed FROM mailbox_info
             WHERE account_id = $1 AND name = $2",
        )
        .bind(account)
        .bind(canonical_name(name))
        .fetch_optional(&self.readers)
        .await?)
    }

    /// Creates a mailbox and any missing parents (RFC 9051 §6.3.4), within
    /// `limits`.
    pub async fn create_mailbox(&self, account: AccountId, name: &str, limits: MailboxLimits) -> Result<MailboxInfo> {
        let name = canonical_name(name.trim_end_matches(SEPARATOR));
        limits.check_name(name.len())?;
        let valid = !name.is_empty()
            && name.split(SEPARATOR).all(|level| !level.is_empty())
            && !name.chars().any(|c| c.is_control() || c == '*' || c == '%');
        if !valid {
            return Err(Error::InvalidMailboxName(name));
        }
        let created = name.clone();
        self.batched(move |tx| {
            let mut path = String::new();
            let levels: Vec<&str> = created.split(SEPARATOR).collect();
            for (i, level) in levels.iter().enumerate() {
                if !path.is_empty() {
                    path.push(SEPARATOR);
                }
                path.push_str(level);
                // A UIDVALIDITY is taken only for a level that is really
                // inserted: the counter is the store's, and finite.
                let exists = tx
                    .prepare_cached("SELECT 1 FROM mailboxes WHERE account_id = $1 AND name = $2")?
                    .query_row((account, &path), |_| Ok(()))
                    .optional()?
                    .is_some();
                if exists {
                    if i == levels.len() - 1 {
                        return Err(Error::MailboxExists(created));
                    }
                    continue;
                }
                tx.prepare_cached("INSERT INTO mailboxes (account_id, name, uidvalidity) VALUES ($1, $2, $3)")?
                    .execute((account, &path, next_uidvalidity(tx, crate::now())?))?;
            }
            // Counted after the inserts, parents included; over the limit,
            // the error rolls them back.
            limits.check_count(mailbox_count(tx, account)?, "mailboxes")?;
            Ok(())
        })
        .await?;
        self.mailbox(account, &name).await?.ok_or(Error::NoSuchMailbox(name))
    }

    /// Deletes a mailbox and its messages; INBOX cannot be deleted.
    pub async fn delete_mailbox(&self, account: AccountId, name: &str) -> Result<()> {
        let name = canonical_name(name);
        if name == "INBOX" {
            return Err(Error::InvalidMailboxName("INBOX cannot be deleted".into()));
        }
        self.batched(move |tx| {
            let deleted = tx
                .prepare_cached("DELETE FROM mailboxes WHERE account_id = $1 AND name = $2")?
                .execute((account, &name))?;
            if deleted == 0 {
                return Err(Error::NoSuchMailbox(name));
            }
            Ok(())
        })
        .await
    }

    /// Renames a mailbox with everything below it. Renaming INBOX moves its
    /// messages into a new mailbox and leaves INBOX empty (RFC 9051 §6.3.6).
    /// The new names must be within `limits`.
    pub async fn rename_mailbox(&self, account: AccountId, from: &str, to: &str, limits: MailboxLimits) -> Result<()> {
        let (from, to) = (canonical_name(from), canonical_name(to.trim_end_matches(SEPARATOR)));
        limits.check_name(to.len())?;
        if self.mailbox(account, &to).await?.is_some() {
            return Err(Error::MailboxExists(to));
        }
        let source = self
            .mailbox(account, &from)
            .await?
            .ok_or_else(|| Error::NoSuchMailbox(from.clone()))?;
        if from == "INBOX" {
            let target = self.create_mailbox(account, &to, limits).await?;
            let uids: Vec<i64> = self.messages(source.id).await?.iter().map(|m| m.uid).collect();
            self.move_messages(source.id, &uids, target.id).await?;
            return Ok(());
        }
        if to.starts_with(&format!("{from}{SEPARATOR}")) {
            return Err(Error::InvalidMailboxName(format!("{to} is inside {from}")));
        }
        self.batched(move |tx| {
            // Names below `from` are those from "from/" up to "from0" ('0'
            // follows '/'): TEXT compares bytewise (BINARY collation), and
            // the range uses the (account_id, name) index. The prefix is cut
            // by bytes, since substr() counts the characters of TEXT.
            let (low, high) = (format!("{from}{SEPARATOR}"), format!("{from}0"));
            // The longest name below `from` must fit under `to` too.
            let longest: i64 = tx
                .prepare_cached(
                    "SELECT COALESCE(MAX(length(CAST(name AS BLOB))), 0) FROM mailboxes
                     WHERE account_id = $1 AND name >= $2 AND name < $3",
                )?
                .query_row((account, &low, &high), |row| row.get(0))?;
            if longest > 0 {
                limits.check_name(longest as usize - from.len() + to.len())?;
            }
            let arguments = (&to, from.len() as i64 + 1, account, &from, &low, &high);
            tx.prepare_cached(
                "UPDATE mailboxes SET name = $1 || CAST(substr(CAST(name AS BLOB), $2) AS TEXT)
                 WHERE account_id = $3 AND (name = $4 OR (name >= $5 AND name < $6))",
            )?
            .execute(arguments)?;
            // Subscriptions move with their mailboxes, as Dovecot moves them.
            tx.prepare_cached(
                "UPDATE OR REPLACE subscriptions SET name = $1 || CAST(substr(CAST(name AS BLOB), $2) AS TEXT)
                 WHERE account_id = $3 AND (name = $4 OR (name >= $5 AND name < $6))",
            )?
            .execute(arguments)?;
            Ok(())
        })
        .await
    }

    /// SUBSCRIBE (of an existing mailbox; RFC 9051 §6.3.7 lets the server
    /// check) or UNSUBSCRIBE (of any name). A subscription outlives its
    /// mailbox; an account has at most `limits.max_mailboxes` of them.
    pub async fn set_subscribed(
        &self,
        account: AccountId,
        name: &str,
        subscribed: bool,
        limits: MailboxLimits,
    ) -> Result<()> {
        let name = canonical_name(name);
        self.batched(move |tx| {
            if !subscribed {
                tx.prepare_cached("DELETE FROM subscriptions WHERE account_id = $1 AND name = $2")?
                    .execute((account, &name))?;
                return Ok(());
            }
            let exists = tx
                .prepare_cached("SELECT 1 FROM mailboxes WHERE account_id = $1 AND name = $2")?
                .query_row((account, &name), |_| Ok(()))
                .optional()?
                .is_some();
            if !exists {
                return Err(Error::NoSuchMailbox(name));
            }
            tx.prepare_cached("INSERT INTO subscriptions (account_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING")?
                .execute((account, &name))?;
            let count: i64 = tx
                .prepare_cached("SELECT COUNT(*) FROM subscriptions WHERE account_id = $1")?
                .query_row([account], |row| row.get(0))?;
            limits.check_count(count, "subscriptions")
        })
        .await
    }

    /// The names an account subscribed to, whether the mailboxes exist or
    /// not, by name.
    pub async fn subscriptions(&self, account: AccountId) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT name FROM subscriptions WHERE account_id = $1 ORDER BY name")
                .bind(account)
                .fetch_all(&self.readers)
                .await?,
        )
    }

    pub async fn mailbox_status(&self, mailbox: &MailboxInfo) -> Result<MailboxStatus> {
        let (messages, unseen, deleted, size): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM((flags & 1) = 0), 0), COALESCE(SUM((flags & 8) <> 0), 0), COALESCE(SUM(size), 0)
             FROM messages WHERE mailbox_id = $1",
        )
        .bind(mailbox.id)
        .fetch_one(&self.readers)
        .await?;
        let fresh = self.mailbox_info(mailbox.id).await?.unwrap_or_else(|| mailbox.clone());
        Ok(MailboxStatus {
            messages,
            unseen,
            deleted,
            size,
            uidnext: fresh.uidnext,
            uidvalidity: fresh.uidvalidity,
            highestmodseq: fresh.highestmodseq,
            recent: 0,
        })
    }

    /// Claims the messages below UID `until` that no session has shown as
    /// \Recent yet (RFC 3501 §2.3.2: exactly one session sees each message
    /// as recent). `until` is the UID after the last message the caller
    /// holds: one that arrived after it read the messages is left for
    /// whoever shows it first. Returns the claimed UID range, `from..until`.
    pub async fn claim_recent(&self, mailbox: MailboxId, until: i64) -> Result<(i64, i64)> {
        self.batched(move |tx| {
            let from: i64 = tx
                .prepare_cached("SELECT recent_uid FROM mailboxes WHERE id = $1")?
                .query_row([mailbox], |row| row.get(0))?;
            if until <= from {
                return Ok((from, from));
            }
            tx.prepare_cached("UPDATE mailboxes SET recent_uid = $1 WHERE id = $2")?
                .execute([until, mailbox])?;
            Ok((from, until))
        })
        .await
    }

    /// The first UID no session has claimed as recent: a read-only
    /// (EXAMINE) session shows the ones from here as \Recent without
    /// claiming them (RFC 3501 §6.3.2).
    pub async fn unclaimed_from(&self, mailbox: MailboxId) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT recent_uid FROM mailboxes WHERE id = $1")
            .bind(mailbox)
            .fetch_optional(&self.readers)
            .await?
            .unwrap_or(i64::MAX))
    }

    /// How many messages of a mailbox no session has claimed as recent.
    pub async fn unclaimed_recent(&self, mailbox: MailboxId) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
             WHERE m.mailbox_id = $1 AND m.uid >= b.recent_uid",
        )
        .bind(mailbox)
        .fetch_one(&self.readers)
        .await?)
    }

    /// A mailbox's current state by id.
    pub async fn mailbox_info(&self, mailbox: MailboxId) -> Result<Option<MailboxInfo>> {
        Ok(sqlx::query_as(
            "SELECT id, name, special_use, uidvalidity, uidnext, highestmodseq, subscribed FROM mailbox_info WHERE id = $1",
        )
        .bind(mailbox)
        .fetch_optional(&self.readers)
        .await?)
    }

    /// Every message of a mailbox with its flags, in UID order.
    pub async fn message_list(&self, mailbox: MailboxId) -> Result<Vec<MessageMeta>> {
        self.point_reads
            .scan(move |connection| {
                let mut select = connection.prepare_cached(&format!("{META_SELECT} ORDER BY m.uid"))?;
                let rows = select.query_map([mailbox], meta_from_row)?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    /// The stored content and facts of the messages with these UIDs, in
    /// one query; expunged ones are missing from the answer. Callers pass
    /// a bounded number at a time, since each carries its header.
    pub async fn message_contents(&self, mailbox: MailboxId, uids: &[i64]) -> Result<Vec<MessageContent>> {
        let uids = json_list(uids);
        self.point_reads
            .scan(move |connection| {
                let mut select = connection.prepare_cached(&format!(
                    "SELECT {CONTENT_COLUMNS} FROM messages
                     WHERE mailbox_id = $1 AND uid IN (SELECT value FROM json_each($2)) ORDER BY uid"
                ))?;
                let rows = select.query_map((mailbox, uids), MessageContent::from_row)?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    /// The stored search fields of the messages with UIDs from `first` to
    /// `last`, in one range scan of the (mailbox_id, uid) index that does
    /// not touch the wide message rows.
    pub async fn search_contents(&self, mailbox: MailboxId, first: i64, last: i64) -> Result<Vec<SearchContent>> {
        self.point_reads
            .scan(move |connection| {
                let mut select = connection.prepare_cached(
                    "SELECT m.uid, s.fields FROM messages m LEFT JOIN message_search s ON s.message_id = m.id
                     WHERE m.mailbox_id = $1 AND m.uid BETWEEN $2 AND $3
                     ORDER BY m.uid",
                )?;
                let rows = select.query_map([mailbox, first, last], |row| {
                    Ok(SearchContent {
                        uid: row.get(0)?,
                        search_fields: row.get(1)?,
                    })
                })?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

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

    fn change_flags(
        tx: &rusqlite::Connection,
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
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut changed = Vec::new();
        let mut failed = Vec::new();
        let mut modseq = None;
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
            let id: i64 = tx
                .prepare_cached(
                    "UPDATE messages SET flags = $1, modseq = $2 WHERE mailbox_id = $3 AND uid = $4 RETURNING id",
                )?
                .query_row((new.system, next, mailbox, message.uid), |row| row.get(0))?;
            if new.keywords != message.flags.keywords {
                Self::write_keywords(tx, id, &new.keywords)?;
            }
            changed.push(MessageMeta {
                flags: new,
                modseq: next,
                ..message
            });
        }
        Ok((changed, failed))
    }

    fn write_keywords(tx: &rusqlite::Connection, message: i64, keywords: &[String]) -> Result<()> {
        tx.prepare_cached("DELETE FROM message_keywords WHERE message_id = $1")?
            .execute([message])?;
        let mut insert = tx.prepare_cached("INSERT INTO message_keywords (message_id, keyword) VALUES ($1, $2)")?;
        for keyword in keywords {
            insert.execute((message, keyword))?;
        }
        Ok(())
    }

    /// Stores a message in a mailbox (APPEND), with its content if small.
    pub async fn append(
        &self,
        mailbox: MailboxId,
        content: Content,
        flags: Flags,
        internal_date: i64,
        facts: MessageFacts,
    ) -> Result<(i64, i64)> {
        let blobs = self.blobs().clone();
        let (uidvalidity, uid) = self
            .batched(move |tx| {
                content.keep(tx, &blobs)?;
                let blob = content.blob();
                let (uid, _) = Self::insert_message(
                    tx,
                    mailbox,
                    &blob.hash,
                    blob.size as i64,
                    b"",
                    internal_date,
                    &flags,
                    &facts,
                )?;
                Ok((uidvalidity(tx, mailbox)?, uid))
            })
            .await?;
        self.announce(mailbox);
        Ok((uidvalidity, uid))
    }

    /// Inserts a message with the next UID and a new MODSEQ; returns the
    /// UID and the row id.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn insert_message(
        tx: &rusqlite::Connection,
        mailbox: MailboxId,
        blob_hash: &str,
        blob_size: i64,
        trace_headers: &[u8],
        internal_date: i64,
        flags: &Flags,
        facts: &MessageFacts,
    ) -> Result<(i64, i64)> {
        let (uid, modseq) = tx
            .prepare_cached(
                "UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1
                 WHERE id = $1 RETURNING uidnext - 1, highestmodseq",
            )?
            .query_row([mailbox], |row| Ok((row.get(0)?, row.get(1)?)))?;
        let id = Self::insert_row(
            tx,
            mailbox,
            (uid, modseq),
            blob_hash,
            blob_size,
            trace_headers,
            internal_date,
            flags,
            facts,
        )?;
        Ok((uid, id))
    }

    /// Inserts a message row with a UID and MODSEQ already taken from its
    /// mailbox; returns the row id.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn insert_row(
        tx: &rusqlite::Connection,
        mailbox: MailboxId,
        (uid, modseq): (i64, i64),
        blob_hash: &str,
        blob_size: i64,
        trace_headers: &[u8],
        internal_date: i64,
        flags: &Flags,
        facts: &MessageFacts,
    ) -> Result<i64> {
        let id: i64 = tx
            .prepare_cached(
                "INSERT INTO messages (mailbox_id, uid, modseq, blob_hash, trace_headers, size, internal_date, flags,
                                       envelope, body_structure, body, header)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            )?
            .query_row(
                rusqlite::params![
                    mailbox,
                    uid,
                    modseq,
                    blob_hash,
                    trace_headers,
                    blob_size + trace_headers.len() as i64,
                    internal_date,
                    flags.system,
                    facts.envelope,
                    facts.body_structure,
                    facts.body,
                    facts.header,
                ],
                |row| row.get(0),
            )?;
        if let Some(fields) = &facts.search_fields {
            tx.prepare_cached("INSERT INTO message_search (message_id, fields) VALUES ($1, $2)")?
                .execute((id, fields))?;
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
        let copied = self
            .batched(move |tx| {
                let pairs = Self::copy_in(tx, from, &uids, to)?;
                Ok((uidvalidity(tx, to)?, pairs))
            })
            .await?;
        self.announce(to);
        Ok(copied)
    }

    fn copy_in(tx: &rusqlite::Connection, from: MailboxId, uids: &[i64], to: MailboxId) -> Result<Vec<(i64, i64)>> {
        let mut pairs = Vec::new();
        for &uid in uids {
            // The content's columns, then what COPY needs besides: the row's
            // id, its system flags and its search fields.
            let row: Option<(MessageContent, i64, i64, Option<String>)> = tx
                .prepare_cached(&format!(
                    "SELECT {CONTENT_COLUMNS}, id, flags,
                            (SELECT fields FROM message_search WHERE message_id = messages.id)
                     FROM messages WHERE mailbox_id = $1 AND uid = $2"
                ))?
                .query_row([from, uid], |row| {
                    Ok((MessageContent::from_row(row)?, row.get(9)?, row.get(10)?, row.get(11)?))
                })
                .optional()?;
            let Some((content, id, system, search_fields)) = row else {
                continue;
            };
            let keywords = tx
                .prepare_cached("SELECT keyword FROM message_keywords WHERE message_id = $1")?
                .query_map([id], |row| row.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            let flags = Flags { system, keywords };
            let facts = MessageFacts {
                envelope: content.envelope.unwrap_or_default(),
                body_structure: content.body_structure.unwrap_or_default(),
                body: content.body.unwrap_or_default(),
                header: content.header,
                search_fields,
            };
            let (blob, trace, size, date) = (
                content.blob_hash,
                content.trace_headers,
                content.size,
                content.internal_date,
            );
            let blob_size = size - trace.len() as i64;
            let (new_uid, _) = Self::insert_message(tx, to, &blob, blob_size, &trace, date, &flags, &facts)?;
            pairs.push((uid, new_uid));
        }
        Ok(pairs)
    }

    /// Moves messages (RFC 6851): copy and expunge in one transaction.
    pub async fn move_messages(&self, from: MailboxId, uids: &[i64], to: MailboxId) -> Result<(i64, Vec<(i64, i64)>)> {
        let uids = uids.to_vec();
        let moved = self
            .batched(move |tx| {
                let pairs = Self::copy_in(tx, from, &uids, to)?;
                let moved: Vec<i64> = pairs.iter().map(|(old, _)| *old).collect();
                Self::expunge_in(tx, from, &moved)?;
                Ok((uidvalidity(tx, to)?, pairs))
            })
            .await?;
        self.announce(from);
        self.announce(to);
        Ok(moved)
    }
}

/// The columns of [`MessageMeta`], for the messages of mailbox `$1`.
const META_SELECT: &str = "SELECT m.uid, m.modseq, m.flags, m.size, m.internal_date,
            (SELECT group_concat(keyword, ' ') FROM message_keywords k WHERE k.message_id = m.id)
     FROM messages m WHERE m.mailbox_id = $1";

/// Reads a row of [`META_SELECT`].
fn meta_from_row(row: &rusqlite::Row) -> rusqlite::Result<MessageMeta> {
    let keywords: Option<String> = row.get(5)?;
    let mut flags = Flags::from_names(
        &keywords
            .unwrap_or_default()
            .split(' ')
            .filter(|k| !k.is_empty())
            .collect::<Vec<_>>(),
    );
    flags.system = row.get(2)?;
    Ok(MessageMeta {
        uid: row.get(0)?,
        modseq: row.get(1)?,
        flags,
        size: row.get(3)?,
        internal_date: row.get(4)?,
    })
}

/// Takes the next MODSEQ of a mailbox (RFC 7162 §3.1.1: one per change).
pub(crate) fn next_modseq(tx: &rusqlite::Connection, mailbox: MailboxId) -> Result<i64> {
    Ok(tx
        .prepare_cached("UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = $1 RETURNING highestmodseq")?
        .query_row([mailbox], |row| row.get(0))?)
}

/// How many mailboxes an account has.
fn mailbox_count(tx: &rusqlite::Connection, account: AccountId) -> Result<i64> {
    Ok(tx
        .prepare_cached("SELECT COUNT(*) FROM mailboxes WHERE account_id = $1")?
        .query_row([account], |row| row.get(0))?)
}

/// A mailbox's UIDVALIDITY, for APPENDUID and COPYUID (RFC 4315).
fn uidvalidity(tx: &rusqlite::Connection, mailbox: MailboxId) -> Result<i64> {
    Ok(tx
        .prepare_cached("SELECT uidvalidity FROM mailboxes WHERE id = $1")?
        .query_row([mailbox], |row| row.get(0))?)
}

/// UIDs as a JSON array, for `IN (SELECT value FROM json_each(..))`: one
/// bound parameter however many there are.
pub(crate) fn json_list(uids: &[i64]) -> String {
    format!("[{}]", uids.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
}
