//! Recipient resolution: which accounts (or further addresses) mail for an
//! address goes to. The same answer serves the SMTP server's accept/reject
//! decision and the queue's delivery, so they can never disagree.
//!
//! Order for `local@domain` in a hosted domain, as Postfix applies virtual
//! aliases before mailboxes: an alias for `local`, the account `local`;
//! then, for `user+tag`, the same for `user`; then the catch-all `@domain`.

use std::collections::HashSet;

use crate::address::{normalize_domain, normalize_local_part, split_address};
use crate::srs::{SrsError, is_srs};
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
    /// An SRS address of a hosted domain (see `srs`) that we did not make,
    /// or made too long ago: refused like an unknown user.
    BadSrs(SrsError),
}

impl Resolution {
    /// A hosted address whose mail reaches someone: an account, or an
    /// address elsewhere. An alias whose every target is gone (or loops)
    /// is refused at RCPT like an unknown user, never accepted and bounced
    /// later to a sender that may be forged (backscatter).
    pub fn reaches_someone(&self) -> bool {
        matches!(self, Resolution::Local(targets) if targets.iter().any(|t| !matches!(t, Target::Unknown(_))))
    }
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
        let mut targets = Vec::new();
        let step = self.lookup(&local, &domain)?;
        if step.is_some() && is_srs(&local) {
            return self.resolve_srs(&local).await;
        }
        match step {
            None => return Ok(Resolution::NotLocal),
            Some(None) => return Ok(Resolution::UnknownUser),
            Some(Some(Step::Account(id, address))) => targets.push(Target::Account { id, address }),
            Some(Some(Step::Alias(addresses))) => {
                let mut seen = HashSet::from([format!("{local}@{domain}")]);
                for address in addresses {
                    self.expand(address, 1, &mut seen, &mut targets).await?;
                }
            }
        }
        Ok(Resolution::Local(targets))
    }

    /// Mail to an SRS address of ours (a bounce of forwarded mail) goes
    /// back to the sender it names, if the address is genuine.
    async fn resolve_srs(&self, local: &str) -> Result<Resolution> {
        match self.srs().reverse(local, crate::now()) {
            Ok(sender) => {
                let mut targets = Vec::new();
                self.expand(sender, 1, &mut HashSet::new(), &mut targets).await?;
                Ok(Resolution::Local(targets))
            }
            Err(e) => Ok(Resolution::BadSrs(e)),
        }
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
        match self.lookup(&local, &domain)? {
            None => out.push(Target::Remote(address)),
            Some(None) => out.push(Target::Unknown(address)),
            Some(Some(Step::Account(id, address))) => {
                let target = Target::Account { id, address };
                if !out.contains(&target) {
                    out.push(target);
                }
            }
            Some(Some(Step::Alias(next))) => {
                for address in next {
                    Box::pin(self.expand(address, depth + 1, seen, out)).await?;
                }
            }
        }
        Ok(())
    }

    /// What `local@domain` is: None if the domain is not hosted, else the
    /// first step of its resolution, if any. One query with every
    /// candidate ranked in the order of precedence (see the module's
    /// documentation): resolution runs for every RCPT and every delivery,
    /// so it is a point read on the caller's thread (see `point_read`).
    fn lookup(&self, local: &str, domain: &str) -> Result<Option<Option<Step>>> {
        let base = local.split_once('+').map(|(user, _tag)| user);
        let candidates: Vec<(i64, Option<String>, Option<i64>)> = self.point_reads.read(|connection| {
            let mut select = connection.prepare_cached(
                "WITH d AS (SELECT id FROM domains WHERE name = $1)
                 SELECT 0, NULL, NULL FROM d
                 UNION ALL SELECT 1, target, id FROM aliases WHERE domain_id = (SELECT id FROM d) AND local_part = $2
                 UNION ALL SELECT 2, NULL, id FROM accounts WHERE domain_id = (SELECT id FROM d) AND local_part = $2
                 UNION ALL SELECT 3, target, id FROM aliases WHERE domain_id = (SELECT id FROM d) AND local_part = $3
                 UNION ALL SELECT 4, NULL, id FROM accounts WHERE domain_id = (SELECT id FROM d) AND local_part = $3
                 UNION ALL SELECT 5, target, id FROM aliases WHERE domain_id = (SELECT id FROM d) AND local_part = ''
                 ORDER BY 1, 3",
            )?;
            let rows = select.query_map((domain, local, base), |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
            rows.collect::<crate::Result<Vec<_>>>()
        })?;
        if candidates.is_empty() {
            return Ok(None);
        }
        // The best rank found decides; aliases of one rank in their order.
        let Some(best) = candidates.iter().map(|(rank, ..)| *rank).find(|rank| *rank > 0) else {
            return Ok(Some(None));
        };
        let step = match best {
            2 | 4 => {
                let id = candidates.iter().find(|(rank, ..)| *rank == best).and_then(|c| c.2);
                let user = if best == 2 { local } else { base.unwrap_or(local) };
                id.map(|id| Step::Account(id, format!("{user}@{domain}")))
            }
            _ => Some(Step::Alias(
                candidates
                    .iter()
                    .filter(|(rank, ..)| *rank == best)
                    .filter_map(|(_, target, _)| target.as_deref())
                    .map(|target| match target.strip_prefix('@') {
                        // A target `@other.test` keeps the original local
                        // part, which makes whole-domain aliases possible.
                        Some(domain) => format!("{local}@{domain}"),
                        None => target.to_string(),
                    })
                    .collect(),
            )),
        };
        Ok(Some(step))
    }
}
