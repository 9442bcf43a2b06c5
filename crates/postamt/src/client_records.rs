//! The DNS records `postamt dns` prints for what the web listener serves:
//! the MTA-STS policy's TXT record (RFC 8461 §3.1), the `mta-sts.` and
//! `autoconfig.` names pointing at this server, and the SRV records mail
//! clients look for (RFC 6186, with RFC 8314 §5.1's `_submissions`), and
//! the TLS reporting record (RFC 8460 §3) naming where reports go.

use crate::config::Config;
use crate::web::mta_sts;
use crate::web::settings::ClientSettings;

/// One record, as printed in a zone file, and what `--check` accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    /// Fully qualified, with its final dot.
    pub name: String,
    /// `TXT`, `CNAME` or `SRV`.
    pub kind: &'static str,
    pub value: String,
    expect: Expect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    /// The `_mta-sts` record with the current policy's id.
    MtaSts,
    /// An alias of the hostname, or addresses among the hostname's.
    Alias(String),
    /// A record with this port and target; None: no such service (no
    /// record, or only RFC 6186 §4's "." target).
    Srv(Option<(u16, String)>),
    /// The one `v=TLSRPTv1` record, with this address among its `mailto:`s.
    TlsRpt(String),
}

impl ClientRecord {
    pub fn zone_line(&self) -> String {
        format!("{} IN {} {}", self.name, self.kind, self.value)
    }

    /// What the record is for, for `--check`'s lines.
    pub fn label(&self) -> String {
        let name = self.name.trim_end_matches('.');
        match self.expect {
            Expect::MtaSts => format!("MTA-STS ({})", self.name),
            Expect::TlsRpt(_) => format!("TLS reporting ({})", self.name),
            _ => format!("{} {name}", self.kind),
        }
    }

    /// Whether DNS holds this record (or an equivalent one); why not.
    pub async fn check(&self, resolver: &dns::Resolver, config: &Config) -> Result<(), String> {
        let name = self.name.trim_end_matches('.');
        let fix = format!("publish `{}`", self.zone_line());
        match &self.expect {
            Expect::MtaSts => check_mta_sts(resolver, config, name).await,
            Expect::TlsRpt(address) => {
                let found = resolver.txt(name).await.map_err(|e| e.to_string())?;
                match crate::tls_reports::parse_rua(&found) {
                    crate::tls_reports::Rua::Mailto(to) if to.iter().any(|a| a.eq_ignore_ascii_case(address)) => Ok(()),
                    crate::tls_reports::Rua::Mailto(to) => Err(format!("reports go to {}; {fix}", to.join(", "))),
                    crate::tls_reports::Rua::Nothing(why) => Err(format!("{why}; {fix}")),
                }
            }
            Expect::Alias(host) => {
                if resolver.cname(name).await.map_err(|e| e.to_string())?.as_deref() == Some(host.as_str()) {
                    return Ok(());
                }
                // A/AAAA records of its own do as well, if they are the host's.
                let own = resolver.addresses(name).await.unwrap_or_default();
                let host_addresses = resolver.addresses(host).await.unwrap_or_default();
                if !own.is_empty() && own.iter().all(|a| host_addresses.contains(a)) {
                    return Ok(());
                }
                Err(format!("neither an alias of {host} nor its addresses; {fix}"))
            }
            Expect::Srv(want) => {
                let found = resolver.srv(name).await.map_err(|e| e.to_string())?;
                match want {
                    None if found.iter().all(|srv| srv.target == ".") => Ok(()),
                    None => Err(format!("the service is off here, but DNS offers it; {fix}")),
                    Some((port, target)) if found.iter().any(|s| s.port == *port && s.target == *target) => Ok(()),
                    Some(_) if found.is_empty() => Err(format!("no such record; {fix}")),
                    Some(_) => Err(format!(
                        "found {}; {fix}",
                        found
                            .iter()
                            .map(|s| format!("{} {} {} {}", s.priority, s.weight, s.port, s.target))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                }
            }
        }
    }
}

/// The records for `domain` (normalised); `tls_rpt` is the address TLS
/// reports about it are to be mailed to.
pub fn client_records(config: &Config, domain: &str, tls_rpt: &str) -> Vec<ClientRecord> {
    let host = config.hostname.trim_end_matches('.').to_ascii_lowercase();
    let hostname = format!("{host}.");
    let policy = mta_sts::policy(&config.mta_sts, &config.hostname);
    let mut records = vec![
        ClientRecord {
            name: format!("_mta-sts.{domain}."),
            kind: "TXT",
            value: format!("\"{}\"", mta_sts_txt(&policy)),
            expect: Expect::MtaSts,
        },
        ClientRecord {
            name: format!("mta-sts.{domain}."),
            kind: "CNAME",
            value: hostname.clone(),
            expect: Expect::Alias(host.clone()),
        },
        ClientRecord {
            name: format!("autoconfig.{domain}."),
            kind: "CNAME",
            value: hostname,
            expect: Expect::Alias(host),
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
            expect: Expect::Srv(offered.map(|s| (s.port, clients.host.to_ascii_lowercase()))),
        });
    }
    // RFC 8460 §3: senders mail their daily reports of the TLS sessions
    // they held with our MX to this address.
    records.push(ClientRecord {
        name: format!("_smtp._tls.{domain}."),
        kind: "TXT",
        value: format!("\"v=TLSRPTv1; rua=mailto:{tls_rpt}\""),
        expect: Expect::TlsRpt(tls_rpt.to_string()),
    });
    records
}

/// The `_mta-sts` TXT record's text for a policy (RFC 8461 §3.1).
pub fn mta_sts_txt(policy: &str) -> String {
    format!("v=STSv1; id={}", mta_sts::policy_id(policy))
}

/// `--check` of the MTA-STS TXT record at `name`: an error text unless
/// DNS holds the record with the current policy's id.
async fn check_mta_sts(resolver: &dns::Resolver, config: &Config, name: &str) -> Result<(), String> {
    let want = mta_sts_txt(&mta_sts::policy(&config.mta_sts, &config.hostname));
    let found = resolver.txt(name).await.map_err(|e| e.to_string())?;
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
        let lines: Vec<String> = client_records(&config, "example.org", "postmaster@example.org")
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
        assert_eq!(
            lines[9],
            "_smtp._tls.example.org. IN TXT \"v=TLSRPTv1; rua=mailto:postmaster@example.org\""
        );
    }
}
