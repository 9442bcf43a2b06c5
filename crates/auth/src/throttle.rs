//! Slows down password guessing, shared by every protocol. Each login
//! first reserves its attempt, in one step under a lock, and the password
//! is checked only if the reservation is granted; an attempt in flight
//! counts as a failure until it resolves, so guesses sent in parallel are
//! held to the same limit as guesses sent one after another.
//!
//! Failures are counted per target account from each client network, per
//! network over all accounts, and per IPv6 /48 (see [`network`]). A
//! success clears only its own account's count from its own network: a
//! guesser's own good logins do not wipe the count against someone else's
//! account, and a lockout of an account from one network leaves its owner
//! free to log in from another. Each further failure at an account delays
//! the answer more (doubling, capped).

mod network;
mod table;

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use network::Network;
use table::{Key, Table};

/// How the throttle behaves; the defaults suit a public server.
#[derive(Debug, Clone)]
pub struct ThrottleConfig {
    /// The delay after the first failure at an account; it doubles with
    /// each further one.
    pub failure_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// Failures at one account from one network that lock that account
    /// out for that network.
    pub max_failures: u32,
    /// Failures at any accounts from one network (an IPv4 address, an IPv6
    /// /64) that lock the network out for every account.
    pub max_network_failures: u32,
    /// Failures at any accounts from one IPv6 /48 that lock it out.
    pub max_site_failures: u32,
    /// How long a lockout lasts, and the window failures are counted in.
    pub lockout: Duration,
    /// The counts kept at most; beyond this the least recently used go.
    pub max_entries: usize,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            failure_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_failures: 10,
            max_network_failures: 100,
            max_site_failures: 400,
            lockout: Duration::from_secs(300),
            max_entries: 100_000,
        }
    }
}

/// The answer to a reservation that was refused: locked out, or too many
/// attempts in flight; worth trying again after `0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockedOut(pub Duration);

#[derive(Debug)]
pub struct Throttle {
    config: ThrottleConfig,
    /// Account names are kept as hashes with a key of this process's own,
    /// so every record has the same small size and nobody can aim names
    /// at one hash bucket.
    names: RandomState,
    table: Mutex<Table>,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new(ThrottleConfig::default())
    }
}

impl Throttle {
    pub fn new(config: ThrottleConfig) -> Throttle {
        let table = Table::new(config.max_entries, config.lockout);
        Throttle {
            config,
            names: RandomState::new(),
            table: Mutex::new(table),
        }
    }

    /// Reserves one login attempt by `peer` at the account `user`, before
    /// its password is checked; refused if any of its counts is at its
    /// limit, counting attempts still in flight. The reservation holds
    /// until the returned [`Attempt`] is resolved (or dropped: a failure).
    pub fn reserve(self: &Arc<Self>, peer: IpAddr, user: &str) -> Result<Attempt, LockedOut> {
        let now = Instant::now();
        let network = Network::of(peer);
        // Names differing only in case reach the same account.
        let account = self.names.hash_one(user.to_lowercase());
        let mut keys = vec![Key::Account(network, account), Key::Network(network)];
        keys.extend(network.site().map(Key::Site));
        let mut table = self.table();
        for key in &keys {
            if let Some(remaining) = table.refusal(*key, self.limit(*key), now) {
                return Err(LockedOut(remaining));
            }
        }
        table.reserve(&keys, now);
        Ok(Attempt {
            throttle: self.clone(),
            keys,
            resolved: false,
        })
    }

    /// How many records the throttle holds now.
    pub fn entries(&self) -> usize {
        self.table().len()
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn limit(&self, key: Key) -> u32 {
        let limit = match key {
            Key::Account(..) => self.config.max_failures,
            Key::Network(_) => self.config.max_network_failures,
            Key::Site(_) => self.config.max_site_failures,
        };
        // A limit of 0 would refuse every login, for ever.
        limit.max(1)
    }

    /// Counts a failure for every key; returns the delay due to it.
    fn fail(&self, keys: &[Key]) -> Duration {
        let now = Instant::now();
        let mut table = self.table();
        let mut account_failures = 1;
        for key in keys {
            let failures = table.fail(*key, self.limit(*key), now);
            if let Key::Account(..) = key {
                account_failures = failures;
            }
        }
        let doublings = account_failures.saturating_sub(1).min(16);
        self.config
            .failure_delay
            .saturating_mul(2u32.pow(doublings))
            .min(self.config.max_delay)
    }
}

/// A reserved login attempt; tell the throttle how it ended.
#[derive(Debug)]
pub struct Attempt {
    throttle: Arc<Throttle>,
    keys: Vec<Key>,
    resolved: bool,
}

impl Attempt {
    /// The password was right: clears this account's count from this
    /// network (and nothing else).
    pub fn succeeded(mut self) {
        self.resolved = true;
        let mut table = self.throttle.table();
        for key in &self.keys {
            table.release(*key, matches!(key, Key::Account(..)));
        }
    }

    /// The password was wrong or the user unknown: returns how long to
    /// wait before saying so.
    pub fn failed(mut self) -> Duration {
        self.resolved = true;
        self.throttle.fail(&self.keys)
    }

    /// No password was checked (the account store failed): the attempt
    /// neither counts nor clears anything.
    pub fn abandoned(mut self) {
        self.resolved = true;
        let mut table = self.throttle.table();
        for key in &self.keys {
            table.release(*key, false);
        }
    }
}

impl Drop for Attempt {
    /// An attempt dropped unresolved (its connection went away while the
    /// password was checked) counts as a failure: the guess may well have
    /// been checked, and a guesser must not gain by hanging up.
    fn drop(&mut self) {
        if !self.resolved {
            self.throttle.fail(&self.keys);
        }
    }
}

#[cfg(test)]
mod tests;
