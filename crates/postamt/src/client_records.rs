//! The DNS records `postamt dns` prints for what the web listener serves:
//! the MTA-STS policy's TXT record (RFC 8461 §3.1), the `mta-sts.` and
//! `autoconfig.` names pointing at this server, and the SRV records mail
//! clients look for (RFC 6186, with RFC 8314 §5.1's `_submissions`).

use crate::config::Config;
use crate::web::mta_sts;
use crate::web::settings::ClientSettings;

/// One record, as printed in a zone file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    /// Fully qualified, with its final dot.
    pub name: String,
    /// `TXT`, `CNAME` or `SRV`.
    pub kind: &'static str,
    pub value: String,
}

impl ClientRecord {
    pub fn zone_line(&self) -> String {
        format!("{} IN {} {}", self.name, self.kind, self.value)
    }
}

/// The records for `domain` (normalised).
pub fn client_records(config: &Config, domain: &str) -> Vec<ClientRecord> {
    let hostname = format!("{}.", config.hostname.trim_end_matches('.'));
    let policy = mta_sts::policy(&config.mta_sts, &config.hostname);
    let mut records = vec![
        ClientRecord {
            name: format!("_mta-sts.{domain}."),
            kind: "TXT",
            value: format!("\"{}\"", mta_sts_txt(&policy)),
        },
        ClientRecord {
            name: format!("mta-sts.{domain}."),
            kind: "CNAME",
            value: hostname.clone(),
        },
        ClientRecord {
            name: format!("autoconfig.{domain}."),
            kind: "CNAME",
            value: hostname,
        },
    ];
    let clients = ClientSettings::from_config(config);
    let target = format!("{}.", clients.host);
    // RFC 6186 §3.4: clients merge a protocol's implicit-TLS and STARTTLS
    // records by priority; implicit TLS first (RFC 8314 §5.1).
    for (service, protocol, implicit_tls) in [
        ("_submissions", "smtp", true),
        ("_submission", "smtp", false),
        ("_imaps", "imap", true),
        ("_imap", "imap", false),
        ("_pop3s", "pop3", true),
        ("_pop3", "pop3", false),
    ] {
        let offered = clients
            .services
            .iter()
            .find(|s| s.protocol == protocol && s.implicit_tls == implicit_tls);
        let value = match offered {
            Some(s) => format!("{} 1 {} {target}", if implicit_tls { 0 } else { 10 }, s.port),
            // RFC 6186 §4: a target of "." says the service is not offered.
            None => "0 0 0 .".to_string(),
        };
        records.push(ClientRecord {
            name: format!("{service}._tcp.{domain}."),
            kind: "SRV",
            value,
        });
    }
    records
}

/// The `_mta-sts` TXT record's text for a policy (RFC 8461 §3.1).
pub fn mta_sts_txt(policy: &str) -> String {
    format!("v=STSv1; id={}", mta_sts::policy_id(policy))
}

/// `--check` of the MTA-STS TXT record: an error text unless DNS holds
/// the record with the current policy's id. (The CNAME and SRV records
/// are printed; the resolver has no lookups for them yet.)
pub async fn check_mta_sts(resolver: &dns::Resolver, config: &Config, domain: &str) -> Result<(), String> {
    let want = mta_sts_txt(&mta_sts::policy(&config.mta_sts, &config.hostname));
    let name = format!("_mta-sts.{domain}");
    let found = resolver.txt(&name).await.map_err(|e| e.to_string())?;
    let fix = format!("publish `{name}. IN TXT \"{want}\"`");
    let candidates: Vec<&String> = found
        .iter()
        .filter(|t| t.trim_start().to_ascii_lowercase().starts_with("v=stsv1"))
        .collect();
    match candidates.as_slice() {
        [] => Err(format!("no such record; {fix}")),
        [only] if only.replace(' ', "") == want.replace(' ', "") => Ok(()),
        [_] => Err(format!("its id is not the current policy's; {fix}")),
        _ => Err(format!("{} records where one is allowed; {fix}", candidates.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_follow_the_listeners() {
        let mut config = Config {
            hostname: "mx.example.org".into(),
            ..Config::default()
        };
        config.listen.pop3.clear();
        let lines: Vec<String> = client_records(&config, "example.org")
            .iter()
            .map(ClientRecord::zone_line)
            .collect();
        assert!(
            lines[0].starts_with("_mta-sts.example.org. IN TXT \"v=STSv1; id="),
            "{lines:?}"
        );
        assert_eq!(lines[1], "mta-sts.example.org. IN CNAME mx.example.org.");
        assert_eq!(
            lines[3],
            "_submissions._tcp.example.org. IN SRV 0 1 465 mx.example.org."
        );
        assert_eq!(lines[6], "_imap._tcp.example.org. IN SRV 10 1 143 mx.example.org.");
        assert_eq!(lines[8], "_pop3._tcp.example.org. IN SRV 0 0 0 .");
    }
}
