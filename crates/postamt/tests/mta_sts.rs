//! MTA-STS (RFC 8461) on the sending side, end to end: the real postamt
//! binary sends to b.test, whose DNS (dnslib on loopback) publishes an
//! `_mta-sts` TXT record and whose policy an HTTPS server serves
//! (tests/python/mtasts_https.py); b.test's MX is aiosmtpd offering
//! STARTTLS (tests/python/smtppeer.py) with a certificate from a CA made
//! here, which the sender trusts through `[queue] ca_file`. An enforced
//! policy lets mail go only to the listed MX hosts over verified TLS, and
//! keeps doing so from its cache when the policy server is gone; a
//! testing policy only logs; an attacker who strips STARTTLS gets nothing.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{Helper, Peer, Server};

const ENFORCE: &str = "version: STSv1\r\nmode: enforce\r\nmx: mx.b.test\r\nmax_age: 86400\r\n";

/// A CA, and certificates it issues, in a directory of their own.
struct Pki {
    dir: tempfile::TempDir,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "postamt MTA-STS test CA");
        std::fs::write(dir.path().join("ca.pem"), params.self_signed(&key).unwrap().pem()).unwrap();
        Pki {
            dir,
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    fn ca_file(&self) -> String {
        self.dir.path().join("ca.pem").to_string_lossy().into_owned()
    }

    /// A certificate for `names`: the paths of its chain and its key.
    fn issue(&self, names: &[&str]) -> [String; 2] {
        let key = rcgen::KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let cert = rcgen::CertificateParams::new(names.clone())
            .unwrap()
            .signed_by(&key, &self.issuer)
            .unwrap();
        let base = self.dir.path().join(names.join("+"));
        let (cert_path, key_path) = (base.with_extension("pem"), base.with_extension("key"));
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        [cert_path, key_path].map(|p: PathBuf| p.to_string_lossy().into_owned())
    }

    /// The HTTPS server of `mta-sts.b.test` (and `mta-sts.c.test`),
    /// serving `policy`.
    fn policy_server(&self, policy: &str) -> Helper {
        let path = self.dir.path().join("policy.txt");
        std::fs::write(&path, policy).unwrap();
        let [cert, key] = self.issue(&["mta-sts.b.test", "mta-sts.c.test"]);
        Helper::start("mtasts_https.py", &[&cert, &key, path.to_str().unwrap()])
    }

    /// b.test's MX: aiosmtpd with STARTTLS and a certificate for `name`.
    fn peer(&self, name: &str, extra: &[&str]) -> Peer {
        let [cert, key] = self.issue(&[name]);
        let mut args = vec!["--tls", &cert, &key];
        args.extend_from_slice(extra);
        Peer::start(&args)
    }
}

/// b.test's records: MX hosts (all on loopback) and the `_mta-sts` record.
fn zone(mx: &[&str], id: &str) -> String {
    let mut zone = String::new();
    for (n, host) in mx.iter().enumerate() {
        zone.push_str(&format!("b.test MX {} {host}\n{host} A 127.0.0.1\n", 10 * (n + 1)));
    }
    zone.push_str(&format!(
        "mta-sts.b.test A 127.0.0.1\n_mta-sts.b.test TXT \"v=STSv1; id={id}\"\n\
         c.test MX 10 mx.c.test\nmx.c.test A 127.0.0.1\n\
         mta-sts.c.test A 127.0.0.1\n_mta-sts.c.test TXT \"v=STSv1; id={id}\"\n"
    ));
    zone
}

/// The sending postamt: MX hosts on `smtp_port`, policies on `https_port`,
/// the test CA trusted. Retries are an hour apart, so each test sees one
/// attempt per message.
fn sender(pki: &Pki, zone: &str, smtp_port: u16, https_port: u16) -> Server {
    let config = format!(
        "hostname = \"mx.a.test\"\n[delivery]\nport = {smtp_port}\n\
         [queue]\nretry_intervals = [3600]\nca_file = \"{}\"\nmta_sts_port = {https_port}\n",
        pki.ca_file()
    );
    let server = Server::start_with_zone(&config, zone);
    server.admin(&["domain", "add", "a.test"]);
    server.add_user("alice@a.test");
    server
}

fn submit(a: &Server, recipient: &str) {
    submit_with(a, recipient, "");
}

/// Submits a message to `recipient` with `header` (a field and its CRLF,
/// or nothing) among its fields.
fn submit_with(a: &Server, recipient: &str, header: &str) {
    a.python(&format!(
        r#"
import mailtest
client = mailtest.submit("alice@a.test")
message = b"From: alice@a.test\r\nTo: {recipient}\r\n{header}Subject: secret\r\n\r\nthe secret body\r\n"
assert client.sendmail("alice@a.test", ["{recipient}"], message) == {{}}
client.quit()
"#
    ));
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

/// The queue id of the one message in the listing.
fn only_id(listing: &str) -> String {
    let ids: Vec<&str> = listing
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.is_empty())
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "{listing}");
    ids[0].to_string()
}

#[test]
fn an_enforced_policy_delivers_over_verified_tls() {
    let pki = Pki::new();
    let peer = pki.peer("mx.b.test", &[]);
    let https = pki.policy_server(ENFORCE);
    let a = sender(&pki, &zone(&["mx.b.test"], "1"), peer.helper.port, https.port);
    submit(&a, "bob@b.test");
    let [message] = <[Vec<u8>; 1]>::try_from(peer.wait_for(1)).unwrap();
    assert!(String::from_utf8_lossy(&message).contains("the secret body"));
    a.wait_for_log("fetched an MTA-STS policy");
}

#[test]
fn an_enforced_policy_defers_a_certificate_for_another_name() {
    let pki = Pki::new();
    let peer = pki.peer("wrong.b.test", &[]);
    let https = pki.policy_server(ENFORCE);
    let a = sender(&pki, &zone(&["mx.b.test"], "1"), peer.helper.port, https.port);
    submit(&a, "bob@b.test");
    let listing = wait_for_listing(&a, "451 4.7.5");
    let shown = a.admin(&["queue", "show", &only_id(&listing)]);
    assert!(
        shown.contains("the MTA-STS policy requires a certificate valid for mx.b.test"),
        "{shown}"
    );
    a.wait_for_log("host refused by the MTA-STS policy");
    assert_eq!(peer.received(), 0, "nothing went to the host");
}

#[test]
fn a_message_saying_tls_required_no_goes_despite_the_policy() {
    // RFC 8689 §5: the sender asks that the recipient domain's policy not
    // hold the message back; it goes as without one (opportunistic TLS).
    let pki = Pki::new();
    let peer = pki.peer("wrong.b.test", &[]);
    let https = pki.policy_server(ENFORCE);
    let a = sender(&pki, &zone(&["mx.b.test"], "1"), peer.helper.port, https.port);
    submit_with(&a, "bob@b.test", "TLS-Required: No\\r\\n");
    let [message] = <[Vec<u8>; 1]>::try_from(peer.wait_for(1)).unwrap();
    assert!(String::from_utf8_lossy(&message).contains("TLS-Required: No"));
    a.wait_for_log("MTA-STS policy is not applied");
}

#[test]
fn hosts_the_policy_does_not_list_are_not_used() {
    let pki = Pki::new();
    // Both MX hosts are the one peer, whose certificate names both: only
    // the policy tells them apart.
    let peer = pki.peer("mx2.b.test", &[]);
    let policy = ENFORCE.replace("mx.b.test", "mx2.b.test");
    let https = pki.policy_server(&policy);
    let a = sender(
        &pki,
        &zone(&["mx1.b.test", "mx2.b.test"], "1"),
        peer.helper.port,
        https.port,
    );
    submit(&a, "bob@b.test");
    peer.wait_for(1);
    let log = a.log();
    assert!(
        log.contains("the policy does not list this MX host; not using it") && log.contains("mx1.b.test"),
        "{log}"
    );
    // c.test serves the same policy, which names none of its hosts.
    submit(&a, "carol@c.test");
    let listing = wait_for_listing(&a, "451 4.4.4");
    assert!(
        listing.contains("no MX host of c.test (mx.c.test) matches its MTA-STS policy"),
        "{listing}"
    );
    assert_eq!(peer.received(), 1);
}

#[test]
fn a_cached_policy_is_enforced_after_a_restart_without_its_server() {
    let pki = Pki::new();
    let peer = pki.peer("mx.b.test", &[]);
    let port = peer.helper.port;
    let https = pki.policy_server(ENFORCE);
    let mut a = sender(&pki, &zone(&["mx.b.test"], "1"), port, https.port);
    submit(&a, "bob@b.test");
    peer.wait_for(1);
    // The policy server goes away, and an impostor with a certificate for
    // another name takes the MX's place.
    drop(https);
    drop(peer);
    let impostor = pki.peer("impostor.test", &["--port", &port.to_string()]);
    a.restart();
    submit(&a, "bob@b.test");
    wait_for_listing(&a, "451 4.7.5");
    assert_eq!(impostor.received(), 0, "the stored policy still applied");
}

#[test]
fn a_testing_policy_delivers_and_logs_what_would_have_failed() {
    let pki = Pki::new();
    let peer = pki.peer("wrong.b.test", &[]);
    let https = pki.policy_server(&ENFORCE.replace("enforce", "testing"));
    let a = sender(&pki, &zone(&["mx.b.test"], "1"), peer.helper.port, https.port);
    submit(&a, "bob@b.test");
    peer.wait_for(1);
    let log = a.log();
    assert!(
        log.contains("MTA-STS testing: delivery would have been refused")
            && log.contains("certificate valid for mx.b.test"),
        "{log}"
    );
}

#[test]
fn stripping_starttls_gets_the_attacker_nothing() {
    let pki = Pki::new();
    let peer = pki.peer("mx.b.test", &[]);
    let https = pki.policy_server(ENFORCE);
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("seen");
    let proxy = Helper::start(
        "starttls_strip.py",
        &[&peer.helper.port.to_string(), seen.to_str().unwrap()],
    );
    let a = sender(&pki, &zone(&["mx.b.test"], "1"), proxy.port, https.port);
    submit(&a, "bob@b.test");
    let listing = wait_for_listing(&a, "451 4.7.10");
    assert!(listing.contains("mx.b.test does not offer STARTTLS"), "{listing}");
    let seen = std::fs::read_to_string(&seen).unwrap_or_default();
    assert!(seen.contains("EHLO mx.a.test"), "{seen}");
    assert!(!seen.contains("MAIL FROM") && !seen.contains("secret"), "{seen}");
    assert_eq!(peer.received(), 0);
}
