//! Delivery to other hosts: route the domain (MX or relay), apply its
//! transport security policy (MTA-STS, `security`; DANE per host, `dane`),
//! then try its hosts and their addresses in order until one gives an
//! answer for the recipients.
//! Sessions are kept for a moment after each message, so the next message
//! to the same host, needing the same TLS, reuses the connection.

mod client;
mod dane;
pub mod mta_sts;
mod security;
mod tls_counting;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dns::Resolver;
use net::TlsConnector;
use store::{QueueRecipient, Store};
use tokio::sync::Mutex;

use crate::SetupError;
use crate::config::{QueueConfig, RelayTls};
use crate::tls_report::TlsRecorder;
pub(crate) use client::{Outgoing, RecipientResult, SessionError, SmtpClient};
pub use security::TlsPolicy;
use security::{Need, Plan};

/// What protected the session an outcome came from (issue 21), recorded
/// with the attempt and shown by `postamt queue show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsFacts {
    /// `none` (no TLS), `opportunistic`, `mta-sts` or `dane`.
    pub policy: &'static str,
    /// The TLS version, e.g. `TLSv1_3`.
    pub version: Option<String>,
    /// The cipher suite, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher: Option<String>,
}

/// The outcome of one attempt for one recipient; `tls` is `None` when no
/// host answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Accepted by `host`, which `offers_dsn` or not (RFC 3461 §6.2.1: a
    /// host without DSN means we report "relayed" where success was asked).
    Delivered {
        reply: String,
        host: String,
        offers_dsn: bool,
        tls: Option<TlsFacts>,
    },
    /// Try again later.
    Deferred {
        reply: String,
        status: String,
        host: Option<String>,
        tls: Option<TlsFacts>,
    },
    /// Never.
    Failed {
        reply: String,
        status: String,
        host: Option<String>,
        tls: Option<TlsFacts>,
    },
}

impl Outcome {
    /// Try again later, with an RFC 3463 `status` and why: no host
    /// answered for it.
    pub(crate) fn deferred(status: &str, reason: String) -> Outcome {
        Outcome::Deferred {
            reply: format!("451 {status} {reason}"),
            status: status.into(),
            host: None,
            tls: None,
        }
    }
}

/// One message on its way to one domain: what every session of the
/// attempt is opened, used and counted for.
pub(crate) struct Delivery<'a> {
    pub domain: &'a str,
    pub plan: &'a Plan,
    pub outgoing: &'a Outgoing<'a>,
}

/// Idle sessions are kept by host address and by the TLS they were opened
/// with: a session opened opportunistically never carries a message whose
/// domain requires a verified one, and one verified for a host name only
/// carries messages for that host; one authenticated by DANE, only
/// messages whose host has the same TLSA records.
type PoolKey = (SocketAddr, Option<(String, Need)>);

pub(crate) struct Remote {
    config: QueueConfig,
    resolver: Resolver,
    opportunistic: TlsConnector,
    /// Verifies MX hosts' certificates (system CAs and `ca_file`) for
    /// MTA-STS, saying why one is refused (RFC 8460 §4.3.1).
    pkix: TlsConnector,
    /// DNSSEC and the TLSA records of MX hosts; none when turned off.
    dane: Option<dane::Dane>,
    relay_tls: Option<TlsConnector>,
    /// The MTA-STS policies of recipient domains; none when turned off.
    sts: Option<mta_sts::Policies>,
    /// Counts sessions for TLS reports (RFC 8460); off with a relay.
    tls_report: TlsRecorder,
    /// Idle sessions, with the time each became idle.
    idle: Mutex<HashMap<PoolKey, Vec<(Instant, SmtpClient)>>>,
}

impl Remote {
    pub fn new(config: QueueConfig, store: Store) -> Result<Remote, SetupError> {
        let resolver = Resolver::new(&config.nameservers)?;
        let opportunistic = net::opportunistic_connector()?;
        // One reading of the CA bundle serves the MX sessions under MTA-STS
        // and the policy fetches.
        let pkix = net::pkix_connector(config.ca_file.as_deref())?;
        let dane = dane::Dane::new(&config)?;
        let relay_tls = match &config.relay {
            Some(relay) => Some(net::verifying_connector(relay.ca_file.as_deref())?),
            None => None,
        };
        let sts = (config.mta_sts && config.relay.is_none()).then(|| {
            let fetcher = mta_sts::Fetcher::new(resolver.clone(), pkix.clone(), config.mta_sts_port);
            mta_sts::Policies::new(resolver.clone(), fetcher, store.clone())
        });
        let tls_report = TlsRecorder::new(store, config.relay.is_none());
        Ok(Remote {
            tls_report,
            config,
            resolver,
            opportunistic,
            pkix,
            dane,
            relay_tls,
            sts,
            idle: Mutex::new(HashMap::new()),
        })
    }

    /// Delivers one message to recipients that share a domain: one
    /// attempt, which ends within the session timeout however many hosts
    /// it tries.
    pub async fn deliver(&self, domain: &str, recipients: &[QueueRecipient], content: &[u8]) -> Vec<Outcome> {
        let limit = self.config.timeouts.session;
        match tokio::time::timeout(limit, self.attempt(domain, recipients, content)).await {
            Ok(outcomes) => outcomes,
            Err(_) => {
                let outcome = Outcome::deferred("4.4.7", format!("delivery to {domain} took longer than {limit:?}"));
                recipients.iter().map(|_| outcome.clone()).collect()
            }
        }
    }

    /// The hosts to try for `domain`, the port, and what TLS each needs;
    /// or the outcome for every recipient when there is no host to try.
    /// A message that says `TLS-Required: No` (and was not given
    /// REQUIRETLS) asks that the domain's policy not hold it back (RFC
    /// 8689 §5): it goes as without one, `relaxed`.
    async fn plan(&self, domain: &str, relaxed: bool) -> Result<(Plan, u16), Outcome> {
        if let Some(relay) = &self.config.relay {
            // The relay's own TLS settings apply; recipient domains'
            // policies are the relay's business.
            return Ok((Plan::opportunistic(vec![relay.host.clone()]), relay.port));
        }
        let (hosts, dane) = self.route(domain, relaxed).await?;
        let policy = match &self.sts {
            Some(_) if relaxed => {
                tracing::info!(%domain, "TLS-Required: No; the domain's MTA-STS policy is not applied (RFC 8689 §5)");
                None
            }
            Some(sts) => {
                let discovery = sts.discover(domain).await;
                if let Some(failure) = &discovery.failure {
                    self.count_policy_failure(domain, failure).await;
                }
                discovery.policy
            }
            None => None,
        };
        let mut plan = match policy {
            Some(policy) => Plan::under_policy(domain, hosts, policy).map_err(|reason| {
                tracing::warn!(%domain, %reason, "not delivering");
                // RFC 3463 X.4.4: no usable route.
                Outcome::deferred("4.4.4", reason)
            })?,
            None => Plan::opportunistic(hosts),
        };
        plan.dane = dane;
        Ok((plan, self.config.port))
    }

    async fn attempt(&self, domain: &str, recipients: &[QueueRecipient], content: &[u8]) -> Vec<Outcome> {
        let all = |outcome: Outcome| recipients.iter().map(|_| outcome.clone()).collect();
        let relaxed = recipients.first().is_some_and(|r| r.tls_optional && !r.require_tls);
        let (plan, port) = match self.plan(domain, relaxed).await {
            Ok(plan) => plan,
            Err(outcome) => return all(outcome),
        };
        let Some(outgoing) = Outgoing::of(recipients, content) else {
            return Vec::new();
        };
        let delivery = Delivery {
            domain,
            plan: &plan,
            outgoing: &outgoing,
        };
        // RFC 8689 §4.2.1: a host too weak for a REQUIRETLS message is
        // passed over for the next; when every one tried was, the message
        // is returned.
        let mut too_weak = None;
        let mut others_failed = false;
        let mut last_error = format!("no host for {domain} could be reached");
        let mut status = "4.4.1";
        // A domain that lists a hundred hosts that all stall, or have no
        // address, gets no more of our time than one with a few: each
        // address dialled and each host found unusable counts. Hosts left
        // untried when the budget is spent are not a reason to return a
        // REQUIRETLS message.
        let budget = self.config.max_addresses_per_attempt.max(1);
        let mut tries = 0;
        'hosts: for host in &plan.hosts {
            if tries >= budget {
                others_failed = true;
                break;
            }
            let (addresses, need) = match self.host_need(&plan, host).await {
                Ok((addresses, _)) if addresses.is_empty() => {
                    last_error = format!("{host} has no address");
                    tries += 1;
                    continue;
                }
                Ok(found) => found,
                Err(skip) => {
                    // The result type is for TLS reports (RFC 8460 §4.3).
                    if let Some(result_type) = skip.result_type {
                        tracing::info!(%domain, %host, result_type, reason = %skip.reason, "host not used");
                        self.count_skipped_host(&delivery, host, result_type, &skip.reason)
                            .await;
                    }
                    (status, last_error) = (skip.status, skip.reason);
                    others_failed = true;
                    tries += 1;
                    continue;
                }
            };
            for ip in addresses {
                if tries >= budget {
                    others_failed = true;
                    break 'hosts;
                }
                tries += 1;
                let address = SocketAddr::new(ip, port);
                match self.send_via(&delivery, address, host, &need).await {
                    Ok((results, offers_dsn, tls)) => {
                        return results
                            .into_iter()
                            .map(|r| outcome(r, host, offers_dsn, &tls))
                            .collect();
                    }
                    Err(SessionError::Insecure { reply, status, tls }) => {
                        tracing::info!(%host, %address, %reply, "host too weak for REQUIRETLS, trying the next");
                        last_error = reply.clone();
                        too_weak = Some((reply, status, host, tls));
                    }
                    Err(SessionError::Policy {
                        status: policy_status,
                        reason,
                        policy,
                        result_type,
                    }) => {
                        if policy == TlsPolicy::Dane {
                            tracing::warn!(%domain, %host, %address, %reason, result_type, "host refused by DANE");
                        } else {
                            tracing::warn!(%domain, %host, %address, %reason, result_type, "host refused by the MTA-STS policy");
                        }
                        (status, last_error) = (policy_status, reason);
                        others_failed = true;
                    }
                    Err(e) => {
                        tracing::info!(%host, %address, error = %e, "host unusable, trying the next");
                        (status, last_error) = ("4.4.1", e.to_string());
                        others_failed = true;
                    }
                }
            }
        }
        if let Some((reply, status, host, tls)) = too_weak.filter(|_| !others_failed) {
            return all(Outcome::Failed {
                reply,
                status: status.into(),
                host: Some(host.clone()),
                tls: Some(tls),
            });
        }
        all(Outcome::deferred(status, last_error))
    }

    /// Sends over a session to `address`, reused if one needing the same
    /// TLS is idle. Also says whether the host offers DSN, and what
    /// protected the session.
    async fn send_via(
        &self,
        delivery: &Delivery<'_>,
        address: SocketAddr,
        host: &str,
        need: &Need,
    ) -> Result<(Vec<RecipientResult>, bool, TlsFacts), SessionError> {
        let outgoing = delivery.outgoing;
        let key: PoolKey = match need {
            Need::Opportunistic => (address, None),
            _ => (address, Some((host.to_ascii_lowercase(), need.clone()))),
        };
        let idle = self.idle.lock().await.get_mut(&key).and_then(Vec::pop);
        let mut client = match idle.map(|(_, client)| client).filter(SmtpClient::has_time_left) {
            Some(client) => client,
            None => self.open(delivery, address, host, need).await?,
        };
        // Refused before MAIL; the session stays good for other mail.
        let too_weak = client.too_weak_for(outgoing);
        let results = match too_weak {
            Some(_) => Vec::new(),
            None => client.send(outgoing).await?,
        };
        let (offers_dsn, tls) = (client.extensions.dsn, client.tls_facts());
        let now = Instant::now();
        self.idle.lock().await.entry(key).or_default().push((now, client));
        match too_weak {
            Some((reply, status)) => Err(SessionError::Insecure { reply, status, tls }),
            None => Ok((results, offers_dsn, tls)),
        }
    }

    /// Opens a session with the TLS `need` asks for, and counts it for
    /// the domain's TLS report. In MTA-STS testing mode, a host that fails
    /// verification is counted and logged, then used as without a policy,
    /// over a new connection (the failed handshake left the first one
    /// unusable).
    async fn open(
        &self,
        delivery: &Delivery<'_>,
        address: SocketAddr,
        host: &str,
        need: &Need,
    ) -> Result<SmtpClient, SessionError> {
        let plan = delivery.plan;
        let opened = self.open_with(address, host, need).await;
        self.count_session(delivery, host, address, need, &opened).await;
        let mut client = match opened {
            Err(SessionError::Policy { reason, .. }) if *need == (Need::Verified { enforce: false }) => {
                tracing::warn!(%host, %address, %reason, "MTA-STS testing: delivery would have been refused; going on");
                self.open_with(address, host, &Need::Opportunistic).await?
            }
            other => other?,
        };
        // DANE, where it applied, took precedence over MTA-STS.
        if let Some(policy) = plan
            .tls_policy()
            .filter(|_| !matches!(need, Need::Dane(_) | Need::Encrypted))
        {
            client.policy = policy;
        }
        Ok(client)
    }

    /// Opens a session: EHLO, STARTTLS where offered (required toward a
    /// relay that gets our credentials, and verified when `need` says so),
    /// AUTH for the relay.
    async fn open_with(&self, address: SocketAddr, host: &str, need: &Need) -> Result<SmtpClient, SessionError> {
        let hostname = &self.config.hostname;
        let relay = self.config.relay.as_ref();
        let relay_tls = relay.and(self.relay_tls.as_ref());
        let mut client = match (relay, relay_tls) {
            (Some(relay), Some(tls)) if relay.tls == RelayTls::Implicit => {
                let mut client = SmtpClient::connect_tls(address, host, tls, self.config.timeouts).await?;
                client.verified = true;
                client
            }
            _ => SmtpClient::connect(address, host, self.config.timeouts).await?,
        };
        client.hello(hostname).await?;
        match (relay, relay_tls) {
            (Some(relay), Some(tls)) if relay.tls == RelayTls::StartTls => {
                if !client.extensions.starttls {
                    return Err(SessionError::Unusable(format!("relay {host} does not offer STARTTLS")));
                }
                client.starttls(tls, hostname).await?;
                // The relay's certificate was verified for its name.
                client.verified = true;
            }
            (None, _) if matches!(need, Need::Verified { .. }) => {
                security::start_verified_tls(&mut client, &self.pkix, hostname).await?;
            }
            (None, _) if need.requires_tls() => self.start_dane_tls(&mut client, need).await?,
            (None, _) if client.extensions.starttls => {
                // Opportunistic (RFC 7435): any certificate is taken. A failed
                // handshake leaves the connection unusable, so the next
                // address or MX is tried, as after any broken session.
                client.starttls(&self.opportunistic, hostname).await?;
                client.policy = TlsPolicy::Opportunistic;
            }
            _ => {}
        }
        if client.is_tls() && client.policy == TlsPolicy::None {
            // A relay's TLS: "none" is kept for sessions without TLS.
            client.policy = TlsPolicy::Opportunistic;
        }
        if let Some((user, password)) = relay.and_then(|r| r.credentials.as_ref()) {
            if !client.is_tls() && relay.is_some_and(|r| r.tls != RelayTls::None) {
                return Err(SessionError::Unusable(format!(
                    "no TLS with relay {host}; not sending credentials"
                )));
            }
            client.authenticate(user, password).await?;
        }
        Ok(client)
    }

    /// Ends the sessions idle for longer than `IDLE`, in the background:
    /// a server slow to answer QUIT holds up nobody. Also lets the
    /// MTA-STS cache drop what expired (hourly), and the DNSSEC probe run
    /// until it has an answer.
    pub async fn close_idle(&self) {
        let mut closing = Vec::new();
        self.idle.lock().await.retain(|_, sessions| {
            let (old, kept): (Vec<_>, Vec<_>) = sessions.drain(..).partition(|(since, _)| since.elapsed() >= IDLE);
            closing.extend(old.into_iter().map(|(_, client)| client));
            *sessions = kept;
            !sessions.is_empty()
        });
        for client in closing {
            tokio::spawn(client.quit());
        }
        if let Some(sts) = &self.sts {
            sts.tidy().await;
        }
        if let Some(dane) = &self.dane {
            dane.kick();
        }
    }
}

/// How long a session is kept for another message to the same host.
const IDLE: Duration = Duration::from_secs(2);

fn outcome(result: RecipientResult, host: &str, offers_dsn: bool, tls: &TlsFacts) -> Outcome {
    let host = host.to_string();
    let tls = Some(tls.clone());
    match result {
        RecipientResult::Accepted(reply) => Outcome::Delivered {
            reply: reply.one_line(),
            host,
            offers_dsn,
            tls,
        },
        RecipientResult::Refused(reply) => {
            let status = reply.enhanced_status().map(str::to_string).unwrap_or_else(|| {
                if reply.is_permanent() {
                    "5.0.0".into()
                } else {
                    "4.0.0".into()
                }
            });
            if reply.is_permanent() {
                Outcome::Failed {
                    reply: reply.one_line(),
                    status,
                    host: Some(host),
                    tls,
                }
            } else {
                Outcome::Deferred {
                    reply: reply.one_line(),
                    status,
                    host: Some(host),
                    tls,
                }
            }
        }
        RecipientResult::Unsendable { reply, status } => Outcome::Failed {
            reply,
            status: status.into(),
            host: Some(host),
            tls,
        },
    }
}
