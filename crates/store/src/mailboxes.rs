//! Mailboxes: their names and hierarchy (RFC 9051 §5.1), CREATE, DELETE,
//! RENAME, subscriptions, and how far an account's mailboxes may grow.

use crate::sql::OptionalExtension;

use crate::uidvalidity::next_uidvalidity;
use crate::{AccountId, Error, MailboxId, Result, Store};

/// A mailbox's IMAP state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxInfo {
    pub id: MailboxId,
    pub name: String,
    /// The RFC 6154 role: `\\Sent`, `\\Drafts`, `\\Trash`, `\\Junk`, `\\Archive`.
    pub special_use: Option<String>,
    pub uidvalidity: i64,
    pub uidnext: i64,
    pub highestmodseq: i64,
    pub subscribed: bool,
    /// MAILBOXID (RFC 8474 §4): random, kept across RENAME.
    pub object_id: String,
}

/// The columns of [`MailboxInfo`], in the order its fields are declared.
const INFO_SELECT: &str =
    "SELECT id, name, special_use, uidvalidity, uidnext, highestmodseq, subscribed, object_id FROM mailbox_info";

impl MailboxInfo {
    /// Reads a row of [`INFO_SELECT`].
    fn from_row(row: &crate::sql::Row) -> crate::Result<MailboxInfo> {
        Ok(MailboxInfo {
            id: row.get(0)?,
            name: row.get(1)?,
            special_use: row.get(2)?,
            uidvalidity: row.get(3)?,
            uidnext: row.get(4)?,
            highestmodseq: row.get(5)?,
            subscribed: row.get(6)?,
            object_id: row.get::<Option<String>>(7)?.unwrap_or_default(),
        })
    }
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
    pub async fn inbox(&self, account: AccountId) -> Result<MailboxInfo> {
        self.point_reads
            .read(|c| {
                c.prepare_cached(&format!("{INFO_SELECT} WHERE account_id = $1 AND name = 'INBOX'"))?
                    .query_row([account], MailboxInfo::from_row)
                    .optional()
            })?
            .ok_or_else(|| Error::NoInbox(account.to_string()))
    }

    /// An account's mailboxes, by name.
    pub async fn mailboxes(&self, account: AccountId) -> Result<Vec<MailboxInfo>> {
        self.point_reads
            .scan(move |c| {
                c.prepare_cached(&format!("{INFO_SELECT} WHERE account_id = $1 ORDER BY name"))?
                    .query_map([account], MailboxInfo::from_row)?
                    .collect::<crate::Result<_>>()
            })
            .await
    }

    /// A mailbox's current state by id.
    pub async fn mailbox_info(&self, mailbox: MailboxId) -> Result<Option<MailboxInfo>> {
        self.point_reads.read(|c| {
            c.prepare_cached(&format!("{INFO_SELECT} WHERE id = $1"))?
                .query_row([mailbox], MailboxInfo::from_row)
                .optional()
        })
    }

    /// A mailbox of an account by name.
    pub async fn mailbox(&self, account: AccountId, name: &str) -> Result<Option<MailboxInfo>> {
        let name = canonical_name(name);
        self.point_reads.read(|c| {
            c.prepare_cached(&format!("{INFO_SELECT} WHERE account_id = $1 AND name = $2"))?
                .query_row((account, name), MailboxInfo::from_row)
                .optional()
        })
    }

    /// Creates a mailbox and any missing parents (RFC 9051 §6.3.4), within
    /// `limits`.
    pub async fn create_mailbox(&self, account: AccountId, name: &str, limits: MailboxLimits) -> Result<MailboxInfo> {
        self.create_mailbox_for(account, name, None, limits).await
    }

    /// Creates a mailbox as [`Store::create_mailbox`] does, with the
    /// special use `role` if given (RFC 6154 §3, CREATE-SPECIAL-USE): one
    /// a mailbox of the account has already is refused
    /// ([`Error::SpecialUseTaken`]), and nothing is created then.
    pub async fn create_mailbox_for(
        &self,
        account: AccountId,
        name: &str,
        role: Option<&str>,
        limits: MailboxLimits,
    ) -> Result<MailboxInfo> {
        let role = role.map(str::to_string);
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
            if let Some(role) = &role {
                let taken = tx
                    .prepare_cached("SELECT 1 FROM mailboxes WHERE account_id = $1 AND special_use = $2")?
                    .query_row((account, role), |_| Ok(()))
                    .optional()?
                    .is_some();
                if taken {
                    return Err(Error::SpecialUseTaken(role.clone()));
                }
            }
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
                        return Err(Error::MailboxExists(created.clone()));
                    }
                    continue;
                }
                // The role is the named mailbox's, not its new parents'.
                let use_here = role.as_deref().filter(|_| i == levels.len() - 1);
                tx.prepare_cached(
                    "INSERT INTO mailboxes (account_id, name, uidvalidity, object_id, special_use)
                     VALUES ($1, $2, $3, $4, $5)",
                )?
                .execute((
                    account,
                    &path,
                    next_uidvalidity(tx, crate::now())?,
                    crate::object_ids::new_id('M')?,
                    use_here,
                ))?;
            }
            // Counted after the inserts, parents included; over the limit,
            // the error rolls them back.
            limits.check_count(mailbox_count(tx, account)?, "mailboxes")?;
            Ok(())
        })
        .await?;
        self.announce_account(account);
        self.mailbox(account, &name).await?.ok_or(Error::NoSuchMailbox(name))
    }

    /// Deletes a mailbox and its messages; INBOX cannot be deleted.
    pub async fn delete_mailbox(&self, account: AccountId, name: &str) -> Result<()> {
        let name = canonical_name(name);
        if name == "INBOX" {
            return Err(Error::InvalidMailboxName("INBOX cannot be deleted".into()));
        }
        let policy = self.quota_policy();
        self.batched(move |tx| {
            // The mailbox's messages go with it (ON DELETE CASCADE), and
            // its usage with its row (see `quota`).
            // Its METADATA entries (RFC 5464) go with it.
            tx.prepare_cached(
                "DELETE FROM imap_metadata WHERE account_id = $1
                 AND mailbox_id = (SELECT id FROM mailboxes WHERE account_id = $1 AND name = $2)",
            )?
            .execute((account, &name))?;
            let deleted = tx
                .prepare_cached("DELETE FROM mailboxes WHERE account_id = $1 AND name = $2")?
                .execute((account, &name))?;
            if deleted == 0 {
                return Err(Error::NoSuchMailbox(name.clone()));
            }
            Self::settle_quota(tx, account, crate::quota::Added::default(), policy)?;
            Ok(())
        })
        .await?;
        self.announce_account(account);
        Ok(())
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
            let uids: Vec<i64> = self.message_list(source.id).await?.iter().map(|m| m.uid).collect();
            self.move_messages(source.id, &uids, target.id).await?;
            // RFC 5464 §4.1: INBOX's METADATA entries are copied to the
            // new mailbox, and INBOX keeps them.
            self.batched(move |tx| {
                tx.prepare_cached(
                    "INSERT INTO imap_metadata (account_id, mailbox_id, name, value)
                     SELECT account_id, $1, name, value FROM imap_metadata WHERE account_id = $2 AND mailbox_id = $3",
                )?
                .execute((target.id, account, source.id))?;
                Ok(())
            })
            .await?;
            return Ok(());
        }
        if to.starts_with(&format!("{from}{SEPARATOR}")) {
            return Err(Error::InvalidMailboxName(format!("{to} is inside {from}")));
        }
        self.batched(move |tx| {
            // Names below `from` are those from "from/" up to "from0" ('0'
            // follows '/'): names compare bytewise (SQLite's BINARY
            // collation, PostgreSQL's "C"), and the range uses the
            // (account_id, name) index.
            let (low, high) = (format!("{from}{SEPARATOR}"), format!("{from}0"));
            let renamed = |name: &str| format!("{to}{}", &name[from.len()..]);
            let moving: Vec<(i64, String)> = tx
                .prepare_cached(
                    "SELECT id, name FROM mailboxes
                     WHERE account_id = $1 AND (name = $2 OR (name >= $3 AND name < $4))",
                )?
                .query_map((account, &from, &low, &high), |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<Result<_>>()?;
            // The longest name below `from` must fit under `to` too.
            if let Some(longest) = moving.iter().map(|(_, name)| renamed(name).len()).max() {
                limits.check_name(longest)?;
            }
            let mut rename = tx.prepare_cached("UPDATE mailboxes SET name = $1 WHERE id = $2")?;
            for (id, name) in &moving {
                rename.execute((renamed(name), id))?;
            }
            // Subscriptions move with their mailboxes, as Dovecot moves
            // them, replacing any subscription of the new name.
            let subscribed: Vec<String> = tx
                .prepare_cached(
                    "SELECT name FROM subscriptions
                     WHERE account_id = $1 AND (name = $2 OR (name >= $3 AND name < $4))",
                )?
                .query_map((account, &from, &low, &high), |row| row.get(0))?
                .collect::<Result<_>>()?;
            let mut unsubscribe = tx.prepare_cached("DELETE FROM subscriptions WHERE account_id = $1 AND name = $2")?;
            let mut resubscribe =
                tx.prepare_cached("UPDATE subscriptions SET name = $1 WHERE account_id = $2 AND name = $3")?;
            for name in &subscribed {
                unsubscribe.execute((account, renamed(name)))?;
                resubscribe.execute((renamed(name), account, name))?;
            }
            Ok(())
        })
        .await?;
        self.announce_account(account);
        Ok(())
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
                return Err(Error::NoSuchMailbox(name.clone()));
            }
            tx.prepare_cached("INSERT INTO subscriptions (account_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING")?
                .execute((account, &name))?;
            let count: i64 = tx
                .prepare_cached("SELECT COUNT(*) FROM subscriptions WHERE account_id = $1")?
                .query_row([account], |row| row.get(0))?;
            limits.check_count(count, "subscriptions")
        })
        .await?;
        self.announce_account(account);
        Ok(())
    }

    /// The names an account subscribed to, whether the mailboxes exist or
    /// not, by name.
    pub async fn subscriptions(&self, account: AccountId) -> Result<Vec<String>> {
        self.point_reads
            .scan(move |c| {
                c.prepare_cached("SELECT name FROM subscriptions WHERE account_id = $1 ORDER BY name")?
                    .query_map([account], |row| row.get(0))?
                    .collect::<crate::Result<_>>()
            })
            .await
    }
}

/// How many mailboxes an account has.
fn mailbox_count(tx: &crate::sql::Db, account: AccountId) -> Result<i64> {
    tx.prepare_cached("SELECT COUNT(*) FROM mailboxes WHERE account_id = $1")?
        .query_row([account], |row| row.get(0))
}

/// A mailbox's UIDVALIDITY, for APPENDUID and COPYUID (RFC 4315).
pub(crate) fn uidvalidity(tx: &crate::sql::Db, mailbox: MailboxId) -> Result<i64> {
    tx.prepare_cached("SELECT uidvalidity FROM mailboxes WHERE id = $1")?
        .query_row([mailbox], |row| row.get(0))
}
