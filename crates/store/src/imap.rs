//! What the IMAP server asks of the store: mailboxes by name with their
//! hierarchy, message listings with flags and MODSEQ, flag changes, APPEND,
//! COPY and MOVE, and the parsed facts stored with each message. Every
//! change that others must see is announced on the change bus.

use crate::flags::Flags;
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
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
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

/// A message row as COPY reads it.
#[derive(sqlx::FromRow)]
struct StoredMessage {
    id: i64,
    blob_hash: String,
    trace_headers: Vec<u8>,
    size: i64,
    internal_date: i64,
    flags: i64,
    envelope: Option<String>,
    body_structure: Option<String>,
    body: Option<String>,
    header: Option<Vec<u8>>,
    search_fields: Option<String>,
}

/// The stored search fields of a message (see [`MessageFacts`]), None
/// for messages stored before they were kept.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
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
            "SELECT id, name, special_use, uidvalidity, uidnext, highestmodseq, subscribed FROM mailboxes
             WHERE account_id = $1 AND name = $2",
        )
        .bind(account)
        .bind(canonical_name(name))
        .fetch_optional(&self.readers)
        .await?)
    }

    /// Creates a mailbox and any missing parents (RFC 9051 §6.3.4).
    pub async fn create_mailbox(&self, account: AccountId, name: &str) -> Result<MailboxInfo> {
        let name = canonical_name(name.trim_end_matches(SEPARATOR));
        let valid = !name.is_empty()
            && name.split(SEPARATOR).all(|level| !level.is_empty())
            && !name.chars().any(|c| c.is_control() || c == '*' || c == '%');
        if !valid {
            return Err(Error::InvalidMailboxName(name));
        }
        let mut tx = self.write().await?;
        let mut path = String::new();
        let levels: Vec<&str> = name.split(SEPARATOR).collect();
        for (i, level) in levels.iter().enumerate() {
            if !path.is_empty() {
                path.push(SEPARATOR);
            }
            path.push_str(level);
            let inserted = sqlx::query(
                "INSERT INTO mailboxes (account_id, name, uidvalidity) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(account)
            .bind(&path)
            .bind(crate::now())
            .execute(&mut *tx)
            .await?;
            if i == levels.len() - 1 && inserted.rows_affected() == 0 {
                return Err(Error::MailboxExists(name));
            }
        }
        tx.commit().await?;
        self.mailbox(account, &name).await?.ok_or(Error::NoSuchMailbox(name))
    }

    /// Deletes a mailbox and its messages; INBOX cannot be deleted.
    pub async fn delete_mailbox(&self, account: AccountId, name: &str) -> Result<()> {
        let name = canonical_name(name);
        if name == "INBOX" {
            return Err(Error::InvalidMailboxName("INBOX cannot be deleted".into()));
        }
        let mut tx = self.write().await?;
        let deleted = sqlx::query("DELETE FROM mailboxes WHERE account_id = $1 AND name = $2")
            .bind(account)
            .bind(&name)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(Error::NoSuchMailbox(name));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Renames a mailbox with everything below it. Renaming INBOX moves its
    /// messages into a new mailbox and leaves INBOX empty (RFC 9051 §6.3.6).
    pub async fn rename_mailbox(&self, account: AccountId, from: &str, to: &str) -> Result<()> {
        let (from, to) = (canonical_name(from), canonical_name(to.trim_end_matches(SEPARATOR)));
        if self.mailbox(account, &to).await?.is_some() {
            return Err(Error::MailboxExists(to));
        }
        let source = self
            .mailbox(account, &from)
            .await?
            .ok_or_else(|| Error::NoSuchMailbox(from.clone()))?;
        if from == "INBOX" {
            let target = self.create_mailbox(account, &to).await?;
            let uids: Vec<i64> = self.messages(source.id).await?.iter().map(|m| m.uid).collect();
            self.move_messages(source.id, &uids, target.id).await?;
            return Ok(());
        }
        if to.starts_with(&format!("{from}{SEPARATOR}")) {
            return Err(Error::InvalidMailboxName(format!("{to} is inside {from}")));
        }
        let mut tx = self.write().await?;
        let children = format!("{from}{SEPARATOR}");
        sqlx::query(
            "UPDATE mailboxes SET name = $1 || substr(name, $2) WHERE account_id = $3 AND (name = $4 OR substr(name, 1, $5) = $6)",
        )
        .bind(&to)
        .bind(from.len() as i64 + 1)
        .bind(account)
        .bind(&from)
        .bind(children.len() as i64)
        .bind(&children)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_subscribed(&self, account: AccountId, name: &str, subscribed: bool) -> Result<()> {
        let name = canonical_name(name);
        let mut tx = self.write().await?;
        let changed = sqlx::query("UPDATE mailboxes SET subscribed = $1 WHERE account_id = $2 AND name = $3")
            .bind(subscribed)
            .bind(account)
            .bind(&name)
            .execute(&mut *tx)
            .await?;
        if changed.rows_affected() == 0 && subscribed {
            return Err(Error::NoSuchMailbox(name));
        }
        tx.commit().await?;
        Ok(())
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

    /// Claims the messages no session has shown as \Recent yet (RFC 3501
    /// §2.3.2: exactly one session sees each message as recent). Returns
    /// the claimed UID range, `from..until`.
    pub async fn claim_recent(&self, mailbox: MailboxId) -> Result<(i64, i64)> {
        let mut tx = self.write().await?;
        let (from, until): (i64, i64) = sqlx::query_as("SELECT recent_uid, uidnext FROM mailboxes WHERE id = $1")
            .bind(mailbox)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query("UPDATE mailboxes SET recent_uid = $1 WHERE id = $2")
            .bind(until)
            .bind(mailbox)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((from, until))
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
            "SELECT id, name, special_use, uidvalidity, uidnext, highestmodseq, subscribed FROM mailboxes WHERE id = $1",
        )
        .bind(mailbox)
        .fetch_optional(&self.readers)
        .await?)
    }

    /// Every message of a mailbox with its flags, in UID order.
    pub async fn message_list(&self, mailbox: MailboxId) -> Result<Vec<MessageMeta>> {
        read_metas(&self.readers, mailbox, None).await
    }

    /// The stored content and facts of the messages with these UIDs, in
    /// one query; expunged ones are missing from the answer. Callers pass
    /// a bounded number at a time, since each carries its header.
    pub async fn message_contents(&self, mailbox: MailboxId, uids: &[i64]) -> Result<Vec<MessageContent>> {
        Ok(sqlx::query_as(
            "SELECT uid, blob_hash, trace_headers, size, internal_date, envelope, body_structure, body, header
             FROM messages WHERE mailbox_id = $1 AND uid IN (SELECT value FROM json_each($2))
             ORDER BY uid",
        )
        .bind(mailbox)
        .bind(json_list(uids))
        .fetch_all(&self.readers)
        .await?)
    }

    /// The stored search fields of the messages with UIDs from `first` to
    /// `last`, in one range scan of the (mailbox_id, uid) index that does
    /// not touch the wide message rows.
    pub async fn search_contents(&self, mailbox: MailboxId, first: i64, last: i64) -> Result<Vec<SearchContent>> {
        Ok(sqlx::query_as(
            "SELECT m.uid, s.fields AS search_fields FROM messages m LEFT JOIN message_search s ON s.message_id = m.id
             WHERE m.mailbox_id = $1 AND m.uid BETWEEN $2 AND $3
             ORDER BY m.uid",
        )
        .bind(mailbox)
        .bind(first)
        .bind(last)
        .fetch_all(&self.readers)
        .await?)
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
            .batched(move |tx| {
                Box::pin(async move { Self::change_flags(tx, mailbox, &uids, change, &flags, unchanged_since).await })
            })
            .await?;
        if !changed.is_empty() {
            self.announce(mailbox);
        }
        Ok((changed, failed))
    }

    async fn change_flags(
        tx: &mut sqlx::SqliteConnection,
        mailbox: MailboxId,
        uids: &[i64],
        change: FlagChange,
        flags: &Flags,
        unchanged_since: Option<i64>,
    ) -> Result<(Vec<MessageMeta>, Vec<i64>)> {
        // Read inside the write transaction, so that two sessions changing
        // the same message's flags at once cannot lose one change.
        let current = read_metas(&mut *tx, mailbox, Some(uids)).await?;
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
                    let value: i64 = sqlx::query_scalar(
                        "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = $1 RETURNING highestmodseq",
                    )
                    .bind(mailbox)
                    .fetch_one(&mut *tx)
                    .await?;
                    modseq = Some(value);
                    value
                }
            };
            let id: i64 = sqlx::query_scalar(
                "UPDATE messages SET flags = $1, modseq = $2 WHERE mailbox_id = $3 AND uid = $4 RETURNING id",
            )
            .bind(new.system)
            .bind(next)
            .bind(mailbox)
            .bind(message.uid)
            .fetch_one(&mut *tx)
            .await?;
            if new.keywords != message.flags.keywords {
                Self::write_keywords(tx, id, &new.keywords).await?;
            }
            changed.push(MessageMeta {
                flags: new,
                modseq: next,
                ..message
            });
        }
        Ok((changed, failed))
    }

    async fn write_keywords(tx: &mut sqlx::SqliteConnection, message: i64, keywords: &[String]) -> Result<()> {
        sqlx::query("DELETE FROM message_keywords WHERE message_id = $1")
            .bind(message)
            .execute(&mut *tx)
            .await?;
        for keyword in keywords {
            sqlx::query("INSERT INTO message_keywords (message_id, keyword) VALUES ($1, $2)")
                .bind(message)
                .bind(keyword)
                .execute(&mut *tx)
                .await?;
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
                Box::pin(async move {
                    content.keep(tx, &blobs).await?;
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
                    )
                    .await?;
                    let uidvalidity = uidvalidity(tx, mailbox).await?;
                    Ok((uidvalidity, uid))
                })
            })
            .await?;
        self.announce(mailbox);
        Ok((uidvalidity, uid))
    }

    /// Inserts a message with the next UID and a new MODSEQ; returns the
    /// UID and the row id.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn insert_message(
        tx: &mut sqlx::SqliteConnection,
        mailbox: MailboxId,
        blob_hash: &str,
        blob_size: i64,
        trace_headers: &[u8],
        internal_date: i64,
        flags: &Flags,
        facts: &MessageFacts,
    ) -> Result<(i64, i64)> {
        let (uid, modseq): (i64, i64) = sqlx::query_as(
            "UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1
             WHERE id = $1 RETURNING uidnext - 1, highestmodseq",
        )
        .bind(mailbox)
        .fetch_one(&mut *tx)
        .await?;
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
        )
        .await?;
        Ok((uid, id))
    }

    /// Inserts a message row with a UID and MODSEQ already taken from its
    /// mailbox; returns the row id.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn insert_row(
        tx: &mut sqlx::SqliteConnection,
        mailbox: MailboxId,
        (uid, modseq): (i64, i64),
        blob_hash: &str,
        blob_size: i64,
        trace_headers: &[u8],
        internal_date: i64,
        flags: &Flags,
        facts: &MessageFacts,
    ) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO messages (mailbox_id, uid, modseq, blob_hash, trace_headers, size, internal_date, flags,
                                   envelope, body_structure, body, header)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(mailbox)
        .bind(uid)
        .bind(modseq)
        .bind(blob_hash)
        .bind(trace_headers)
        .bind(blob_size + trace_headers.len() as i64)
        .bind(internal_date)
        .bind(flags.system)
        .bind(&facts.envelope)
        .bind(&facts.body_structure)
        .bind(&facts.body)
        .bind(&facts.header)
        .fetch_one(&mut *tx)
        .await?;
        if let Some(fields) = &facts.search_fields {
            sqlx::query("INSERT INTO message_search (message_id, fields) VALUES ($1, $2)")
                .bind(id)
                .bind(fields)
                .execute(&mut *tx)
                .await?;
        }
        // A new row has no keywords yet; most messages arrive without any.
        if !flags.keywords.is_empty() {
            Self::write_keywords(tx, id, &flags.keywords).await?;
        }
        Ok(id)
    }

    /// Copies messages to another mailbox; returns (old UID, new UID)
    /// pairs and the target's UIDVALIDITY, for COPYUID (RFC 4315).
    pub async fn copy_messages(&self, from: MailboxId, uids: &[i64], to: MailboxId) -> Result<(i64, Vec<(i64, i64)>)> {
        let mut tx = self.write().await?;
        let pairs = Self::copy_in(&mut tx, from, uids, to).await?;
        let uidvalidity = uidvalidity(&mut tx, to).await?;
        tx.commit().await?;
        self.announce(to);
        Ok((uidvalidity, pairs))
    }

    async fn copy_in(
        tx: &mut sqlx::SqliteConnection,
        from: MailboxId,
        uids: &[i64],
        to: MailboxId,
    ) -> Result<Vec<(i64, i64)>> {
        let mut pairs = Vec::new();
        for &uid in uids {
            let row: Option<StoredMessage> = sqlx::query_as(
                "SELECT id, blob_hash, trace_headers, size, internal_date, flags, envelope, body_structure, body, header,
                        (SELECT fields FROM message_search WHERE message_id = messages.id) AS search_fields
                 FROM messages WHERE mailbox_id = $1 AND uid = $2",
            )
            .bind(from)
            .bind(uid)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                continue;
            };
            let keywords: Vec<String> =
                sqlx::query_scalar("SELECT keyword FROM message_keywords WHERE message_id = $1")
                    .bind(row.id)
                    .fetch_all(&mut *tx)
                    .await?;
            let flags = Flags {
                system: row.flags,
                keywords,
            };
            let facts = MessageFacts {
                envelope: row.envelope.unwrap_or_default(),
                body_structure: row.body_structure.unwrap_or_default(),
                body: row.body.unwrap_or_default(),
                header: row.header,
                search_fields: row.search_fields,
            };
            let (blob, trace, size, date) = (row.blob_hash, row.trace_headers, row.size, row.internal_date);
            let blob_size = size - trace.len() as i64;
            let (new_uid, _) = Self::insert_message(tx, to, &blob, blob_size, &trace, date, &flags, &facts).await?;
            pairs.push((uid, new_uid));
        }
        Ok(pairs)
    }

    /// Moves messages (RFC 6851): copy and expunge in one transaction.
    pub async fn move_messages(&self, from: MailboxId, uids: &[i64], to: MailboxId) -> Result<(i64, Vec<(i64, i64)>)> {
        let mut tx = self.write().await?;
        let pairs = Self::copy_in(&mut tx, from, uids, to).await?;
        let moved: Vec<i64> = pairs.iter().map(|(old, _)| *old).collect();
        Self::expunge_in(&mut tx, from, &moved).await?;
        let uidvalidity = uidvalidity(&mut tx, to).await?;
        tx.commit().await?;
        self.announce(from);
        self.announce(to);
        Ok((uidvalidity, pairs))
    }
}

/// The messages of a mailbox as views show them, in UID order: all, or
/// those with the given UIDs.
async fn read_metas<'c>(
    executor: impl sqlx::SqliteExecutor<'c>,
    mailbox: MailboxId,
    uids: Option<&[i64]>,
) -> Result<Vec<MessageMeta>> {
    const COLUMNS: &str = "SELECT m.uid, m.modseq, m.flags, m.size, m.internal_date,
                (SELECT group_concat(keyword, ' ') FROM message_keywords k WHERE k.message_id = m.id)
         FROM messages m WHERE m.mailbox_id = $1";
    let query = match uids {
        None => format!("{COLUMNS} ORDER BY m.uid"),
        Some(_) => format!("{COLUMNS} AND m.uid IN (SELECT value FROM json_each($2)) ORDER BY m.uid"),
    };
    let mut select = sqlx::query_as(sqlx::AssertSqlSafe(query)).bind(mailbox);
    if let Some(uids) = uids {
        select = select.bind(json_list(uids));
    }
    let rows: Vec<(i64, i64, i64, i64, i64, Option<String>)> = select.fetch_all(executor).await?;
    Ok(rows
        .into_iter()
        .map(|(uid, modseq, system, size, internal_date, keywords)| {
            let mut flags = Flags::from_names(
                &keywords
                    .unwrap_or_default()
                    .split(' ')
                    .filter(|k| !k.is_empty())
                    .collect::<Vec<_>>(),
            );
            flags.system = system;
            MessageMeta {
                uid,
                modseq,
                flags,
                size,
                internal_date,
            }
        })
        .collect())
}

/// A mailbox's UIDVALIDITY, for APPENDUID and COPYUID (RFC 4315).
async fn uidvalidity(tx: &mut sqlx::SqliteConnection, mailbox: MailboxId) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT uidvalidity FROM mailboxes WHERE id = $1")
        .bind(mailbox)
        .fetch_one(&mut *tx)
        .await?)
}

/// UIDs as a JSON array, for `IN (SELECT value FROM json_each(..))`: one
/// bound parameter however many there are.
pub(crate) fn json_list(uids: &[i64]) -> String {
    format!("[{}]", uids.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
}
