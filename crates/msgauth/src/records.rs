//! The DNS records a hosted domain needs, as zone-file lines for
//! `postamt dns`, and the comparison of what DNS answers with them for
//! `postamt dns --check`. The lookups themselves are the caller's, so this
//! stays free of I/O.

use base64::Engine;

use crate::keys::Algorithm;

/// RFC 1035 §3.3.14: one character-string of a TXT record holds at most
/// 255 bytes; longer values (RSA keys) are several strings that receivers
/// join (RFC 6376 §3.6.2.2, RFC 7208 §3.3).
const TXT_STRING_MAX: usize = 255;

/// The public half of a DKIM key as the store lists it.
#[derive(Debug, Clone)]
pub struct PublishedKey {
    pub selector: String,
    pub algorithm: Algorithm,
    pub public_key: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Mx,
    Spf,
    Dkim,
    Dmarc,
}

/// One record to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: Kind,
    /// The owner name, fully qualified with its final dot.
    pub name: String,
    /// For MX `PREFERENCE HOST.`; for TXT the whole text, not yet split.
    pub value: String,
}

impl Record {
    /// The line to paste into a zone file.
    pub fn zone_line(&self) -> String {
        match self.kind {
            Kind::Mx => format!("{} IN MX {}", self.name, self.value),
            _ => format!("{} IN TXT {}", self.name, quoted_strings(&self.value)),
        }
    }

    /// What the record is for, for messages: `MX`, `SPF`, `DKIM 20261201e`, `DMARC`.
    pub fn label(&self) -> String {
        match self.kind {
            Kind::Mx => "MX".into(),
            Kind::Spf => "SPF".into(),
            Kind::Dkim => format!("DKIM {}", self.name.split('.').next().unwrap_or_default()),
            Kind::Dmarc => "DMARC".into(),
        }
    }
}

/// The text of a DKIM key record (RFC 6376 §3.6.1, RFC 8463 §4).
pub fn dkim_txt(algorithm: Algorithm, public_key: &[u8]) -> String {
    format!(
        "v=DKIM1; k={}; p={}",
        algorithm.key_type(),
        base64::engine::general_purpose::STANDARD.encode(public_key)
    )
}

/// Every record `domain` needs when this server, `hostname`, receives and
/// sends its mail, with the DKIM keys still published. With `relay` (the
/// host mail leaves through, `[delivery] relay`), SPF allows it too.
pub fn domain_records(domain: &str, hostname: &str, relay: Option<&str>, keys: &[PublishedKey]) -> Vec<Record> {
    let domain = domain.trim_end_matches('.');
    let hostname = hostname.trim_end_matches('.');
    let mut records = vec![
        Record {
            kind: Kind::Mx,
            name: format!("{domain}."),
            value: format!("10 {hostname}."),
        },
        // RFC 7208 §5.4: the hosts named by MX may send; nothing else.
        Record {
            kind: Kind::Spf,
            name: format!("{domain}."),
            value: spf(relay),
        },
    ];
    records.extend(keys.iter().map(|key| Record {
        kind: Kind::Dkim,
        name: format!("{}._domainkey.{domain}.", key.selector),
        value: dkim_txt(key.algorithm, &key.public_key),
    }));
    // RFC 7489 §6.3: quarantine is a careful start; reports go to the
    // postmaster (RFC 7489 §7.1 needs no authorisation record when the
    // report address is in the domain itself).
    records.push(Record {
        kind: Kind::Dmarc,
        name: format!("_dmarc.{domain}."),
        value: format!("v=DMARC1; p=quarantine; rua=mailto:postmaster@{domain}"),
    });
    records
}

/// `v=spf1 mx -all`, with the relay's address or name (RFC 7208 §5.3,
/// §5.6) before `-all` when mail leaves through one.
fn spf(relay: Option<&str>) -> String {
    let relay = match relay.map(|host| host.trim_start_matches('[').trim_end_matches(']')) {
        None | Some("") => String::new(),
        Some(host) => match host.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(ip)) => format!(" ip4:{ip}"),
            Ok(std::net::IpAddr::V6(ip)) => format!(" ip6:{ip}"),
            Err(_) => format!(" a:{}", host.trim_end_matches('.')),
        },
    };
    format!("v=spf1 mx{relay} -all")
}

/// The value as zone-file character-strings, each within 255 bytes.
fn quoted_strings(value: &str) -> String {
    value
        .as_bytes()
        .chunks(TXT_STRING_MAX)
        .map(|chunk| format!("\"{}\"", String::from_utf8_lossy(chunk).replace('"', "\\\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The result of comparing a record with what DNS answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// What is wrong and how to fix it.
    Wrong(String),
}

/// Compares an MX record with the exchanges DNS lists for the domain: the
/// server must be one of them (others, e.g. backups, may be there too).
pub fn check_mx(record: &Record, exchanges: &[(u16, String)]) -> Verdict {
    let wanted = record.value.split_whitespace().last().unwrap_or_default();
    if exchanges.iter().any(|(_, host)| same_name(host, wanted)) {
        return Verdict::Ok;
    }
    let found = if exchanges.is_empty() {
        "there is no MX record".to_string()
    } else {
        let hosts: Vec<String> = exchanges.iter().map(|(p, h)| format!("{p} {h}")).collect();
        format!("MX lists {}", hosts.join(", "))
    };
    Verdict::Wrong(format!("{found}; add `{}`", record.zone_line()))
}

/// Compares a TXT record with the TXT records DNS has at its name (each
/// one's strings already joined).
pub fn check_txt(record: &Record, found: &[String]) -> Verdict {
    let (tag, matches): (&str, fn(&str, &str) -> bool) = match record.kind {
        Kind::Spf => ("v=spf1", |want, have| normalize(want) == normalize(have)),
        Kind::Dkim => ("v=dkim1", same_key),
        // The published policy is the owner's choice (p=none to start
        // watching, p=reject when sure); any valid one is fine.
        Kind::Dmarc => ("v=dmarc1", |_, have| tag_value(have, "p").is_some()),
        Kind::Mx => return Verdict::Wrong("not a TXT record".into()),
    };
    let candidates: Vec<&String> = found
        .iter()
        .filter(|txt| {
            let txt = txt.trim_start().to_ascii_lowercase();
            txt.starts_with(tag) || (record.kind == Kind::Dkim && txt.contains("p="))
        })
        .collect();
    let fix = format!("publish `{}`", record.zone_line());
    match candidates.as_slice() {
        [] => Verdict::Wrong(format!("no such record; {fix}")),
        // RFC 7208 §4.5: two SPF records are a permanent error; RFC 7489
        // §6.6.3: two DMARC records are as good as none.
        [_, _, ..] if record.kind != Kind::Dkim => Verdict::Wrong(format!(
            "{} records where one is allowed; keep only one: {fix}",
            candidates.len()
        )),
        _ if candidates.iter().any(|have| matches(&record.value, have)) => Verdict::Ok,
        [have, ..] => Verdict::Wrong(format!("found \"{have}\"; {fix}")),
    }
}

/// Checks the server's own name: `hostname` must have addresses, and each
/// address a PTR record naming `hostname` back (receivers check this
/// "iprev", RFC 8601 §3; many refuse mail from addresses without it).
/// `addresses` are the host's addresses with the names their PTR records
/// give.
pub fn check_ptr(hostname: &str, addresses: &[(std::net::IpAddr, Vec<String>)]) -> Verdict {
    let hostname = hostname.trim_end_matches('.');
    if addresses.is_empty() {
        return Verdict::Wrong(format!(
            "{hostname} has no A or AAAA record; publish one for each of the server's public addresses"
        ));
    }
    let wrong: Vec<String> = addresses
        .iter()
        .filter(|(_, names)| !names.iter().any(|name| same_name(name, hostname)))
        .map(|(address, names)| match names.as_slice() {
            [] => format!("{address} has no PTR record"),
            names => format!("the PTR record of {address} names {}", names.join(", ")),
        })
        .collect();
    if wrong.is_empty() {
        return Verdict::Ok;
    }
    Verdict::Wrong(format!(
        "{}; ask whoever runs the address (often the hosting provider) for a PTR record naming {hostname}.",
        wrong.join("; ")
    ))
}

/// Same DKIM key: the `p=` values (whitespace inside is allowed, RFC 6376
/// §3.6.1) and the key types (absent means rsa) agree.
fn same_key(want: &str, have: &str) -> bool {
    let key = |txt: &str| {
        (
            tag_value(txt, "k").unwrap_or_else(|| "rsa".into()).to_ascii_lowercase(),
            tag_value(txt, "p"),
        )
    };
    key(want) == key(have)
}

/// A tag's value in a `tag=value; ...` list, whitespace removed.
fn tag_value(txt: &str, name: &str) -> Option<String> {
    txt.split(';').find_map(|tag| {
        let (tag, value) = tag.split_once('=')?;
        tag.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.chars().filter(|c| !c.is_whitespace()).collect())
    })
}

/// Case and spacing aside, the same text.
fn normalize(txt: &str) -> String {
    txt.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.').eq_ignore_ascii_case(b.trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records() -> Vec<Record> {
        let keys = [
            PublishedKey {
                selector: "20261201e".into(),
                algorithm: Algorithm::Ed25519Sha256,
                public_key: vec![7; 32],
            },
            PublishedKey {
                selector: "20261201r".into(),
                algorithm: Algorithm::RsaSha256,
                public_key: vec![9; 294],
            },
        ];
        domain_records("example.org", "mail.example.org", None, &keys)
    }

    #[test]
    fn spf_names_the_relay() {
        let spf = |relay| domain_records("a.test", "mx.a.test", relay, &[])[1].value.clone();
        assert_eq!(spf(Some("smtp.relay.test")), "v=spf1 mx a:smtp.relay.test -all");
        assert_eq!(spf(Some("[192.0.2.7]")), "v=spf1 mx ip4:192.0.2.7 -all");
        assert_eq!(spf(Some("2001:db8::1")), "v=spf1 mx ip6:2001:db8::1 -all");
    }

    #[test]
    fn zone_lines() {
        let lines: Vec<String> = records().iter().map(Record::zone_line).collect();
        assert_eq!(lines[0], "example.org. IN MX 10 mail.example.org.");
        assert_eq!(lines[1], "example.org. IN TXT \"v=spf1 mx -all\"");
        assert!(lines[2].starts_with("20261201e._domainkey.example.org. IN TXT \"v=DKIM1; k=ed25519; p=Bwc"));
        // 294 key bytes are 392 base64 characters: two strings.
        let rsa = &lines[3];
        assert_eq!(rsa.matches('"').count(), 4, "{rsa}");
        assert!(rsa.split('"').all(|s| s.len() <= 255));
        assert_eq!(
            lines[4],
            "_dmarc.example.org. IN TXT \"v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org\""
        );
    }

    #[test]
    fn checks() {
        let records = records();
        assert_eq!(check_mx(&records[0], &[(5, "MAIL.example.org.".into())]), Verdict::Ok);
        assert!(matches!(check_mx(&records[0], &[]), Verdict::Wrong(_)));
        let spf = &records[1];
        assert_eq!(check_txt(spf, &["v=spf1  MX -all".into(), "other".into()]), Verdict::Ok);
        assert!(matches!(check_txt(spf, &["v=spf1 a -all".into()]), Verdict::Wrong(m) if m.contains("v=spf1 a -all")));
        assert!(matches!(
            check_txt(spf, &["v=spf1 mx -all".into(), "v=spf1 mx -all".into()]),
            Verdict::Wrong(_)
        ));
        let dkim = &records[2];
        let spaced = dkim.value.replace("p=", "p = ").replace("; ", ";");
        assert_eq!(check_txt(dkim, &[spaced]), Verdict::Ok);
        assert!(matches!(
            check_txt(dkim, &[dkim.value.replace("p=B", "p=C")]),
            Verdict::Wrong(_)
        ));
        assert!(matches!(check_txt(dkim, &[]), Verdict::Wrong(m) if m.contains("no such record")));
        assert_eq!(check_txt(&records[4], &["v=DMARC1; p=reject".into()]), Verdict::Ok);
        assert!(matches!(
            check_txt(&records[4], &["v=DMARC1".into()]),
            Verdict::Wrong(_)
        ));
    }
}
