//! `[greylist]`: greylisting for setups without a spam filter (issue 17),
//! off by default. The rules and the decision are the store's
//! (`store::greylist`); this is the config and the reply.

use std::net::IpAddr;

use serde::Deserialize;
use wire::smtp::{Reply, ReversePath};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GreylistConfig {
    pub enabled: bool,
    /// Seconds a new client network, sender and recipient wait.
    pub delay: u64,
    /// Seconds after the delay within which a retry passes.
    pub retry_window: u64,
    /// Seconds a passed triplet (or network) stays passed without mail.
    pub keep: u64,
    /// Passed triplets after which a whole client network passes; 0 never.
    pub auto_allow: u64,
}

impl Default for GreylistConfig {
    fn default() -> Self {
        GreylistConfig {
            enabled: false,
            delay: 300,
            retry_window: 24 * 3600,
            keep: 35 * 24 * 3600,
            auto_allow: 5,
        }
    }
}

impl GreylistConfig {
    /// The rules, if greylisting is on.
    pub fn rules(&self) -> Option<store::Greylisting> {
        let seconds = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
        self.enabled.then(|| store::Greylisting {
            delay: seconds(self.delay),
            retry_window: seconds(self.retry_window),
            keep: seconds(self.keep),
            auto_allow: seconds(self.auto_allow),
        })
    }
}

/// The client's network as greylisting counts it: an IPv4 /24 or IPv6 /64,
/// since big senders retry from another address of the same pool.
pub fn network(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            format!("{}/64", std::net::Ipv6Addr::from(octets))
        }
    }
}

/// Greylists one recipient; a store failure lets the mail through (and
/// says so in the log): greylisting is a filter, not a gate.
pub async fn check(
    store: &store::Store,
    rules: store::Greylisting,
    client: IpAddr,
    from: &ReversePath,
    recipient: &str,
) -> Result<(), Reply> {
    let triplet = store::Triplet {
        network: network(client),
        sender: match from {
            ReversePath::Mailbox(mailbox) => mailbox.to_string(),
            ReversePath::Null => String::new(),
        },
        recipient: recipient.to_string(),
    };
    match store.greylist(triplet, rules, store::now()).await {
        Ok(None) => Ok(()),
        Ok(Some(wait)) => Err(Reply::new(
            451,
            "4.7.1",
            format!(
                "<{recipient}>: Greylisted: mail from a new sender is accepted when it is retried; try again in {wait} seconds"
            ),
        )),
        Err(e) => {
            tracing::warn!(error = %e, "greylisting failed; the recipient is accepted");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_24s_and_64s() {
        assert_eq!(network("192.0.2.77".parse().unwrap()), "192.0.2.0/24");
        assert_eq!(network("::ffff:192.0.2.77".parse().unwrap()), "192.0.2.0/24");
        assert_eq!(network("2001:db8:1:2:3:4:5:6".parse().unwrap()), "2001:db8:1:2::/64");
    }
}
