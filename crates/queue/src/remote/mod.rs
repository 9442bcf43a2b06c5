//! Delivery to other hosts: route the domain (MX or relay), then try its
//! hosts and their addresses in order until one gives an answer for the
//! recipients. Sessions are kept for a moment after each message, so the
//! next message to the same host reuses the connection.

mod client;
mod tls_counting;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use dns::Resolver;
use net::TlsConnector;
use store::{QueueRecipient, Store};
use tokio::sync::Mutex;

use crate::SetupError;
use crate::config::{QueueConfig, RelayTls};
use crate::tls_report::TlsRecorder;
pub(crate) use client::{Outgoing, OutgoingRecipient, RecipientResult, SessionError, SmtpClient};

/// The outcome of one attempt for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Accepted by `host`, which `offers_dsn` or not (RFC 3461 §6.2.1: a
    /// host without DSN means we report "relayed" where success was asked).
    Delivered {
        reply: String,
        host: String,
        offers_dsn: bool,
    },
    /// Try again later.
    Deferred {
        reply: String,
        status: String,
        host: Option<String>,
    },
    /// Never.
    Failed {
        reply: String,
        status: String,
        host: Option<String>,
    },
}

pub(crate) struct Remote {
    config: QueueConfig,
    resolver: Resolver,
    opportunistic: TlsConnector,
    relay_tls: Option<TlsConnector>,
    /// Counts sessions for TLS reports (RFC 8460); off with a relay.
    tls_report: TlsRecorder,
    /// Idle sessions by host address, with the time each became idle.
    idle: Mutex<HashMap<SocketAddr, Vec<(Instant, SmtpClient)>>>,
}

impl Remote {
    pub fn new(config: QueueConfig, store: Store) -> Result<Remote, SetupError> {
        let resolver = Resolver::new(&config.nameservers)?;
        let opportunistic = net::opportunistic_connector()?;
        let relay_tls = match &config.relay {
            Some(relay) => Some(net::verifying_connector(relay.ca_file.as_deref())?),
            None => None,
        };
        let tls_report = TlsRecorder::new(store, config.relay.is_none());
        Ok(Remote {
            tls_report,
            config,
            resolver,
            opportunistic,
            relay_tls,
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
                let outcome = Outcome::Deferred {
                    reply: format!("451 4.4.7 delivery to {domain} took longer than {limit:?}"),
                    status: "4.4.7".into(),
                    host: None,
                };
                recipients.iter().map(|_| outcome.clone()).collect()
            }
        }
    }

    async fn attempt(&self, domain: &str, recipients: &[QueueRecipient], content: &[u8]) -> Vec<Outcome> {
        let all = |outcome: Outcome| recipients.iter().map(|_| outcome.clone()).collect();
        let (hosts, port) = match &self.config.relay {
            Some(relay) => (vec![relay.host.clone()], relay.port),
            None => match self.resolver.route(domain, &self.config.hostname).await {
                Ok(route) => (route.hosts, self.config.port),
                Err(e) if e.is_permanent() => {
                    let status = match e {
                        dns::RouteError::NoSuchDomain(_) => "5.1.2",
                        dns::RouteError::NullMx(_) => "5.1.10",
                        _ => "5.4.6",
                    };
                    return all(Outcome::Failed {
                        reply: format!("550 {status} {e}"),
                        status: status.into(),
                        host: None,
                    });
                }
                Err(e) => {
                    return all(Outcome::Deferred {
                        reply: format!("451 4.4.3 {e}"),
                        status: "4.4.3".into(),
                        host: None,
                    });
                }
            },
        };
        let Some(first) = recipients.first() else {
            return Vec::new();
        };
        let outgoing = Outgoing {
            reverse_path: &first.reverse_path,
            recipients: recipients
                .iter()
                .map(|r| OutgoingRecipient {
                    address: &r.address,
                    notify: r.notify,
                    orcpt: r.orcpt.as_deref(),
                })
                .collect(),
            body: first.body,
            smtputf8: first.smtputf8,
            dsn_ret: first.dsn_ret,
            dsn_envid: first.dsn_envid.as_deref(),
            content,
        };
        let mut last_error = format!("no host for {domain} could be reached");
        let mut tries = 0;
        'hosts: for host in &hosts {
            let addresses = match host.parse::<IpAddr>() {
                Ok(ip) => vec![ip],
                Err(_) => match self.resolver.addresses(host).await {
                    Ok(addresses) if !addresses.is_empty() => addresses,
                    Ok(_) => {
                        last_error = format!("{host} has no address");
                        continue;
                    }
                    Err(e) => {
                        last_error = e.to_string();
                        continue;
                    }
                },
            };
            for ip in addresses {
                // A domain that lists a hundred hosts that all stall gets
                // no more of our time than one with a few.
                tries += 1;
                if tries > self.config.max_addresses_per_attempt.max(1) {
                    break 'hosts;
                }
                let address = SocketAddr::new(ip, port);
                match self.send_via(domain, address, host, &outgoing).await {
                    Ok((results, offers_dsn)) => {
                        return results.into_iter().map(|r| outcome(r, host, offers_dsn)).collect();
                    }
                    Err(e) => {
                        tracing::info!(%host, %address, error = %e, "host unusable, trying the next");
                        last_error = e.to_string();
                    }
                }
            }
        }
        all(Outcome::Deferred {
            reply: format!("451 4.4.1 {last_error}"),
            status: "4.4.1".into(),
            host: None,
        })
    }

    /// Sends over a session to `address`, reused if one is idle. Also says
    /// whether the host offers DSN.
    async fn send_via(
        &self,
        domain: &str,
        address: SocketAddr,
        host: &str,
        outgoing: &Outgoing<'_>,
    ) -> Result<(Vec<RecipientResult>, bool), SessionError> {
        let idle = self.idle.lock().await.get_mut(&address).and_then(Vec::pop);
        let mut client = match idle.map(|(_, client)| client).filter(SmtpClient::has_time_left) {
            Some(client) => client,
            None => {
                let opened = self.open(address, host).await;
                self.count_session(domain, host, address, outgoing, &opened).await;
                opened?
            }
        };
        let results = client.send(outgoing).await?;
        let offers_dsn = client.extensions.dsn;
        let now = Instant::now();
        self.idle.lock().await.entry(address).or_default().push((now, client));
        Ok((results, offers_dsn))
    }

    /// Opens a session: EHLO, STARTTLS where offered (required toward a
    /// relay that gets our credentials), AUTH for the relay.
    async fn open(&self, address: SocketAddr, host: &str) -> Result<SmtpClient, SessionError> {
        let hostname = &self.config.hostname;
        let relay = self.config.relay.as_ref();
        let relay_tls = relay.and(self.relay_tls.as_ref());
        let mut client = match (relay, relay_tls) {
            (Some(relay), Some(tls)) if relay.tls == RelayTls::Implicit => {
                SmtpClient::connect_tls(address, host, tls, self.config.timeouts).await?
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
            }
            (None, _) if client.extensions.starttls => {
                // Opportunistic (RFC 7435): any certificate is taken. A failed
                // handshake leaves the connection unusable, so the next
                // address or MX is tried, as after any broken session.
                client.starttls(&self.opportunistic, hostname).await?;
            }
            _ => {}
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
    /// a server slow to answer QUIT holds up nobody.
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
    }
}

/// How long a session is kept for another message to the same host.
const IDLE: Duration = Duration::from_secs(2);

fn outcome(result: RecipientResult, host: &str, offers_dsn: bool) -> Outcome {
    let host = host.to_string();
    match result {
        RecipientResult::Accepted(reply) => Outcome::Delivered {
            reply: reply.one_line(),
            host,
            offers_dsn,
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
                }
            } else {
                Outcome::Deferred {
                    reply: reply.one_line(),
                    status,
                    host: Some(host),
                }
            }
        }
        RecipientResult::Unsendable { reply, status } => Outcome::Failed {
            reply,
            status: status.into(),
            host: Some(host),
        },
    }
}
