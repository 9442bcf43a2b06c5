//! A bounded DNS answer cache for mail-auth's lookups (its
//! `ResolverCache` trait). Entries expire at the time mail-auth gives
//! (the record's TTL); when the cache is full it is emptied, so a flood
//! of distinct names (one per spam message) costs bounded memory and
//! never an unbounded scan.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Instant;

use mail_auth::ResolverCache;

/// Answers kept per record type; a few thousand domains' worth.
const CAPACITY: usize = 4096;

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
