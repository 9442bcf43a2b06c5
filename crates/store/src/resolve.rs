//! Recipient resolution: which accounts (or further addresses) mail for an
//! address goes to. The same answer serves the SMTP server's accept/reject
//! decision and the queue's delivery, so they can never disagree.
//!
//! Order for `local@domain` in a hosted domain, as Postfix applies virtual
//! aliases before mailboxes: an alias for `local`, the account `local`;
//! then, for `user+tag`, the same for `user`; then the catch-all `@domain`.

use std::collections::HashSet;

use crate::address::{normalize_domain, normalize_local_part, split_address};
use crate::{AccountId, Result, Store};

/// Aliases may point at aliases; chains deeper than this are a loop or a
/// mistake, and their far end is dropped.
const MAX_ALIAS_DEPTH: usize = 10;

/// Where mail for one recipient goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// A hosted address, with its final targets.
    Local(Vec<Target>),
    /// A hosted domain, but no such user: 550 5.1.1.
    UnknownUser,
    /// Not a hosted domain: relaying.
    NotLocal,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// Deliver into this account's INBOX; `address` is the account's own.
    Account { id: AccountId, address: String },
    /// An alias forwards to an address outside the hosted domains.
    Remote(String),
    /// An alias names a hosted address that does not exist.
    Unknown(String),
}

/// One lookup inside a hosted domain.
enum Step {
    Account(AccountId, String),
    Alias(Vec<String>),
}

impl Store {
    pub async fn resolve(&self, local_part: &str, domain: &str) -> Result<Resolution> {
        let local = normalize_local_part(local_part);
        let domain = normalize_domain(domain);
        let Some(domain_id) = Self::domain_id(&self.readers, &domain).await? else {
            return Ok(Resolution::NotLocal);
        };
        let mut targets = Vec::new();
        match self.lookup(domain_id, &local, &domain).await? {
            None => return Ok(Resolution::UnknownUser),
            Some(Step::Account(id, address)) => targets.push(Target::Account { id, address }),
            Some(Step::Alias(addresses)) => {
                let mut seen = HashSet::from([format!("{local}@{domain}")]);
                for address in addresses {
                    self.expand(address, 1, &mut seen, &mut targets).await?;
                }
            }
        }
        Ok(Resolution::Local(targets))
    }

    /// True if `address` delivers to `account`: its own address, a tagged
    /// form of it, or an alias that leads to it. An authenticated user may
    /// send as exactly these.
    pub async fn delivers_to(&self, address: &str, account: AccountId) -> Result<bool> {
        let Some((local, domain)) = address.rsplit_once('@') else {
            return Ok(false);
        };
        Ok(match self.resolve(local, domain).await? {
            Resolution::Local(targets) => targets
                .iter()
                .any(|t| matches!(t, Target::Account { id, .. } if *id == account)),
            _ => false,
        })
    }

    /// Follows an alias target to accounts or remote addresses, depth first,
    /// skipping addresses already seen.
    async fn expand(
        &self,
        address: String,
        depth: usize,
        seen: &mut HashSet<String>,
        out: &mut Vec<Target>,
    ) -> Result<()> {
        if depth > MAX_ALIAS_DEPTH || !seen.insert(address.to_lowercase()) {
            return Ok(());
        }
        let Some((local, domain)) = split_address(&address) else {
            out.push(Target::Unknown(address));
            return Ok(());
        };
        let Some(domain_id) = Self::domain_id(&self.readers, &domain).await? else {
            out.push(Target::Remote(address));
            return Ok(());
        };
        match self.lookup(domain_id, &local, &domain).await? {
            None => out.push(Target::Unknown(address)),
            Some(Step::Account(id, address)) => {
                let target = Target::Account { id, address };
                if !out.contains(&target) {
                    out.push(target);
                }
            }
            Some(Step::Alias(next)) => {
                for address in next {
                    Box::pin(self.expand(address, depth + 1, seen, out)).await?;
                }
            }
        }
        Ok(())
    }

    async fn lookup(&self, domain_id: i64, local: &str, domain: &str) -> Result<Option<Step>> {
        let base = local.split_once('+').map(|(user, _tag)| user);
        for candidate in std::iter::once(local).chain(base) {
            let aliases = self.alias_targets(domain_id, candidate, local).await?;
            if !aliases.is_empty() {
                return Ok(Some(Step::Alias(aliases)));
            }
            let account: Option<AccountId> =
                sqlx::query_scalar("SELECT id FROM accounts WHERE domain_id = $1 AND local_part = $2")
                    .bind(domain_id)
                    .bind(candidate)
                    .fetch_optional(&self.readers)
                    .await?;
            if let Some(id) = account {
                return Ok(Some(Step::Account(id, format!("{candidate}@{domain}"))));
            }
        }
        let catch_all = self.alias_targets(domain_id, "", local).await?;
        Ok(Some(Step::Alias(catch_all)).filter(|step| !matches!(step, Step::Alias(t) if t.is_empty())))
    }

    /// The targets of one alias. A target `@other.test` keeps the original
    /// local part, which makes whole-domain aliases possible.
    async fn alias_targets(&self, domain_id: i64, alias_local: &str, original_local: &str) -> Result<Vec<String>> {
        let targets: Vec<String> =
            sqlx::query_scalar("SELECT target FROM aliases WHERE domain_id = $1 AND local_part = $2 ORDER BY id")
                .bind(domain_id)
                .bind(alias_local)
                .fetch_all(&self.readers)
                .await?;
        Ok(targets
            .into_iter()
            .map(|t| match t.strip_prefix('@') {
                Some(domain) => format!("{original_local}@{domain}"),
                None => t,
            })
            .collect())
    }
}
