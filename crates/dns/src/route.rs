//! Where mail for a domain goes: RFC 5321 §5.1.

use ring::rand::{SecureRandom, SystemRandom};

use crate::{DnsError, MxAnswer, Resolver};

/// The hosts to try for a domain, best first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub hosts: Vec<String>,
}

/// Why mail for a domain cannot be routed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("domain {0} does not exist")]
    NoSuchDomain(String),
    #[error("domain {0} accepts no mail (null MX, RFC 7505)")]
    NullMx(String),
    /// Our own name is the best MX: a configuration error, reported
    /// rather than looped (RFC 5321 §5.1).
    #[error(
        "the MX of {domain} points back to this host ({hostname}); host the domain here with `postamt domain add {domain}` or correct its MX"
    )]
    LoopsToSelf { domain: String, hostname: String },
    #[error("{0}")]
    Temporary(String),
}

impl RouteError {
    /// Why an MX lookup of `domain` that failed with `error` gives no
    /// route.
    pub fn of_lookup(domain: &str, error: DnsError) -> RouteError {
        match error {
            DnsError::NoSuchDomain(_) => RouteError::NoSuchDomain(domain.to_string()),
            DnsError::Temporary { .. } => RouteError::Temporary(error.to_string()),
        }
    }

    /// True if retrying later cannot help.
    pub fn is_permanent(&self) -> bool {
        !matches!(self, RouteError::Temporary(_))
    }
}

impl Resolver {
    /// The hosts that take mail for `domain`: its MX hosts by preference,
    /// equal preferences in random order (RFC 5321 §5.1 asks to spread the
    /// load), or the domain itself when it has no MX. Hosts as good as or
    /// worse than `own_hostname` are dropped, as §5.1 requires of a host
    /// that finds itself in the list.
    pub async fn route(&self, domain: &str, own_hostname: &str) -> Result<Route, RouteError> {
        let answer = self.mx(domain).await.map_err(|e| RouteError::of_lookup(domain, e))?;
        Route::of(domain, answer, own_hostname)
    }
}

impl Route {
    /// The route `answer` (the MX records of `domain`, however they were
    /// looked up: `SecureResolver::mx` for DANE gives them too) makes, as
    /// `Resolver::route` describes.
    pub fn of(domain: &str, answer: MxAnswer, own_hostname: &str) -> Result<Route, RouteError> {
        let mut mx = match answer {
            MxAnswer::Null => return Err(RouteError::NullMx(domain.to_string())),
            MxAnswer::NoMx => {
                return Ok(Route {
                    hosts: vec![domain.to_string()],
                });
            }
            MxAnswer::Hosts(hosts) => hosts,
        };
        shuffle(&mut mx);
        mx.sort_by_key(|(preference, _)| *preference);
        let own = own_hostname.trim_end_matches('.').to_lowercase();
        if let Some(own_preference) = mx.iter().find(|(_, host)| *host == own).map(|(p, _)| *p) {
            mx.retain(|(preference, _)| *preference < own_preference);
            if mx.is_empty() {
                return Err(RouteError::LoopsToSelf {
                    domain: domain.to_string(),
                    hostname: own,
                });
            }
        }
        Ok(Route {
            hosts: mx.into_iter().map(|(_, host)| host).collect(),
        })
    }
}

/// Fisher-Yates with the system's random generator (a stable sort by
/// preference afterwards keeps this order among equals).
fn shuffle<T>(items: &mut [T]) {
    let random = SystemRandom::new();
    for i in (1..items.len()).rev() {
        let mut bytes = [0u8; 4];
        if random.fill(&mut bytes).is_err() {
            return;
        }
        let j = u32::from_le_bytes(bytes) as usize % (i + 1);
        items.swap(i, j);
    }
}
