//! DNSSEC-validated lookups for DANE (RFC 7672 §2.1-2.2): the MX
//! records, a host's addresses and its TLSA records, each with the
//! security status RFC 4035 §4.3 defines. DANE may only trust what is
//! "secure"; "insecure" (provably unsigned) means DANE does not apply;
//! "bogus" means an attacker or a broken zone, and the host or the
//! domain must not be used without it.
//!
//! hickory does the validation (`DnssecDnsHandle`): it sets the DO bit,
//! fetches the DNSKEY and DS records up to a trust anchor through the
//! same nameservers, and marks every record of the answer with its
//! proof. Here the answer is classified and bounded.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::ResolveHosts;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError as HickoryDnsError, NetError};
use hickory_resolver::proto::dnssec::{Proof, TrustAnchors};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use hickory_resolver::proto::serialize::txt::ParseError;
use hickory_resolver::proto::serialize::txt::trust_anchor::{Entry, Parser};

use crate::{DnsError, MxAnswer, fully_qualified, mx_answer, resolver_config};

/// Longest CNAME chain followed to a host's addresses (RFC 1034 §3.6.2
/// discourages chains at all; resolvers stop at 8 to 16 links).
pub const MAX_CNAME_CHAIN: usize = 8;

/// Most TLSA records kept for one name. A TLSA RRset has one record per
/// key or certificate the server may present (a few during a rollover,
/// RFC 7671 §8); a hostile zone can fill a 64 KiB answer with hundreds.
pub const MAX_TLSA: usize = 32;

/// Longest TLSA association data kept: a full certificate (matching
/// type 0, selector 0) is rarely over 4 KiB; a digest is 32 or 64 bytes.
pub const MAX_TLSA_DATA: usize = 8192;

/// How long one validated lookup may take in all, with the DS and
/// DNSKEY queries validation adds on the way to the anchor (each query
/// has the resolver's own timeout and attempts besides).
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(30);

/// An answer with its DNSSEC status (RFC 4035 §4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Security<T> {
    /// Validated from the trust anchor down: DANE may rely on it.
    Secure(T),
    /// Provably unsigned (a secure proof that a zone on the way has no
    /// DS): usable, but not for DANE (RFC 7672 §2.1.1).
    Insecure(T),
    /// Signed but failing validation (or its status could not be
    /// determined): the data must not be used (RFC 7672 §2.1.1 treats it
    /// as a lookup failure). The reason is for logs and reports.
    Bogus(String),
}

impl<T> Security<T> {
    /// The data, secure or insecure; none when bogus.
    pub fn value(&self) -> Option<&T> {
        match self {
            Security::Secure(value) | Security::Insecure(value) => Some(value),
            Security::Bogus(_) => None,
        }
    }

    pub fn is_secure(&self) -> bool {
        matches!(self, Security::Secure(_))
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Security<U> {
        match self {
            Security::Secure(value) => Security::Secure(f(value)),
            Security::Insecure(value) => Security::Insecure(f(value)),
            Security::Bogus(reason) => Security::Bogus(reason),
        }
    }
}

/// A TLSA record (RFC 6698 §2.1): the four fields, as numbers, so that
/// values this side does not know reach the DANE code, which must skip
/// them as "unusable" (RFC 7672 §2.2.3) rather than fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlsa {
    pub usage: u8,
    pub selector: u8,
    pub matching: u8,
    pub data: Vec<u8>,
}

/// A host's addresses, IPv6 first, and the name they were found at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAddresses {
    pub addresses: Vec<IpAddr>,
    /// The host name after CNAME expansion (lower case, no final dot);
    /// the host itself when there was no CNAME.
    pub canonical: String,
}

/// The names to look up TLSA records at for `host`, in order, given its
/// address lookup (RFC 7672 §2.2.2): when the addresses were found
/// securely through a CNAME, first the expanded name, then `host`
/// itself; otherwise `host` alone. (Only secure address answers lead to
/// TLSA lookups at all, RFC 7672 §2.2.)
pub fn tlsa_base_domains(host: &str, addresses: &Security<HostAddresses>) -> Vec<String> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match addresses {
        Security::Secure(found) if found.canonical != host => vec![found.canonical.clone(), host],
        _ => vec![host],
    }
}

/// Why a `SecureResolver` could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    #[error("DNSSEC trust anchor {path}: {reason}")]
    TrustAnchor { path: String, reason: String },
    #[error("DNS resolver: {0}")]
    Resolver(String),
}

/// A DNSSEC-validating resolver. Its nameservers must be a recursive
/// resolver that passes DNSSEC records on (or, in tests, an
/// authoritative server for every zone below the anchor); `probe` tells
/// whether they do.
#[derive(Clone)]
pub struct SecureResolver {
    inner: TokioResolver,
    /// The zones the trust anchors are for: the root, or the names of
    /// the anchor file's keys. `probe` checks one of them.
    anchor_zones: Vec<String>,
    time_limit: Duration,
}

/// What a validated lookup found, before the record type is read.
enum Found {
    Records(Vec<Record>),
    /// NODATA: the name exists, without records of the type.
    NoRecords,
    /// NXDOMAIN.
    NoSuchName,
}

impl SecureResolver {
    /// A validating resolver asking `nameservers` (none: the system's
    /// configuration), trusting the DNSKEY records in the zone-file
    /// syntax file `trust_anchor` (`NAME [TTL] IN DNSKEY ...`), or the
    /// root zone's keys built into hickory when `None`. Never answers
    /// from `/etc/hosts`, which nothing signs.
    pub fn new(nameservers: &[SocketAddr], trust_anchor: Option<&Path>) -> Result<SecureResolver, SetupError> {
        let (anchors, anchor_zones) = match trust_anchor {
            Some(path) => read_trust_anchor(path)?,
            None => (TrustAnchors::default(), vec![".".to_string()]),
        };
        let provider = TokioRuntimeProvider::default();
        let mut builder = if nameservers.is_empty() {
            TokioResolver::builder(provider).map_err(|e| SetupError::Resolver(e.to_string()))?
        } else {
            TokioResolver::builder_with_config(resolver_config(nameservers), provider)
        };
        let options = builder.options_mut();
        options.use_hosts_file = ResolveHosts::Never;
        // RRSIGs make answers big; EDNS0 (RFC 6891) carries them over UDP
        // and the DO bit (RFC 3225) asks for them.
        options.edns0 = true;
        options.validate = true;
        let inner = builder
            .with_trust_anchor(Arc::new(anchors))
            .build()
            .map_err(|e| SetupError::Resolver(e.to_string()))?;
        Ok(SecureResolver {
            inner,
            anchor_zones,
            time_limit: DEFAULT_TIME_LIMIT,
        })
    }

    /// The same resolver with another limit on each lookup's total time.
    pub fn with_time_limit(mut self, limit: Duration) -> SecureResolver {
        self.time_limit = limit;
        self
    }

    /// Whether validation works through these nameservers: the SOA record
    /// of the (first) trust anchor's zone must validate as secure. A
    /// resolver that strips RRSIGs, or does not ask with the DO bit,
    /// makes every signed answer bogus; the caller should then leave
    /// DANE off (with a warning) rather than defer all mail. Err says
    /// why it does not work: `NotValidating` if the answers do not
    /// validate, `Unreachable` if the nameservers did not answer at all
    /// (asking later may help).
    pub async fn probe(&self) -> Result<(), ProbeError> {
        let zone = self.anchor_zones.first().map(String::as_str).unwrap_or(".");
        match self.lookup(zone, RecordType::SOA).await {
            Ok(Security::Secure(Found::Records(records)))
                if records.iter().any(|r| r.record_type() == RecordType::SOA) =>
            {
                Ok(())
            }
            Ok(Security::Secure(_)) => Err(ProbeError::NotValidating(format!(
                "the trust anchor's zone {zone} has no SOA record"
            ))),
            Ok(Security::Insecure(_)) => Err(ProbeError::NotValidating(format!(
                "the SOA record of {zone} was not signed by the trust anchor"
            ))),
            Ok(Security::Bogus(reason)) => Err(ProbeError::NotValidating(format!(
                "the SOA record of {zone} did not validate: {reason}"
            ))),
            Err(DnsError::NoSuchDomain(_)) => Err(ProbeError::NotValidating(format!(
                "the trust anchor's zone {zone} does not exist"
            ))),
            Err(error) => Err(ProbeError::Unreachable(error)),
        }
    }

    /// The MX records of `domain` with their status. NXDOMAIN is
    /// `DnsError::NoSuchDomain` whatever its status: without a secure MX
    /// answer there is nothing for DANE to protect.
    pub async fn mx(&self, domain: &str) -> Result<Security<MxAnswer>, DnsError> {
        let answer = self.lookup(domain, RecordType::MX).await?;
        if let Some(Found::NoSuchName) = answer.value() {
            return Err(DnsError::NoSuchDomain(domain.to_string()));
        }
        Ok(answer.map(|found| match found {
            Found::Records(records) => mx_answer(records.iter().map(|r| &r.data)),
            Found::NoRecords | Found::NoSuchName => MxAnswer::NoMx,
        }))
    }

    /// The IPv6 and IPv4 addresses of `host`, IPv6 first, with the status
    /// of all lookups together: bogus if any is, secure only if all are (a
    /// missing family must be securely denied too, and every CNAME on the
    /// way signed). The CNAME chain is followed first, one CNAME query per
    /// link, and the addresses asked for at its end: hickory finds a
    /// signed CNAME followed by a signed denial of the type at its target
    /// (the usual host with addresses of one family only) bogus.
    pub async fn addresses(&self, host: &str) -> Result<Security<HostAddresses>, DnsError> {
        let (canonical, mut all_secure) = match self.canonical(host).await? {
            Security::Secure(name) => (name, true),
            Security::Insecure(name) => (name, false),
            Security::Bogus(reason) => return Ok(Security::Bogus(reason)),
        };
        let mut found = HostAddresses {
            addresses: Vec::new(),
            canonical: canonical.clone(),
        };
        let mut existing = false;
        for record_type in [RecordType::AAAA, RecordType::A] {
            let records = match self.lookup(&canonical, record_type).await? {
                Security::Bogus(reason) => return Ok(Security::Bogus(reason)),
                Security::Secure(records) => records,
                Security::Insecure(records) => {
                    all_secure = false;
                    records
                }
            };
            let Found::Records(records) = records else {
                existing |= matches!(records, Found::NoRecords);
                continue;
            };
            existing = true;
            found.canonical = canonical_name(&canonical, &records).unwrap_or(found.canonical);
            found.addresses.extend(records.iter().filter_map(|r| match &r.data {
                RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
                RData::A(a) => Some(IpAddr::V4(a.0)),
                _ => None,
            }));
        }
        if !existing {
            return Err(DnsError::NoSuchDomain(host.to_string()));
        }
        Ok(if all_secure {
            Security::Secure(found)
        } else {
            Security::Insecure(found)
        })
    }

    /// Where the CNAME chain from `host` ends (lower case, no final dot),
    /// secure only if every link and the end's denial of a CNAME are.
    async fn canonical(&self, host: &str) -> Result<Security<String>, DnsError> {
        let mut name = host.trim_end_matches('.').to_ascii_lowercase();
        let mut all_secure = true;
        for _ in 0..=MAX_CNAME_CHAIN {
            let found = match self.lookup(&name, RecordType::CNAME).await? {
                Security::Bogus(reason) => return Ok(Security::Bogus(reason)),
                Security::Secure(found) => found,
                Security::Insecure(found) => {
                    all_secure = false;
                    found
                }
            };
            let next = match &found {
                Found::Records(records) => canonical_name(&name, records),
                Found::NoRecords | Found::NoSuchName => None,
            };
            match next {
                Some(target) => name = target,
                None if all_secure => return Ok(Security::Secure(name)),
                None => return Ok(Security::Insecure(name)),
            }
        }
        Err(DnsError::Temporary {
            name: host.to_string(),
            reason: format!("a CNAME chain longer than {MAX_CNAME_CHAIN} links"),
        })
    }

    /// The TLSA records of the service at `host` and TCP `port`, at
    /// `_PORT._tcp.HOST` (RFC 6698 §3; RFC 7672 §2.2.3 for SMTP's port
    /// 25). A name that does not exist, or has no TLSA, is an empty list:
    /// `Secure(vec![])` is a secure denial ("no TLSA": DANE does not apply
    /// to the host, but it was not an attack), which differs from
    /// `Insecure`. A CNAME at the TLSA name is followed (RFC 7671 §7), and
    /// the answer is secure only if every link is. At most `MAX_TLSA` records are kept,
    /// and records with longer data than `MAX_TLSA_DATA` are dropped.
    pub async fn tlsa(&self, host: &str, port: u16) -> Result<Security<Vec<Tlsa>>, DnsError> {
        let name = format!("_{port}._tcp.{}", host.trim_end_matches('.')).to_ascii_lowercase();
        let mut answer = self.lookup(&name, RecordType::TLSA).await?;
        if let Security::Bogus(_) = answer {
            // hickory finds a signed CNAME followed by a signed denial at
            // its target bogus: follow the chain here and ask at its end.
            // A name without a CNAME stays as bogus as it was.
            answer = match self.canonical(&name).await? {
                Security::Secure(end) if end != name => self.lookup(&end, RecordType::TLSA).await?,
                Security::Insecure(end) if end != name => match self.lookup(&end, RecordType::TLSA).await? {
                    Security::Secure(found) | Security::Insecure(found) => Security::Insecure(found),
                    bogus => bogus,
                },
                _ => answer,
            };
        }
        Ok(answer.map(|found| match found {
            Found::Records(records) => records
                .iter()
                .filter_map(|r| match &r.data {
                    RData::TLSA(tlsa) if tlsa.cert_data.len() <= MAX_TLSA_DATA => Some(Tlsa {
                        usage: tlsa.cert_usage.into(),
                        selector: tlsa.selector.into(),
                        matching: tlsa.matching.into(),
                        data: tlsa.cert_data.clone(),
                    }),
                    _ => None,
                })
                .take(MAX_TLSA)
                .collect(),
            Found::NoRecords | Found::NoSuchName => Vec::new(),
        }))
    }

    /// One validated lookup, classified, within the time limit.
    async fn lookup(&self, name: &str, kind: RecordType) -> Result<Security<Found>, DnsError> {
        let fqdn = fully_qualified(name);
        let result = tokio::time::timeout(self.time_limit, self.inner.lookup(fqdn.as_str(), kind))
            .await
            .map_err(|_| DnsError::Temporary {
                name: name.to_string(),
                reason: format!("no validated answer within {:?}", self.time_limit),
            })?;
        match result {
            Ok(lookup) => {
                let records: Vec<Record> = lookup
                    .answers()
                    .iter()
                    .filter(|r| r.record_type() != RecordType::RRSIG)
                    .cloned()
                    .collect();
                if records.is_empty() {
                    // hickory turns an empty answer into NoRecordsFound;
                    // one without records or a denial proves nothing.
                    return Ok(Security::Bogus(format!("an empty answer for {name} {kind}")));
                }
                Ok(status_of(&records).map(|()| Found::Records(records)))
            }
            Err(NetError::Dns(HickoryDnsError::DnssecBogus)) => {
                Ok(Security::Bogus(format!("DNSSEC validation of {name} {kind} failed")))
            }
            Err(NetError::Dns(HickoryDnsError::Nsec { proof, response, .. })) => Ok(match proof {
                Proof::Insecure => Security::Insecure(negative(response.response_code)),
                other => Security::Bogus(format!("the denial of {name} {kind} is {other}")),
            }),
            Err(NetError::Dns(HickoryDnsError::NoRecordsFound(none))) => {
                let authorities = none.authorities.as_deref().unwrap_or_default();
                Ok(status_of(authorities).map(|()| negative(none.response_code)))
            }
            Err(error) => Err(DnsError::Temporary {
                name: name.to_string(),
                reason: error.to_string(),
            }),
        }
    }
}

/// Why `SecureResolver::probe` found validation unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// The nameservers answer, but not with data that validates.
    #[error("DNSSEC validation does not work through the configured nameservers: {0}")]
    NotValidating(String),
    /// The nameservers did not answer.
    #[error("DNSSEC probe: {0}")]
    Unreachable(DnsError),
}

fn negative(code: ResponseCode) -> Found {
    if code == ResponseCode::NXDomain {
        Found::NoSuchName
    } else {
        Found::NoRecords
    }
}

/// The status of an answer given the records that prove it (the
/// answer's, or for a denial the authority section's NSEC and SOA):
/// secure only if every one is (RRSIGs carry no proof of their own),
/// bogus if any is bogus or indeterminate (RFC 4035 §4.3: the resolver
/// could not tell, which for DANE is as bad as a failure). A denial
/// without records in its authority section is insecure: hickory lets
/// one through only after proving that no DS leads to its zone.
fn status_of(records: &[Record]) -> Security<()> {
    let mut all_secure = !records.is_empty();
    for record in records.iter().filter(|r| r.record_type() != RecordType::RRSIG) {
        match record.proof {
            Proof::Secure => {}
            Proof::Insecure => all_secure = false,
            Proof::Bogus | Proof::Indeterminate => {
                return Security::Bogus(format!("{} {} is {}", record.name, record.record_type(), record.proof));
            }
        }
    }
    if all_secure {
        Security::Secure(())
    } else {
        Security::Insecure(())
    }
}

/// Where the CNAME chain from `host` in `records` ends, if it has links.
fn canonical_name(host: &str, records: &[Record]) -> Option<String> {
    let mut current = Name::from_str(&fully_qualified(host)).ok()?;
    let mut moved = false;
    // A chain longer than the records cannot be followed; this bounds
    // the walk even when the records loop.
    for _ in 0..records.len() {
        let next = records.iter().find_map(|r| match &r.data {
            RData::CNAME(target) if r.name.eq_case(&current) || r.name == current => Some(target.0.clone()),
            _ => None,
        });
        match next {
            Some(target) => {
                current = target;
                moved = true;
            }
            None => break,
        }
    }
    moved.then(|| current.to_ascii().trim_end_matches('.').to_ascii_lowercase())
}

/// The trust anchors in `path` and the zones they are for.
fn read_trust_anchor(path: &Path) -> Result<(TrustAnchors, Vec<String>), SetupError> {
    let failed = |reason: String| SetupError::TrustAnchor {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
    let entries = Parser::new(text.as_str()).parse().map_err(|e| match e {
        ParseError::UnsupportedRecordType(RecordType::DS) => failed(
            "DS records are not supported as trust anchors; give the zone's DNSKEY records \
             (for the root, e.g. Debian's /usr/share/dns/root.key)"
                .into(),
        ),
        other => failed(other.to_string()),
    })?;
    let mut zones: Vec<String> = Vec::new();
    for entry in &entries {
        let Entry::DNSKEY(record) = entry else {
            continue;
        };
        let zone = record.name().to_ascii().to_ascii_lowercase();
        if !zones.contains(&zone) {
            zones.push(zone);
        }
    }
    if zones.is_empty() {
        return Err(failed("no DNSKEY records".into()));
    }
    let anchors = TrustAnchors::from_str(&text).map_err(|e| failed(e.to_string()))?;
    Ok((anchors, zones))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The root zone's key-signing keys as Debian's dns-root-data ships
    /// them (/usr/share/dns/root.key): the form an operator points
    /// `trust_anchor` at.
    const ROOT_KEY: &str = "\
. IN DNSKEY 257 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU= ; keytag 20326
. IN DNSKEY 257 3 8 AwEAAa96jeuknZlaeSrvyAJj6ZHv28hhOKkx3rLGXVaC6rXTsDc449/cidltpkyGwCJNnOAlFNKF2jBosZBU5eeHspaQWOmOElZsjICMQMC3aeHbGiShvZsx4wMYSjH8e7Vrhbu6irwCzVBApESjbUdpWWmEnhathWu1jo+siFUiRAAxm9qyJNg/wOZqqzL/dL/q8PkcRU5oUKEpUge71M3ej2/7CPqpdVwuMoTvoB+ZOT4YeGyxMvHmbrxlFzGOHOijtzN+u1TQNatX2XBuzZNQ1K+s2CXkPIZo7s6JgZyvaBevYtxPvYLw4z9mR7K2vaF18UYH9Z9GNUUeayffKC73PYc= ; keytag 38696
";

    #[test]
    fn reads_the_root_keys_in_zone_file_form() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        std::fs::write(&path, ROOT_KEY).unwrap();
        let (anchors, zones) = read_trust_anchor(&path).unwrap();
        assert_eq!(zones, ["."]);
        // The same two keys hickory has built in.
        assert_eq!(anchors.len(), 2);
        let builtin = TrustAnchors::default();
        for i in 0..2 {
            assert!(builtin.contains(anchors.get(i).unwrap()));
        }
    }
}
