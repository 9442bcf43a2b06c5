//! DANE for outgoing SMTP (RFC 7672): which hosts of a domain DANE
//! applies to, and what it asks of each.
//!
//! Everything DANE relies on must be DNSSEC-secure (RFC 7672 §2.1), so
//! the lookups go through `dns::SecureResolver`. The MX RRset comes
//! first: §2.2.1 allows DANE for hosts of an insecure MX RRset too, but
//! an attacker who can forge that RRset chooses the hosts, so here (as in
//! Postfix) DANE applies only when the MX RRset is secure, or the domain
//! securely has no MX and is its own implicit MX. A bogus MX answer defers
//! the message. Then per host (§2.2.2-2.2.3): its addresses, and if they
//! are secure, its TLSA records at `_PORT._tcp.` of the TLSA base domain
//! (the CNAME-expanded name first, then the host name). Secure, usable
//! records make STARTTLS mandatory and authenticate the certificate by
//! them; records that are all unusable make STARTTLS mandatory without
//! authentication (§2.2); a secure denial or an insecure answer leaves
//! the host to MTA-STS or opportunistic TLS; a bogus answer (or a failed
//! lookup) makes the host unusable (§2.1.1), and the next one is tried.
//!
//! DNSSEC validation needs nameservers that pass DNSSEC records on. Many
//! stub setups do not; then every signed answer would look bogus and no
//! mail would leave. So a probe (`SecureResolver::probe`) runs first: when
//! it finds that validation does not work, DANE is turned off with one
//! warning saying why; when the nameservers do not answer, deliveries are
//! deferred and the probe is asked again (at most once a minute).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dns::{MxAnswer, ProbeError, Route, RouteError, SecureResolver, Security};
use tokio::sync::Mutex;

use super::client::{SessionError, SmtpClient};
use super::security::{DaneNeed, Need, Plan, Requirement, TlsPolicy, start_required_tls};
use super::{Outcome, Remote};
use crate::SetupError;
use crate::config::QueueConfig;

/// How often a probe that found no answer is asked again.
const PROBE_RETRY: Duration = Duration::from_secs(60);

/// What the probe found.
enum Probe {
    /// Not asked yet, or the nameservers did not answer (`since` the last
    /// time asked, with why).
    Unknown(Option<(Instant, String)>),
    Working,
    /// Validation does not work through the nameservers: DANE is off.
    Off,
}

/// The DANE side of the delivery: its validating resolver and what the
/// probe said of it.
#[derive(Clone)]
pub(crate) struct Dane {
    resolver: SecureResolver,
    probe: Arc<Mutex<Probe>>,
}

impl Dane {
    /// None when `dane` is turned off, or a relay takes all mail (its
    /// recipients' policies are the relay's business).
    pub fn new(config: &QueueConfig) -> Result<Option<Dane>, SetupError> {
        if !config.dane || config.relay.is_some() {
            return Ok(None);
        }
        let resolver = SecureResolver::new(&config.nameservers, config.dnssec_trust_anchor.as_deref())?;
        Ok(Some(Dane {
            resolver,
            probe: Arc::new(Mutex::new(Probe::Unknown(None))),
        }))
    }

    /// Runs the probe in the background if it has not answered yet and is
    /// due: at start (the queue's first run), so the warning that DANE is
    /// off comes then, not with the first message.
    pub fn kick(&self) {
        let due = match self.probe.try_lock().as_deref() {
            Ok(Probe::Unknown(None)) => true,
            Ok(Probe::Unknown(Some((since, _)))) => since.elapsed() >= PROBE_RETRY,
            _ => false,
        };
        if due {
            let dane = self.clone();
            tokio::spawn(async move {
                let _ = dane.working().await;
            });
        }
    }

    /// Whether DANE is on: Ok(true) once the probe found validation
    /// working, Ok(false) if it found it not working; Err with a reason
    /// while the nameservers do not answer (the caller defers: without
    /// knowing, a domain's DANE could be silently lost). The probe runs at
    /// most once a minute while unanswered.
    pub async fn working(&self) -> Result<bool, String> {
        let mut probe = self.probe.lock().await;
        if let Probe::Unknown(last) = &*probe {
            if let Some((since, reason)) = last.as_ref().filter(|(since, _)| since.elapsed() < PROBE_RETRY) {
                let wait = PROBE_RETRY.saturating_sub(since.elapsed());
                return Err(format!("{reason} (asking again in {}s)", wait.as_secs()));
            }
            *probe = match self.resolver.probe().await {
                Ok(()) => {
                    tracing::info!("DNSSEC validation works through the configured nameservers; DANE is on");
                    Probe::Working
                }
                Err(ProbeError::NotValidating(reason)) => {
                    tracing::warn!(
                        %reason,
                        "DANE is off: DNSSEC validation does not work through the configured nameservers. \
                         Point [dns] nameservers at a validating resolver, or one that passes DNSSEC records \
                         on (e.g. a local unbound), check [queue] dnssec_trust_anchor, or set [queue] dane = false \
                         to silence this"
                    );
                    Probe::Off
                }
                Err(ProbeError::Unreachable(error)) => {
                    let reason = format!("the DNSSEC probe got no answer: {error}");
                    tracing::warn!(
                        %reason,
                        "remote deliveries wait until the DNSSEC probe is answered (asked again in a minute); \
                         check [dns] nameservers, or set [queue] dane = false"
                    );
                    Probe::Unknown(Some((Instant::now(), reason.clone())))
                }
            };
        }
        match &*probe {
            Probe::Working => Ok(true),
            Probe::Off => Ok(false),
            Probe::Unknown(last) => Err(last.as_ref().map(|(_, r)| r.clone()).unwrap_or_default()),
        }
    }
}

/// Why a host is not used, for the attempt's deferral.
pub(super) struct Skip {
    pub status: &'static str,
    pub reason: String,
    /// The RFC 8460 §4.3 result type, when DNSSEC failed.
    pub result_type: Option<&'static str>,
}

/// The outcome for every recipient when the domain has no route.
pub(super) fn route_failure(error: RouteError) -> Outcome {
    if !error.is_permanent() {
        return Outcome::deferred("4.4.3", error.to_string());
    }
    let status = match error {
        RouteError::NoSuchDomain(_) => "5.1.2",
        RouteError::NullMx(_) => "5.1.10",
        _ => "5.4.6",
    };
    Outcome::Failed {
        reply: format!("550 {status} {error}"),
        status: status.into(),
        host: None,
        tls: None,
    }
}

impl Remote {
    /// The hosts for `domain` and whether DANE applies to them (its MX
    /// RRset is secure). Without DANE (turned off, the probe found no
    /// validation, or the message said `TLS-Required: No`, RFC 8689 §5)
    /// the ordinary resolver routes.
    pub(super) async fn route(&self, domain: &str, relaxed: bool) -> Result<(Vec<String>, bool), Outcome> {
        let own = &self.config.hostname;
        let dane = match &self.dane {
            Some(dane) if !relaxed => dane,
            _ => {
                let route = self.resolver.route(domain, own).await.map_err(route_failure)?;
                return Ok((route.hosts, false));
            }
        };
        match dane.working().await {
            Ok(true) => {}
            Ok(false) => {
                let route = self.resolver.route(domain, own).await.map_err(route_failure)?;
                return Ok((route.hosts, false));
            }
            // RFC 3463 X.4.3: directory server failure.
            Err(reason) => return Err(Outcome::deferred("4.4.3", reason)),
        }
        let answer = dane
            .resolver
            .mx(domain)
            .await
            .map_err(|e| route_failure(RouteError::of_lookup(domain, e)))?;
        let (answer, secure): (MxAnswer, bool) = match answer {
            Security::Secure(answer) => (answer, true),
            Security::Insecure(answer) => (answer, false),
            Security::Bogus(reason) => {
                tracing::warn!(%domain, %reason, "the MX records failed DNSSEC validation; not delivering");
                // RFC 7672 §2.2.1: a bogus MX RRset is a failure to look it
                // up; X.7.5, cryptographic failure.
                return Err(Outcome::deferred(
                    "4.7.5",
                    format!("DNSSEC validation failed for the MX of {domain}: {reason}"),
                ));
            }
        };
        let route = Route::of(domain, answer, own).map_err(route_failure)?;
        Ok((route.hosts, secure))
    }

    /// The addresses of `host` and what TLS its sessions need: the plan's
    /// (MTA-STS or opportunistic) unless DANE applies to it. Err says why
    /// the host is not to be used.
    pub(super) async fn host_need(&self, plan: &Plan, host: &str) -> Result<(Vec<IpAddr>, Need), Skip> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok((vec![ip], plan.need(host)));
        }
        let dane = self.dane.as_ref().filter(|_| plan.dane);
        let Some(dane) = dane else {
            let addresses = self.resolver.addresses(host).await.map_err(|e| Skip {
                status: "4.4.1",
                reason: e.to_string(),
                result_type: None,
            })?;
            return Ok((addresses, plan.need(host)));
        };
        let found = dane.resolver.addresses(host).await.map_err(|e| Skip {
            status: "4.4.1",
            reason: e.to_string(),
            result_type: None,
        })?;
        let addresses = match &found {
            Security::Secure(found) | Security::Insecure(found) => found.addresses.clone(),
            // RFC 7672 §2.2: as if the host were unreachable.
            Security::Bogus(reason) => return Err(dnssec_failure(host, "addresses", reason)),
        };
        if !found.is_secure() {
            return Ok((addresses, plan.need(host)));
        }
        let canonical = found.value().map(|f| f.canonical.clone()).unwrap_or_default();
        let need = match self.tlsa(dane, host, &canonical, &found).await? {
            // Records, none usable, ask for TLS without authentication
            // (RFC 7672 §2.2); a domain's MTA-STS policy that asks more
            // still holds (RFC 8461 §2 sets aside only what DANE decides).
            Some(Need::Encrypted) if matches!(plan.need(host), Need::Verified { .. }) => plan.need(host),
            Some(need) => need,
            None => plan.need(host),
        };
        Ok((addresses, need))
    }

    /// What the TLSA records of `host` ask, if it has any (RFC 7672
    /// §2.2.2): at the CNAME-expanded name first, then at the host name,
    /// on the port mail goes to (25; RFC 6698 §3 names the port).
    async fn tlsa(
        &self,
        dane: &Dane,
        host: &str,
        canonical: &str,
        found: &Security<dns::HostAddresses>,
    ) -> Result<Option<Need>, Skip> {
        let port = self.config.port;
        for base in dns::tlsa_base_domains(host, found) {
            let records = match dane.resolver.tlsa(&base, port).await {
                Ok(Security::Secure(records)) if !records.is_empty() => records,
                // A secure denial, or an insecure zone: nothing to rely on
                // at this name.
                Ok(Security::Secure(_) | Security::Insecure(_)) => continue,
                Ok(Security::Bogus(reason)) => return Err(dnssec_failure(host, "TLSA records", &reason)),
                // §2.2: a failed lookup (SERVFAIL, no answer) cannot be
                // told from an attack.
                Err(e) => return Err(dnssec_failure(host, "TLSA records", &e.to_string())),
            };
            let records: Vec<net::TlsaRecord> = records
                .into_iter()
                .map(|r| net::TlsaRecord {
                    usage: r.usage,
                    selector: r.selector,
                    matching: r.matching,
                    data: r.data,
                })
                .collect();
            if !net::usable(&records) {
                tracing::info!(%host, %base, "TLSA records, none usable: TLS required, unauthenticated (RFC 7672 §2.2)");
                return Ok(Some(Need::Encrypted));
            }
            let mut names = vec![canonical.to_string(), host.trim_end_matches('.').to_ascii_lowercase()];
            names.dedup();
            let connector = net::dane_connector(&records, &names).map_err(|e| Skip {
                status: "4.7.5",
                reason: format!("DANE for {host}: {e}"),
                result_type: Some("tlsa-invalid"),
            })?;
            return Ok(Some(Need::Dane(Arc::new(DaneNeed {
                records,
                base,
                names,
                connector,
            }))));
        }
        Ok(None)
    }
}

impl Remote {
    /// STARTTLS as DANE requires it of a host (RFC 7672 §2.2): with its
    /// certificate matched against its TLSA records and the TLSA base
    /// domain as SNI (§8.1), or, when none of its records is usable, any
    /// certificate; never without TLS. The first is an authenticated
    /// server (RFC 8689 §4.2.1 counts DANE), the second not.
    pub(super) async fn start_dane_tls(&self, client: &mut SmtpClient, need: &Need) -> Result<(), SessionError> {
        let our_name = &self.config.hostname;
        let host = client.host.clone();
        let requirement = |certificate| Requirement {
            policy: TlsPolicy::Dane,
            why: "which its DNSSEC-signed TLSA records require (RFC 7672 §2.2)",
            certificate,
        };
        match need {
            Need::Dane(dane) => {
                let certificate = format!("DANE requires a certificate that the TLSA records of {host} match");
                let required = requirement(Some(certificate));
                start_required_tls(client, &dane.connector, &dane.base, our_name, required).await
            }
            _ => start_required_tls(client, &self.opportunistic, &host, our_name, requirement(None)).await,
        }
    }
}

fn dnssec_failure(host: &str, what: &str, reason: &str) -> Skip {
    tracing::warn!(%host, %reason, "DNSSEC validation of the {what} failed; not using this host");
    Skip {
        status: "4.7.5",
        reason: format!("DNSSEC validation failed for the {what} of {host}: {reason}"),
        result_type: Some("dnssec-invalid"),
    }
}
