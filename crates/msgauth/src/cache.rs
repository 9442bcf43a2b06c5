//! The caches of the checks' DNS lookups, in two layers.
//!
//! Positive answers: a bounded cache of parsed records for mail-auth's
//! lookups (its `ResolverCache` trait). Entries expire at the time
//! mail-auth gives (the record's TTL); when the cache is full it is
//! emptied, so a flood of distinct names (one per spam message) costs
//! bounded memory and never an unbounded scan.
//!
//! Negative answers (NXDOMAIN, and NOERROR without data): mail-auth turns
//! them into errors before its cache sees them, so they are kept one layer
//! down, in the resolver's own bounded response cache, whose lifetimes
//! [`negative_caching`] sets (RFC 2308 §5).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mail_auth::ResolverCache;
use mail_auth::hickory_resolver::config::ResolverOpts;

/// Answers kept per record type; a few thousand domains' worth.
const CAPACITY: usize = 4096;

/// How long a negative answer without an SOA record counts, and the least
/// any negative answer counts. RFC 2308 §5 says not to cache negative
/// answers without an SOA, for fear of answers circulating between
/// servers that forward to each other; the checks are the end of the line
/// (they never pass an answer on), so that fear does not apply, while
/// asking the same missing name again for every message of a sender
/// costs a round trip each time. Short, so that a record published just
/// now (the usual fix after a failed first message) counts soon; an SOA
/// that asks for less than this (rare: zones use minutes to hours) is
/// raised to it, since the resolver has one lower bound for both.
pub const NEGATIVE_TTL_WITHOUT_SOA: Duration = Duration::from_secs(30);

/// The most a negative answer counts, whatever its SOA says (RFC 2308 §5:
/// a resolver should limit it). Five minutes, not the RFC's hours: a
/// missing SPF, DMARC or DKIM key record is the one the sender is most
/// likely to publish next, and until it counts their mail fails the checks.
pub const NEGATIVE_TTL_MAX: Duration = Duration::from_secs(5 * 60);

/// Answers the resolver keeps in all, positive and negative together
/// (its cache evicts the least used beyond that).
pub const RESOLVER_CACHE_ENTRIES: u64 = 8192;

/// Sets the resolver to keep negative answers (NXDOMAIN and NOERROR
/// without data, RFC 2308 §5) for their SOA's negative TTL (the lesser of
/// the SOA record's TTL and its MINIMUM field), within
/// [`NEGATIVE_TTL_WITHOUT_SOA`] and [`NEGATIVE_TTL_MAX`], or for
/// [`NEGATIVE_TTL_WITHOUT_SOA`] when the answer has no SOA. (Left to its
/// defaults, it keeps them for the SOA's TTL up to a day, and not at all
/// without an SOA.) Failures
/// (SERVFAIL, REFUSED, timeouts) are never kept: they say nothing about
/// the records, and the checks report them as temperror (RFC 7208
/// §2.6.6, RFC 6376 §3.9) so that the next message asks again.
pub fn negative_caching(options: &mut ResolverOpts) {
    options.cache_size = RESOLVER_CACHE_ENTRIES;
    options.negative_min_ttl = Some(NEGATIVE_TTL_WITHOUT_SOA);
    options.negative_max_ttl = Some(NEGATIVE_TTL_MAX);
}

pub struct Cache<K, V> {
    entries: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K, V> Default for Cache<K, V> {
    fn default() -> Self {
        Cache {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq, V: Clone> ResolverCache<K, V> for Cache<K, V> {
    fn get<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(name) {
            Some((value, until)) if *until > Instant::now() => Some(value.clone()),
            Some(_) => {
                entries.remove(name);
                None
            }
            None => None,
        }
    }

    fn remove<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(name).map(|(value, _)| value)
    }

    fn insert(&self, key: K, value: V, valid_until: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key, (value, valid_until));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn answers_until_expiry_and_stays_bounded() {
        let cache: Cache<Box<str>, u32> = Cache::default();
        let later = Instant::now() + Duration::from_secs(60);
        cache.insert("a.test".into(), 1, later);
        cache.insert("gone.test".into(), 2, Instant::now() - Duration::from_secs(1));
        assert_eq!(cache.get("a.test"), Some(1));
        assert_eq!(cache.get("gone.test"), None);
        for n in 0..CAPACITY * 2 {
            cache.insert(format!("{n}.test").into(), 0, later);
        }
        assert!(cache.entries.lock().unwrap().len() <= CAPACITY);
    }
}
