//! DNS for mail routing: MX lookup in preference order (RFC 5321 §5.1),
//! the implicit MX of a domain without one, null MX (RFC 7505), and each
//! host's IPv6 and IPv4 addresses. Answers are classified as permanent
//! (the domain does not exist, it accepts no mail) or temporary (the
//! resolver failed), because the queue retries only the latter.
//!
//! `SecureResolver` makes the lookups DANE needs (MX, addresses, TLSA)
//! with DNSSEC validation, each answer secure, insecure or bogus.
//!
//! The nameservers are configurable, so tests run a real DNS server on
//! loopback; by default the system's resolver configuration is used.

#![forbid(unsafe_code)]

mod dnsbl;
mod route;
mod secure;
mod srv;
mod txt;

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};

pub use dnsbl::listing_name;
pub use route::{Route, RouteError};
pub use secure::{
    DEFAULT_TIME_LIMIT, HostAddresses, MAX_CNAME_CHAIN, MAX_TLSA, MAX_TLSA_DATA, ProbeError, SecureResolver, Security,
    SetupError, Tlsa, tlsa_base_domains,
};
pub use srv::Srv;

/// Why a lookup gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// NXDOMAIN: the name does not exist. Permanent.
    #[error("{0} does not exist in DNS")]
    NoSuchDomain(String),
    /// Anything else: timeouts, SERVFAIL, unreachable servers. Temporary.
    #[error("DNS lookup for {name} failed: {reason}")]
    Temporary { name: String, reason: String },
}

/// The MX records of a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MxAnswer {
    /// Exchanges with their preferences, as published.
    Hosts(Vec<(u16, String)>),
    /// The domain exists and has no MX: its own address is the implicit MX
    /// (RFC 5321 §5.1).
    NoMx,
    /// RFC 7505: the domain declares that it accepts no mail.
    Null,
}

#[derive(Clone)]
pub struct Resolver {
    inner: TokioResolver,
}

impl Resolver {
    /// A resolver asking `nameservers` (UDP, then TCP); with none, the
    /// system's configuration (`/etc/resolv.conf`).
    pub fn new(nameservers: &[SocketAddr]) -> Result<Resolver, DnsError> {
        Resolver::build(nameservers, false)
    }

    /// Like `new`, but answering only from DNS, never from `/etc/hosts`:
    /// what the rest of the internet sees, for checking what a domain
    /// publishes (Debian maps the machine's own name to 127.0.1.1 there).
    pub fn dns_only(nameservers: &[SocketAddr]) -> Result<Resolver, DnsError> {
        Resolver::build(nameservers, true)
    }

    fn build(nameservers: &[SocketAddr], dns_only: bool) -> Result<Resolver, DnsError> {
        let provider = TokioRuntimeProvider::default();
        let builder = if nameservers.is_empty() {
            TokioResolver::builder(provider).map_err(|e| DnsError::Temporary {
                name: "/etc/resolv.conf".into(),
                reason: e.to_string(),
            })?
        } else {
            TokioResolver::builder_with_config(resolver_config(nameservers), provider)
        };
        let mut builder = builder;
        if dns_only {
            builder.options_mut().use_hosts_file = hickory_resolver::config::ResolveHosts::Never;
        }
        let inner = builder.build().map_err(|e| DnsError::Temporary {
            name: "resolver".into(),
            reason: e.to_string(),
        })?;
        Ok(Resolver { inner })
    }

    /// The MX records of `domain`.
    pub async fn mx(&self, domain: &str) -> Result<MxAnswer, DnsError> {
        let name = fully_qualified(domain);
        let lookup = match self.inner.lookup(name.as_str(), RecordType::MX).await {
            Ok(lookup) => lookup,
            Err(e) if e.is_nx_domain() => return Err(DnsError::NoSuchDomain(domain.to_string())),
            Err(e) if e.is_no_records_found() => return Ok(MxAnswer::NoMx),
            Err(e) => return Err(temporary(domain, &e)),
        };
        Ok(mx_answer(lookup.answers().iter().map(|record| &record.data)))
    }

    /// The IPv6 and IPv4 addresses of `host`, IPv6 first.
    pub async fn addresses(&self, host: &str) -> Result<Vec<IpAddr>, DnsError> {
        let name = fully_qualified(host);
        let mut addresses = Vec::new();
        let mut failure = None;
        for record_type in [RecordType::AAAA, RecordType::A] {
            match self.inner.lookup(name.as_str(), record_type).await {
                Ok(lookup) => addresses.extend(lookup.answers().iter().filter_map(|record| match &record.data {
                    RData::A(a) => Some(IpAddr::V4(a.0)),
                    RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
                    _ => None,
                })),
                Err(e) if e.is_nx_domain() => return Err(DnsError::NoSuchDomain(host.to_string())),
                Err(e) if e.is_no_records_found() => {}
                Err(e) => failure = Some(temporary(host, &e)),
            }
        }
        match failure {
            Some(error) if addresses.is_empty() => Err(error),
            _ => Ok(addresses),
        }
    }
}

/// The MX answer made of the records of an MX lookup (other types, such
/// as the CNAMEs on the way, are skipped).
fn mx_answer<'a>(records: impl Iterator<Item = &'a RData>) -> MxAnswer {
    let hosts: Vec<(u16, String)> = records
        .filter_map(|data| match data {
            RData::MX(mx) => Some((
                mx.preference,
                mx.exchange.to_ascii().trim_end_matches('.').to_lowercase(),
            )),
            _ => None,
        })
        .collect();
    // RFC 7505 §3: a single MX with an empty exchange (".").
    if let [(_, host)] = hosts.as_slice()
        && host.is_empty()
    {
        return MxAnswer::Null;
    }
    if hosts.is_empty() {
        MxAnswer::NoMx
    } else {
        MxAnswer::Hosts(hosts)
    }
}

/// A resolver configuration asking `nameservers`, each over UDP and then
/// TCP on its own port; shared with the inbound checks (msgauth), so that
/// every lookup postamt makes goes to the same servers.
pub fn resolver_config(nameservers: &[SocketAddr]) -> ResolverConfig {
    let servers = nameservers
        .iter()
        .map(|address| {
            let mut udp = ConnectionConfig::udp();
            udp.port = address.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = address.port();
            let mut server = NameServerConfig::udp_and_tcp(address.ip());
            server.connections = vec![udp, tcp];
            server
        })
        .collect();
    ResolverConfig::from_name_servers(servers)
}

/// A trailing dot keeps the resolver from trying search domains.
fn fully_qualified(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

impl Resolver {
    /// The records of `kind` at `name`, as their data; a name that does
    /// not exist, or has none of that kind, gives none (not an error).
    async fn records(
        &self,
        name: &str,
        kind: hickory_resolver::proto::rr::RecordType,
    ) -> Result<Vec<hickory_resolver::proto::rr::RData>, DnsError> {
        match self.inner.lookup(fully_qualified(name).as_str(), kind).await {
            Ok(lookup) => Ok(lookup.answers().iter().map(|record| record.data.clone()).collect()),
            Err(e) if e.is_nx_domain() || e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(temporary(name, &e)),
        }
    }
}

fn temporary(name: &str, error: &NetError) -> DnsError {
    DnsError::Temporary {
        name: name.to_string(),
        reason: error.to_string(),
    }
}
