//! How the queue delivers: where, how often, for how long.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How to reach a configured relay (a "smarthost").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayTls {
    /// STARTTLS, required.
    StartTls,
    /// TLS from the first byte (RFC 8314, port 465).
    Implicit,
    /// No TLS; never with credentials.
    None,
}

/// All mail to other domains goes through this relay.
#[derive(Debug, Clone)]
pub struct Relay {
    pub host: String,
    pub port: u16,
    pub tls: RelayTls,
    /// User and password for AUTH PLAIN, if the relay wants them.
    pub credentials: Option<(String, String)>,
    /// An extra CA to trust for the relay's certificate, beside the system's.
    pub ca_file: Option<PathBuf>,
}

/// How long the SMTP client waits, for each whole reply (not each read:
/// a server that sends one byte a minute gets no longer than one that
/// sends nothing) and for each connection as a whole. The defaults are
/// RFC 5321 §4.5.3.2's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientTimeouts {
    /// Opening the TCP connection.
    pub connect: Duration,
    /// The greeting (§4.5.3.2.1: 5 minutes).
    pub greeting: Duration,
    /// The reply to EHLO, STARTTLS, AUTH, MAIL, RCPT, RSET (§4.5.3.2.2,
    /// §4.5.3.2.3: 5 minutes); also the TLS handshake.
    pub command: Duration,
    /// The 354 to DATA (§4.5.3.2.4: 2 minutes).
    pub data_init: Duration,
    /// Each block of message data sent (§4.5.3.2.5: 3 minutes).
    pub data_block: Duration,
    /// The reply to the end of the data (§4.5.3.2.6: 10 minutes).
    pub data_end: Duration,
    /// Everything on one connection, however many messages it carries: a
    /// destination that answers just in time, every time, is still let go.
    pub session: Duration,
}

impl Default for ClientTimeouts {
    fn default() -> Self {
        let minutes = |m: u64| Duration::from_secs(60 * m);
        ClientTimeouts {
            connect: Duration::from_secs(30),
            greeting: minutes(5),
            command: minutes(5),
            data_init: minutes(2),
            data_block: minutes(3),
            data_end: minutes(10),
            session: minutes(30),
        }
    }
}

#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// Our name in EHLO and DSNs, and to recognise ourselves as an MX.
    pub hostname: String,
    /// This node's name in the leases it takes; `hostname` when empty.
    pub node_id: String,
    /// DNS servers to ask; empty for the system's.
    pub nameservers: Vec<SocketAddr>,
    /// The port dialled on MX hosts (25, except in tests).
    pub port: u16,
    pub relay: Option<Relay>,
    /// Gaps between attempts; the last one repeats.
    pub retry_intervals: Vec<Duration>,
    /// How long a message is tried before it is bounced.
    pub lifetime: Duration,
    /// How long a bounce (null reverse-path) is tried before it is dropped.
    pub bounce_lifetime: Duration,
    /// When the sender is told that a message is still on its way (once).
    pub delay_warning: Duration,
    /// Deliveries under way at once, in total and to one domain.
    pub max_deliveries: usize,
    pub max_per_domain: usize,
    /// Host addresses one attempt tries at most (as Postfix's
    /// smtp_mx_address_limit); the next attempt starts from the first.
    pub max_addresses_per_attempt: usize,
    pub timeouts: ClientTimeouts,
    /// Where spam goes for accounts that did not choose: their Junk
    /// mailbox (true, the default) or their INBOX.
    pub spam_to_junk: bool,
    /// Whether recipient domains' MTA-STS policies (RFC 8461) are looked
    /// up and enforced; a relay bypasses them either way.
    pub mta_sts: bool,
    /// Extra CA certificates (PEM) trusted beside the system's, for the
    /// certificates of MX hosts under a policy and of MTA-STS policy hosts.
    pub ca_file: Option<PathBuf>,
    /// The port MTA-STS policies are fetched from: 443 (RFC 8461 §3.3).
    /// For tests only, which cannot bind 443.
    pub mta_sts_port: u16,
    /// Whether DANE (RFC 7672) applies to hosts with DNSSEC-secure TLSA
    /// records; it needs nameservers that DNSSEC validation works
    /// through, which is probed first. A relay bypasses it.
    pub dane: bool,
    /// The DNSSEC trust anchor: DNSKEY records in zone-file form (e.g.
    /// Debian's /usr/share/dns/root.key); None: the root's built into
    /// the resolver.
    pub dnssec_trust_anchor: Option<PathBuf>,
    /// The bounds on each run of a user's Sieve script at delivery.
    pub sieve: sieve::Limits,
}

impl Default for QueueConfig {
    fn default() -> Self {
        let minutes = |m: u64| Duration::from_secs(60 * m);
        QueueConfig {
            hostname: "localhost".into(),
            node_id: String::new(),
            nameservers: Vec::new(),
            port: 25,
            relay: None,
            retry_intervals: vec![
                minutes(1),
                minutes(5),
                minutes(15),
                minutes(30),
                minutes(60),
                minutes(120),
            ],
            lifetime: Duration::from_secs(5 * 24 * 3600),
            bounce_lifetime: Duration::from_secs(5 * 24 * 3600),
            delay_warning: Duration::from_secs(4 * 3600),
            // As many as Postfix runs smtp(8) processes by default; here
            // each is a task and a connection, not a process.
            max_deliveries: 100,
            max_per_domain: 5,
            max_addresses_per_attempt: 5,
            timeouts: ClientTimeouts::default(),
            spam_to_junk: true,
            mta_sts: true,
            ca_file: None,
            mta_sts_port: 443,
            dane: true,
            dnssec_trust_anchor: None,
            sieve: sieve::Limits::default(),
        }
    }
}

impl QueueConfig {
    /// The gap after the `attempts`-th failed attempt.
    pub fn retry_delay(&self, attempts: i64) -> Duration {
        let index = usize::try_from(attempts.saturating_sub(1)).unwrap_or(0);
        self.retry_intervals
            .get(index)
            .or(self.retry_intervals.last())
            .copied()
            .unwrap_or(Duration::from_secs(3600))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_grow_then_level_off() {
        let config = QueueConfig::default();
        let gaps: Vec<u64> = (1..=8).map(|a| config.retry_delay(a).as_secs()).collect();
        assert_eq!(gaps, [60, 300, 900, 1800, 3600, 7200, 7200, 7200]);
        assert_eq!(config.retry_delay(0).as_secs(), 60);
    }
}
