//! What a recipient domain's transport security policy asks of a
//! delivery: which of its MX hosts may be used and what TLS each needs.
//! Without a policy (or with MTA-STS turned off, or toward a relay) TLS is
//! opportunistic (RFC 7435). With an MTA-STS policy (RFC 8461 §5) in
//! `enforce` mode only the MX hosts the policy names are used, each over
//! STARTTLS with a certificate valid for its name (§4.2); in `testing`
//! mode the same is tried, but what fails is logged and the message goes
//! on as without a policy (§5). Every failure is temporary: the policy or
//! the host may be fixed before the message expires.

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
}

impl TlsPolicy {
    pub fn name(self) -> &'static str {
        match self {
            TlsPolicy::None => "none",
            TlsPolicy::Opportunistic => "opportunistic",
            TlsPolicy::MtaSts => "mta-sts",
        }
    }
}

/// What TLS the session with one host needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Need {
    /// STARTTLS if offered, any certificate.
    Opportunistic,
    /// STARTTLS with a certificate valid for the host: required when
    /// `enforce`, else (testing) tried and only logged when it fails.
    Verified { enforce: bool },
}

/// The hosts to try for a domain and what each needs.
pub(crate) struct Plan {
    pub hosts: Vec<String>,
    policy: Option<Arc<Policy>>,
}

impl Plan {
    /// Opportunistic TLS to every host.
    pub fn opportunistic(hosts: Vec<String>) -> Plan {
        Plan { hosts, policy: None }
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
    /// reports (RFC 8460 §4.4): the MTA-STS policy as its lines (§4.3's
    /// policy-string) and its `mx` patterns, in testing mode too.
    pub fn report_policy(&self) -> ReportPolicy {
        match self.policy.as_ref().filter(|policy| policy.mode != Mode::None) {
            Some(policy) => {
                let mut lines = vec!["version: STSv1".to_string(), format!("mode: {}", policy.mode.name())];
                lines.extend(policy.mx.iter().map(|mx| format!("mx: {mx}")));
                lines.push(format!("max_age: {}", policy.max_age));
                ReportPolicy::Sts {
                    lines,
                    mx_patterns: policy.mx.clone(),
                }
            }
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
    if !client.extensions.starttls {
        return Err(SessionError::Policy {
            // RFC 3463 §3.8 (X.7.10 in the IANA registry, RFC 5248):
            // encryption needed.
            status: "4.7.10",
            reason: format!("{host} does not offer STARTTLS, which the MTA-STS policy requires"),
        });
    }
    match client.starttls(tls, our_name).await {
        Ok(()) => {
            client.verified = true;
            client.policy = TlsPolicy::MtaSts;
            Ok(())
        }
        // After a good handshake, a failure is the session's, not the policy's.
        Err(e) if client.is_tls() => Err(e),
        Err(SessionError::Refused(reply)) => Err(SessionError::Policy {
            status: "4.7.10",
            reason: format!(
                "{host} refused STARTTLS ({}), which the MTA-STS policy requires",
                reply.one_line()
            ),
        }),
        Err(e) => Err(SessionError::Policy {
            // X.7.5: cryptographic failure.
            status: "4.7.5",
            reason: format!("{e}; the MTA-STS policy requires a certificate valid for {host}"),
        }),
    }
}
