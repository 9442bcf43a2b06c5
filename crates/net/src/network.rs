//! IP networks in CIDR notation (`192.0.2.0/24`, `2001:db8::/32`), for
//! settings such as the networks trusted to relay.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_matches(&net.octets(), &ip.octets(), self.prefix),
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_matches(&net.octets(), &ip.octets(), self.prefix),
            _ => false,
        }
    }
}

fn prefix_matches(net: &[u8], ip: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    net[..full] == ip[..full] && (rest == 0 || (net[full] ^ ip[full]) >> (8 - rest) == 0)
}

#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a network; write it as 192.0.2.0/24, 2001:db8::/32 or a single address")]
pub struct NetworkError(String);

impl FromStr for Network {
    type Err = NetworkError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = || NetworkError(s.to_string());
        let (address, prefix) = match s.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (s, None),
        };
        let address: IpAddr = address.parse().map_err(|_| error())?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(error)?,
            None => max,
        };
        Ok(Network { address, prefix })
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Network {
        s.parse().unwrap()
    }

    #[test]
    fn matches_prefixes() {
        assert!(net("192.0.2.0/24").contains("192.0.2.200".parse().unwrap()));
        assert!(!net("192.0.2.0/24").contains("192.0.3.1".parse().unwrap()));
        assert!(net("10.0.0.0/9").contains("10.127.0.1".parse().unwrap()));
        assert!(!net("10.0.0.0/9").contains("10.128.0.1".parse().unwrap()));
        assert!(net("127.0.0.2").contains("127.0.0.2".parse().unwrap()));
        assert!(!net("127.0.0.2").contains("127.0.0.1".parse().unwrap()));
        assert!(net("0.0.0.0/0").contains("203.0.113.9".parse().unwrap()));
        assert!(net("2001:db8::/32").contains("2001:db8:1::5".parse().unwrap()));
        assert!(!net("2001:db8::/32").contains("192.0.2.1".parse().unwrap()));
        assert!(net("192.0.2.0/24").contains("::ffff:192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn rejects_bad_notation() {
        for bad in ["", "192.0.2.0/33", "2001:db8::/129", "example.org/8", "192.0.2.0/x"] {
            assert!(bad.parse::<Network>().is_err(), "{bad}");
        }
        assert_eq!(net("192.0.2.0/24").to_string(), "192.0.2.0/24");
    }
}
