//! IMAP METADATA entries (RFC 5464): values by entry name, for the server
//! (no mailbox) or a mailbox, per account. Names come checked and
//! lower-cased from the IMAP side; the store keeps them, finds the ones
//! below an entry (DEPTH, RFC 5464 §4.2.2), and holds each account within
//! the limits it is given, deciding on the limits before it writes, so a
//! refused SETMETADATA changes nothing (RFC 5464 §4.3: all or none).
//!
//! A change is announced on the change bus as a change of its account
//! (`Store::announce_account`, as for the mailbox list): NOTIFY's
//! MailboxMetadataChange and ServerMetadataChange (RFC 5465 §5.6, §5.7)
//! find what changed by comparing [`Store::account_metadata`] with what
//! they saw before, as they do for the mailbox list.

use crate::sql::OptionalExtension;
use crate::{AccountId, MailboxId, Result, Store};

/// How far below an entry GETMETADATA looks (RFC 5464 §4.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataDepth {
    /// The entry alone.
    Zero,
    /// The entry and its children.
    One,
    /// The entry and everything below it.
    Infinity,
}

/// What an account may hold in entries (see `imapd::ImapConfig`).
#[derive(Debug, Clone, Copy)]
pub struct MetadataLimits {
    /// The largest value of one entry, in bytes.
    pub max_value: usize,
    /// Entries of an account, server and mailboxes together.
    pub max_entries: usize,
    /// Bytes of names and values of an account together.
    pub max_total: usize,
}

/// Why a SETMETADATA was refused; nothing of it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataRefusal {
    /// A value is larger than `max_value` (RFC 5464 §4.3: MAXSIZE).
    TooLarge { max_value: usize },
    /// The account would have more than `max_entries` (TOOMANY).
    TooMany,
    /// The account would hold more than `max_total` bytes.
    TooMuch,
}

/// The row key for the server's entries, which belong to no mailbox.
const SERVER: MailboxId = 0;

impl Store {
    /// The entries named, with those below them as `depth` asks, of
    /// `mailbox` (None: the server's), sorted by name. Entries that do not
    /// exist are left out.
    pub async fn metadata(
        &self,
        account: AccountId,
        mailbox: Option<MailboxId>,
        names: Vec<String>,
        depth: MetadataDepth,
    ) -> Result<Vec<(String, Vec<u8>)>> {
        let mailbox = mailbox.unwrap_or(SERVER);
        self.point_reads
            .scan(move |c| {
                let mut found = std::collections::BTreeMap::new();
                for name in &names {
                    let value: Option<Vec<u8>> = c
                        .prepare_cached(
                            "SELECT value FROM imap_metadata WHERE account_id = $1 AND mailbox_id = $2 AND name = $3",
                        )?
                        .query_row((account, mailbox, name), |row| row.get(0))
                        .optional()?;
                    if let Some(value) = value {
                        found.insert(name.clone(), value);
                    }
                    if depth == MetadataDepth::Zero {
                        continue;
                    }
                    // Below `name`: from "name/" up to "name0" ('0' follows
                    // '/'), names comparing bytewise on both backends.
                    let (low, high) = (format!("{name}/"), format!("{name}0"));
                    let below: Vec<(String, Vec<u8>)> = c
                        .prepare_cached(
                            "SELECT name, value FROM imap_metadata
                             WHERE account_id = $1 AND mailbox_id = $2 AND name >= $3 AND name < $4",
                        )?
                        .query_map((account, mailbox, &low, &high), |row| Ok((row.get(0)?, row.get(1)?)))?
                        .collect::<Result<_>>()?;
                    for (entry, value) in below {
                        if depth == MetadataDepth::One && entry[low.len()..].contains('/') {
                            continue;
                        }
                        found.insert(entry, value);
                    }
                }
                Ok(found.into_iter().collect())
            })
            .await
    }

    /// Every entry of the account: (None for the server's, or the mailbox),
    /// name, value. At most the account's limits (`MetadataLimits`).
    pub async fn account_metadata(&self, account: AccountId) -> Result<Vec<(Option<MailboxId>, String, Vec<u8>)>> {
        self.point_reads
            .scan(move |c| {
                c.prepare_cached("SELECT mailbox_id, name, value FROM imap_metadata WHERE account_id = $1")?
                    .query_map([account], |row| {
                        let mailbox: MailboxId = row.get(0)?;
                        Ok(((mailbox != SERVER).then_some(mailbox), row.get(1)?, row.get(2)?))
                    })?
                    .collect()
            })
            .await
    }

    /// Sets (Some) or removes (None) entries of `mailbox` (None: the
    /// server's) all at once, or none of them if the account would be
    /// over `limits` after (the inner `Err`). A change is announced once
    /// committed, for NOTIFY's metadata events (RFC 5465 §5.6, §5.7).
    pub async fn set_metadata(
        &self,
        account: AccountId,
        mailbox: Option<MailboxId>,
        entries: Vec<(String, Option<Vec<u8>>)>,
        limits: MetadataLimits,
    ) -> Result<std::result::Result<(), MetadataRefusal>> {
        let outcome = self.write_metadata(account, mailbox, entries, limits).await?;
        if outcome.is_ok() {
            self.announce_account(account);
        }
        Ok(outcome)
    }

    /// [`Store::set_metadata`]'s write.
    async fn write_metadata(
        &self,
        account: AccountId,
        mailbox: Option<MailboxId>,
        entries: Vec<(String, Option<Vec<u8>>)>,
        limits: MetadataLimits,
    ) -> Result<std::result::Result<(), MetadataRefusal>> {
        if entries
            .iter()
            .any(|(_, value)| value.as_ref().is_some_and(|v| v.len() > limits.max_value))
        {
            return Ok(Err(MetadataRefusal::TooLarge {
                max_value: limits.max_value,
            }));
        }
        let mailbox = mailbox.unwrap_or(SERVER);
        self.batched(move |tx| {
            let (mut count, mut total): (i64, i64) = tx
                .prepare_cached(
                    "SELECT COUNT(*), COALESCE(SUM(LENGTH(name) + LENGTH(value)), 0)
                     FROM imap_metadata WHERE account_id = $1",
                )?
                .query_row([account], |row| Ok((row.get(0)?, row.get(1)?)))?;
            // The account as it will be: what is replaced or removed goes,
            // what is set comes (a name set twice counts as its last).
            let mut seen = std::collections::HashMap::new();
            for (name, value) in &entries {
                seen.insert(name.as_str(), value);
            }
            for (name, value) in &seen {
                let old: Option<i64> = tx
                    .prepare_cached(
                        "SELECT LENGTH(name) + LENGTH(value) FROM imap_metadata
                         WHERE account_id = $1 AND mailbox_id = $2 AND name = $3",
                    )?
                    .query_row((account, mailbox, *name), |row| row.get(0))
                    .optional()?;
                if let Some(old) = old {
                    count -= 1;
                    total -= old;
                }
                if let Some(value) = value {
                    count += 1;
                    total += (name.len() + value.len()) as i64;
                }
            }
            if count > limits.max_entries as i64 {
                return Ok(Err(MetadataRefusal::TooMany));
            }
            if total > limits.max_total as i64 {
                return Ok(Err(MetadataRefusal::TooMuch));
            }
            for (name, value) in seen {
                match value {
                    Some(value) => tx
                        .prepare_cached(
                            "INSERT INTO imap_metadata (account_id, mailbox_id, name, value) VALUES ($1, $2, $3, $4)
                             ON CONFLICT (account_id, mailbox_id, name) DO UPDATE SET value = excluded.value",
                        )?
                        .execute((account, mailbox, name, value))?,
                    None => tx
                        .prepare_cached(
                            "DELETE FROM imap_metadata WHERE account_id = $1 AND mailbox_id = $2 AND name = $3",
                        )?
                        .execute((account, mailbox, name))?,
                };
            }
            Ok(Ok(()))
        })
        .await
    }
}
