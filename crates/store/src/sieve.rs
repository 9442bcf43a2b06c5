//! Sieve scripts (RFC 5228) and what their runs remember. Scripts are
//! stored as uploaded with their compiled form beside them (the `sieve`
//! crate's program, serialised; the store does not read it); at most one
//! per account is active (RFC 5804 §1.1), enforced by a unique index. An
//! account without an active script runs its domain's default script,
//! if the domain has one. The store also keeps the keys of vacation
//! replies sent and of messages the duplicate test saw, until they expire.
//!
//! Limits on the number and size of an account's scripts are decided in
//! the same write as the upload, so two uploads at once cannot both pass.

use crate::sql::OptionalExtension;
use crate::{AccountId, Result, Store};

/// One of an account's scripts, as LISTSCRIPTS shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SieveScriptInfo {
    pub name: String,
    pub active: bool,
    pub size: usize,
}

/// A script's text and compiled form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSieveScript {
    pub name: String,
    pub script: String,
    pub compiled: String,
}

/// What one account may store (ManageSieve's HAVESPACE and PUTSCRIPT
/// check them, RFC 5804 §2.3, §2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SieveLimits {
    pub max_scripts: usize,
    /// The largest script, in bytes.
    pub max_size: usize,
}

/// Why an upload was refused; nothing was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SieveRefusal {
    /// RFC 5804 §1.3 QUOTA/MAXSCRIPTS.
    TooManyScripts { max_scripts: usize },
    /// RFC 5804 §1.3 QUOTA/MAXSIZE.
    TooLarge { max_size: usize },
}

/// The outcome of a change to a named script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SieveChange {
    Done,
    /// RFC 5804 NONEXISTENT.
    NoSuchScript,
    /// RFC 5804 ACTIVE: the active script cannot be deleted.
    Active,
    /// RFC 5804 ALREADYEXISTS: the new name is taken.
    NameTaken,
}

impl Store {
    /// The account's scripts, by name.
    pub async fn sieve_scripts(&self, account: AccountId) -> Result<Vec<SieveScriptInfo>> {
        self.point_reads.read(|c| {
            c.prepare_cached(
                "SELECT name, active, length(script) FROM sieve_scripts WHERE account_id = $1 ORDER BY name",
            )?
            .query_map([account], |row| {
                let active: i64 = row.get(1)?;
                let size: i64 = row.get(2)?;
                Ok(SieveScriptInfo {
                    name: row.get(0)?,
                    active: active != 0,
                    size: size as usize,
                })
            })?
            .collect()
        })
    }

    /// One script of the account. Synchronous, as the reads a running
    /// script makes (`include`, the duplicate test) are.
    pub fn sieve_script(&self, account: AccountId, name: &str) -> Result<Option<StoredSieveScript>> {
        self.point_reads.read(|c| {
            c.prepare_cached("SELECT name, script, compiled FROM sieve_scripts WHERE account_id = $1 AND name = $2")?
                .query_row((account, name), stored)
                .optional()
        })
    }

    /// The script that runs when mail arrives for the account: its active
    /// one, else its domain's default.
    pub async fn active_sieve_script(&self, account: AccountId) -> Result<Option<StoredSieveScript>> {
        self.point_reads.read(|c| {
            let own = c
                .prepare_cached(
                    "SELECT name, script, compiled FROM sieve_scripts WHERE account_id = $1 AND active = 1",
                )?
                .query_row([account], stored)
                .optional()?;
            if own.is_some() {
                return Ok(own);
            }
            c.prepare_cached(
                "SELECT '', s.script, s.compiled FROM sieve_domain_scripts s
                 JOIN accounts a ON a.domain_id = s.domain_id WHERE a.id = $1",
            )?
            .query_row([account], stored)
            .optional()
        })
    }

    /// Whether the account has a mailbox of this name (RFC 5490 §3.1).
    pub fn sieve_mailbox_exists(&self, account: AccountId, name: &str) -> Result<bool> {
        let name = crate::canonical_name(name).to_string();
        self.point_reads.read(|c| {
            Ok(
                c.prepare_cached("SELECT 1 FROM mailboxes WHERE account_id = $1 AND name = $2")?
                    .query_row((account, &name), |row| row.get::<i64>(0))
                    .optional()?
                    .is_some(),
            )
        })
    }

    /// The special uses of the account's mailbox `name`, or of all its
    /// mailboxes (RFC 8579 §3).
    pub fn sieve_special_uses(&self, account: AccountId, name: Option<&str>) -> Result<Vec<String>> {
        let name = name.map(|n| crate::canonical_name(n).to_string());
        self.point_reads.read(|c| {
            let uses: Vec<Option<String>> = match &name {
                Some(name) => c
                    .prepare_cached("SELECT special_use FROM mailboxes WHERE account_id = $1 AND name = $2")?
                    .query_map((account, name), |row| row.get(0))?
                    .collect::<Result<_>>()?,
                None => c
                    .prepare_cached("SELECT special_use FROM mailboxes WHERE account_id = $1")?
                    .query_map([account], |row| row.get(0))?
                    .collect::<Result<_>>()?,
            };
            // A mailbox may hold several uses, space-separated.
            Ok(uses
                .into_iter()
                .flatten()
                .flat_map(|u| u.split_whitespace().map(str::to_string).collect::<Vec<_>>())
                .collect())
        })
    }

    /// Whether the account may store a script of `size` bytes as `name`
    /// (RFC 5804 §2.3 HAVESPACE): replacing a script does not add one.
    pub async fn sieve_space(
        &self,
        account: AccountId,
        name: &str,
        size: usize,
        limits: SieveLimits,
    ) -> Result<std::result::Result<(), SieveRefusal>> {
        let (count, exists): (i64, bool) = self.point_reads.read(|c| {
            c.prepare_cached(
                "SELECT COUNT(*), COALESCE(MAX(CASE WHEN name = ?2 THEN 1 ELSE 0 END), 0) FROM sieve_scripts WHERE account_id = ?1",
            )?
            .query_row((account, name), |row| {
                let exists: i64 = row.get(1)?;
                Ok((row.get(0)?, exists != 0))
            })
        })?;
        Ok(room(count, exists, size, limits))
    }

    /// Stores a script under `name`, replacing one of that name (which
    /// stays active if it was), unless the account's limits refuse it.
    pub async fn put_sieve_script(
        &self,
        account: AccountId,
        name: &str,
        script: &str,
        compiled: &str,
        limits: SieveLimits,
    ) -> Result<std::result::Result<(), SieveRefusal>> {
        let (name, script, compiled) = (name.to_string(), script.to_string(), compiled.to_string());
        self.batched(move |tx| {
            let (count, exists): (i64, bool) = tx
                .prepare_cached(
                    "SELECT COUNT(*), COALESCE(MAX(CASE WHEN name = ?2 THEN 1 ELSE 0 END), 0) FROM sieve_scripts WHERE account_id = ?1",
                )?
                .query_row((account, &name), |row| {
                    let exists: i64 = row.get(1)?;
                    Ok((row.get(0)?, exists != 0))
                })?;
            if let Err(refusal) = room(count, exists, script.len(), limits) {
                return Ok(Err(refusal));
            }
            tx.prepare_cached(
                "INSERT INTO sieve_scripts (account_id, name, script, compiled, active, updated_at)
                 VALUES ($1, $2, $3, $4, 0, $5)
                 ON CONFLICT (account_id, name) DO UPDATE
                 SET script = excluded.script, compiled = excluded.compiled, updated_at = excluded.updated_at",
            )?
            .execute((account, &name, &script, &compiled, crate::now()))?;
            Ok(Ok(()))
        })
        .await
    }

    /// Makes `name` the active script (RFC 5804 §2.8), or none (None).
    pub async fn activate_sieve_script(&self, account: AccountId, name: Option<&str>) -> Result<SieveChange> {
        let name = name.map(str::to_string);
        self.batched(move |tx| {
            if let Some(name) = &name {
                let exists = tx
                    .prepare_cached("SELECT 1 FROM sieve_scripts WHERE account_id = $1 AND name = $2")?
                    .query_row((account, name), |row| row.get::<i64>(0))
                    .optional()?
                    .is_some();
                if !exists {
                    return Ok(SieveChange::NoSuchScript);
                }
            }
            tx.prepare_cached("UPDATE sieve_scripts SET active = 0 WHERE account_id = $1 AND active = 1")?
                .execute([account])?;
            if let Some(name) = &name {
                tx.prepare_cached("UPDATE sieve_scripts SET active = 1 WHERE account_id = $1 AND name = $2")?
                    .execute((account, name))?;
            }
            Ok(SieveChange::Done)
        })
        .await
    }

    /// Deletes a script that is not the active one (RFC 5804 §2.10).
    pub async fn delete_sieve_script(&self, account: AccountId, name: &str) -> Result<SieveChange> {
        let name = name.to_string();
        self.batched(move |tx| {
            let active: Option<i64> = tx
                .prepare_cached("SELECT active FROM sieve_scripts WHERE account_id = $1 AND name = $2")?
                .query_row((account, &name), |row| row.get(0))
                .optional()?;
            match active {
                None => Ok(SieveChange::NoSuchScript),
                Some(1) => Ok(SieveChange::Active),
                Some(_) => {
                    tx.prepare_cached("DELETE FROM sieve_scripts WHERE account_id = $1 AND name = $2")?
                        .execute((account, &name))?;
                    Ok(SieveChange::Done)
                }
            }
        })
        .await
    }

    /// Renames a script, keeping whether it is active (RFC 5804 §2.11.1).
    pub async fn rename_sieve_script(&self, account: AccountId, old: &str, new: &str) -> Result<SieveChange> {
        let (old, new) = (old.to_string(), new.to_string());
        self.batched(move |tx| {
            let exists = |name: &str| -> Result<bool> {
                Ok(tx
                    .prepare_cached("SELECT 1 FROM sieve_scripts WHERE account_id = $1 AND name = $2")?
                    .query_row((account, name), |row| row.get::<i64>(0))
                    .optional()?
                    .is_some())
            };
            if !exists(&old)? {
                return Ok(SieveChange::NoSuchScript);
            }
            if old != new && exists(&new)? {
                return Ok(SieveChange::NameTaken);
            }
            tx.prepare_cached("UPDATE sieve_scripts SET name = ?3 WHERE account_id = ?1 AND name = ?2")?
                .execute((account, &old, &new))?;
            Ok(SieveChange::Done)
        })
        .await
    }

    /// Sets (Some) or removes (None) the default script of a hosted
    /// domain, which runs for its accounts that have no active script.
    pub async fn set_domain_sieve_script(&self, domain: &str, script: Option<(&str, &str)>) -> Result<()> {
        let domain = domain.to_string();
        let script = script.map(|(s, c)| (s.to_string(), c.to_string()));
        self.batched(move |tx| {
            let id = Self::hosted_domain_id(tx, &domain)?;
            match &script {
                None => {
                    tx.prepare_cached("DELETE FROM sieve_domain_scripts WHERE domain_id = $1")?
                        .execute([id])?;
                }
                Some((script, compiled)) => {
                    tx.prepare_cached(
                        "INSERT INTO sieve_domain_scripts (domain_id, script, compiled, updated_at) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (domain_id) DO UPDATE
                         SET script = excluded.script, compiled = excluded.compiled, updated_at = excluded.updated_at",
                    )?
                    .execute((id, script, compiled, crate::now()))?;
                }
            }
            Ok(())
        })
        .await
    }

    /// The default script of a domain, if it has one.
    pub async fn domain_sieve_script(&self, domain: &str) -> Result<Option<StoredSieveScript>> {
        let domain = crate::normalize_domain(domain);
        self.point_reads.read(|c| {
            c.prepare_cached(
                "SELECT '', s.script, s.compiled FROM sieve_domain_scripts s
                 JOIN domains d ON d.id = s.domain_id WHERE d.name = $1",
            )?
            .query_row([&domain], stored)
            .optional()
        })
    }

    /// Sets (Some) or removes (None) a global script, which any account's
    /// script may `include :global` (RFC 6609 §3.2).
    pub async fn set_global_sieve_script(&self, name: &str, script: Option<(&str, &str)>) -> Result<()> {
        let name = name.to_string();
        let script = script.map(|(s, c)| (s.to_string(), c.to_string()));
        self.batched(move |tx| {
            match &script {
                None => {
                    tx.prepare_cached("DELETE FROM sieve_global_scripts WHERE name = $1")?
                        .execute([&name])?;
                }
                Some((script, compiled)) => {
                    tx.prepare_cached(
                        "INSERT INTO sieve_global_scripts (name, script, compiled, updated_at) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (name) DO UPDATE
                         SET script = excluded.script, compiled = excluded.compiled, updated_at = excluded.updated_at",
                    )?
                    .execute((&name, script, compiled, crate::now()))?;
                }
            }
            Ok(())
        })
        .await
    }

    /// A global script by name.
    pub fn global_sieve_script(&self, name: &str) -> Result<Option<StoredSieveScript>> {
        self.point_reads.read(|c| {
            c.prepare_cached("SELECT name, script, compiled FROM sieve_global_scripts WHERE name = $1")?
                .query_row([name], stored)
                .optional()
        })
    }

    /// Whether the account's runs remembered `key` and it has not expired
    /// at `now` (a vacation reply sent, a message seen by duplicate).
    pub fn sieve_seen(&self, account: AccountId, key: &str, now: i64) -> Result<bool> {
        self.point_reads.read(|c| {
            Ok(
                c.prepare_cached("SELECT 1 FROM sieve_seen WHERE account_id = $1 AND key = $2 AND expires_at > $3")?
                    .query_row((account, key, now), |row| row.get::<i64>(0))
                    .optional()?
                    .is_some(),
            )
        })
    }

    /// Remembers `key` for the account until `expires_at`, or extends it.
    pub async fn remember_sieve_seen(&self, account: AccountId, key: &str, expires_at: i64) -> Result<()> {
        let key = key.to_string();
        self.batched(move |tx| {
            tx.prepare_cached(
                "INSERT INTO sieve_seen (account_id, key, expires_at) VALUES ($1, $2, $3)
                 ON CONFLICT (account_id, key) DO UPDATE SET expires_at = excluded.expires_at",
            )?
            .execute((account, &key, expires_at))?;
            Ok(())
        })
        .await
    }

    /// Forgets what expired before `now`; returns how many keys.
    pub async fn forget_sieve_seen(&self, now: i64) -> Result<u64> {
        self.batched(move |tx| {
            let removed = tx
                .prepare_cached("DELETE FROM sieve_seen WHERE expires_at <= $1")?
                .execute([now])?;
            Ok(removed as u64)
        })
        .await
    }
}

fn stored(row: &crate::sql::Row<'_>) -> Result<StoredSieveScript> {
    Ok(StoredSieveScript {
        name: row.get(0)?,
        script: row.get(1)?,
        compiled: row.get(2)?,
    })
}

/// Whether one more script (or a replaced one) of `size` fits.
fn room(count: i64, exists: bool, size: usize, limits: SieveLimits) -> std::result::Result<(), SieveRefusal> {
    if size > limits.max_size {
        return Err(SieveRefusal::TooLarge {
            max_size: limits.max_size,
        });
    }
    if !exists && count as usize >= limits.max_scripts {
        return Err(SieveRefusal::TooManyScripts {
            max_scripts: limits.max_scripts,
        });
    }
    Ok(())
}
