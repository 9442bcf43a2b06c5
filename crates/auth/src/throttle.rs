//! Slows down password guessing, per client address and shared by every
//! protocol: each consecutive failure from an address delays the answer to
//! the next one more (doubling, capped), and after `max_failures` the
//! address is locked out for a while. A success clears the record.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How the throttle behaves; the defaults suit a public server.
#[derive(Debug, Clone)]
pub struct ThrottleConfig {
    /// The delay after the first failure; it doubles with each further one.
    pub failure_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// Consecutive failures that lock an address out.
    pub max_failures: u32,
    /// How long a lockout lasts, and how long failures are remembered.
    pub lockout: Duration,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            failure_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_failures: 10,
            lockout: Duration::from_secs(300),
        }
    }
}

/// What to do with an authentication attempt from an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead.
    Allowed,
    /// Refuse without checking: the address is locked out for this long.
    LockedOut(Duration),
}

#[derive(Debug)]
struct Record {
    failures: u32,
    last: Instant,
}

/// The records kept at most; beyond this the oldest are dropped, so a
/// flood of addresses cannot grow the table without bound.
const MAX_RECORDS: usize = 100_000;

#[derive(Debug, Default)]
pub struct Throttle {
    config: ThrottleConfig,
    records: Mutex<HashMap<IpAddr, Record>>,
}

impl Throttle {
    pub fn new(config: ThrottleConfig) -> Throttle {
        Throttle {
            config,
            records: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `address` may try to authenticate now.
    pub fn admit(&self, address: IpAddr) -> Admission {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(record) = records.get(&address) else {
            return Admission::Allowed;
        };
        let since = record.last.elapsed();
        if since >= self.config.lockout {
            records.remove(&address);
            return Admission::Allowed;
        }
        if record.failures >= self.config.max_failures {
            return Admission::LockedOut(self.config.lockout - since);
        }
        Admission::Allowed
    }

    /// Records a failure; returns how long to wait before answering it.
    pub fn failure(&self, address: IpAddr) -> Duration {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        if records.len() >= MAX_RECORDS && !records.contains_key(&address) {
            let lockout = self.config.lockout;
            records.retain(|_, r| r.last.elapsed() < lockout);
            if records.len() >= MAX_RECORDS
                && let Some(oldest) = records.iter().min_by_key(|(_, r)| r.last).map(|(a, _)| *a)
            {
                records.remove(&oldest);
            }
        }
        let record = records.entry(address).or_insert(Record {
            failures: 0,
            last: Instant::now(),
        });
        if record.last.elapsed() >= self.config.lockout {
            record.failures = 0;
        }
        record.failures = record.failures.saturating_add(1);
        record.last = Instant::now();
        let doublings = record.failures.saturating_sub(1).min(16);
        (self.config.failure_delay * 2u32.pow(doublings)).min(self.config.max_delay)
    }

    /// A successful login clears the address's record.
    pub fn success(&self, address: IpAddr) {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        records.remove(&address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> Throttle {
        Throttle::new(ThrottleConfig {
            failure_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
            max_failures: 4,
            lockout: Duration::from_secs(60),
        })
    }

    #[test]
    fn delays_grow_then_lock_out_one_address_only() {
        let throttle = throttle();
        let attacker: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let delays: Vec<u128> = (0..4)
            .map(|_| {
                assert_eq!(throttle.admit(attacker), Admission::Allowed);
                throttle.failure(attacker).as_millis()
            })
            .collect();
        assert_eq!(delays, [10, 20, 40, 40]);
        assert!(matches!(throttle.admit(attacker), Admission::LockedOut(_)));
        assert_eq!(throttle.admit(other), Admission::Allowed);
    }

    #[test]
    fn success_clears_the_record() {
        let throttle = throttle();
        let address: IpAddr = "2001:db8::1".parse().unwrap();
        for _ in 0..3 {
            throttle.failure(address);
        }
        throttle.success(address);
        assert_eq!(throttle.failure(address), Duration::from_millis(10));
    }
}
