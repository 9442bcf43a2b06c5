//! Hosted domains: mail to them is delivered here.

use crate::sql::OptionalExtension;

use crate::address::normalize_domain;
use crate::{Error, Result, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub name: String,
    pub accounts: i64,
    pub aliases: i64,
}

impl Store {
    pub async fn add_domain(&self, name: &str) -> Result<()> {
        let name = normalize_domain(name);
        check_domain_name(&name)?;
        self.batched(move |tx| insert_domain(tx, &name)).await
    }

    pub async fn list_domains(&self) -> Result<Vec<Domain>> {
        let rows: Vec<(String, i64, i64)> = self
            .point_reads
            .scan(|c| {
                c.prepare_cached(
                    "SELECT d.name,
                            (SELECT COUNT(*) FROM accounts a WHERE a.domain_id = d.id),
                            (SELECT COUNT(DISTINCT local_part) FROM aliases l WHERE l.domain_id = d.id)
                     FROM domains d ORDER BY d.name",
                )?
                .query_map((), |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                .collect::<crate::Result<_>>()
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|(name, accounts, aliases)| Domain {
                name,
                accounts,
                aliases,
            })
            .collect())
    }

    /// Removes a domain that has no users or aliases left.
    pub async fn remove_domain(&self, name: &str) -> Result<()> {
        let name = normalize_domain(name);
        self.batched(move |tx| {
            let counts: Option<(i64, i64, i64)> = tx
                .prepare_cached(
                    "SELECT d.id,
                            (SELECT COUNT(*) FROM accounts a WHERE a.domain_id = d.id),
                            (SELECT COUNT(DISTINCT local_part) FROM aliases l WHERE l.domain_id = d.id)
                     FROM domains d WHERE d.name = $1",
                )?
                .query_row([&name], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .optional()?;
            match counts {
                None => Err(Error::NoSuchDomain(name.clone())),
                Some((_, accounts, aliases)) if accounts > 0 || aliases > 0 => Err(Error::DomainInUse {
                    domain: name.clone(),
                    accounts,
                    aliases,
                }),
                Some((id, _, _)) => {
                    tx.prepare_cached("DELETE FROM domains WHERE id = $1")?.execute([id])?;
                    Ok(())
                }
            }
        })
        .await
    }

    /// The id of a hosted domain, inside a write; an error if it is not
    /// hosted here.
    pub(crate) fn hosted_domain_id(tx: &crate::sql::Db, name: &str) -> Result<i64> {
        tx.prepare_cached("SELECT id FROM domains WHERE name = $1")?
            .query_row([normalize_domain(name)], |row| row.get(0))
            .optional()?
            .ok_or_else(|| Error::NoSuchDomain(name.to_string()))
    }

    /// True if mail for `domain` is delivered here.
    pub async fn is_local_domain(&self, domain: &str) -> Result<bool> {
        let domain = normalize_domain(domain);
        self.point_reads.read(|c| {
            c.prepare_cached("SELECT EXISTS (SELECT 1 FROM domains WHERE name = $1)")?
                .query_row([domain], |row| row.get(0))
        })
    }
}

/// An error unless `name` (normalized) is a valid domain name.
pub(crate) fn check_domain_name(name: &str) -> Result<()> {
    if is_valid_domain(name) {
        Ok(())
    } else {
        Err(Error::InvalidAddress(name.to_string()))
    }
}

/// Adds a domain inside a write; an error if it is already hosted.
pub(crate) fn insert_domain(tx: &crate::sql::Db, name: &str) -> Result<()> {
    let inserted = tx
        .prepare_cached("INSERT INTO domains (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")?
        .execute((name, crate::now()))?;
    if inserted == 0 {
        return Err(Error::DomainExists(name.to_string()));
    }
    Ok(())
}

/// Letters, digits and inner hyphens in dot-separated labels (RFC 1035
/// §2.3.1; IDNs are added in their A-label form).
pub fn is_valid_domain(name: &str) -> bool {
    name.len() <= 253
        && name.contains('.')
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}
