//! `postamt reports tls`: the reports others sent about our domains
//! (RFC 8460 §5.3 messages in the INBOX of the address our `_smtp._tls`
//! records name), unpacked and summed up per reporting organization, day
//! and policy domain. Reports come from anyone, so every step is
//! bounded: a message's size, the parts looked at, what a gzip part may
//! inflate to (a few KiB can inflate to gigabytes), and the JSON's depth
//! (serde_json's own limit). A report that fails any of it is listed as
//! malformed, and the others are read on. RFC 8460 §3 has a report
//! without a valid DKIM signature of its reporting domain ignored: our
//! own check of the message when it arrived (the Authentication-Results
//! field under our name) says whether one passed, and a report without
//! one is listed as ignored, not counted.

use std::collections::BTreeMap;
use std::io::Read;

use anyhow::bail;
use serde::Serialize;

use super::json::Report;

/// Largest report message read; larger ones are listed as malformed.
const MAX_MESSAGE: u64 = 10 * 1024 * 1024;

/// Largest JSON accepted once inflated. A day's report of a big sender is
/// some KiB; a megabyte is far more than any honest one.
pub const MAX_JSON: u64 = 1024 * 1024;

/// MIME parts looked at for the report.
const MAX_PARTS: u32 = 10;

/// What a report message held: a report, or why it could not be read.
pub type Parsed = Result<Report, String>;

/// The report in a message; Err says why there is none, for the listing.
pub fn parse_message(raw: &[u8]) -> Parsed {
    for part in 1..=MAX_PARTS {
        let Some(mime) = imf::section(raw, &[part], Some(&wire::imap::SectionText::Mime)) else {
            break;
        };
        let mime = String::from_utf8_lossy(&mime).to_ascii_lowercase();
        let gzipped = mime.contains("application/tlsrpt+gzip");
        if !gzipped && !mime.contains("application/tlsrpt+json") {
            continue;
        }
        let body = match imf::binary(raw, &[part]) {
            Ok(Some(body)) => body,
            Ok(None) => return Err("the report part is empty".into()),
            Err(_) => return Err("the report part has an unknown Content-Transfer-Encoding".into()),
        };
        let json = if gzipped { inflate(&body)? } else { body };
        if json.len() as u64 > MAX_JSON {
            return Err(format!("the report is larger than {MAX_JSON} bytes"));
        }
        return serde_json::from_slice(&json).map_err(|e| format!("the report is not RFC 8460 JSON: {e}"));
    }
    Err("no application/tlsrpt+gzip or +json part".into())
}

/// The gzip data inflated, up to `MAX_JSON` bytes: reading stops there,
/// whatever the data claims.
fn inflate(gzipped: &[u8]) -> Result<Vec<u8>, String> {
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(gzipped)
        .take(MAX_JSON + 1)
        .read_to_end(&mut json)
        .map_err(|e| format!("the report part is not gzip data: {e}"))?;
    if json.len() as u64 > MAX_JSON {
        return Err(format!("the report inflates to more than {MAX_JSON} bytes"));
    }
    Ok(json)
}

/// Whether a message is a TLS report (RFC 8460 §5.3 header field).
fn is_report(raw: &[u8]) -> bool {
    field(raw, "TLS-Report-Domain").is_some()
}

/// The first `name` field's value, unfolded and trimmed.
fn field(raw: &[u8], name: &str) -> Option<String> {
    let (_, range) = imf::field_spans(raw).find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))?;
    let text = String::from_utf8_lossy(&raw[range]);
    let (_, value) = text.split_once(':')?;
    Some(value.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Why the report in `raw` is to be ignored (RFC 8460 §3), if it is: no
/// DKIM signature of its reporting domain (TLS-Report-Submitter, or a
/// domain it is part of) passed our check when it arrived.
fn unsigned(raw: &[u8], authserv_id: &str) -> Option<String> {
    let submitter = field(raw, "TLS-Report-Submitter")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let passed = msgauth::results_read::ours(raw, authserv_id)
        .map(|value| msgauth::results_read::dkim_pass_domains(&value))
        .unwrap_or_default();
    let ours = |d: &String| !d.is_empty() && (submitter == *d || submitter.ends_with(&format!(".{d}")));
    if passed.iter().any(ours) {
        return None;
    }
    Some(format!(
        "ignored: no DKIM signature of its reporting domain ({}) passed when it arrived (RFC 8460 §3)",
        if submitter.is_empty() { "not named" } else { &submitter }
    ))
}

/// One line of the listing: what one organization reported about one
/// domain for one day, summed over its reports and policies.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Line {
    pub organization: String,
    pub day: String,
    pub policy_domain: String,
    pub policy_types: Vec<String>,
    pub successful: u64,
    pub failed: u64,
    /// Failed sessions by result type.
    pub failures: BTreeMap<String, u64>,
}

/// A report not counted, and why.
#[derive(Debug, Serialize)]
pub struct Malformed {
    pub uid: i64,
    pub reason: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Listing {
    pub reports: Vec<Line>,
    pub malformed: Vec<Malformed>,
    /// Well-formed reports without their reporter's DKIM signature.
    pub ignored: Vec<Malformed>,
}

impl Listing {
    fn add(&mut self, lines: &mut BTreeMap<(String, String, String), Line>, report: &Report) {
        let day = report.date_range.start_datetime.chars().take(10).collect::<String>();
        for p in &report.policies {
            let key = (
                report.organization_name.clone(),
                day.clone(),
                p.policy.policy_domain.clone(),
            );
            let line = lines.entry(key).or_insert_with(|| Line {
                organization: report.organization_name.clone(),
                day: day.clone(),
                policy_domain: p.policy.policy_domain.clone(),
                ..Line::default()
            });
            if !line.policy_types.contains(&p.policy.policy_type) {
                line.policy_types.push(p.policy.policy_type.clone());
            }
            line.successful = line.successful.saturating_add(p.summary.total_successful_session_count);
            line.failed = line.failed.saturating_add(p.summary.total_failure_session_count);
            for f in &p.failure_details {
                let count = line.failures.entry(f.result_type.clone()).or_default();
                *count = count.saturating_add(f.failed_session_count);
            }
        }
    }
}

/// The reports in `address`'s INBOX; `authserv_id` is the name our
/// checks of arriving mail write their results under (the hostname).
pub async fn read_inbox(store: &store::Store, address: &str, authserv_id: &str) -> anyhow::Result<Listing> {
    let Some(account) = store.find_account(address).await? else {
        bail!("{address} is not an account here: TLS reports are read from an account's INBOX (--address)");
    };
    let Some(inbox) = store
        .mailboxes(account.id)
        .await?
        .into_iter()
        .find(|m| m.name == "INBOX")
    else {
        return Ok(Listing::default());
    };
    let list = store.message_list(inbox.id).await?;
    let mut listing = Listing::default();
    let mut lines = BTreeMap::new();
    for chunk in list.chunks(256) {
        let uids: Vec<i64> = chunk.iter().map(|m| m.uid).collect();
        for stored in store.message_contents(inbox.id, &uids).await? {
            let Some(meta) = chunk.iter().find(|m| m.uid == stored.uid) else {
                continue;
            };
            if meta.size as u64 > MAX_MESSAGE {
                // The header alone says whether it claims to be a report.
                let head = store.open_message(stored.stored(), true).await?.read_all().await?;
                if is_report(&head) {
                    let reason = format!("the message is larger than {MAX_MESSAGE} bytes");
                    listing.malformed.push(Malformed { uid: meta.uid, reason });
                }
                continue;
            }
            let raw = store.open_message(stored.stored(), false).await?.read_all().await?;
            if !is_report(&raw) {
                continue;
            }
            match parse_message(&raw) {
                Ok(report) => match unsigned(&raw, authserv_id) {
                    None => listing.add(&mut lines, &report),
                    Some(reason) => listing.ignored.push(Malformed { uid: meta.uid, reason }),
                },
                Err(reason) => listing.malformed.push(Malformed { uid: meta.uid, reason }),
            }
        }
    }
    listing.reports = lines.into_values().collect();
    Ok(listing)
}

/// The listing as a table for people.
pub fn print(listing: &Listing, address: &str) {
    if listing.reports.is_empty() && listing.malformed.is_empty() && listing.ignored.is_empty() {
        println!("No TLS reports in the INBOX of {address}");
        return;
    }
    if !listing.reports.is_empty() {
        println!(
            "{:<24} {:<10} {:<24} {:<16} {:>8} {:>8}  FAILURES",
            "ORGANIZATION", "DAY", "POLICY DOMAIN", "POLICY", "OK", "FAILED"
        );
    }
    for line in &listing.reports {
        let failures: Vec<String> = line.failures.iter().map(|(kind, n)| format!("{kind}: {n}")).collect();
        println!(
            "{:<24} {:<10} {:<24} {:<16} {:>8} {:>8}  {}",
            line.organization,
            line.day,
            line.policy_domain,
            line.policy_types.join(","),
            line.successful,
            line.failed,
            failures.join(", ")
        );
    }
    for bad in &listing.malformed {
        println!("MALFORMED report (message UID {}): {}", bad.uid, bad.reason);
    }
    for bad in &listing.ignored {
        println!("IGNORED report (message UID {}): {}", bad.uid, bad.reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn message(part_type: &str, body: &str) -> Vec<u8> {
        format!(
            "TLS-Report-Domain: example.org\r\nContent-Type: multipart/report; report-type=tlsrpt; boundary=b\r\n\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\nhello\r\n\
             --b\r\nContent-Type: {part_type}\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}\r\n--b--\r\n"
        )
        .into_bytes()
    }

    fn base64(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn a_gzip_bomb_is_refused_at_the_bound() {
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        for _ in 0..64 {
            gzip.write_all(&[b' '; 1024 * 1024]).unwrap();
        }
        let bomb = gzip.finish().unwrap();
        assert!(bomb.len() < 256 * 1024, "64 MiB of spaces gzip small");
        let parsed = parse_message(&message("application/tlsrpt+gzip", &base64(&bomb)));
        assert!(parsed.unwrap_err().contains("inflates to more than"));
    }

    #[test]
    fn malformed_reports_say_why() {
        let not_json = parse_message(&message("application/tlsrpt+json", &base64(b"{\"policies\": 3")));
        assert!(not_json.unwrap_err().contains("not RFC 8460 JSON"));
        let not_gzip = parse_message(&message("application/tlsrpt+gzip", &base64(b"plain")));
        assert!(not_gzip.unwrap_err().contains("not gzip"));
        let no_part = parse_message(&message("text/plain", "aGVsbG8="));
        assert!(no_part.unwrap_err().contains("no application/tlsrpt"));
        assert!(is_report(&message("text/plain", "")));
        assert!(!is_report(b"Subject: x\r\n\r\nTLS-Report-Domain: x\r\n"));
    }

    #[test]
    fn only_reports_signed_by_their_reporter_count() {
        let report = |results: &str| {
            format!("Authentication-Results: {results}\r\nTLS-Report-Submitter: Mail.Example\r\nTLS-Report-Domain: x\r\n\r\n")
                .into_bytes()
        };
        assert_eq!(
            unsigned(&report("mx.test; dkim=pass header.d=mail.example"), "mx.test"),
            None
        );
        assert_eq!(
            unsigned(&report("mx.test; dkim=pass header.d=example"), "mx.test"),
            None
        );
        for bad in [
            "mx.test; dkim=pass header.d=other.example",
            "mx.test; dkim=fail header.d=mail.example",
            "mx.test; dkim=pass header.d=ail.example",
            "elsewhere.test; dkim=pass header.d=mail.example",
        ] {
            assert!(unsigned(&report(bad), "mx.test").unwrap().contains("ignored"), "{bad}");
        }
    }
}
