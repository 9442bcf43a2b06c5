//! The configuration: one TOML file in which every key has a default, so
//! `postamt serve` runs without one. Loaded once, then immutable.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Our name in greetings and trace headers; the machine's name by default.
    pub hostname: String,
    /// This node's name among the nodes sharing a store (its queue leases
    /// carry it); `hostname` by default. Two running processes may not
    /// share one.
    pub node_id: String,
    /// Database, message files and the self-signed certificate live here.
    pub data_dir: PathBuf,
    pub store: crate::store_settings::StoreSettings,
    pub server: crate::server_settings::ServerSettings,
    pub listen: Listen,
    pub tls: Tls,
    pub auth: Auth,
    pub smtp: Smtp,
    pub submission: Submission,
    pub pop3: Pop3,
    pub imap: crate::imap_settings::Imap,
    pub managesieve: ManageSieve,
    pub limits: Limits,
    pub dns: Dns,
    pub delivery: Delivery,
    pub queue: QueueSettings,
    pub auth_checks: crate::checks::AuthChecks,
    pub dnsbl: crate::dnsbl::DnsblConfig,
    pub greylist: crate::greylist::GreylistConfig,
    pub rspamd: crate::rspamd::RspamdConfig,
    pub spam: Spam,
    pub http: crate::web::settings::HttpSettings,
    pub mta_sts: crate::web::settings::MtaStsSettings,
    pub quota: crate::quota_settings::QuotaSettings,
    pub tls_reports: crate::tls_reports::TlsReportSettings,
    pub sieve: crate::sieve_settings::SieveSettings,
}

/// `[spam]`: what happens to mail a verdict (DMARC quarantine, rspamd)
/// marks as spam.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Spam {
    /// Into the recipient's Junk mailbox (default); false: into the INBOX,
    /// marked by the verdict's header fields only. `postamt user spam`
    /// chooses per account.
    pub junk: bool,
}

impl Default for Spam {
    fn default() -> Self {
        Spam { junk: true }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Dns {
    /// DNS servers as `address:port`; empty uses the system's resolver.
    pub nameservers: Vec<SocketAddr>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Delivery {
    /// The port dialled on MX hosts.
    pub port: u16,
    /// Send all mail for other domains through this host (`host:port`),
    /// for networks where port 25 is blocked. Empty: deliver directly.
    pub relay: String,
    /// `starttls`, `implicit` or `none`.
    pub relay_tls: String,
    pub relay_user: String,
    pub relay_password: String,
    /// A CA file to trust for the relay's certificate, beside the system's.
    pub relay_ca_file: Option<PathBuf>,
    /// Deliveries under way at once, in total and per destination domain.
    /// A slow destination holds only its own share.
    pub max_deliveries: usize,
    pub max_per_domain: usize,
    /// Host addresses one delivery attempt tries at most: a domain that
    /// lists a hundred stalling hosts gets no more of our time than one
    /// with a few.
    pub max_addresses_per_attempt: usize,
    /// Seconds to open a connection to another server.
    pub connect_timeout: u64,
    /// Seconds a reply may take, counted for the whole reply (RFC 5321
    /// §4.5.3.2): the greeting; EHLO, STARTTLS, AUTH, MAIL, RCPT; the 354
    /// to DATA; each block of data sent; the reply to the end of the data.
    pub greeting_timeout: u64,
    pub command_timeout: u64,
    pub data_init_timeout: u64,
    pub data_block_timeout: u64,
    pub data_end_timeout: u64,
    /// Seconds one delivery attempt, and one connection, may take in all.
    pub session_timeout: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueSettings {
    /// Seconds between attempts after a temporary failure; the last repeats.
    pub retry_intervals: Vec<u64>,
    /// Seconds a message is tried before it is returned to its sender.
    pub lifetime: u64,
    /// Seconds a bounce is tried before it is dropped (never bounced).
    pub bounce_lifetime: u64,
    /// Seconds after which the sender is told the message is delayed; 0: never.
    pub delay_warning: u64,
    /// Look up and obey recipient domains' MTA-STS policies (RFC 8461):
    /// enforce mode delivers only to the MX hosts a policy names, over TLS
    /// with a verified certificate. A relay bypasses them.
    pub mta_sts: bool,
    /// Extra CA certificates (PEM) trusted beside the system's, for MX
    /// hosts whose certificate must verify and for MTA-STS policy hosts.
    pub ca_file: Option<PathBuf>,
    /// The port MTA-STS policies are fetched from. For tests only: RFC
    /// 8461 §3.3 says 443, which tests on loopback cannot bind.
    pub mta_sts_port: u16,
    /// Authenticate MX hosts by their DNSSEC-signed TLSA records (DANE,
    /// RFC 7672) where published. Needs `[dns] nameservers` that DNSSEC
    /// validation works through; otherwise it is off, with a warning.
    pub dane: bool,
    /// The DNSSEC trust anchor, DNSKEY records in zone-file form (e.g.
    /// Debian's /usr/share/dns/root.key); unset: the root's built in.
    pub dnssec_trust_anchor: Option<PathBuf>,
}

/// Addresses per service; an empty list turns the service off.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Listen {
    pub smtp: Vec<SocketAddr>,
    pub submission: Vec<SocketAddr>,
    pub submissions: Vec<SocketAddr>,
    pub pop3: Vec<SocketAddr>,
    pub pop3s: Vec<SocketAddr>,
    pub imap: Vec<SocketAddr>,
    pub imaps: Vec<SocketAddr>,
    /// ManageSieve (RFC 5804), where mail clients edit users' Sieve
    /// scripts; STARTTLS.
    pub managesieve: Vec<SocketAddr>,
    /// The web listener (plain HTTP and HTTPS): health, metrics, client
    /// autoconfiguration, MTA-STS policies, ACME validations.
    pub http: Vec<SocketAddr>,
    pub https: Vec<SocketAddr>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tls {
    /// PEM certificate chain; without cert and key a self-signed pair is made.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Certificates by ACME instead of files (see crate::acme, docs/acme.md).
    pub acme: Option<crate::acme::AcmeConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Auth {
    /// Accept passwords on connections without TLS. Only for testing.
    pub allow_cleartext: bool,
    /// Milliseconds to wait before answering a failed login; doubles with
    /// each further failure at the same account from the same network (up
    /// to 16 times). A network is an IPv4 address or an IPv6 /64.
    pub failure_delay_ms: u64,
    /// Failures at one account from one network that lock that account
    /// out for that network (not for its owner elsewhere). Attempts still
    /// being checked count too. Default 10.
    pub max_failures: u32,
    /// Failures at any accounts from one network that lock the network
    /// out for every account: bounds guesses spread over many names.
    /// Default 100.
    pub max_network_failures: u32,
    /// Failures at any accounts from one IPv6 /48 (many /64s) that lock
    /// the /48 out. Default 400.
    pub max_site_failures: u32,
    /// Seconds a lockout lasts; also the window failures are counted in.
    pub lockout: u64,
    /// Failure counts kept in memory at most; beyond this the least
    /// recently used are forgotten. Default 100000 (about 10 MB).
    pub max_throttle_entries: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Smtp {
    pub max_message_size: usize,
    pub max_recipients: usize,
    pub max_line_length: usize,
    pub max_errors: u32,
    /// Seconds a client may stay silent (RFC 5321 §4.5.3.2.7: 5 minutes).
    pub timeout: u64,
    /// Networks whose clients may relay without authenticating, in CIDR
    /// notation. None by default.
    pub trusted_networks: Vec<String>,
    /// Milliseconds the MX port waits before its greeting; clients that
    /// talk in that time are disconnected. 0 turns the check off.
    pub pregreet_wait_ms: u64,
    /// Seconds a client that waited (or logged in) skips the wait.
    pub pregreet_pass_ttl: u64,
    /// Seconds a client that talked first is refused at once.
    pub pregreet_fail_ttl: u64,
    /// Client addresses remembered at most (about 100 bytes each).
    pub pregreet_memory: usize,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Submission {
    /// Leave the user's IP address out of the Received header of mail they
    /// submit.
    pub hide_client_ip: bool,
    /// Extra sender addresses per user, beyond their own and their
    /// aliases: an address, `@domain` for any address there, or `*`.
    pub send_as: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Pop3 {
    /// Seconds a client may stay silent before logging in.
    pub login_timeout: u64,
    /// Seconds a logged-in client may stay silent (RFC 1939 §3: at least 600).
    pub timeout: u64,
    pub max_errors: u32,
}

/// `[managesieve]`: the sessions of ManageSieve (RFC 5804); what users
/// may store is `[sieve]`'s.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ManageSieve {
    /// Seconds a client may stay silent before logging in.
    pub login_timeout: u64,
    /// Seconds a logged-in client may stay silent; a whole command (a
    /// script upload included) must arrive within it too.
    pub timeout: u64,
    pub max_errors: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Connections served at once, all services together.
    pub max_connections: usize,
    /// Connections served at once from one client address.
    pub max_connections_per_address: usize,
    /// Messages an authenticated user may send per hour (0: no limit).
    pub user_messages_per_hour: u64,
    /// Recipients an authenticated user may send to per hour.
    pub user_recipients_per_hour: u64,
    /// Connections a client address may open per minute on port 25.
    pub client_connections_per_minute: u64,
    /// Messages a client address may send per minute on port 25.
    pub client_messages_per_minute: u64,
}

fn on_all_interfaces(port: u16) -> Vec<SocketAddr> {
    vec![SocketAddr::from(([0, 0, 0, 0], port))]
}

impl Default for Listen {
    fn default() -> Self {
        Listen {
            smtp: on_all_interfaces(25),
            submission: on_all_interfaces(587),
            submissions: on_all_interfaces(465),
            pop3: on_all_interfaces(110),
            pop3s: on_all_interfaces(995),
            imap: on_all_interfaces(143),
            imaps: on_all_interfaces(993),
            managesieve: on_all_interfaces(4190),
            // Off until configured: what it serves is chosen per site.
            http: Vec::new(),
            https: Vec::new(),
        }
    }
}

impl Default for Smtp {
    fn default() -> Self {
        let defaults = smtpd::SmtpConfig::default();
        Smtp {
            max_message_size: defaults.max_message_size,
            max_recipients: defaults.max_recipients,
            max_line_length: defaults.max_line_length,
            max_errors: defaults.max_errors,
            timeout: defaults.timeout.as_secs(),
            trusted_networks: Vec::new(),
            pregreet_wait_ms: defaults.pregreet_wait.as_millis() as u64,
            pregreet_pass_ttl: defaults.pregreet_pass_ttl.as_secs(),
            pregreet_fail_ttl: defaults.pregreet_fail_ttl.as_secs(),
            pregreet_memory: defaults.pregreet_memory,
        }
    }
}

impl Default for Auth {
    fn default() -> Self {
        let defaults = auth::ThrottleConfig::default();
        Auth {
            allow_cleartext: false,
            failure_delay_ms: defaults.failure_delay.as_millis() as u64,
            max_failures: defaults.max_failures,
            max_network_failures: defaults.max_network_failures,
            max_site_failures: defaults.max_site_failures,
            lockout: defaults.lockout.as_secs(),
            max_throttle_entries: defaults.max_entries,
        }
    }
}

impl Default for Pop3 {
    fn default() -> Self {
        let defaults = pop3d::Pop3Config::default();
        Pop3 {
            login_timeout: defaults.login_timeout.as_secs(),
            timeout: defaults.timeout.as_secs(),
            max_errors: defaults.max_errors,
        }
    }
}

impl Default for ManageSieve {
    fn default() -> Self {
        let defaults = managesieve::ManageSieveConfig::default();
        ManageSieve {
            login_timeout: defaults.login_timeout.as_secs(),
            timeout: defaults.timeout.as_secs(),
            max_errors: defaults.max_errors,
        }
    }
}

impl Default for Delivery {
    fn default() -> Self {
        let defaults = queue::QueueConfig::default();
        Delivery {
            port: defaults.port,
            relay: String::new(),
            relay_tls: "starttls".into(),
            relay_user: String::new(),
            relay_password: String::new(),
            relay_ca_file: None,
            max_deliveries: defaults.max_deliveries,
            max_per_domain: defaults.max_per_domain,
            max_addresses_per_attempt: defaults.max_addresses_per_attempt,
            connect_timeout: defaults.timeouts.connect.as_secs(),
            greeting_timeout: defaults.timeouts.greeting.as_secs(),
            command_timeout: defaults.timeouts.command.as_secs(),
            data_init_timeout: defaults.timeouts.data_init.as_secs(),
            data_block_timeout: defaults.timeouts.data_block.as_secs(),
            data_end_timeout: defaults.timeouts.data_end.as_secs(),
            session_timeout: defaults.timeouts.session.as_secs(),
        }
    }
}

impl Default for QueueSettings {
    fn default() -> Self {
        let defaults = queue::QueueConfig::default();
        QueueSettings {
            retry_intervals: defaults.retry_intervals.iter().map(Duration::as_secs).collect(),
            lifetime: defaults.lifetime.as_secs(),
            bounce_lifetime: defaults.bounce_lifetime.as_secs(),
            delay_warning: defaults.delay_warning.as_secs(),
            mta_sts: defaults.mta_sts,
            ca_file: None,
            mta_sts_port: defaults.mta_sts_port,
            dane: defaults.dane,
            dnssec_trust_anchor: None,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        let rates = smtpd::RateLimits::default();
        Limits {
            max_connections: 1000,
            max_connections_per_address: 50,
            user_messages_per_hour: rates.user_messages_per_hour,
            user_recipients_per_hour: rates.user_recipients_per_hour,
            client_connections_per_minute: rates.client_connections_per_minute,
            client_messages_per_minute: rates.client_messages_per_minute,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            hostname: machine_hostname(),
            node_id: String::new(),
            data_dir: default_data_dir(),
            store: crate::store_settings::StoreSettings::default(),
            listen: Listen::default(),
            tls: Tls::default(),
            auth: Auth::default(),
            smtp: Smtp::default(),
            submission: Submission::default(),
            pop3: Pop3::default(),
            imap: crate::imap_settings::Imap::default(),
            managesieve: ManageSieve::default(),
            limits: Limits::default(),
            dns: Dns::default(),
            delivery: Delivery::default(),
            queue: QueueSettings::default(),
            auth_checks: crate::checks::AuthChecks::default(),
            dnsbl: crate::dnsbl::DnsblConfig::default(),
            greylist: crate::greylist::GreylistConfig::default(),
            rspamd: crate::rspamd::RspamdConfig::default(),
            spam: Spam::default(),
            http: Default::default(),
            mta_sts: Default::default(),
            quota: Default::default(),
            tls_reports: Default::default(),
            sieve: Default::default(),
            server: crate::server_settings::ServerSettings::default(),
        }
    }
}

impl Config {
    /// Reads the config file (if any) and applies the `--data-dir` override.
    /// Relative paths in the file are taken relative to the file.
    pub fn load(file: Option<&Path>, data_dir: Option<PathBuf>) -> anyhow::Result<Config> {
        let mut config = match file {
            None => Config::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the config file {}", path.display()))?;
                Config::parse(&text, path.parent().unwrap_or(Path::new(".")))
                    .with_context(|| format!("error in the config file {}", path.display()))?
            }
        };
        if let Some(dir) = data_dir {
            config.data_dir = dir;
        }
        config.validate()?;
        Ok(config)
    }

    /// Reads a config file's text; relative paths in it are taken relative
    /// to `base`, the file's directory.
    pub fn parse(text: &str, base: &Path) -> anyhow::Result<Config> {
        let mut config: Config = toml::from_str(text)?;
        config.data_dir = base.join(&config.data_dir);
        config.tls.cert = config.tls.cert.map(|p| base.join(p));
        config.tls.key = config.tls.key.map(|p| base.join(p));
        config.tls.acme = config.tls.acme.map(|acme| acme.relative_to(base));
        config.delivery.relay_ca_file = config.delivery.relay_ca_file.map(|p| base.join(p));
        config.queue.ca_file = config.queue.ca_file.map(|p| base.join(p));
        config.queue.dnssec_trust_anchor = config.queue.dnssec_trust_anchor.map(|p| base.join(p));
        Ok(config)
    }

    /// The checks across keys that serde cannot make, each error saying
    /// which key to change; nothing here reads a file or the network.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.trusted_networks()?;
        crate::acme::check(&self.tls)?;
        self.queue()?;
        self.auth_checks.settings(&self.hostname)?;
        self.quota.policy()?;
        Ok(())
    }

    /// How the queue delivers, from `[dns]`, `[delivery]` and `[queue]`.
    pub fn queue(&self) -> anyhow::Result<queue::QueueConfig> {
        let delivery = &self.delivery;
        let relay = if delivery.relay.is_empty() {
            None
        } else {
            let (host, port) = delivery
                .relay
                .rsplit_once(':')
                .and_then(|(host, port)| Some((host.trim_matches(['[', ']']), port.parse::<u16>().ok()?)))
                .with_context(|| format!("[delivery] relay = {:?} must be host:port", delivery.relay))?;
            let tls = match delivery.relay_tls.as_str() {
                "starttls" => queue::RelayTls::StartTls,
                "implicit" => queue::RelayTls::Implicit,
                "none" => queue::RelayTls::None,
                other => anyhow::bail!("[delivery] relay_tls = {other:?} must be starttls, implicit or none"),
            };
            let credentials = (!delivery.relay_user.is_empty())
                .then(|| (delivery.relay_user.clone(), delivery.relay_password.clone()));
            if credentials.is_some() && tls == queue::RelayTls::None {
                anyhow::bail!(
                    "[delivery] relay_user needs relay_tls = starttls or implicit: passwords go only over TLS"
                );
            }
            Some(queue::Relay {
                host: host.to_string(),
                port,
                tls,
                credentials,
                ca_file: delivery.relay_ca_file.clone(),
            })
        };
        if self.queue.retry_intervals.is_empty() {
            anyhow::bail!("[queue] retry_intervals needs at least one interval");
        }
        Ok(queue::QueueConfig {
            hostname: self.hostname.clone(),
            node_id: self.node_id().to_string(),
            nameservers: self.dns.nameservers.clone(),
            port: delivery.port,
            relay,
            retry_intervals: self
                .queue
                .retry_intervals
                .iter()
                .map(|s| Duration::from_secs(*s))
                .collect(),
            lifetime: Duration::from_secs(self.queue.lifetime),
            bounce_lifetime: Duration::from_secs(self.queue.bounce_lifetime),
            delay_warning: Duration::from_secs(self.queue.delay_warning),
            max_deliveries: delivery.max_deliveries,
            max_per_domain: delivery.max_per_domain,
            max_addresses_per_attempt: delivery.max_addresses_per_attempt,
            spam_to_junk: self.spam.junk,
            mta_sts: self.queue.mta_sts,
            ca_file: self.queue.ca_file.clone(),
            mta_sts_port: self.queue.mta_sts_port,
            dane: self.queue.dane,
            dnssec_trust_anchor: self.queue.dnssec_trust_anchor.clone(),
            sieve: self.sieve.limits(),
            timeouts: queue::ClientTimeouts {
                connect: seconds(delivery.connect_timeout)?,
                greeting: seconds(delivery.greeting_timeout)?,
                command: seconds(delivery.command_timeout)?,
                data_init: seconds(delivery.data_init_timeout)?,
                data_block: seconds(delivery.data_block_timeout)?,
                data_end: seconds(delivery.data_end_timeout)?,
                session: seconds(delivery.session_timeout)?,
            },
        })
    }

    /// `[smtp] trusted_networks`, parsed.
    pub fn trusted_networks(&self) -> anyhow::Result<Vec<net::Network>> {
        self.smtp
            .trusted_networks
            .iter()
            .map(|n| n.parse().context("error in [smtp] trusted_networks"))
            .collect()
    }

    pub fn smtp(&self) -> anyhow::Result<smtpd::SmtpConfig> {
        Ok(smtpd::SmtpConfig {
            hostname: self.hostname.clone(),
            max_message_size: self.smtp.max_message_size,
            max_recipients: self.smtp.max_recipients,
            max_line_length: self.smtp.max_line_length,
            max_errors: self.smtp.max_errors,
            timeout: Duration::from_secs(self.smtp.timeout),
            trusted_networks: self.trusted_networks()?,
            allow_cleartext_auth: self.auth.allow_cleartext,
            hide_client_ip: self.submission.hide_client_ip,
            pregreet_wait: Duration::from_millis(self.smtp.pregreet_wait_ms),
            pregreet_pass_ttl: Duration::from_secs(self.smtp.pregreet_pass_ttl),
            pregreet_fail_ttl: Duration::from_secs(self.smtp.pregreet_fail_ttl),
            pregreet_memory: self.smtp.pregreet_memory,
            limits: smtpd::RateLimits {
                user_messages_per_hour: self.limits.user_messages_per_hour,
                user_recipients_per_hour: self.limits.user_recipients_per_hour,
                client_connections_per_minute: self.limits.client_connections_per_minute,
                client_messages_per_minute: self.limits.client_messages_per_minute,
            },
        })
    }

    pub fn throttle(&self) -> auth::ThrottleConfig {
        let delay = Duration::from_millis(self.auth.failure_delay_ms);
        auth::ThrottleConfig {
            failure_delay: delay,
            max_delay: delay * 16,
            max_failures: self.auth.max_failures,
            max_network_failures: self.auth.max_network_failures,
            max_site_failures: self.auth.max_site_failures,
            lockout: Duration::from_secs(self.auth.lockout),
            max_entries: self.auth.max_throttle_entries,
        }
    }

    pub fn pop3(&self) -> pop3d::Pop3Config {
        pop3d::Pop3Config {
            allow_cleartext_auth: self.auth.allow_cleartext,
            login_timeout: Duration::from_secs(self.pop3.login_timeout),
            timeout: Duration::from_secs(self.pop3.timeout),
            max_errors: self.pop3.max_errors,
            ..pop3d::Pop3Config::default()
        }
    }

    /// The ManageSieve server's settings: its sessions from
    /// `[managesieve]`, what an account may store from `[sieve]`.
    pub fn managesieve(&self) -> anyhow::Result<managesieve::ManageSieveConfig> {
        Ok(managesieve::ManageSieveConfig {
            allow_cleartext_auth: self.auth.allow_cleartext,
            login_timeout: Duration::from_secs(self.managesieve.login_timeout),
            timeout: Duration::from_secs(self.managesieve.timeout),
            max_errors: self.managesieve.max_errors,
            limits: self.sieve.storage()?,
            max_redirects: self.sieve.max_redirects,
            ..managesieve::ManageSieveConfig::default()
        })
    }
}

/// A `[delivery]` timeout: zero would fail every delivery at once.
fn seconds(value: u64) -> anyhow::Result<Duration> {
    if value == 0 {
        anyhow::bail!("[delivery] timeouts must be at least 1 second");
    }
    Ok(Duration::from_secs(value))
}

/// `/var/lib/postamt` for root, as a system service; otherwise a directory
/// in the user's home, so a first try needs no privileges.
fn default_data_dir() -> PathBuf {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        return PathBuf::from("/var/lib/postamt");
    }
    match (std::env::var_os("XDG_DATA_HOME"), std::env::var_os("HOME")) {
        (Some(data), _) => PathBuf::from(data).join("postamt"),
        (None, Some(home)) => PathBuf::from(home).join(".local/share/postamt"),
        (None, None) => PathBuf::from("postamt-data"),
    }
}

impl Config {
    /// `node_id`, or `hostname` when it is not set.
    pub fn node_id(&self) -> &str {
        if self.node_id.is_empty() {
            &self.hostname
        } else {
            &self.node_id
        }
    }
}

pub(crate) fn machine_hostname() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most
    // that many bytes.
    let result = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    match std::str::from_utf8(&buffer[..end]) {
        Ok(name) if result == 0 && !name.is_empty() => name.to_string(),
        _ => "localhost".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's configuration block is a config file that loads, key
    /// for key: a key renamed or removed in the code fails here, not in
    /// the hands of someone who pasted it.
    #[test]
    fn the_readme_configuration_parses() {
        let readme = include_str!("../../../README.md");
        let section = readme
            .split("## Configuration")
            .nth(1)
            .expect("a Configuration section");
        let block = section
            .split("```toml\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("a toml block");
        let config: Config = toml::from_str(block).unwrap_or_else(|e| panic!("README's config: {e}"));
        assert_eq!(config.hostname, "mail.example.org");
        assert_eq!(config.store.pool_size, 16);
        assert_eq!(config.server.user.as_deref(), Some("postamt"));
    }

    #[test]
    fn every_key_has_a_default() {
        let config: Config = toml::from_str("").unwrap();
        assert_eq!(config.listen.smtp, on_all_interfaces(25));
        assert_eq!(config.listen.pop3s, on_all_interfaces(995));
        assert!(!config.auth.allow_cleartext);
        assert!(!config.hostname.is_empty());
    }

    #[test]
    fn mta_sts_keys_reach_the_queue() {
        let defaults = toml::from_str::<Config>("").unwrap().queue().unwrap();
        assert!(defaults.mta_sts, "MTA-STS is on unless turned off");
        assert_eq!((defaults.ca_file, defaults.mta_sts_port), (None, 443));
        let config: Config = toml::from_str(
            "[queue]
mta_sts = false
ca_file = \"/etc/ca.pem\"
mta_sts_port = 8443
",
        )
        .unwrap();
        let queue = config.queue().unwrap();
        assert!(!queue.mta_sts);
        assert_eq!(queue.ca_file.as_deref(), Some(Path::new("/etc/ca.pem")));
        assert_eq!(queue.mta_sts_port, 8443);
    }

    #[test]
    fn dane_keys_reach_the_queue() {
        let defaults = toml::from_str::<Config>("").unwrap().queue().unwrap();
        assert!(defaults.dane, "DANE is on unless turned off");
        assert_eq!(defaults.dnssec_trust_anchor, None);
        let config: Config =
            toml::from_str("[queue]\ndane = false\ndnssec_trust_anchor = \"/usr/share/dns/root.key\"\n").unwrap();
        let queue = config.queue().unwrap();
        assert!(!queue.dane);
        assert_eq!(
            queue.dnssec_trust_anchor.as_deref(),
            Some(Path::new("/usr/share/dns/root.key"))
        );
    }

    #[test]
    fn auth_keys_reach_the_throttle() {
        let defaults = auth::ThrottleConfig::default();
        let throttle = toml::from_str::<Config>("").unwrap().throttle();
        assert_eq!(throttle.max_failures, defaults.max_failures);
        assert_eq!(throttle.max_network_failures, defaults.max_network_failures);
        assert_eq!(throttle.max_site_failures, defaults.max_site_failures);
        assert_eq!(throttle.max_entries, defaults.max_entries);
        assert_eq!(throttle.lockout, defaults.lockout);
        let config: Config = toml::from_str(
            "[auth]\nfailure_delay_ms = 20\nmax_failures = 3\nmax_network_failures = 7\n\
             max_site_failures = 11\nlockout = 60\nmax_throttle_entries = 500\n",
        )
        .unwrap();
        let throttle = config.throttle();
        assert_eq!(throttle.failure_delay, Duration::from_millis(20));
        assert_eq!(throttle.max_delay, Duration::from_millis(320));
        assert_eq!(
            (
                throttle.max_failures,
                throttle.max_network_failures,
                throttle.max_site_failures
            ),
            (3, 7, 11)
        );
        assert_eq!(throttle.lockout, Duration::from_secs(60));
        assert_eq!(throttle.max_entries, 500);
    }

    /// `[managesieve]` and `[sieve]` reach the ManageSieve server; its
    /// listener defaults to port 4190 (RFC 5804 §1.8).
    #[test]
    fn managesieve_keys_reach_its_server() {
        let defaults = toml::from_str::<Config>("").unwrap();
        assert_eq!(defaults.listen.managesieve, on_all_interfaces(4190));
        let managesieve = defaults.managesieve().unwrap();
        assert_eq!(managesieve.limits.max_size, sieve::MAX_SCRIPT_SIZE);
        assert!(!managesieve.allow_cleartext_auth);
        let config: Config = toml::from_str(
            "[managesieve]\nlogin_timeout = 5\ntimeout = 50\nmax_errors = 3\n\
             [sieve]\nmax_scripts = 7\nmax_script_size = 1000\nmax_redirects = 2\n\
             [auth]\nallow_cleartext = true\n",
        )
        .unwrap();
        let managesieve = config.managesieve().unwrap();
        assert_eq!(managesieve.login_timeout, Duration::from_secs(5));
        assert_eq!(managesieve.timeout, Duration::from_secs(50));
        assert_eq!(managesieve.max_errors, 3);
        assert_eq!((managesieve.limits.max_scripts, managesieve.limits.max_size), (7, 1000));
        assert_eq!(managesieve.max_redirects, 2);
        assert!(managesieve.allow_cleartext_auth);
        let too_large: Config = toml::from_str("[sieve]\nmax_script_size = 99999999\n").unwrap();
        assert!(too_large.managesieve().is_err());
    }

    #[test]
    fn reads_listeners_and_rejects_unknown_keys() {
        let config: Config = toml::from_str("[listen]\nsmtp = [\"127.0.0.1:2525\"]\npop3 = []\n").unwrap();
        assert_eq!(config.listen.smtp, vec!["127.0.0.1:2525".parse().unwrap()]);
        assert!(config.listen.pop3.is_empty());
        assert_eq!(config.listen.imap, on_all_interfaces(143));
        let err = toml::from_str::<Config>("[listen]\nsmpt = []\n").unwrap_err();
        assert!(err.to_string().contains("smpt"), "{err}");
    }

    #[test]
    fn imap_command_bounds_follow_max_literal_unless_set() {
        let config: Config = toml::from_str("[imap]\nmax_literal = 1000\n").unwrap();
        let imap = config.imap();
        assert_eq!(imap.max_command, 1000 + 1024 * 1024);
        assert_eq!((imap.max_command_before_login, imap.max_literals), (8192, 1000));
        let config: Config = toml::from_str("[imap]\nmax_command = 5000\nmax_literals = 3\n").unwrap();
        assert_eq!((config.imap().max_command, config.imap().max_literals), (5000, 3));
    }

    /// NOTIFY's limits (RFC 5465) reach the IMAP server from `[imap]`.
    #[test]
    fn imap_notify_and_context_limits_are_read() {
        let defaults = imapd::ImapConfig::default();
        let limits = |imap: imapd::ImapConfig| {
            (
                imap.max_notify_mailboxes,
                imap.max_notify_output,
                imap.max_notify_filters,
                imap.max_update_contexts,
            )
        };
        let imap = toml::from_str::<Config>("").unwrap().imap();
        assert_eq!(limits(imap), limits(defaults));
        let config: Config = toml::from_str(
            "[imap]\nmax_notify_mailboxes = 7\nmax_notify_output = 4096\nmax_notify_filters = 9\nmax_update_contexts = 3\n",
        )
        .unwrap();
        assert_eq!(limits(config.imap()), (7, 4096, 9, 3));
    }

    #[test]
    fn bad_trusted_networks_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("postamt.toml");
        std::fs::write(&path, "[smtp]\ntrusted_networks = [\"10.0.0.0/8\", \"10.0.0.0/99\"]\n").unwrap();
        let err = Config::load(Some(&path), None).unwrap_err();
        assert!(format!("{err:#}").contains("trusted_networks"), "{err:#}");
    }
}
