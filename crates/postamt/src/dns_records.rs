//! `postamt dns DOMAIN`: the DNS records a hosted domain needs for its
//! mail to be delivered here and to pass SPF, DKIM and DMARC elsewhere,
//! printed as zone-file lines or (`--check`) compared with what DNS says.

use std::time::Duration;

use anyhow::bail;
use msgauth::keys::Algorithm;
use msgauth::records::{Kind, PublishedKey, Record, Verdict};
use store::DkimState;

use crate::admin::{explain, open};
use crate::config::Config;

pub async fn dns(config: &Config, domain: &str, check: bool) -> anyhow::Result<()> {
    let store = open(config).await?;
    let domain = store::normalize_domain(domain);
    let keys: Vec<PublishedKey> = store
        .dkim_keys(&domain)
        .await
        .map_err(explain)?
        .into_iter()
        .filter(|key| key.state != DkimState::Retired)
        .filter_map(|key| {
            Some(PublishedKey {
                algorithm: Algorithm::from_name(&key.algorithm)?,
                selector: key.selector,
                public_key: key.public_key,
            })
        })
        .collect();
    // `[delivery] relay` is host:port (an IPv6 address in brackets).
    let relay = config
        .delivery
        .relay
        .rsplit_once(':')
        .map(|(host, _)| host)
        .filter(|host| !host.is_empty());
    let records = msgauth::records::domain_records(&domain, &config.hostname, relay, &keys);
    // With no domain hosted yet, the record names the domain's own postmaster.
    let tls_rpt = match config.tls_reports.reporter(&store, &config.hostname).await {
        Ok(reporter) => reporter.address,
        Err(_) => format!("postmaster@{domain}"),
    };
    if check {
        return check_records(config, &domain, &records, &tls_rpt).await;
    }
    println!("; DNS records for {domain}, to paste into its zone");
    for record in &records {
        println!("{}", record.zone_line());
    }
    println!("; MTA-STS (RFC 8461), mail client autoconfiguration (RFC 6186), TLS reporting (RFC 8460)");
    for record in crate::client_records::client_records(config, &domain, &tls_rpt) {
        println!("{}", record.zone_line());
    }
    let hostname = config.hostname.trim_end_matches('.');
    println!(
        "; The server's public addresses need PTR records naming {hostname}. (set by whoever runs the \
         address, often the hosting provider), and {hostname} needs A/AAAA records for them."
    );
    if keys.is_empty() {
        println!("; No DKIM keys yet: `postamt dkim rotate {domain}` makes them.");
    }
    Ok(())
}

/// How long `--check` waits for DNS, for all records together: they are
/// looked up at once, so a server that never answers costs this, not this
/// times the number of records.
const CHECK_BUDGET: Duration = Duration::from_secs(10);

/// Looks each record up, and the server's PTR records, and says whether
/// each is right; an error if any is not.
async fn check_records(config: &Config, domain: &str, records: &[Record], tls_rpt: &str) -> anyhow::Result<()> {
    let resolver = dns::Resolver::dns_only(&config.dns.nameservers)?;
    let hostname = config.hostname.trim_end_matches('.').to_string();
    let mut lookups = tokio::task::JoinSet::new();
    for (index, record) in records.iter().cloned().enumerate() {
        let resolver = resolver.clone();
        lookups.spawn(async move {
            let label = format!("{} ({})", record.label(), record.name);
            (index, label, within_budget(check_one(&resolver, &record)).await)
        });
    }
    let ptr = resolver.clone();
    let label = format!("PTR of {hostname}'s addresses");
    let last = records.len();
    lookups.spawn(async move { (last, label, within_budget(check_ptr(&ptr, &hostname)).await) });
    // The records for the web listener's names and for mail clients.
    for (offset, record) in crate::client_records::client_records(config, domain, tls_rpt)
        .into_iter()
        .enumerate()
    {
        let (resolver, config) = (resolver.clone(), config.clone());
        lookups.spawn(async move {
            let verdict = within_budget(async {
                match record.check(&resolver, &config).await {
                    Ok(()) => Verdict::Ok,
                    Err(why) => Verdict::Wrong(why),
                }
            })
            .await;
            (last + 1 + offset, record.label(), verdict)
        });
    }
    let mut verdicts = lookups.join_all().await;
    verdicts.sort_by_key(|(index, _, _)| *index);
    let mut wrong = 0;
    for (_, label, verdict) in verdicts {
        match verdict {
            Verdict::Ok => println!("OK     {label}"),
            Verdict::Wrong(why) => {
                wrong += 1;
                println!("WRONG  {label}: {why}");
            }
        }
    }
    if wrong > 0 {
        bail!("{wrong} DNS record(s) of {domain} need fixing (see above)");
    }
    println!("All DNS records of {domain} are as they should be");
    Ok(())
}

async fn within_budget(check: impl Future<Output = Verdict>) -> Verdict {
    tokio::time::timeout(CHECK_BUDGET, check).await.unwrap_or_else(|_| {
        Verdict::Wrong(format!(
            "DNS gave no answer within {} s; check the resolver settings (`[dns] nameservers`)",
            CHECK_BUDGET.as_secs()
        ))
    })
}

fn unanswered(error: dns::DnsError) -> Verdict {
    Verdict::Wrong(format!("{error}; check the resolver settings (`[dns] nameservers`)"))
}

async fn check_one(resolver: &dns::Resolver, record: &Record) -> Verdict {
    match record.kind {
        Kind::Mx => match resolver.mx(&record.name).await {
            Ok(dns::MxAnswer::Hosts(hosts)) => msgauth::records::check_mx(record, &hosts),
            Ok(_) | Err(dns::DnsError::NoSuchDomain(_)) => msgauth::records::check_mx(record, &[]),
            Err(e) => unanswered(e),
        },
        _ => match resolver.txt(&record.name).await {
            Ok(found) => msgauth::records::check_txt(record, &found),
            Err(e) => unanswered(e),
        },
    }
}

/// The server's addresses (from its hostname) and their PTR records.
async fn check_ptr(resolver: &dns::Resolver, hostname: &str) -> Verdict {
    let addresses = match resolver.addresses(hostname).await {
        Ok(addresses) => addresses,
        Err(dns::DnsError::NoSuchDomain(_)) => Vec::new(),
        Err(e) => return unanswered(e),
    };
    let mut named = Vec::with_capacity(addresses.len());
    for address in addresses {
        match resolver.ptr(address).await {
            Ok(names) => named.push((address, names)),
            Err(e) => return unanswered(e),
        }
    }
    msgauth::records::check_ptr(hostname, &named)
}
