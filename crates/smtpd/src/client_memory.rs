//! What the MX port remembers of client addresses: how each did in the
//! pregreet test (RFC 5321 §4.3.1: the client waits for the greeting), as
//! Postfix's postscreen does. A client that passed is not made to wait
//! again until its verdict expires, so a sender that opens a connection
//! per message pays the wait once a day, not once a message; a client
//! that talked first is refused at once for a while; a client that logged
//! in is one of ours and passes.
//!
//! The memory is bounded (a flood of addresses cannot grow it without
//! limit) and kept in the store by the backend, so a restart does not make
//! every known sender wait again.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// How a client address did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Waited for the greeting, or logged in.
    Passed,
    /// Talked before the greeting.
    Failed,
}

/// One remembered verdict: a client (see [`client_key`]), its standing,
/// and until when it holds (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remembered {
    pub client: IpAddr,
    pub standing: Standing,
    pub until: i64,
}

/// The address a verdict is kept under: an IPv4 address itself, an IPv6
/// address's /64 (one subscriber's network, in which a sender can pick
/// any address it likes).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            IpAddr::from(octets)
        }
        v4 => v4,
    }
}

/// The verdicts in memory, at most `capacity` of them.
pub struct ClientMemory {
    capacity: usize,
    verdicts: Mutex<HashMap<IpAddr, (Standing, i64)>>,
}

impl ClientMemory {
    pub fn new(capacity: usize) -> ClientMemory {
        ClientMemory {
            capacity: capacity.max(1),
            verdicts: Mutex::new(HashMap::new()),
        }
    }

    /// The standing of `ip`'s client at `now`, if a verdict holds.
    pub fn standing(&self, ip: IpAddr, now: i64) -> Option<Standing> {
        let verdicts = self.verdicts.lock().unwrap_or_else(|e| e.into_inner());
        verdicts
            .get(&client_key(ip))
            .filter(|(_, until)| *until > now)
            .map(|(standing, _)| *standing)
    }

    /// Remembers a verdict (replacing an older one of the same client).
    /// When full, expired verdicts go first, then those that expire
    /// soonest, down to three quarters of the capacity: the work of
    /// making room is paid once per quarter of the capacity of inserts.
    pub fn remember(&self, remembered: Remembered, now: i64) {
        let mut verdicts = self.verdicts.lock().unwrap_or_else(|e| e.into_inner());
        let key = client_key(remembered.client);
        if verdicts.len() >= self.capacity && !verdicts.contains_key(&key) {
            verdicts.retain(|_, (_, until)| *until > now);
            let keep = self.capacity * 3 / 4;
            if verdicts.len() > keep {
                let mut expiries: Vec<i64> = verdicts.values().map(|(_, until)| *until).collect();
                let cut = expiries.len() - keep;
                let (_, &mut threshold, _) = expiries.select_nth_unstable(cut - 1);
                let mut over = verdicts.len() - keep;
                verdicts.retain(|_, (_, until)| {
                    let drop = over > 0 && *until <= threshold;
                    over -= usize::from(drop);
                    !drop
                });
            }
        }
        verdicts.insert(key, (remembered.standing, remembered.until));
    }

    pub fn len(&self) -> usize {
        self.verdicts.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(n: u32, until: i64) -> Remembered {
        Remembered {
            client: IpAddr::from(n.to_be_bytes()),
            standing: Standing::Passed,
            until,
        }
    }

    #[test]
    fn verdicts_hold_until_they_expire() {
        let memory = ClientMemory::new(10);
        memory.remember(at(1, 100), 0);
        memory.remember(
            Remembered {
                standing: Standing::Failed,
                ..at(2, 50)
            },
            0,
        );
        assert_eq!(memory.standing(IpAddr::from([0, 0, 0, 1]), 99), Some(Standing::Passed));
        assert_eq!(memory.standing(IpAddr::from([0, 0, 0, 1]), 100), None);
        assert_eq!(memory.standing(IpAddr::from([0, 0, 0, 2]), 10), Some(Standing::Failed));
        assert_eq!(memory.standing(IpAddr::from([0, 0, 0, 3]), 10), None);
        // A later verdict replaces the earlier one.
        memory.remember(at(2, 60), 10);
        assert_eq!(memory.standing(IpAddr::from([0, 0, 0, 2]), 10), Some(Standing::Passed));
    }

    #[test]
    fn the_bound_holds_under_100_000_addresses() {
        let memory = ClientMemory::new(10_000);
        for n in 0..100_000u32 {
            // Later addresses hold longer; each insert is at time n.
            memory.remember(at(n, i64::from(n) + 1_000_000), i64::from(n));
            assert!(memory.len() <= 10_000);
        }
        // The newest verdicts survive the pruning; the oldest went first.
        assert_eq!(
            memory.standing(IpAddr::from(99_999u32.to_be_bytes()), 100_000),
            Some(Standing::Passed)
        );
        assert_eq!(memory.standing(IpAddr::from(0u32.to_be_bytes()), 100_000), None);
        assert!(memory.len() > 7_000);
    }

    #[test]
    fn ipv6_clients_are_kept_by_their_64() {
        let memory = ClientMemory::new(10);
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_network: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        memory.remember(
            Remembered {
                client: one,
                standing: Standing::Failed,
                until: 10,
            },
            0,
        );
        assert_eq!(memory.standing(same_network, 0), Some(Standing::Failed));
        assert_eq!(memory.standing(other, 0), None);
        // An IPv4 client on an IPv6 socket is the IPv4 address.
        memory.remember(at(0x7f00_0001, 10), 0);
        assert_eq!(
            memory.standing("::ffff:127.0.0.1".parse().unwrap(), 0),
            Some(Standing::Passed)
        );
    }
}
