//! Entry points for the queue's fuzz targets in `fuzz/`, kept here so that
//! `cargo test` replays their committed corpus on stable Rust: what other
//! servers send us while we deliver (an MTA-STS policy and its TXT
//! record, the text of a refusal that ends up in a bounce) never panics
//! and never reaches further than its place.

use store::{QueueRecipient, RecipientStatus, ReportAction};
use wire::smtp::{BodyType, DsnReturn};

use crate::dsn::{Report, Reported};
use crate::mta_sts::{MAX_AGE_LIMIT, MAX_MX_PATTERNS, Policy, mx_matches};

/// An MTA-STS policy file and `_mta-sts` record (RFC 8461 §3.1, §3.2) from
/// anyone: what parses is within the RFC's bounds, and a host matches a
/// policy exactly when it matches one of its patterns.
pub fn mta_sts(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::mta_sts::parse_record(&text);
    let _ = crate::mta_sts::policy_id(&[text.to_string(), text.to_string()]);
    if let Ok(policy) = Policy::parse(&text) {
        assert!(policy.mx.len() <= MAX_MX_PATTERNS && policy.max_age <= MAX_AGE_LIMIT);
        for host in ["mx.example.org", "a.b.example.org", "", "."] {
            let any = policy.mx.iter().any(|pattern| mx_matches(pattern, host));
            assert_eq!(policy.allows(host), any, "{host}");
        }
    }
    // A pattern and a host from the input (split at its first newline).
    if let Some((pattern, host)) = text.split_once('\n') {
        let _ = mx_matches(pattern, host);
    }
}

/// A bounce (RFC 3464) built from fields that come from outside: the
/// remote server's reply and status code, ENVID and ORCPT as the client
/// gave them, the returned message. The input is split at NUL bytes into
/// those fields. Whatever they hold, the report's own parts stay three,
/// every line of them ends in CRLF, and no field starts a line of its own.
pub fn dsn(data: &[u8]) {
    let mut fields = data.split(|&b| b == 0).map(|f| String::from_utf8_lossy(f).into_owned());
    let mut next = || fields.next().filter(|f| !f.is_empty());
    let (reply, status, envid, orcpt, mta) = (next(), next(), next(), next(), next());
    let original = next().unwrap_or_default();
    let recipient = QueueRecipient {
        id: 1,
        queue_id: "Q1".into(),
        address: "rcpt@remote.test".into(),
        notify: None,
        orcpt,
        status: RecipientStatus::Failed,
        attempts: 1,
        next_attempt_at: 0,
        last_reply: reply,
        status_code: status,
        remote_mta: mta,
        report: Some(ReportAction::Failed),
        reverse_path: "sender@origin.test".into(),
        blob_hash: String::new(),
        size: 0,
        received_at: 0,
        body: BodyType::EightBitMime,
        smtputf8: data.first().is_some_and(|b| b & 1 == 1),
        dsn_ret: data.last().is_some_and(|b| b & 1 == 1).then_some(DsnReturn::Headers),
        dsn_envid: envid,
        junk: false,
        require_tls: false,
        tls_optional: false,
    };
    let boundary = "dsn-boundary-fuzz";
    let reported = |action| Reported {
        recipient: &recipient,
        action,
        retry_until: Some(1),
    };
    for action in [ReportAction::Failed, ReportAction::Delayed, ReportAction::Relayed] {
        let report = Report {
            hostname: "mx.fuzz.test",
            queue_id: "Q1",
            recipients: vec![reported(action)],
            original: original.as_bytes(),
            boundary,
            now: 1_780_000_000,
        };
        let (message, _) = report.build();
        let ours = &message[..message.len() - returned_part(&message, boundary, original.as_bytes())];
        // Exactly the delimiters of the text and status parts start a line.
        let delimiter = format!("\r\n--{boundary}");
        let delimiters = ours
            .windows(delimiter.len())
            .filter(|w| *w == delimiter.as_bytes())
            .count();
        assert_eq!(delimiters, 2, "{}", String::from_utf8_lossy(ours));
        for (i, &byte) in ours.iter().enumerate() {
            let in_crlf = match byte {
                b'\r' => ours.get(i + 1) == Some(&b'\n'),
                b'\n' => i > 0 && ours[i - 1] == b'\r',
                _ => true,
            };
            assert!(in_crlf, "a bare line break at {i}: {}", String::from_utf8_lossy(ours));
        }
    }
}

/// The length of the report's last part (the returned message or its
/// header, RFC 3464 §2) with the closing delimiter, which must be there.
fn returned_part(message: &[u8], boundary: &str, original: &[u8]) -> usize {
    for returned in [original, crate::dsn::header_of(original)] {
        for part_type in [
            "message/rfc822",
            "message/global",
            "text/rfc822-headers",
            "message/global-headers",
        ] {
            let mut tail = format!("\r\n--{boundary}\r\nContent-Type: {part_type}\r\n\r\n").into_bytes();
            tail.extend_from_slice(returned);
            if !returned.ends_with(b"\r\n") {
                tail.extend_from_slice(b"\r\n");
            }
            tail.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            if message.ends_with(&tail) {
                return tail.len();
            }
        }
    }
    panic!("the report does not end with the returned message");
}
