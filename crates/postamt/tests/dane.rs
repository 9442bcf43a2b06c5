//! DANE (RFC 7672) on the sending side, end to end: the real postamt
//! binary sends to b.test, whose zone knotd serves DNSSEC-signed (or
//! unsigned, or broken) below a signed `test.` zone that the sender takes
//! as its trust anchor (crates/dns/tests/support/signed_zones.rs). b.test's
//! MX is aiosmtpd (tests/python/smtppeer.py) with a self-signed
//! certificate, which only a TLSA record can vouch for. A matching `3 1 1`
//! record delivers over DANE; a record for another key, a bogus zone or a
//! host without STARTTLS defers with nothing sent; an unsigned zone's
//! records are not relied on, and mail goes opportunistically.

mod common;

#[path = "../../dns/tests/support/signed_zones.rs"]
mod signed_zones;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Peer, Server};
use signed_zones::{SignedDns, Signing, ZoneSpec, spki_sha256_hex};

/// A self-signed certificate for `mx.b.test` (no CA vouches for it): the
/// paths of the certificate and its key.
fn certificate(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["mx.b.test".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (cert_path, key_path) = (dir.join(format!("{name}.pem")), dir.join(format!("{name}.key")));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

/// knotd serving `test.` (the anchor) and b.test signed as `signing`,
/// with its MX on loopback and `tlsa` (a record's data, or none) at
/// `_PORT._tcp.mx.b.test`.
fn dns(signing: Signing, port: u16, tlsa: Option<&str>) -> SignedDns {
    let mut records = "@ IN MX 10 mx.b.test.\nmx IN A 127.0.0.1\n".to_string();
    if let Some(tlsa) = tlsa {
        records.push_str(&format!("_{port}._tcp.mx IN TLSA {tlsa}\n"));
    }
    SignedDns::start(&[
        ZoneSpec::new("test", Signing::Signed, ""),
        ZoneSpec::new("b.test", signing, &records),
    ])
}

/// The sending postamt, asking knotd, trusting its anchor, sending to
/// `port`. Retries are an hour apart: each test sees one attempt.
fn sender(dns: &SignedDns, port: u16) -> Server {
    let config = format!(
        "hostname = \"mx.a.test\"\n[delivery]\nport = {port}\n\
         [queue]\nretry_intervals = [3600]\ndnssec_trust_anchor = \"{}\"\n",
        dns.trust_anchor_path.display()
    );
    let server = Server::start_with_nameserver(&config, dns.address);
    server.admin(&["domain", "add", "a.test"]);
    server.add_user("alice@a.test");
    server
}

fn submit(a: &Server) {
    a.python(
        r#"
import mailtest
client = mailtest.submit("alice@a.test")
message = b"From: alice@a.test\r\nTo: bob@b.test\r\nSubject: secret\r\n\r\nthe secret body\r\n"
assert client.sendmail("alice@a.test", ["bob@b.test"], message) == {}
client.quit()
"#,
    );
}

/// Waits until `needle` shows in the queue listing; the listing.
fn wait_for_listing(a: &Server, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let listing = a.admin(&["queue", "list"]);
        if listing.contains(needle) {
            return listing;
        }
        assert!(
            Instant::now() < deadline,
            "{needle:?} not in the queue:\n{listing}\n{}",
            a.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The peer (with `--tls` and a certificate unless `plain`), the zone's
/// TLSA data for it ("3 1 1 <its key's digest>") and the directory.
fn peer(plain: bool) -> (Peer, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path(), "mx");
    let tlsa = format!("3 1 1 {}", spki_sha256_hex(&cert));
    let peer = if plain {
        Peer::start(&[])
    } else {
        Peer::start(&["--tls", cert.to_str().unwrap(), key.to_str().unwrap()])
    };
    (peer, tlsa, dir)
}

#[test]
fn a_matching_tlsa_record_delivers_over_dane() {
    let (peer, tlsa, _dir) = peer(false);
    let port = peer.helper.port;
    let dns = dns(Signing::Signed, port, Some(&tlsa));
    let a = sender(&dns, port);
    a.wait_for_log("DANE is on");
    submit(&a);
    let [message] = <[Vec<u8>; 1]>::try_from(peer.wait_for(1)).unwrap();
    assert!(String::from_utf8_lossy(&message).contains("the secret body"));
    a.wait_for_log("delivered");
    let log = a.log();
    let delivered = log.lines().find(|l| l.contains("delivered")).unwrap();
    assert!(delivered.contains("policy=\"dane\""), "{delivered}");
}

#[test]
fn a_tlsa_record_for_another_key_defers() {
    let (peer, _, _dir) = peer(false);
    let other = tempfile::tempdir().unwrap();
    let (other_cert, _) = certificate(other.path(), "other");
    let port = peer.helper.port;
    let dns = dns(
        Signing::Signed,
        port,
        Some(&format!("3 1 1 {}", spki_sha256_hex(&other_cert))),
    );
    let a = sender(&dns, port);
    submit(&a);
    let listing = wait_for_listing(&a, "451 4.7.5");
    assert!(listing.contains("TLSA"), "{listing}");
    a.wait_for_log("host refused by DANE");
    assert!(a.log().contains("tlsa-invalid"), "{}", a.log());
    assert_eq!(peer.received(), 0, "nothing went to the host");
}

#[test]
fn bogus_zones_defer() {
    for signing in [Signing::WrongDs, Signing::Expired] {
        let (peer, tlsa, _dir) = peer(false);
        let port = peer.helper.port;
        let dns = dns(signing, port, Some(&tlsa));
        let a = sender(&dns, port);
        submit(&a);
        let listing = wait_for_listing(&a, "451 4.7.5");
        assert!(listing.contains("DNSSEC validation failed"), "{signing:?}: {listing}");
        assert_eq!(peer.received(), 0, "{signing:?}: nothing went to the host");
    }
}

#[test]
fn an_unsigned_zone_is_delivered_opportunistically() {
    // The TLSA record names another key: in an unsigned zone nobody
    // vouches for it, so it is not looked at (RFC 7672 §2.2).
    let (peer, _, _dir) = peer(false);
    let other = tempfile::tempdir().unwrap();
    let (other_cert, _) = certificate(other.path(), "other");
    let port = peer.helper.port;
    let dns = dns(
        Signing::Unsigned,
        port,
        Some(&format!("3 1 1 {}", spki_sha256_hex(&other_cert))),
    );
    let a = sender(&dns, port);
    submit(&a);
    peer.wait_for(1);
    a.wait_for_log("delivered");
    let log = a.log();
    let delivered = log.lines().find(|l| l.contains("delivered")).unwrap();
    assert!(delivered.contains("policy=\"opportunistic\""), "{delivered}");
}

#[test]
fn a_host_with_tlsa_but_without_starttls_gets_nothing_in_clear() {
    let (peer, tlsa, _dir) = peer(true);
    let port = peer.helper.port;
    let dns = dns(Signing::Signed, port, Some(&tlsa));
    let a = sender(&dns, port);
    submit(&a);
    let listing = wait_for_listing(&a, "451 4.7.10");
    assert!(listing.contains("mx.b.test does not offer STARTTLS"), "{listing}");
    assert!(a.log().contains("starttls-not-supported"), "{}", a.log());
    assert_eq!(peer.received(), 0);
}

#[test]
fn unusable_tlsa_records_still_require_tls() {
    // PKIX-EE(1) is not for SMTP (RFC 7672 §3.1.3): TLS is mandatory,
    // but no certificate check can pass or fail.
    let (peer, _, _dir) = peer(false);
    let port = peer.helper.port;
    let digest = "00".repeat(32);
    let dns = dns(Signing::Signed, port, Some(&format!("1 1 1 {digest}")));
    let a = sender(&dns, port);
    submit(&a);
    peer.wait_for(1);
    // Without STARTTLS the same record defers.
    let (plain, _, _plain_dir) = self::peer(true);
    let dns = self::dns(Signing::Signed, plain.helper.port, Some(&format!("1 1 1 {digest}")));
    let b = sender(&dns, plain.helper.port);
    submit(&b);
    wait_for_listing(&b, "451 4.7.10");
    assert_eq!(plain.received(), 0);
}

#[test]
fn dane_is_off_with_a_warning_when_the_resolver_does_not_validate() {
    // The test DNS server (tests/python/dnsserver.py) signs nothing.
    let a = Server::start_with_zone("", "");
    a.wait_for_log("DANE is off: DNSSEC validation does not work through the configured nameservers");
    let log = a.log();
    assert_eq!(log.matches("DANE is off").count(), 1, "{log}");
}

#[test]
fn a_requiretls_message_goes_over_dane() {
    // RFC 8689 §4.2.1: DANE authenticates the server as REQUIRETLS asks;
    // over opportunistic TLS the message would be returned instead.
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path(), "mx");
    let tlsa = format!("3 1 1 {}", spki_sha256_hex(&cert));
    let peer = Peer::start(&["--tls", cert.to_str().unwrap(), key.to_str().unwrap(), "--requiretls"]);
    let port = peer.helper.port;
    let dns = dns(Signing::Signed, port, Some(&tlsa));
    let a = sender(&dns, port);
    a.python(
        r#"
import mailtest
client = mailtest.submit("alice@a.test")
message = b"From: alice@a.test\r\nTo: bob@b.test\r\nSubject: secret\r\n\r\nthe secret body\r\n"
assert client.sendmail("alice@a.test", ["bob@b.test"], message, mail_options=["REQUIRETLS"]) == {}
client.quit()
"#,
    );
    peer.wait_for(1);
    assert!(peer.dir.path().join("1.requiretls").exists(), "MAIL carried REQUIRETLS");
}

/// A sender, and b.test's MX (`peer`), whose certificate no CA vouches
/// for; b.test has an enforced MTA-STS policy naming that MX and the
/// TLSA record `record`, or one matching the MX's key. What the test
/// needs kept alive comes along.
struct EnforcedDomain {
    a: Server,
    peer: Peer,
    _https: common::Helper,
    _dns: SignedDns,
    _dir: tempfile::TempDir,
}

fn under_enforced_policy(record: Option<&str>) -> EnforcedDomain {
    let (peer, tlsa, dir) = peer(false);
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, ca.self_signed(&ca_key).unwrap().pem()).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let https_key = rcgen::KeyPair::generate().unwrap();
    let https_cert = rcgen::CertificateParams::new(vec!["mta-sts.b.test".to_string()])
        .unwrap()
        .signed_by(&https_key, &issuer)
        .unwrap();
    let paths = ["https.pem", "https.key", "policy.txt"].map(|name| dir.path().join(name));
    std::fs::write(&paths[0], https_cert.pem()).unwrap();
    std::fs::write(&paths[1], https_key.serialize_pem()).unwrap();
    std::fs::write(
        &paths[2],
        "version: STSv1\r\nmode: enforce\r\nmx: mx.b.test\r\nmax_age: 86400\r\n",
    )
    .unwrap();
    let paths = paths.map(|p| p.to_string_lossy().into_owned());
    let https = common::Helper::start("mtasts_https.py", &[&paths[0], &paths[1], &paths[2]]);
    let port = peer.helper.port;
    let tlsa = record.unwrap_or(&tlsa);
    let records = format!(
        "@ IN MX 10 mx.b.test.\nmx IN A 127.0.0.1\n_{port}._tcp.mx IN TLSA {tlsa}\n\
         mta-sts IN A 127.0.0.1\n_mta-sts IN TXT \"v=STSv1; id=1\"\n"
    );
    let dns = SignedDns::start(&[
        ZoneSpec::new("test", Signing::Signed, ""),
        ZoneSpec::new("b.test", Signing::Signed, &records),
    ]);
    let config = format!(
        "hostname = \"mx.a.test\"\n[delivery]\nport = {port}\n\
         [queue]\nretry_intervals = [3600]\ndnssec_trust_anchor = \"{}\"\nca_file = {:?}\nmta_sts_port = {}\n",
        dns.trust_anchor_path.display(),
        ca_path,
        https.port
    );
    let a = Server::start_with_nameserver(&config, dns.address);
    a.admin(&["domain", "add", "a.test"]);
    a.add_user("alice@a.test");
    EnforcedDomain {
        a,
        peer,
        _https: https,
        _dns: dns,
        _dir: dir,
    }
}

#[test]
fn dane_takes_precedence_over_an_enforced_mta_sts_policy() {
    // MTA-STS alone would defer: no CA vouches for the MX's certificate.
    // Its TLSA record authenticates it (RFC 8461 §2: DANE wins where it
    // applies).
    let domain = under_enforced_policy(None);
    let a = &domain.a;
    submit(a);
    domain.peer.wait_for(1);
    a.wait_for_log("delivered");
    let log = a.log();
    assert!(
        log.contains("fetched an MTA-STS policy"),
        "the policy was in force: {log}"
    );
    let delivered = log.lines().find(|l| l.contains("delivered")).unwrap();
    assert!(delivered.contains("policy=\"dane\""), "{delivered}");
}

#[test]
fn unusable_tlsa_records_do_not_lift_an_enforced_mta_sts_policy() {
    // A PKIX-EE record is unusable for SMTP (RFC 7672 §3.1.3): DANE asks
    // only for TLS, and the MTA-STS policy's certificate check still holds.
    let unusable = format!("1 1 1 {}", "00".repeat(32));
    let domain = under_enforced_policy(Some(&unusable));
    let a = &domain.a;
    submit(a);
    let listing = wait_for_listing(a, "451 4.7.5");
    assert!(
        listing.contains("the MTA-STS policy requires a certificate valid for mx.b.test"),
        "{listing}"
    );
    assert_eq!(domain.peer.received(), 0, "nothing went to the host");
}

#[test]
fn deliveries_wait_while_the_dnssec_probe_gets_no_answer() {
    // Nothing answers DNS there: whether DANE applies cannot be known, so
    // nothing is sent without it.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = silent.local_addr().unwrap();
    drop(silent);
    let peer = Peer::start(&[]);
    let config = format!(
        "hostname = \"mx.a.test\"\n[delivery]\nport = {}\n[queue]\nretry_intervals = [3600]\n",
        peer.helper.port
    );
    let a = Server::start_with_nameserver(&config, address);
    a.admin(&["domain", "add", "a.test"]);
    a.add_user("alice@a.test");
    submit(&a);
    let listing = wait_for_listing(&a, "451 4.4.3");
    assert!(listing.contains("DNSSEC probe"), "{listing}");
    assert_eq!(peer.received(), 0);
}
