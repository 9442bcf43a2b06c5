//! The Received trace header (RFC 5321 §4.4, RFC 5322 §3.6.7), with the
//! protocol names of RFC 3848.

use std::net::SocketAddr;

/// A message that has passed this many hosts is looping (RFC 5321 §6.3:
/// count the Received fields, with a limit of at least 100), as alias
/// forwards between two servers that point at each other would.
pub(crate) const MAX_HOPS: usize = 100;

/// What the header section of a message on receipt tells: read in one
/// walk over its lines, the one the loop check makes anyway.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct HeaderScan {
    /// The number of Received fields.
    pub hops: usize,
    /// A `TLS-Required: No` field is present (RFC 8689 §3).
    pub tls_required_no: bool,
}

/// The longest TLS-Required value kept while reading it: `No` with any
/// folding whitespace fits, and nothing longer can be `No`.
const MAX_TLS_REQUIRED_VALUE: usize = 256;

/// Reads the header section of `message` (up to its first empty line).
pub(crate) fn scan_header(message: &[u8]) -> HeaderScan {
    const RECEIVED: &[u8] = b"received:";
    const TLS_REQUIRED: &[u8] = b"tls-required:";
    let starts = |line: &[u8], name: &[u8]| line.len() >= name.len() && line[..name.len()].eq_ignore_ascii_case(name);
    let mut scan = HeaderScan::default();
    // The value of the TLS-Required field being read, which may go on in
    // folded lines (RFC 5322 §2.2.3).
    let mut tls_value: Option<Vec<u8>> = None;
    for line in message.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some(value) = tls_value.as_mut().filter(|v| v.len() <= MAX_TLS_REQUIRED_VALUE) {
                value.extend_from_slice(&line[..line.len().min(MAX_TLS_REQUIRED_VALUE + 1)]);
            }
            continue;
        }
        scan.tls_required_no |= tls_value.take().is_some_and(|value| is_no(&value));
        if starts(line, RECEIVED) {
            scan.hops += 1;
        } else if starts(line, TLS_REQUIRED) {
            let value = &line[TLS_REQUIRED.len()..];
            tls_value = Some(value[..value.len().min(MAX_TLS_REQUIRED_VALUE + 1)].to_vec());
        }
    }
    scan.tls_required_no |= tls_value.is_some_and(|value| is_no(&value));
    scan
}

/// RFC 8689 §3: `"TLS-Required:" [FWS] "No" CRLF`, "No" in any case
/// (RFC 5234 §2.3); any other value is not one the RFC defines.
fn is_no(value: &[u8]) -> bool {
    value.len() <= MAX_TLS_REQUIRED_VALUE && value.trim_ascii().eq_ignore_ascii_case(b"no")
}

pub(crate) struct Trace<'a> {
    pub helo: &'a str,
    /// `None` leaves out where the message came from (for authenticated
    /// users who asked for privacy).
    pub peer: Option<SocketAddr>,
    pub hostname: &'a str,
    pub extended: bool,
    pub tls: Option<(String, String)>,
    pub authenticated: bool,
    pub id: &'a str,
    /// Named only when there is exactly one, so one copy of a message does
    /// not reveal its other recipients.
    pub single_recipient: Option<&'a str>,
    pub date: i64,
}

impl Trace<'_> {
    pub(crate) fn header(&self) -> String {
        // RFC 3848: ESMTP, then S for TLS and A for authentication.
        let protocol = match (self.extended, self.tls.is_some(), self.authenticated) {
            (false, _, _) => "SMTP",
            (true, false, false) => "ESMTP",
            (true, true, false) => "ESMTPS",
            (true, false, true) => "ESMTPA",
            (true, true, true) => "ESMTPSA",
        };
        let mut header = String::from("Received: ");
        if let Some(peer) = self.peer {
            let helo: String = self
                .helo
                .chars()
                .map(|c| {
                    if c.is_ascii_graphic() && c != '(' && c != ')' {
                        c
                    } else {
                        '?'
                    }
                })
                .collect();
            let ip = match peer.ip() {
                std::net::IpAddr::V4(ip) => ip.to_string(),
                std::net::IpAddr::V6(ip) => format!("IPv6:{ip}"),
            };
            header.push_str(&format!("from {helo} ([{ip}])\r\n\t"));
        }
        header.push_str(&format!("by {} (postamt) with {protocol}", self.hostname));
        if let Some((version, cipher)) = &self.tls {
            header.push_str(&format!("\r\n\t(version={version} cipher={cipher})"));
        }
        header.push_str(&format!("\r\n\tid {}", self.id));
        if let Some(recipient) = self.single_recipient {
            header.push_str(&format!("\r\n\tfor <{recipient}>"));
        }
        header.push_str(&format!("; {}\r\n", wire::date::rfc5322(self.date)));
        header
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace() -> Trace<'static> {
        Trace {
            helo: "client.test",
            peer: Some("192.0.2.7:4000".parse().unwrap()),
            hostname: "mx.example.test",
            extended: true,
            tls: None,
            authenticated: false,
            id: "abc123",
            single_recipient: Some("bob@example.test"),
            date: 0,
        }
    }

    #[test]
    fn counts_hops_and_finds_tls_required_no_in_the_header_only() {
        let scan = scan_header(b"Received: a\r\nreceived: b\r\n\tfolded\r\nTLS-Required: No\r\n\r\nReceived: c\r\n");
        assert_eq!(
            scan,
            HeaderScan {
                hops: 2,
                tls_required_no: true
            }
        );
        for header in [
            &b"tls-required:no\r\n\r\n"[..],
            b"TLS-Required:\r\n  NO \r\nSubject: x\r\n\r\n",
            b"Subject: x\nTLS-Required: No",
        ] {
            assert!(scan_header(header).tls_required_no, "{header:?}");
        }
        for header in [
            &b"TLS-Required: Yes\r\n\r\n"[..],
            b"TLS-Required: No thanks\r\n\r\n",
            b"X-TLS-Required: No\r\n\r\n",
            b"Subject: x\r\n\r\nTLS-Required: No\r\n",
        ] {
            assert!(!scan_header(header).tls_required_no, "{header:?}");
        }
        let mut long = b"TLS-Required: No\r\n".to_vec();
        long.extend(std::iter::repeat_n(b" \r\n".as_slice(), 300).flatten());
        assert!(
            !scan_header(&long).tls_required_no,
            "a value past the bound is not read"
        );
    }

    #[test]
    fn formats_a_received_header() {
        assert_eq!(
            trace().header(),
            "Received: from client.test ([192.0.2.7])\r\n\tby mx.example.test (postamt) with ESMTP\r\n\tid abc123\r\n\tfor <bob@example.test>; Thu, 1 Jan 1970 00:00:00 +0000\r\n"
        );
    }

    #[test]
    fn records_tls_and_authentication_and_can_hide_the_client() {
        let header = Trace {
            peer: None,
            tls: Some(("TLSv1_3".into(), "TLS13_AES_128_GCM_SHA256".into())),
            authenticated: true,
            ..trace()
        }
        .header();
        assert!(header.starts_with("Received: by mx.example.test (postamt) with ESMTPSA\r\n\t(version=TLSv1_3 cipher=TLS13_AES_128_GCM_SHA256)"), "{header}");
        assert!(!header.contains("192.0.2.7"));
    }
}
