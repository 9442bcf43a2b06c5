//! SRV and CNAME lookups, for `postamt dns --check` to compare the
//! records mail clients use (RFC 6186) and the names the web listener
//! serves (`mta-sts.`, `autoconfig.`) with what they should be.

use hickory_resolver::proto::rr::{RData, RecordType};

use crate::{DnsError, Resolver, fully_qualified, temporary};

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
        let lookup = match self.inner.lookup(fully_qualified(name).as_str(), RecordType::SRV).await {
            Ok(lookup) => lookup,
            Err(e) if e.is_nx_domain() || e.is_no_records_found() => return Ok(Vec::new()),
            Err(e) => return Err(temporary(name, &e)),
        };
        Ok(lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
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
        let lookup = match self
            .inner
            .lookup(fully_qualified(name).as_str(), RecordType::CNAME)
            .await
        {
            Ok(lookup) => lookup,
            Err(e) if e.is_nx_domain() || e.is_no_records_found() => return Ok(None),
            Err(e) => return Err(temporary(name, &e)),
        };
        Ok(lookup.answers().iter().find_map(|record| match &record.data {
            RData::CNAME(target) => Some(target.0.to_ascii().trim_end_matches('.').to_lowercase()),
            _ => None,
        }))
    }
}
