//! DNS blocklists and allowlists at connect time, as Postfix's postscreen
//! weighs them (issue 17): every configured zone is asked about the client
//! at once (RFC 5782), each listing adds the zone's weight (allowlists
//! have negative weights), and a client whose score reaches the threshold
//! is refused before the greeting with `554 5.7.1`. The verdict is kept an
//! hour per address, so a client's next connections cost no lookups. A
//! list that does not answer in time counts as not listing: a broken list
//! must not stop the mail.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use wire::smtp::Reply;

/// All lookups for one client together; postscreen allows 10 s, but the
/// client waits for its greeting meanwhile.
const TIME_BUDGET: Duration = Duration::from_secs(5);
/// How long a verdict is kept per address.
const VERDICT_TTL: Duration = Duration::from_secs(3600);
/// Verdicts kept at most (about 100 bytes each).
const MAX_VERDICTS: usize = 100_000;

/// `[dnsbl]`: off (no zones) by default.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DnsblConfig {
    /// The score at which a client is refused (default 1: any listing).
    pub threshold: i32,
    pub zones: Vec<ZoneConfig>,
}

impl Default for DnsblConfig {
    fn default() -> Self {
        DnsblConfig {
            threshold: 1,
            zones: Vec::new(),
        }
    }
}

/// One list: `{ zone = "zen.spamhaus.org", weight = 3 }`, and optionally
/// `answers = "127.0.0.[2..11]"`, the answers that count (postscreen's
/// notation: per octet a number, `[a..b]`, or `[a;b;c]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneConfig {
    pub zone: String,
    #[serde(default = "one")]
    pub weight: i32,
    pub answers: Option<String>,
}

fn one() -> i32 {
    1
}

/// A parsed answer filter: the values each octet may have.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AnswerFilter([Vec<(u8, u8)>; 4]);

impl AnswerFilter {
    fn parse(pattern: &str) -> Option<AnswerFilter> {
        // Dots separate octets only outside brackets: `[1..3]` is one.
        let mut octets = Vec::new();
        let (mut start, mut depth) = (0, 0);
        for (i, c) in pattern.char_indices() {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                '.' if depth == 0 => {
                    octets.push(&pattern[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        octets.push(&pattern[start..]);
        let [a, b, c, d] = octets.as_slice() else { return None };
        Some(AnswerFilter([
            Self::octet(a)?,
            Self::octet(b)?,
            Self::octet(c)?,
            Self::octet(d)?,
        ]))
    }

    /// `7`, `[1..3]`, `[2;4;10..11]`: inclusive ranges.
    fn octet(text: &str) -> Option<Vec<(u8, u8)>> {
        let inner = match text.strip_prefix('[') {
            Some(rest) => rest.strip_suffix(']')?,
            None => return text.parse().ok().map(|n| vec![(n, n)]),
        };
        inner
            .split(';')
            .map(|part| match part.split_once("..") {
                Some((low, high)) => Some((low.trim().parse().ok()?, high.trim().parse().ok()?)),
                None => part.trim().parse().ok().map(|n| (n, n)),
            })
            .collect()
    }

    fn matches(&self, answer: Ipv4Addr) -> bool {
        self.0
            .iter()
            .zip(answer.octets())
            .all(|(ranges, octet)| ranges.iter().any(|&(low, high)| (low..=high).contains(&octet)))
    }
}

struct Zone {
    name: String,
    weight: i32,
    filter: Option<AnswerFilter>,
}

/// The configured lists with their resolver and the verdicts so far.
pub struct Dnsbl {
    resolver: dns::Resolver,
    zones: Vec<Arc<Zone>>,
    threshold: i32,
    /// Per address: until when, and the zone that blocks it (None: passed).
    verdicts: Mutex<HashMap<IpAddr, (Instant, Option<String>)>>,
}

impl Dnsbl {
    /// The lists of `config`, or None when there are none (off).
    pub fn new(config: &DnsblConfig, nameservers: &[std::net::SocketAddr]) -> anyhow::Result<Option<Dnsbl>> {
        if config.zones.is_empty() {
            return Ok(None);
        }
        let zones = config
            .zones
            .iter()
            .map(|zone| {
                let filter = match &zone.answers {
                    Some(pattern) => Some(AnswerFilter::parse(pattern).ok_or_else(|| {
                        anyhow::anyhow!(
                            "[dnsbl] zone {}: answers = {pattern:?} is not a pattern like \"127.0.0.[2..11]\"",
                            zone.zone
                        )
                    })?),
                    None => None,
                };
                if zone.zone.trim().is_empty() || zone.zone.contains(char::is_whitespace) {
                    anyhow::bail!("[dnsbl] zone {:?} is not a DNS name", zone.zone);
                }
                Ok(Arc::new(Zone {
                    name: zone.zone.trim_end_matches('.').to_lowercase(),
                    weight: zone.weight,
                    filter,
                }))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let resolver = dns::Resolver::dns_only(nameservers).map_err(anyhow::Error::msg)?;
        Ok(Some(Dnsbl {
            resolver,
            zones,
            threshold: config.threshold,
            verdicts: Mutex::new(HashMap::new()),
        }))
    }

    /// Refuses a client whose score reaches the threshold.
    pub async fn check(&self, ip: IpAddr) -> Result<(), Reply> {
        let ip = ip.to_canonical();
        let now = Instant::now();
        let cached = self
            .verdicts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&ip)
            .cloned();
        let blocked_by = match cached {
            Some((until, blocked_by)) if until > now => blocked_by,
            _ => {
                let blocked_by = self.look_up(ip).await;
                self.keep(ip, now + VERDICT_TTL, blocked_by.clone());
                blocked_by
            }
        };
        match blocked_by {
            Some(zone) => Err(Reply::new(
                554,
                "5.7.1",
                format!("Service unavailable; client [{ip}] blocked using {zone}"),
            )),
            None => Ok(()),
        }
    }

    /// Asks every list at once, within the time budget; the zone that
    /// weighs most among those listing the client, if its score reaches
    /// the threshold.
    async fn look_up(&self, ip: IpAddr) -> Option<String> {
        let mut lookups = tokio::task::JoinSet::new();
        for zone in &self.zones {
            let (resolver, zone) = (self.resolver.clone(), zone.clone());
            lookups.spawn(async move {
                let listed = match tokio::time::timeout(TIME_BUDGET, resolver.dnsbl(ip, &zone.name)).await {
                    Ok(Ok(answers)) => answers
                        .iter()
                        .any(|answer| zone.filter.as_ref().is_none_or(|f| f.matches(*answer))),
                    Ok(Err(e)) => {
                        tracing::warn!(zone = %zone.name, error = %e, "DNS list lookup failed; counted as not listing");
                        false
                    }
                    Err(_) => {
                        tracing::warn!(zone = %zone.name, "DNS list did not answer in time; counted as not listing");
                        false
                    }
                };
                listed.then_some(zone)
            });
        }
        let listing: Vec<Arc<Zone>> = lookups.join_all().await.into_iter().flatten().collect();
        let score: i32 = listing.iter().map(|zone| zone.weight).sum();
        let heaviest = listing.iter().max_by_key(|zone| zone.weight)?;
        if score >= self.threshold {
            let zones: Vec<&str> = listing.iter().map(|zone| zone.name.as_str()).collect();
            tracing::info!(client = %ip, score, zones = %zones.join(" "), "client refused: on DNS blocklists");
            Some(heaviest.name.clone())
        } else {
            None
        }
    }

    fn keep(&self, ip: IpAddr, until: Instant, blocked_by: Option<String>) {
        let mut verdicts = self.verdicts.lock().unwrap_or_else(|e| e.into_inner());
        if verdicts.len() >= MAX_VERDICTS {
            let now = Instant::now();
            verdicts.retain(|_, (until, _)| *until > now);
            if verdicts.len() >= MAX_VERDICTS {
                // A flood of new addresses: start over rather than grow.
                verdicts.clear();
            }
        }
        verdicts.insert(ip, (until, blocked_by));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_patterns_as_postscreen_writes_them() {
        let filter = AnswerFilter::parse("127.0.[0..255].[1..3]").unwrap();
        assert!(filter.matches(Ipv4Addr::new(127, 0, 9, 1)));
        assert!(filter.matches(Ipv4Addr::new(127, 0, 255, 3)));
        assert!(!filter.matches(Ipv4Addr::new(127, 0, 9, 0)));
        assert!(!filter.matches(Ipv4Addr::new(127, 1, 9, 2)));
        let list = AnswerFilter::parse("127.0.0.[2;4;10..11]").unwrap();
        assert!(list.matches(Ipv4Addr::new(127, 0, 0, 4)) && list.matches(Ipv4Addr::new(127, 0, 0, 11)));
        assert!(!list.matches(Ipv4Addr::new(127, 0, 0, 3)));
        for bad in ["127.0.0", "127.0.0.[1..", "127.0.0.300", "a.b.c.d", "127.0.0.1.2"] {
            assert_eq!(AnswerFilter::parse(bad), None, "{bad}");
        }
    }
}
