//! TXT and PTR lookups, for `postamt dns --check` to compare what a
//! domain publishes (SPF, DKIM, DMARC) and what the server's addresses
//! are named with what they should be.

use std::net::IpAddr;

use hickory_resolver::proto::rr::{RData, RecordType};

use crate::{DnsError, Resolver, temporary};

/// Longest TXT text kept per record: more is cut. A DKIM record with a
/// 4096-bit key is about 800 bytes; a hostile server can send 64 KiB.
const MAX_TXT: usize = 4096;

impl Resolver {
    /// The TXT records at `name`, each one's strings joined (RFC 7208
    /// §3.3, RFC 6376 §3.6.2.2), non-UTF-8 bytes replaced. None found, or
    /// no such name, is an empty list.
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, DnsError> {
        Ok(self
            .records(name, RecordType::TXT)
            .await?
            .into_iter()
            .filter_map(|data| match data {
                RData::TXT(txt) => {
                    let joined: Vec<u8> = txt
                        .txt_data
                        .iter()
                        .flat_map(|s| s.iter().copied())
                        .take(MAX_TXT)
                        .collect();
                    Some(String::from_utf8_lossy(&joined).into_owned())
                }
                _ => None,
            })
            .collect())
    }

    /// The names the PTR records of `address` give (lower case, without
    /// the final dot); none found is an empty list.
    pub async fn ptr(&self, address: IpAddr) -> Result<Vec<String>, DnsError> {
        let lookup = match self.inner.reverse_lookup(address).await {
            Ok(lookup) => lookup,
            Err(e) if e.is_nx_domain() || e.is_no_records_found() => return Ok(Vec::new()),
            Err(e) => return Err(temporary(&address.to_string(), &e)),
        };
        Ok(lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::PTR(name) => Some(name.0.to_ascii().trim_end_matches('.').to_lowercase()),
                _ => None,
            })
            .collect())
    }
}
