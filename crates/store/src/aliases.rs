//! Aliases: an address (or a domain's catch-all `@domain`) that forwards to
//! one or more other addresses, hosted or not.

use crate::address::split_address;
use crate::{Error, Result, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// `local@domain`, or `@domain` for a catch-all.
    pub source: String,
    pub targets: Vec<String>,
}

impl Store {
    /// Adds targets to an alias; its domain must be hosted here.
    pub async fn add_alias(&self, source: &str, targets: &[String]) -> Result<()> {
        let (local, domain) = split_address(source).ok_or_else(|| Error::InvalidAddress(source.to_string()))?;
        let targets = targets.to_vec();
        self.batched(move |tx| {
            let domain_id = Self::hosted_domain_id(tx, &domain)?;
            for target in &targets {
                let target = normalize_target(target)?;
                let inserted = tx
                    .prepare_cached(
                        "INSERT INTO aliases (domain_id, local_part, target) VALUES ($1, $2, $3)
                         ON CONFLICT DO NOTHING",
                    )?
                    .execute((domain_id, &local, &target))?;
                if inserted == 0 {
                    return Err(Error::AliasExists {
                        source_address: format!("{local}@{domain}"),
                        target,
                    });
                }
            }
            Ok(())
        })
        .await
    }

    pub async fn list_aliases(&self, domain: Option<&str>) -> Result<Vec<Alias>> {
        let domain = domain.map(crate::normalize_domain);
        let rows: Vec<(String, String)> = self
            .point_reads
            .scan(move |c| {
                c.prepare_cached(
                    "SELECT l.local_part || '@' || d.name, l.target FROM aliases l JOIN domains d ON d.id = l.domain_id
                     WHERE CAST($1 AS TEXT) IS NULL OR d.name = $1 ORDER BY d.name, l.local_part, l.id",
                )?
                .query_map([domain], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<crate::Result<_>>()
            })
            .await?;
        let mut aliases: Vec<Alias> = Vec::new();
        for (source, target) in rows {
            match aliases.last_mut() {
                Some(last) if last.source == source => last.targets.push(target),
                _ => aliases.push(Alias {
                    source,
                    targets: vec![target],
                }),
            }
        }
        Ok(aliases)
    }

    /// Removes one target of an alias, or the whole alias when `target` is
    /// `None`.
    pub async fn remove_alias(&self, source: &str, target: Option<&str>) -> Result<()> {
        let (local, domain) = split_address(source).ok_or_else(|| Error::InvalidAddress(source.to_string()))?;
        let target = target.map(normalize_target).transpose()?;
        self.batched(move |tx| {
            let removed = tx
                .prepare_cached(
                    "DELETE FROM aliases WHERE local_part = $1
                       AND domain_id = (SELECT id FROM domains WHERE name = $2)
                       AND (CAST($3 AS TEXT) IS NULL OR target = $3)",
                )?
                .execute((&local, &domain, &target))?;
            if removed == 0 {
                let shown = match &target {
                    Some(t) => format!("{local}@{domain} -> {t}"),
                    None => format!("{local}@{domain}"),
                };
                return Err(Error::NoSuchAlias(shown));
            }
            Ok(())
        })
        .await
    }
}

/// Targets are stored normalized: `local@domain` or `@domain`.
fn normalize_target(target: &str) -> Result<String> {
    match split_address(target) {
        Some((local, domain)) => Ok(format!("{local}@{domain}")),
        None => Err(Error::InvalidAddress(target.to_string())),
    }
}
