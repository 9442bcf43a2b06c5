//! Which policy applies to a domain now (RFC 8461 §5.1): the TXT record's
//! id against the cached policy's, a fetch when they differ, the cached
//! policy when the fetch fails or the record is gone, and nothing when
//! there is neither. Policies live in memory and in the store (so they
//! outlast a restart); failed fetches are remembered in memory for a few
//! minutes, so a broken policy server is not asked again for every
//! message.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dns::Resolver;
use store::{Store, StoredStsPolicy};

use super::fetch::{FetchError, Fetcher};
use super::policy::Policy;
use super::record;

/// How long a failed fetch stops the next one for the same domain.
const FAILURE_MEMORY: Duration = Duration::from_secs(300);
/// Domains remembered in memory (policies, and failures), at most: past
/// it the memory starts over, the store still has every policy.
const MAX_REMEMBERED: usize = 10_000;
/// How often expired policies are dropped from memory and the store.
const TIDY_EVERY: Duration = Duration::from_secs(3600);

/// What `Policies::discover` found for a domain.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// The policy in force, if any (its mode may be `none`).
    pub policy: Option<Arc<Policy>>,
    /// Why a fetch just failed, for logs and TLS reports (RFC 8460
    /// `FetchError::result_type`); the cached policy, if any, applies.
    pub failure: Option<FetchError>,
}

#[derive(Debug, Clone)]
struct Cached {
    id: String,
    policy: Arc<Policy>,
    expires_at: i64,
}

/// The policies of the domains mail goes to.
pub struct Policies {
    resolver: Resolver,
    fetcher: Fetcher,
    store: Store,
    memory: Mutex<HashMap<String, Cached>>,
    failures: Mutex<HashMap<String, Instant>>,
    /// When `tidy` last did its work.
    tidied: Mutex<Instant>,
}

impl Policies {
    pub fn new(resolver: Resolver, fetcher: Fetcher, store: Store) -> Policies {
        Policies {
            resolver,
            fetcher,
            store,
            memory: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            tidied: Mutex::new(Instant::now()),
        }
    }

    /// Drops expired policies (memory and store) and old failures, at
    /// most once an hour however often it is called: an expired policy is
    /// never used (§5.1), so keeping it only costs room.
    pub async fn tidy(&self) {
        {
            let mut tidied = lock(&self.tidied);
            if tidied.elapsed() < TIDY_EVERY {
                return;
            }
            *tidied = Instant::now();
        }
        let now = store::now();
        lock(&self.memory).retain(|_, cached| cached.expires_at > now);
        lock(&self.failures).retain(|_, at| at.elapsed() < FAILURE_MEMORY);
        match self.store.delete_expired_mta_sts_policies(now).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(n, "forgot expired MTA-STS policies"),
            Err(e) => tracing::warn!(error = %e, "could not forget expired MTA-STS policies"),
        }
    }

    /// The policy that applies to mail for `domain` now.
    pub async fn discover(&self, domain: &str) -> Discovery {
        // The policy host's name and the certificate's are A-labels (RFC
        // 8461 §3.3 fetches from `mta-sts.` and the domain as DNS knows it).
        let domain = store::normalize_domain(domain);
        if domain.starts_with('[') {
            // An address literal has no DNS name to publish a policy under.
            return Discovery::default();
        }
        let now = store::now();
        let cached = self.cached(&domain, now).await;
        let keep = |cached: Option<Cached>, failure| Discovery {
            policy: cached.map(|c| c.policy),
            failure,
        };
        // §5.1: without a valid TXT record (or with DNS failing) a cached
        // policy still applies; without one there is no policy.
        let id = match self.resolver.txt(&format!("_mta-sts.{domain}")).await {
            Ok(records) => record::policy_id(&records),
            Err(e) => {
                tracing::debug!(%domain, error = %e, "no MTA-STS record answer");
                None
            }
        };
        let Some(id) = id else {
            return keep(cached, None);
        };
        if cached.as_ref().is_some_and(|c| c.id == id) {
            return keep(cached, None);
        }
        if self.failed_recently(&domain) {
            return keep(cached, None);
        }
        match self.fetcher.fetch(&domain).await {
            Ok(fetched) => {
                let max_age = i64::try_from(fetched.policy.max_age).unwrap_or(i64::MAX);
                let stored = StoredStsPolicy {
                    policy_id: id.clone(),
                    policy: fetched.text,
                    fetched_at: now,
                    expires_at: now.saturating_add(max_age),
                };
                if let Err(e) = self.store.save_mta_sts_policy(&domain, &stored).await {
                    tracing::warn!(%domain, error = %e, "could not keep the MTA-STS policy in the store");
                }
                let fresh = Cached {
                    id,
                    policy: Arc::new(fetched.policy),
                    expires_at: stored.expires_at,
                };
                tracing::info!(%domain, mode = fresh.policy.mode.name(), id = %fresh.id, "fetched an MTA-STS policy");
                remember(&self.memory, domain, fresh.clone());
                keep(Some(fresh), None)
            }
            Err(e) => {
                tracing::warn!(%domain, error = %e, cached = cached.is_some(), "MTA-STS policy fetch failed");
                remember(&self.failures, domain, Instant::now());
                keep(cached, Some(e))
            }
        }
    }

    /// The unexpired policy cached for `domain`: from memory, else from
    /// the store (and then in memory too).
    async fn cached(&self, domain: &str, now: i64) -> Option<Cached> {
        let in_memory = lock(&self.memory).get(domain).cloned();
        if let Some(cached) = in_memory {
            return (cached.expires_at > now).then_some(cached);
        }
        let stored = match self.store.mta_sts_policy(domain).await {
            Ok(stored) => stored?,
            Err(e) => {
                tracing::warn!(%domain, error = %e, "could not read the MTA-STS policy kept in the store");
                return None;
            }
        };
        if stored.expires_at <= now {
            return None;
        }
        let policy = Policy::parse(&stored.policy).ok()?;
        let cached = Cached {
            id: stored.policy_id,
            policy: Arc::new(policy),
            expires_at: stored.expires_at,
        };
        remember(&self.memory, domain.to_string(), cached.clone());
        Some(cached)
    }

    fn failed_recently(&self, domain: &str) -> bool {
        lock(&self.failures)
            .get(domain)
            .is_some_and(|at| at.elapsed() < FAILURE_MEMORY)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Keeps `value` for `domain`, starting over when the map is full (the
/// store still holds every policy, and a forgotten failure costs a fetch).
fn remember<T>(map: &Mutex<HashMap<String, T>>, domain: String, value: T) {
    let mut map = lock(map);
    if map.len() >= MAX_REMEMBERED && !map.contains_key(&domain) {
        map.clear();
    }
    map.insert(domain, value);
}
