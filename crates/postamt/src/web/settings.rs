//! `[http]` and `[mta_sts]`: who may read the metrics, what mail clients
//! are told to connect to, and the MTA-STS policy of hosted domains.

use serde::Deserialize;

use crate::config::Config;

/// `[http]`: what the web listener tells and to whom.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Empty: `/metrics` answers loopback peers only. Set: it answers
    /// anyone who sends `Authorization: Bearer TOKEN`, and nobody else.
    pub metrics_token: String,
    /// The server name mail clients are told to connect to (autoconfig,
    /// autodiscover, .mobileconfig, SRV records); empty: `hostname`.
    pub client_host: String,
    /// The public ports clients are told, per service: the listeners are
    /// bind addresses, which behind NAT or a proxy differ from what
    /// clients dial. A service whose listener is off is not offered.
    pub imaps_port: u16,
    pub imap_port: u16,
    pub pop3s_port: u16,
    pub pop3_port: u16,
    pub submissions_port: u16,
    pub submission_port: u16,
}

impl Default for HttpSettings {
    fn default() -> Self {
        // The standard ports (RFC 8314 §7 for the implicit-TLS ones).
        HttpSettings {
            metrics_token: String::new(),
            client_host: String::new(),
            imaps_port: 993,
            imap_port: 143,
            pop3s_port: 995,
            pop3_port: 110,
            submissions_port: 465,
            submission_port: 587,
        }
    }
}

/// `[mta_sts]`: the policy served at
/// `https://mta-sts.DOMAIN/.well-known/mta-sts.txt` (RFC 8461 §3.2).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MtaStsSettings {
    /// `testing` (default: senders report but still deliver), `enforce`,
    /// or `none` (withdraws a policy).
    pub mode: MtaStsMode,
    /// MX names besides `hostname` that senders may deliver to.
    pub mx: Vec<String>,
    /// Seconds senders may cache the policy (RFC 8461 §3.2; at most 31557600).
    pub max_age: u64,
}

impl Default for MtaStsSettings {
    fn default() -> Self {
        MtaStsSettings {
            mode: MtaStsMode::Testing,
            mx: Vec::new(),
            // One week, as RFC 8461 §3.2 suggests at least.
            max_age: 604_800,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MtaStsMode {
    Testing,
    Enforce,
    None,
}

impl MtaStsMode {
    pub fn name(self) -> &'static str {
        match self {
            MtaStsMode::Testing => "testing",
            MtaStsMode::Enforce => "enforce",
            MtaStsMode::None => "none",
        }
    }
}

/// A service mail clients may be told of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientService {
    /// "imap", "pop3" or "smtp".
    pub protocol: &'static str,
    pub port: u16,
    /// Implicit TLS (RFC 8314) rather than STARTTLS.
    pub implicit_tls: bool,
}

/// What clients are told to connect to: the host and the services whose
/// listeners are on, implicit TLS first (RFC 8314 §5.1 prefers it).
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub host: String,
    pub services: Vec<ClientService>,
}

impl ClientSettings {
    pub fn from_config(config: &Config) -> ClientSettings {
        ClientSettings::new(&config.http, &config.listen, &config.hostname)
    }

    /// From `[http]`, the listeners that are on and the server's name.
    pub fn new(http: &HttpSettings, listen: &crate::config::Listen, hostname: &str) -> ClientSettings {
        let candidates = [
            ("imap", !listen.imaps.is_empty(), http.imaps_port, true),
            ("imap", !listen.imap.is_empty(), http.imap_port, false),
            ("pop3", !listen.pop3s.is_empty(), http.pop3s_port, true),
            ("pop3", !listen.pop3.is_empty(), http.pop3_port, false),
            ("smtp", !listen.submissions.is_empty(), http.submissions_port, true),
            ("smtp", !listen.submission.is_empty(), http.submission_port, false),
        ];
        let host = if http.client_host.is_empty() {
            hostname.trim_end_matches('.').to_string()
        } else {
            http.client_host.trim_end_matches('.').to_string()
        };
        ClientSettings {
            host,
            services: candidates
                .into_iter()
                .filter(|(_, on, _, _)| *on)
                .map(|(protocol, _, port, implicit_tls)| ClientService {
                    protocol,
                    port,
                    implicit_tls,
                })
                .collect(),
        }
    }

    /// The preferred service for a protocol: the first listed.
    pub fn first(&self, protocol: &str) -> Option<ClientService> {
        self.services.iter().copied().find(|s| s.protocol == protocol)
    }
}
