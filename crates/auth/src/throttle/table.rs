//! The throttle's memory: one record per counted key, bounded in number.
//! When it is full, records with nothing left to remember go first, then
//! the least recently used, an eighth of the table at a time, so that
//! making room is rare and a flood of fresh keys costs amortised O(log n)
//! per attempt rather than a scan each.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::network::Network;

/// What a count is kept for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    /// One account (its name, hashed with the throttle's secret key) tried
    /// from one network.
    Account(Network, u64),
    /// Every account tried from one network.
    Network(Network),
    /// Every account tried from one IPv6 /48.
    Site(u64),
}

/// Failures and attempts in flight for one key, in the current window.
#[derive(Debug)]
pub(crate) struct Record {
    /// Failures since `window_start`.
    pub(crate) failures: u32,
    /// Attempts reserved and not yet resolved: each may still fail, so it
    /// counts toward the limit until it does or succeeds.
    pub(crate) in_flight: u32,
    window_start: Instant,
    /// Set when the failures reach the limit.
    locked_until: Option<Instant>,
    last_used: Instant,
}

impl Record {
    fn new(now: Instant) -> Record {
        Record {
            failures: 0,
            in_flight: 0,
            window_start: now,
            locked_until: None,
            last_used: now,
        }
    }

    /// Forgets failures once a lockout is over, or, without one, once the
    /// window they were counted in has passed: a network behind which many
    /// people sometimes mistype is never locked out for that alone.
    fn refresh(&mut self, now: Instant, window: Duration) {
        let over = match self.locked_until {
            Some(until) => now >= until,
            None => now.saturating_duration_since(self.window_start) >= window,
        };
        if over {
            self.failures = 0;
            self.locked_until = None;
            self.window_start = now;
        }
    }

    /// How long this key refuses attempts, if it does: locked out, or so
    /// many attempts in flight that their failing would reach `limit`.
    fn refusal(&self, limit: u32, now: Instant, window: Duration) -> Option<Duration> {
        if let Some(until) = self.locked_until {
            return Some(until.saturating_duration_since(now));
        }
        if self.failures.saturating_add(self.in_flight) >= limit {
            return Some(window.saturating_sub(now.saturating_duration_since(self.window_start)));
        }
        None
    }

    /// Nothing to remember: no failures, no lockout, nothing in flight.
    fn idle(&self) -> bool {
        self.failures == 0 && self.in_flight == 0 && self.locked_until.is_none()
    }

    fn expired(&self, now: Instant, window: Duration) -> bool {
        let over = match self.locked_until {
            Some(until) => now >= until,
            None => now.saturating_duration_since(self.window_start) >= window,
        };
        self.in_flight == 0 && over
    }
}

#[derive(Debug)]
pub(crate) struct Table {
    records: HashMap<Key, Record>,
    max_entries: usize,
    window: Duration,
}

impl Table {
    pub(crate) fn new(max_entries: usize, window: Duration) -> Table {
        Table {
            records: HashMap::new(),
            max_entries: max_entries.max(1),
            window,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    /// How long `key` refuses attempts now, with `limit` failures allowed.
    pub(crate) fn refusal(&mut self, key: Key, limit: u32, now: Instant) -> Option<Duration> {
        let record = self.records.get_mut(&key)?;
        record.refresh(now, self.window);
        record.refusal(limit, now, self.window)
    }

    /// Counts one more attempt in flight for each key.
    pub(crate) fn reserve(&mut self, keys: &[Key], now: Instant) {
        self.make_room(keys, now);
        for key in keys {
            let record = self.records.entry(*key).or_insert_with(|| Record::new(now));
            record.in_flight = record.in_flight.saturating_add(1);
            record.last_used = now;
        }
    }

    /// Turns one attempt in flight into a failure; `limit` says, per key,
    /// how many lock it out. Returns the key's failures in the window.
    pub(crate) fn fail(&mut self, key: Key, limit: u32, now: Instant) -> u32 {
        self.make_room(&[key], now);
        let window = self.window;
        // A record evicted while the attempt was in flight starts afresh.
        let record = self.records.entry(key).or_insert_with(|| Record::new(now));
        record.in_flight = record.in_flight.saturating_sub(1);
        record.refresh(now, window);
        record.failures = record.failures.saturating_add(1);
        record.last_used = now;
        if record.failures >= limit && record.locked_until.is_none() {
            record.locked_until = Some(now + window);
        }
        record.failures
    }

    /// Ends one attempt in flight without a failure; `clear` also forgets
    /// the key's failures.
    pub(crate) fn release(&mut self, key: Key, clear: bool) {
        let Some(record) = self.records.get_mut(&key) else {
            return;
        };
        record.in_flight = record.in_flight.saturating_sub(1);
        if clear {
            record.failures = 0;
            record.locked_until = None;
        }
        if record.idle() {
            self.records.remove(&key);
        }
    }

    /// Makes sure `keys` fit: when they would not, drops what has expired,
    /// then the least recently used (those with attempts in flight last)
    /// until an eighth of the table is free.
    fn make_room(&mut self, keys: &[Key], now: Instant) {
        let new = keys.iter().filter(|k| !self.records.contains_key(k)).count();
        if self.records.len() + new <= self.max_entries {
            return;
        }
        let window = self.window;
        self.records.retain(|_, r| !r.expired(now, window));
        let target = (self.max_entries - self.max_entries / 8).saturating_sub(new);
        let excess = self.records.len().saturating_sub(target);
        if excess == 0 {
            return;
        }
        let mut ages: Vec<((bool, Instant), Key)> = self
            .records
            .iter()
            .filter(|(k, _)| !keys.contains(k))
            .map(|(k, r)| ((r.in_flight > 0, r.last_used), *k))
            .collect();
        let excess = excess.min(ages.len());
        if excess == 0 {
            return;
        }
        ages.select_nth_unstable_by_key(excess - 1, |(age, _)| *age);
        for (_, key) in &ages[..excess] {
            self.records.remove(key);
        }
    }
}
