//! The names a certificate is ordered for: the hostname always, and the
//! `mta-sts.` and `autoconfig.` names of each hosted domain as the config
//! says (`domain_names`).
//!
//! An order fails as a whole when one of its names cannot be validated,
//! and CAs limit failed validations (Let's Encrypt: a few per name and
//! hour), so by default (`resolving`) a domain's names are included only
//! once DNS sends them where the hostname goes: their addresses (A and
//! AAAA) overlap the hostname's. A name added to DNS later is picked up
//! at the next look (see `renewal`).

use std::collections::BTreeSet;
use std::net::IpAddr;

use store::Store;

use super::DomainNames;

/// The hostname first, then the domains' names in order.
pub async fn wanted(
    store: &Store,
    hostname: &str,
    policy: DomainNames,
    resolver: &dns::Resolver,
) -> anyhow::Result<Vec<String>> {
    let hostname = hostname.to_ascii_lowercase();
    let mut names = vec![hostname.clone()];
    if policy == DomainNames::None {
        return Ok(names);
    }
    let ours: BTreeSet<IpAddr> = match policy {
        DomainNames::Resolving => addresses(resolver, &hostname).await,
        _ => BTreeSet::new(),
    };
    for domain in store.list_domains().await? {
        for prefix in ["mta-sts", "autoconfig"] {
            let name = format!("{prefix}.{}", domain.name);
            if names.contains(&name) {
                continue;
            }
            let include = match policy {
                DomainNames::All => true,
                _ => !ours.is_disjoint(&addresses(resolver, &name).await),
            };
            if include {
                names.push(name);
            }
        }
    }
    Ok(names)
}

/// The addresses DNS gives for `name`; none when it fails (the name is
/// then left out, not the order failed).
async fn addresses(resolver: &dns::Resolver, name: &str) -> BTreeSet<IpAddr> {
    resolver.addresses(name).await.unwrap_or_default().into_iter().collect()
}
