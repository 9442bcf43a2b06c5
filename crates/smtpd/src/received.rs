//! The Received trace header (RFC 5321 §4.4, RFC 5322 §3.6.7), with the
//! protocol names of RFC 3848.

use std::net::SocketAddr;

/// A message that has passed this many hosts is looping (RFC 5321 §6.3:
/// count the Received fields, with a limit of at least 100), as alias
/// forwards between two servers that point at each other would.
pub(crate) const MAX_HOPS: usize = 100;

/// The number of Received fields in the header of `message`.
pub(crate) fn hops(message: &[u8]) -> usize {
    const RECEIVED: &[u8] = b"received:";
    message
        .split(|&b| b == b'\n')
        .take_while(|line| !matches!(line, [] | [b'\r']))
        .filter(|line| line.len() >= RECEIVED.len() && line[..RECEIVED.len()].eq_ignore_ascii_case(RECEIVED))
        .count()
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
