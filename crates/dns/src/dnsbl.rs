//! DNS blocklist and allowlist lookups (RFC 5782): a list publishes an
//! address it lists as an A record under the address's reversed form in
//! its zone (`2.0.0.127.zen.example` for 127.0.0.2; IPv6 by nibbles); the
//! record's value says why it is listed. Not listed is NXDOMAIN.

use std::net::{IpAddr, Ipv4Addr};

use hickory_resolver::proto::rr::{RData, RecordType};

use crate::{DnsError, Resolver};

/// The name under which `zone` lists `address` (RFC 5782 §2.1 and §2.4).
pub fn listing_name(address: IpAddr, zone: &str) -> String {
    let zone = zone.trim_end_matches('.');
    match address.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.{zone}")
        }
        IpAddr::V6(v6) => {
            let mut name = String::with_capacity(64 + zone.len());
            for byte in v6.octets().iter().rev() {
                name.push_str(&format!("{:x}.{:x}.", byte & 0xf, byte >> 4));
            }
            name.push_str(zone);
            name
        }
    }
}

impl Resolver {
    /// The answers `zone` gives for `address`: empty when it is not listed
    /// (NXDOMAIN or no A record).
    pub async fn dnsbl(&self, address: IpAddr, zone: &str) -> Result<Vec<Ipv4Addr>, DnsError> {
        let name = listing_name(address, zone);
        Ok(self
            .records(&name, RecordType::A)
            .await?
            .into_iter()
            .filter_map(|data| match data {
                RData::A(a) => Some(a.0),
                _ => None,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_rfc_5782() {
        assert_eq!(
            listing_name("192.0.2.99".parse().unwrap(), "bl.example."),
            "99.2.0.192.bl.example"
        );
        // RFC 5782 §2.4's example.
        assert_eq!(
            listing_name("2001:db8:1:2:3:4:567:89ab".parse().unwrap(), "ugly.example.com"),
            "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example.com"
        );
        assert_eq!(
            listing_name("::ffff:127.0.0.2".parse().unwrap(), "bl.example"),
            "2.0.0.127.bl.example"
        );
    }
}
