//! Which client addresses count as one guesser. An IPv4 address is one
//! (NAT puts many people behind one, never one person behind many); an
//! IPv6 host gets a whole /64 to pick addresses from (RFC 4291 §2.5.4, RFC
//! 8981 temporary addresses), so the /64 is the unit there. A site usually
//! holds a /48 (RFC 6177 §1), which is counted too, more loosely.

use std::net::{IpAddr, Ipv4Addr};

/// A client's network: its IPv4 address, or the /64 of its IPv6 one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Network {
    V4(Ipv4Addr),
    /// The top 64 bits of the address.
    V6(u64),
}

impl Network {
    pub(crate) fn of(address: IpAddr) -> Network {
        match address {
            IpAddr::V4(v4) => Network::V4(v4),
            // RFC 4291 §2.5.5.2: ::ffff:a.b.c.d is the IPv4 host a.b.c.d,
            // seen through a dual-stack socket.
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Network::V4(v4),
                None => Network::V6((v6.to_bits() >> 64) as u64),
            },
        }
    }

    /// The /48 an IPv6 network belongs to; none for IPv4.
    pub(crate) fn site(self) -> Option<u64> {
        match self {
            Network::V4(_) => None,
            Network::V6(prefix) => Some(prefix >> 16),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(address: &str) -> Network {
        Network::of(address.parse().unwrap())
    }

    #[test]
    fn ipv6_counts_per_64_and_ipv4_per_address() {
        assert_eq!(network("2001:db8:1:2::1"), network("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert_ne!(network("2001:db8:1:2::1"), network("2001:db8:1:3::1"));
        assert_eq!(network("2001:db8:1:2::1").site(), network("2001:db8:1:ff::1").site());
        assert_ne!(network("2001:db8:1:2::1").site(), network("2001:db8:2:2::1").site());
        assert_ne!(network("192.0.2.1"), network("192.0.2.2"));
        assert_eq!(network("192.0.2.1").site(), None);
    }

    #[test]
    fn ipv4_mapped_ipv6_is_ipv4() {
        assert_eq!(network("::ffff:192.0.2.1"), network("192.0.2.1"));
        assert_ne!(network("::ffff:192.0.2.1"), network("::ffff:192.0.2.2"));
    }
}
