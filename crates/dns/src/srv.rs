//! SRV and CNAME lookups, for `postamt dns --check` to compare the
//! records mail clients use (RFC 6186) and the names the web listener
//! serves (`mta-sts.`, `autoconfig.`) with what they should be.

use hickory_resolver::proto::rr::{RData, RecordType};

use crate::{DnsError, Resolver};

/// One SRV record (RFC 2782): priority, weight, port and target (lower
/// case, without the final dot; "." stays "." : RFC 6186 §4's "not
/// offered").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Srv {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: String,
}

impl Resolver {
    /// The SRV records at `name`; none found, or no such name, is an
    /// empty list.
    pub async fn srv(&self, name: &str) -> Result<Vec<Srv>, DnsError> {
        Ok(self
            .records(name, RecordType::SRV)
            .await?
            .into_iter()
            .filter_map(|data| match data {
                RData::SRV(srv) => {
                    let target = srv.target.to_ascii().to_lowercase();
                    Some(Srv {
                        priority: srv.priority,
                        weight: srv.weight,
                        port: srv.port,
                        target: if target == "." {
                            target
                        } else {
                            target.trim_end_matches('.').to_string()
                        },
                    })
                }
                _ => None,
            })
            .collect())
    }

    /// The name `name` is an alias of (lower case, without the final
    /// dot), if it is one.
    pub async fn cname(&self, name: &str) -> Result<Option<String>, DnsError> {
        Ok(self
            .records(name, RecordType::CNAME)
            .await?
            .into_iter()
            .find_map(|data| match data {
                RData::CNAME(target) => Some(target.0.to_ascii().trim_end_matches('.').to_lowercase()),
                _ => None,
            }))
    }
}
