//! Sending our reports (RFC 8460 §5): for each domain we held sessions
//! with on a day and that asks for reports in its `_smtp._tls` TXT record
//! (§3), one aggregate report (§4) as a gzipped JSON file (§5.1) in a
//! `multipart/report` message (§5.3), DKIM-signed by our reporting domain
//! and queued like any other outgoing mail.

use std::io::Write;

use anyhow::Context;
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};
use store::Store;
use wire::smtp::{MailObject, MessageOptions, Recipient};

use super::json::{Report, Sender, date, rfc3339};
use super::settings::Reporter;

/// Most `rua` addresses a domain gets its report sent to: the record is
/// the domain's to write, our queue's work is ours to bound.
const MAX_RUA: usize = 5;

/// What a domain's `_smtp._tls` records ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rua {
    /// Mail the report to these addresses.
    Mailto(Vec<String>),
    /// No usable record, and why.
    Nothing(String),
}

/// §3: of the TXT records at `_smtp._tls.DOMAIN`, those starting with
/// `v=TLSRPTv1` count; anything but exactly one means the domain does not
/// take reports. Its `rua` is a comma-separated list of URIs; we send to
/// its `mailto:` ones. §3 allows `https:` too (a POST of the report): we
/// do not post reports and skip them with a log line.
pub fn parse_rua(records: &[String]) -> Rua {
    let ours: Vec<&String> = records
        .iter()
        .filter(|r| {
            // Bytes, not str slices: the record is anyone's text, and a
            // multi-byte character across byte 10 must not panic (a fuzz find).
            let r = r.trim_start().as_bytes();
            r.len() >= 10 && r[..10].eq_ignore_ascii_case(b"v=TLSRPTv1") && r[10..].trim_ascii_start().starts_with(b";")
        })
        .collect();
    let record = match ours.as_slice() {
        [] => return Rua::Nothing("no v=TLSRPTv1 record".into()),
        [one] => one,
        more => return Rua::Nothing(format!("{} v=TLSRPTv1 records where one is allowed", more.len())),
    };
    // §3: fields are `name=value` separated by ";"; unknown ones are
    // ignored.
    let Some(rua) = record.split(';').skip(1).find_map(|field| {
        let (name, value) = field.split_once('=')?;
        name.trim().eq_ignore_ascii_case("rua").then(|| value.trim())
    }) else {
        return Rua::Nothing("the record has no rua".into());
    };
    let mut addresses = Vec::new();
    for uri in rua.split(',').map(str::trim).filter(|u| !u.is_empty()) {
        match uri.split_once(':') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("mailto") => {
                // A mailto URI (RFC 6068) may carry a query; the address
                // is what comes before it, percent-decoded.
                let address = percent_decode(rest.split('?').next().unwrap_or(""));
                if address.contains('@') && !address.contains(['<', '>', ' ', '\r', '\n', ',']) {
                    addresses.push(address);
                }
            }
            Some((scheme, _)) if scheme.eq_ignore_ascii_case("https") => {
                tracing::info!(%uri, "skipping an https: rua (reports are only mailed)");
            }
            _ => tracing::info!(%uri, "skipping an rua that is neither mailto: nor https:"),
        }
    }
    addresses.truncate(MAX_RUA);
    if addresses.is_empty() {
        return Rua::Nothing("the rua names no mailto: address".into());
    }
    Rua::Mailto(addresses)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a report is made of, for the message.
pub struct Composed {
    pub report_id: String,
    pub filename: String,
    pub content: Vec<u8>,
}

/// The report for `domain` on `day` as a message to `to` (§5.3).
pub fn compose(
    reporter: &Reporter,
    domain: &str,
    day: i64,
    report: &Report,
    to: &[String],
    now: i64,
) -> anyhow::Result<Composed> {
    let unique = random_hex(8)?;
    let json = serde_json::to_vec(report)?;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(&json)?;
    let gzipped = gzip.finish()?;
    // §5.1: sender!policy-domain!begin-timestamp!end-timestamp!unique-id,
    // the timestamps in seconds since the epoch.
    let filename = format!(
        "{}!{domain}!{day}!{}!{unique}.json.gz",
        reporter.domain,
        day + 86_400 - 1
    );
    let boundary = format!("tlsrpt-{}", random_hex(12)?);
    let submitter = &reporter.domain;
    let report_id = &report.report_id;
    // RFC 8460 §5.3: reports MUST be delivered despite TLS failures (the
    // domain's policy may be what is broken); RFC 8689 §5's
    // `TLS-Required: No` asks our own delivery to set MTA-STS and DANE
    // aside for this message.
    let mut text = format!(
        "From: {org} <{from}>\r\n\
         To: {to}\r\n\
         Subject: Report Domain: {domain} Submitter: {submitter} Report-ID: <{report_id}>\r\n\
         Date: {date}\r\n\
         Message-ID: <{report_id}>\r\n\
         TLS-Report-Domain: {domain}\r\n\
         TLS-Report-Submitter: {submitter}\r\n\
         TLS-Required: No\r\n\
         Auto-Submitted: auto-generated\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n\tboundary=\"{boundary}\"\r\n\
         \r\n\
         This is an SMTP TLS report (RFC 8460).\r\n\
         \r\n--{boundary}\r\n\
         Content-Type: text/plain; charset=us-ascii\r\n\
         \r\n",
        org = quoted(&reporter.organization),
        from = reporter.from,
        to = to.iter().map(|a| format!("<{a}>")).collect::<Vec<_>>().join(", "),
        date = wire::date::rfc5322(now),
    );
    text.push_str(&summary_text(reporter, domain, day, report));
    text.push_str(&format!(
        "\r\n--{boundary}\r\n\
         Content-Type: application/tlsrpt+gzip; name=\"{filename}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"{filename}\"\r\n\r\n"
    ));
    let encoded = base64::engine::general_purpose::STANDARD.encode(&gzipped);
    for line in encoded.as_bytes().chunks(76) {
        text.push_str(std::str::from_utf8(line).unwrap_or_default());
        text.push_str("\r\n");
    }
    text.push_str(&format!("--{boundary}--\r\n"));
    Ok(Composed {
        report_id: report_id.clone(),
        filename,
        content: text.into_bytes(),
    })
}

/// The part for people: what the report covers, in a few lines.
fn summary_text(reporter: &Reporter, domain: &str, day: i64, report: &Report) -> String {
    let (mut ok, mut failed) = (0, 0);
    for p in &report.policies {
        ok += p.summary.total_successful_session_count;
        failed += p.summary.total_failure_session_count;
    }
    format!(
        "This is a report of the TLS sessions {org} held with the mail servers of\r\n\
         {domain} on {date} (UTC, {start} to {end}):\r\n\
         {ok} successful, {failed} failed.\r\n\
         The attached file has the details in RFC 8460's JSON format.\r\n",
        org = reporter.organization,
        date = date(day),
        start = rfc3339(day),
        end = rfc3339(day + 86_400 - 1),
    )
}

/// A display name as an RFC 5322 quoted-string.
fn quoted(name: &str) -> String {
    let clean: String = name
        .chars()
        .filter(|c| c.is_ascii() && !c.is_ascii_control())
        .map(|c| if c == '"' || c == '\\' { ' ' } else { c })
        .collect();
    format!("\"{clean}\"")
}

pub fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; bytes];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Everything sending a day's reports needs.
pub struct Outbox<'a> {
    pub store: &'a Store,
    pub resolver: &'a dns::Resolver,
    pub signer: &'a crate::dkim::Signer,
    pub reporter: &'a Reporter,
}

impl Outbox<'_> {
    /// Sends the reports of `day` to every domain that asks; how many
    /// were queued. A domain whose report cannot be made is logged and
    /// skipped: the others still get theirs.
    pub async fn send_day(&self, day: i64) -> anyhow::Result<usize> {
        let mut sent = 0;
        for domain in self.store.tls_report_domains(day).await? {
            match self.send_one(&domain, day).await {
                Ok(true) => sent += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(%domain, error = %format!("{e:#}"), "could not send a TLS report"),
            }
        }
        Ok(sent)
    }

    async fn send_one(&self, domain: &str, day: i64) -> anyhow::Result<bool> {
        let name = format!("_smtp._tls.{domain}");
        let records = match self.resolver.txt(&name).await {
            Ok(records) => records,
            Err(dns::DnsError::NoSuchDomain(_)) => Vec::new(),
            Err(e) => return Err(e).with_context(|| format!("looking up {name}")),
        };
        let to = match parse_rua(&records) {
            Rua::Mailto(to) => to,
            Rua::Nothing(why) => {
                tracing::debug!(%domain, %why, "no TLS report wanted");
                return Ok(false);
            }
        };
        let counts = self.store.tls_report_counts(day, domain).await?;
        if counts.is_empty() {
            return Ok(false);
        }
        let reporter = self.reporter;
        let report_id = format!("{}.{domain}.{}@{}", date(day), random_hex(6)?, reporter.domain);
        let sender = Sender {
            organization: &reporter.organization,
            contact: &reporter.from,
        };
        let report = Report::from_counts(&sender, domain, day, report_id, &counts);
        let now = store::now();
        let composed = compose(reporter, domain, day, &report, &to, now)?;
        let signed = self.signer.sign(&reporter.domain, composed.content).await?;
        let message = MailObject {
            id: queue::Queue::new_id()?,
            reverse_path: reporter.from.clone(),
            recipients: to.iter().map(Recipient::new).collect(),
            // RFC 8460 §5.3: a report must get through despite the TLS
            // failures it may be about; its TLS-Required: No header asks
            // the same of the hops after us (RFC 8689 §5).
            options: MessageOptions {
                tls_optional: true,
                ..MessageOptions::default()
            },
            content: (),
            received_at: now,
        };
        let content = self.store.put_content(signed).await?;
        self.store.enqueue(message.with_content(content)).await?;
        tracing::info!(%domain, to = %to.join(", "), report_id = %composed.report_id, file = %composed.filename, "TLS report queued");
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rua(records: &[&str]) -> Rua {
        parse_rua(&records.iter().map(|r| r.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn the_record_is_parsed_as_section_3_says() {
        assert_eq!(
            rua(&["v=TLSRPTv1; rua=mailto:reports@example.com"]),
            Rua::Mailto(vec!["reports@example.com".into()])
        );
        assert_eq!(
            rua(&[
                "v=spf1 -all",
                "v=TLSRPTv1;rua=https://reports.example.com/x, mailto:tls%2Breports@example.com?subject=x,mailto:c@d.test; x=y"
            ]),
            Rua::Mailto(vec!["tls+reports@example.com".into(), "c@d.test".into()])
        );
        assert!(matches!(rua(&[]), Rua::Nothing(_)));
        assert!(matches!(
            rua(&["v=TLSRPTv1; rua=mailto:a@b.test", "v=TLSRPTv1; rua=mailto:c@d.test"]),
            Rua::Nothing(_)
        ));
        assert!(matches!(rua(&["v=TLSRPTv1; rua=https://x.test/"]), Rua::Nothing(_)));
        assert!(matches!(rua(&["v=TLSRPTv10; rua=mailto:a@b.test"]), Rua::Nothing(_)));
        assert!(matches!(rua(&["v=TLSRPTv1; rua=mailto:<a@b.test>"]), Rua::Nothing(_)));
        let many = format!("v=TLSRPTv1; rua={}", vec!["mailto:a@b.test"; 50].join(","));
        assert!(matches!(parse_rua(&[many]), Rua::Mailto(to) if to.len() == MAX_RUA));
        // A multi-byte character across the tenth byte (a fuzz find: the
        // str slice at byte 10 panicked).
        assert!(matches!(
            rua(&["v=TLSRPT\u{20ac}; rua=mailto:a@b.test"]),
            Rua::Nothing(_)
        ));
    }
}
