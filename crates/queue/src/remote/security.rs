//! What a recipient domain's transport security policy asks of a
//! delivery: which of its MX hosts may be used and what TLS each needs.
//! Without a policy (or with MTA-STS turned off, or toward a relay) TLS is
//! opportunistic (RFC 7435). With an MTA-STS policy (RFC 8461 §5) in
//! `enforce` mode only the MX hosts the policy names are used, each over
//! STARTTLS with a certificate valid for its name (§4.2); in `testing`
//! mode the same is tried, but what fails is logged and the message goes
//! on as without a policy (§5). Every failure is temporary: the policy or
//! the host may be fixed before the message expires. DANE (RFC 7672,
//! `super::dane`) decides per host, after the addresses are known, and
//! takes precedence over MTA-STS for a host it applies to.

use std::sync::Arc;

use net::TlsConnector;

use super::client::{SessionError, SmtpClient};
use super::mta_sts::{Mode, Policy};
use crate::tls_report::ReportPolicy;

/// Which policy a session was opened under, for logs, the queue view and
/// TLS reports (the strings the store keeps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsPolicy {
    /// No TLS: the host offered none and nothing required it.
    None,
    /// STARTTLS, any certificate.
    Opportunistic,
    /// A domain's MTA-STS policy (enforce or testing) applied.
    MtaSts,
    /// The host's DNSSEC-validated TLSA records applied (RFC 7672).
    Dane,
}

impl TlsPolicy {
    pub fn name(self) -> &'static str {
        match self {
            TlsPolicy::None => "none",
            TlsPolicy::Opportunistic => "opportunistic",
            TlsPolicy::MtaSts => "mta-sts",
            TlsPolicy::Dane => "dane",
        }
    }
}

/// What TLS the session with one host needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Need {
    /// STARTTLS if offered, any certificate.
    Opportunistic,
    /// STARTTLS with a certificate valid for the host: required when
    /// `enforce`, else (testing) tried and only logged when it fails.
    Verified { enforce: bool },
    /// STARTTLS required, any certificate: the host has secure TLSA
    /// records, none of them usable (RFC 7672 §2.2).
    Encrypted,
    /// STARTTLS required, the certificate authenticated by these TLSA
    /// records (RFC 7672 §3).
    Dane(Arc<DaneNeed>),
}

impl Need {
    /// Whether a session without TLS (or whose handshake failed) must not
    /// be used, or retried without TLS.
    pub fn requires_tls(&self) -> bool {
        !matches!(self, Need::Opportunistic)
    }
}

/// What DANE asks of the session with one host: the certificate must
/// match one of `records`, found at `_PORT._tcp.BASE` for the TLSA base
/// domain `base`, which is also the name sent in SNI (RFC 7672 §8.1);
/// `names` are the names a DANE-TA certificate may carry (§3.2.3).
pub(crate) struct DaneNeed {
    pub records: Vec<net::TlsaRecord>,
    pub base: String,
    pub names: Vec<String>,
    pub connector: TlsConnector,
}

impl std::fmt::Debug for DaneNeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DaneNeed")
            .field("records", &self.records)
            .field("base", &self.base)
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

/// Sessions are pooled by what they were authenticated with: the
/// records and the names (the connector follows from them).
impl PartialEq for DaneNeed {
    fn eq(&self, other: &DaneNeed) -> bool {
        (&self.records, &self.base, &self.names) == (&other.records, &other.base, &other.names)
    }
}

impl Eq for DaneNeed {}

impl std::hash::Hash for DaneNeed {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (&self.records, &self.base, &self.names).hash(state);
    }
}

/// The hosts to try for a domain and what each needs.
pub(crate) struct Plan {
    pub hosts: Vec<String>,
    policy: Option<Arc<Policy>>,
    /// The MX RRset (or the implicit MX's absence of one) was
    /// DNSSEC-secure, so DANE applies to the hosts (RFC 7672 §2.2.1).
    pub dane: bool,
}

impl Plan {
    /// Opportunistic TLS to every host.
    pub fn opportunistic(hosts: Vec<String>) -> Plan {
        Plan {
            hosts,
            policy: None,
            dane: false,
        }
    }

    /// The hosts `policy` allows (§4.1), or why none is left.
    pub fn under_policy(domain: &str, hosts: Vec<String>, policy: Arc<Policy>) -> Result<Plan, String> {
        match policy.mode {
            Mode::None => Ok(Plan::opportunistic(hosts)),
            Mode::Testing => {
                for host in hosts.iter().filter(|host| !policy.allows(host)) {
                    tracing::warn!(%domain, %host, "MTA-STS testing: the policy does not list this MX host; using it anyway");
                }
                Ok(Plan {
                    hosts,
                    policy: Some(policy),
                    dane: false,
                })
            }
            Mode::Enforce => {
                let (allowed, refused): (Vec<String>, Vec<String>) =
                    hosts.into_iter().partition(|host| policy.allows(host));
                for host in &refused {
                    tracing::warn!(%domain, %host, "MTA-STS: the policy does not list this MX host; not using it");
                }
                if allowed.is_empty() {
                    return Err(format!(
                        "no MX host of {domain} ({}) matches its MTA-STS policy (mx: {})",
                        refused.join(", "),
                        policy.mx.join(", ")
                    ));
                }
                Ok(Plan {
                    hosts: allowed,
                    policy: Some(policy),
                    dane: false,
                })
            }
        }
    }

    /// What the session with `host` needs. In testing mode a host the
    /// policy does not list gets opportunistic TLS: its certificate could
    /// not satisfy the policy anyway, and that was logged already.
    pub fn need(&self, host: &str) -> Need {
        match &self.policy {
            Some(policy) if policy.mode == Mode::Enforce => Need::Verified { enforce: true },
            Some(policy) if policy.mode == Mode::Testing && policy.allows(host) => Need::Verified { enforce: false },
            _ => Need::Opportunistic,
        }
    }

    /// The policy sessions under this plan are counted under in TLS
    /// reports (RFC 8460 §4.4): the MTA-STS policy as served, line by line
    /// (§4.4's policy-string), and its `mx` patterns, in testing mode too.
    pub fn report_policy(&self) -> ReportPolicy {
        match self.policy.as_ref().filter(|policy| policy.mode != Mode::None) {
            Some(policy) => ReportPolicy::Sts {
                lines: policy.lines.clone(),
                mx_patterns: policy.mx.clone(),
            },
            None => ReportPolicy::NoPolicy,
        }
    }

    /// The policy a session under this plan is opened under.
    pub fn tls_policy(&self) -> Option<TlsPolicy> {
        self.policy
            .as_ref()
            .filter(|policy| policy.mode != Mode::None)
            .map(|_| TlsPolicy::MtaSts)
    }
}

/// STARTTLS with a certificate valid for the client's host (RFC 8461
/// §4.2), on a session that has said EHLO. A host that offers no STARTTLS
/// (or had it stripped from its EHLO reply by someone in between) or whose
/// certificate does not verify is refused with a policy error, and the
/// message is not sent to it.
pub(crate) async fn start_verified_tls(
    client: &mut SmtpClient,
    tls: &TlsConnector,
    our_name: &str,
) -> Result<(), SessionError> {
    let host = client.host.clone();
    let requirement = Requirement {
        policy: TlsPolicy::MtaSts,
        why: "which the MTA-STS policy requires",
        certificate: Some(format!("the MTA-STS policy requires a certificate valid for {host}")),
    };
    start_required_tls(client, tls, &host, our_name, requirement).await
}

/// What a policy requires of a session's TLS, in the words its refusals
/// give.
pub(crate) struct Requirement {
    pub policy: TlsPolicy,
    /// Why TLS is required, after "{host} does not offer STARTTLS, ".
    pub why: &'static str,
    /// What the certificate must be, added to a failed handshake's
    /// reason; None when any certificate will do (TLS unauthenticated).
    pub certificate: Option<String>,
}

/// STARTTLS that a policy requires, with `tls` checking the certificate
/// and `sni` sent as the server name. No STARTTLS, a refused one or a
/// failed handshake is a policy error, with the RFC 8460 §4.3 result type
/// a TLS report counts it under: `starttls-not-supported` (§4.3.1), or
/// what the verifier found (`VerifyFailure::tlsrpt_result_type`), else
/// `validation-failure` (§4.3.3). A session whose certificate the
/// requirement authenticated is `verified`.
pub(crate) async fn start_required_tls(
    client: &mut SmtpClient,
    tls: &TlsConnector,
    sni: &str,
    our_name: &str,
    required: Requirement,
) -> Result<(), SessionError> {
    let host = client.host.clone();
    let Requirement {
        policy,
        why: requirement,
        certificate,
    } = required;
    // X.7.5, cryptographic failure; with what the certificate had to be.
    let crypto_failure = |reason: String, result_type: &'static str| SessionError::Policy {
        status: "4.7.5",
        reason: match &certificate {
            Some(certificate) => format!("{reason}; {certificate}"),
            None => reason,
        },
        result_type,
        policy,
    };
    if !client.extensions.starttls {
        return Err(SessionError::Policy {
            // RFC 3463 §3.8 (X.7.10 in the IANA registry, RFC 5248):
            // encryption needed.
            status: "4.7.10",
            reason: format!("{host} does not offer STARTTLS, {requirement}"),
            result_type: "starttls-not-supported",
            policy,
        });
    }
    match client.starttls_as(tls, sni, our_name).await {
        Ok(()) => {
            client.policy = policy;
            client.verified = certificate.is_some();
            Ok(())
        }
        // After a good handshake, a failure is the session's, not the policy's.
        Err(e) if client.is_tls() => Err(e),
        Err(SessionError::Refused(reply)) => Err(SessionError::Policy {
            status: "4.7.10",
            reason: format!("{host} refused STARTTLS ({}), {requirement}", reply.one_line()),
            result_type: "starttls-not-supported",
            policy,
        }),
        Err(SessionError::Handshake { reason, failure, .. }) => Err(crypto_failure(
            reason,
            failure.map_or("validation-failure", |f| f.tlsrpt_result_type()),
        )),
        Err(e) => Err(crypto_failure(e.to_string(), "validation-failure")),
    }
}
