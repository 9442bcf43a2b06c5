//! What the checks ask DNS, counted at a real DNS server on loopback
//! (tests/python/dnsserver.py, which logs every question): a second
//! message from the same sender is checked from the caches, negative
//! answers (NXDOMAIN, NOERROR without data; RFC 2308 §5) included, while
//! a server failure (SERVFAIL) is asked again, since it says nothing about
//! the records (a temperror, RFC 7208 §2.6.6).

#[path = "../../dns/tests/support/dns_server.rs"]
mod dns_server;

use dns_server::DnsServer;
use msgauth::{Client, Settings, Verifier};

/// A sender whose domain publishes SPF but no DMARC record (NXDOMAIN at
/// `_dmarc`), whose EHLO name exists without TXT records (NOERROR, no
/// data), from an address without a PTR record (NXDOMAIN).
const ZONE: &str = "\
sender.test TXT \"v=spf1 ip4:192.0.2.0/24 -all\"
relay.sender.test A 192.0.2.1
broken.test SERVFAIL -
";

const MESSAGE: &[u8] = b"From: a@sender.test\r\nTo: b@example.test\r\nSubject: hello\r\n\
Message-ID: <1@sender.test>\r\nDate: Tue, 1 Dec 2026 08:00:00 +0000\r\n\r\nHello.\r\n";

fn client(helo: &str) -> Client {
    Client {
        ip: "192.0.2.1".parse().unwrap(),
        helo: helo.into(),
        mail_from: "a@sender.test".into(),
    }
}

#[tokio::test]
async fn a_second_message_is_checked_without_asking_dns_again() {
    let dns = DnsServer::start(ZONE);
    let verifier = Verifier::new(&[dns.address], Settings::new("mx.example.test")).expect("verifier");
    let sender = verifier.check_sender(client("relay.sender.test")).await;
    let first = verifier.check_message(MESSAGE, &sender).await;
    assert!(first.header.contains("spf=pass"), "{}", first.header);
    let asked = dns.queries();
    // The missing records were asked about: the test shows what it meant.
    for name in [
        "relay.sender.test TXT",
        "_dmarc.sender.test TXT",
        "1.2.0.192.in-addr.arpa PTR",
    ] {
        assert!(asked.iter().any(|q| q == name), "{name} not among {asked:?}");
    }

    let sender = verifier.check_sender(client("relay.sender.test")).await;
    let second = verifier.check_message(MESSAGE, &sender).await;
    assert_eq!(second.header, first.header);
    let again = &dns.queries()[asked.len()..];
    assert!(again.is_empty(), "the second message asked DNS again: {again:?}");
}

/// Negative answers as authoritative servers give them, with the zone's
/// SOA (RFC 2308 §3): kept for its negative TTL (the lesser of the SOA's
/// TTL, 60 s here, and its MINIMUM), and for the 30 s floor when that is
/// zero.
#[tokio::test]
async fn negative_answers_with_an_soa_are_kept() {
    let dns = DnsServer::start(
        "\
long.test SOA ns.long.test. admin.long.test. 1 3600 600 86400 3600
long.test A 192.0.2.1
zero.test SOA ns.zero.test. admin.zero.test. 1 3600 600 86400 0
zero.test A 192.0.2.1
",
    );
    let verifier = Verifier::new(&[dns.address], Settings::new("mx.example.test")).expect("verifier");
    for helo in ["long.test", "zero.test"] {
        let client = || Client {
            ip: "192.0.2.1".parse().unwrap(),
            helo: helo.into(),
            mail_from: format!("a@{helo}"),
        };
        verifier.check_sender(client()).await;
        let asked = dns.queries();
        assert!(asked.contains(&format!("{helo} TXT")), "{asked:?}");
        verifier.check_sender(client()).await;
        let again = &dns.queries()[asked.len()..];
        assert!(again.is_empty(), "{helo}: asked again: {again:?}");
    }
}

#[tokio::test]
async fn a_server_failure_is_asked_again() {
    let dns = DnsServer::start(ZONE);
    let verifier = Verifier::new(&[dns.address], Settings::new("mx.example.test")).expect("verifier");
    let asked_about_helo = || dns.queries().iter().filter(|q| *q == "broken.test TXT").count();
    let sender = verifier.check_sender(client("broken.test")).await;
    let first = verifier.check_message(MESSAGE, &sender).await;
    assert!(first.header.contains("spf=temperror"), "{}", first.header);
    let once = asked_about_helo();
    assert!(once >= 1);
    let sender = verifier.check_sender(client("broken.test")).await;
    let second = verifier.check_message(MESSAGE, &sender).await;
    assert!(second.header.contains("spf=temperror"), "{}", second.header);
    assert!(asked_about_helo() > once, "the SERVFAIL was answered from a cache");
}
