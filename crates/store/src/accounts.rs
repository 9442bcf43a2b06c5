//! Accounts: a login (`local@domain`), its password hash and its mailboxes.

use crate::sql::OptionalExtension;

use crate::address::split_address;
use crate::uidvalidity::next_uidvalidity;
use crate::{AccountId, Error, Result, Store};

/// The mailboxes every new account gets, with their RFC 6154 roles.
const DEFAULT_MAILBOXES: &[(&str, Option<&str>)] = &[
    ("INBOX", None),
    ("Sent", Some("\\Sent")),
    ("Drafts", Some("\\Drafts")),
    ("Trash", Some("\\Trash")),
    ("Junk", Some("\\Junk")),
    ("Archive", Some("\\Archive")),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub address: String,
    pub password_hash: String,
}

impl Store {
    /// Creates an account with its default mailboxes. The password must
    /// already be hashed (see the `auth` crate).
    pub async fn add_account(&self, address: &str, password_hash: &str) -> Result<AccountId> {
        let (local, domain) = split_account_address(address)?;
        let password_hash = password_hash.to_string();
        self.batched(move |tx| {
            let domain_id = Self::hosted_domain_id(tx, &domain)?;
            let now = crate::now();
            let id: AccountId = tx
                .prepare_cached(
                    "INSERT INTO accounts (domain_id, local_part, password_hash, created_at)
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING id",
                )?
                .query_row((domain_id, &local, &password_hash, now), |row| row.get(0))
                .optional()?
                .ok_or_else(|| Error::AccountExists(format!("{local}@{domain}")))?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO mailboxes (account_id, name, special_use, uidvalidity, object_id) VALUES ($1, $2, $3, $4, $5)",
            )?;
            let mut subscribe = tx.prepare_cached("INSERT INTO subscriptions (account_id, name) VALUES ($1, $2)")?;
            for (name, special_use) in DEFAULT_MAILBOXES {
                let object_id = crate::object_ids::new_id('M')?;
                insert.execute((id, name, special_use, next_uidvalidity(tx, now)?, object_id))?;
                subscribe.execute((id, name))?;
            }
            Ok(id)
        })
        .await
    }

    /// Looks an account up by its login address (case-insensitive).
    pub async fn find_account(&self, address: &str) -> Result<Option<Account>> {
        let Some((local, domain)) = split_address(address) else {
            return Ok(None);
        };
        let row: Option<(AccountId, String)> = self.point_reads.read(|c| {
            c.prepare_cached(
                "SELECT a.id, a.password_hash FROM accounts a JOIN domains d ON d.id = a.domain_id
                 WHERE d.name = $1 AND a.local_part = $2",
            )?
            .query_row((&domain, &local), |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
        })?;
        Ok(row.map(|(id, password_hash)| Account {
            id,
            address: format!("{local}@{domain}"),
            password_hash,
        }))
    }

    /// All accounts, or those of one domain, sorted by address.
    pub async fn list_accounts(&self, domain: Option<&str>) -> Result<Vec<String>> {
        let domain = domain.map(crate::normalize_domain);
        self.point_reads
            .scan(move |c| {
                c.prepare_cached(
                    "SELECT a.local_part || '@' || d.name FROM accounts a JOIN domains d ON d.id = a.domain_id
                     WHERE CAST($1 AS TEXT) IS NULL OR d.name = $1 ORDER BY d.name, a.local_part",
                )?
                .query_map([domain], |row| row.get(0))?
                .collect::<crate::Result<_>>()
            })
            .await
    }

    pub async fn set_password(&self, address: &str, password_hash: &str) -> Result<()> {
        let account = self.require_account(address).await?;
        let password_hash = password_hash.to_string();
        self.batched(move |tx| {
            tx.prepare_cached("UPDATE accounts SET password_hash = $1 WHERE id = $2")?
                .execute((&password_hash, account.id))?;
            Ok(())
        })
        .await
    }

    /// Where an account's spam goes: `Some(true)` its Junk mailbox,
    /// `Some(false)` its INBOX, None as the server's setting says.
    pub async fn set_spam_to_junk(&self, address: &str, to_junk: Option<bool>) -> Result<()> {
        let account = self.require_account(address).await?;
        self.batched(move |tx| {
            tx.prepare_cached("UPDATE accounts SET spam_to_junk = $1 WHERE id = $2")?
                .execute((to_junk, account.id))?;
            Ok(())
        })
        .await
    }

    /// The account's own choice of where its spam goes, if it made one.
    pub fn spam_to_junk(&self, account: AccountId) -> Result<Option<bool>> {
        Ok(self
            .point_reads
            .read(|c| {
                c.prepare_cached("SELECT spam_to_junk FROM accounts WHERE id = $1")?
                    .query_row([account], |row| row.get::<Option<bool>>(0))
                    .optional()
            })?
            .flatten())
    }

    /// Removes an account with its mailboxes and messages. Their blobs go
    /// with the next garbage collection.
    pub async fn remove_account(&self, address: &str) -> Result<()> {
        let account = self.require_account(address).await?;
        self.batched(move |tx| {
            tx.prepare_cached("DELETE FROM accounts WHERE id = $1")?
                .execute([account.id])?;
            Ok(())
        })
        .await
    }

    async fn require_account(&self, address: &str) -> Result<Account> {
        self.find_account(address)
            .await?
            .ok_or_else(|| Error::NoSuchAccount(address.to_string()))
    }
}

/// An account address must be a plain `local@domain` with a dot-atom local
/// part: no quotes, no '+', which is reserved for `user+tag` delivery.
fn split_account_address(address: &str) -> Result<(String, String)> {
    let invalid = || Error::InvalidAddress(address.to_string());
    let (local, domain) = split_address(address).ok_or_else(invalid)?;
    let local_ok = !local.is_empty()
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_alphanumeric() || "!#$%&'*-/=?^_`{|}~".contains(c))
        });
    if local_ok { Ok((local, domain)) } else { Err(invalid()) }
}
