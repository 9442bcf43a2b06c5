//! Rate limits shared by all sessions of this node (issue 17), or of the
//! cluster when the backend counts them in a shared store (issue 18,
//! `Backend::count_shared_rate`; `Session::rate_allows` asks it first): what one
//! authenticated user may send per hour (messages, recipients), so that a
//! stolen password sends a few hundred messages, not a million; and what
//! one client address may do per minute on port 25 (connections,
//! messages). Exceeding one is a temporary refusal (451 4.7.1): a real
//! sender's mail waits in its queue and arrives later.
//!
//! Each key counts in fixed windows and estimates the sliding window from
//! the current and the previous one (the previous count weighted by how
//! much of it still overlaps), so memory per key is constant and a burst
//! at a window's edge cannot pass twice the limit.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Keys counted at most per limit; beyond that the stalest are dropped
/// (they would have aged out anyway).
const MAX_KEYS: usize = 100_000;

/// One limit: at most `limit` events per `window` per key; 0 is no limit.
pub struct RateLimit<K> {
    /// Changed by a reload (SIGHUP); the counts stay.
    limit: AtomicU64,
    window: Duration,
    counts: Mutex<HashMap<K, Counter>>,
}

#[derive(Clone, Copy)]
struct Counter {
    /// Start of the current window.
    since: Instant,
    current: u64,
    previous: u64,
}

impl<K: Hash + Eq + Clone> RateLimit<K> {
    pub fn new(limit: u64, window: Duration) -> RateLimit<K> {
        RateLimit {
            limit: AtomicU64::new(limit),
            window,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Events per window at most; 0 is no limit.
    pub fn limit(&self) -> u64 {
        self.limit.load(Ordering::Relaxed)
    }

    /// A new limit for the events counted from now on; what was counted
    /// still counts.
    pub fn set_limit(&self, limit: u64) {
        self.limit.store(limit, Ordering::Relaxed);
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// Counts `n` events for `key` at `now` if that keeps it within the
    /// limit; false (and nothing counted) if it would not.
    pub fn allow(&self, key: &K, n: u64, now: Instant) -> bool {
        let limit = self.limit();
        if limit == 0 {
            return true;
        }
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if counts.len() >= MAX_KEYS && !counts.contains_key(key) {
            let window = self.window;
            counts.retain(|_, counter| now.duration_since(counter.since) < 2 * window);
            if counts.len() >= MAX_KEYS {
                counts.clear();
            }
        }
        let counter = counts.entry(key.clone()).or_insert(Counter {
            since: now,
            current: 0,
            previous: 0,
        });
        let elapsed = now.saturating_duration_since(counter.since);
        if elapsed >= self.window {
            // One window later the current count becomes the previous one;
            // two or more later, both are over.
            counter.previous = if elapsed < 2 * self.window { counter.current } else { 0 };
            counter.current = 0;
            counter.since += self.window * (elapsed.as_secs_f64() / self.window.as_secs_f64()) as u32;
        }
        let overlap = 1.0 - now.saturating_duration_since(counter.since).as_secs_f64() / self.window.as_secs_f64();
        let estimate = counter.current as f64 + counter.previous as f64 * overlap.max(0.0);
        if estimate + n as f64 > limit as f64 {
            return false;
        }
        counter.current += n;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_limit_per_window_and_others_are_apart() {
        let limit = RateLimit::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limit.allow(&"alice", 1, start));
        }
        assert!(!limit.allow(&"alice", 1, start + Duration::from_secs(1)));
        assert!(limit.allow(&"bob", 1, start), "another key is unaffected");
        // Half a window into the next one, half of the previous count
        // still weighs: 1.5 of 3 used.
        assert!(limit.allow(&"alice", 1, start + Duration::from_secs(90)));
        assert!(!limit.allow(&"alice", 1, start + Duration::from_secs(90)));
        // Long after, all of it is over.
        assert!(limit.allow(&"alice", 3, start + Duration::from_secs(600)));
        assert!(!limit.allow(&"alice", 1, start + Duration::from_secs(600)));
        // More at once than the limit is never allowed; 0 is no limit.
        assert!(!limit.allow(&"carol", 4, start));
        assert!(RateLimit::new(0, Duration::from_secs(1)).allow(&"x", 1_000_000, start));
    }

    #[test]
    fn the_number_of_keys_is_bounded() {
        let limit = RateLimit::new(1, Duration::from_secs(60));
        let now = Instant::now();
        for n in 0..(MAX_KEYS as u32 + 10) {
            assert!(limit.allow(&n, 1, now));
        }
        assert!(limit.counts.lock().unwrap().len() <= MAX_KEYS);
    }
}
