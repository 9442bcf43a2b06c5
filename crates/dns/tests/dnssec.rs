//! DNSSEC-validated lookups (RFC 4035, RFC 7672 §2.1-2.2) against zones
//! signed with ldns and served by knotd on loopback
//! (tests/support/signed_zones.rs), and against the plain dnslib server,
//! which knows nothing of DNSSEC.

#[path = "support/dns_server.rs"]
mod dns_server;
#[path = "support/signed_zones.rs"]
mod signed_zones;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use dns::{DnsError, HostAddresses, MAX_TLSA, MxAnswer, ProbeError, SecureResolver, Security, Tlsa, tlsa_base_domains};
use dns_server::DnsServer;
use signed_zones::{SignedDns, Signing, ZoneSpec, spki_sha256_hex};

const DIGEST: &str = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";

fn zones() -> Vec<ZoneSpec> {
    vec![
        ZoneSpec::new(
            "test",
            Signing::Signed,
            "nomx A 127.0.0.9\n\
             nullmx MX 0 .\n",
        ),
        ZoneSpec::new(
            "dane.test",
            Signing::Signed,
            &format!(
                "@ MX 10 mx.dane.test.\n\
                 mx A 127.0.0.1\n\
                 mx AAAA ::1\n\
                 _25._tcp.mx TLSA 3 1 1 {DIGEST}\n\
                 _25._tcp.mx TLSA 2 0 2 {DIGEST}{DIGEST}\n\
                 notlsa A 127.0.0.2\n\
                 _25._tcp.nodata TXT \"not a TLSA\"\n\
                 alias CNAME mx\n\
                 alias4 CNAME v4only\n\
                 loop1 CNAME loop2\n\
                 _25._tcp.tlsdangling CNAME _25._tcp.notlsa\n\
                 loop2 CNAME loop1\n\
                 v4only A 127.0.0.5\n\
                 outside CNAME mx.insecure.test.\n\
                 _25._tcp.tlsalias CNAME _25._tcp.mx\n\
                 _25._tcp.tlsout CNAME _25._tcp.mx.insecure.test.\n"
            ),
        ),
        ZoneSpec::new(
            "insecure.test",
            Signing::Unsigned,
            &format!(
                "@ MX 10 mx.insecure.test.\n\
                 mx A 127.0.0.3\n\
                 _25._tcp.mx TLSA 3 1 1 {DIGEST}\n"
            ),
        ),
        ZoneSpec::new(
            "nsec3.test",
            Signing::SignedNsec3,
            &format!(
                "@ MX 10 mx.nsec3.test.\n\
                 mx A 127.0.0.7\n\
                 _25._tcp.mx TLSA 3 1 1 {DIGEST}\n\
                 notlsa A 127.0.0.8\n"
            ),
        ),
        ZoneSpec::new("insecure.nsec3.test", Signing::Unsigned, "mx A 127.0.0.9\n"),
        ZoneSpec::new(
            "bogus.test",
            Signing::WrongDs,
            &format!(
                "@ MX 10 mx.bogus.test.\n\
                 mx A 127.0.0.4\n\
                 _25._tcp.mx TLSA 3 1 1 {DIGEST}\n"
            ),
        ),
        ZoneSpec::new(
            "expired.test",
            Signing::Expired,
            "@ MX 10 mx.expired.test.\nmx A 127.0.0.5\n",
        ),
        ZoneSpec::new(
            "stripped.test",
            Signing::Stripped,
            &format!(
                "@ MX 10 mx.stripped.test.\n\
                 mx A 127.0.0.6\n\
                 _25._tcp.mx TLSA 3 1 1 {DIGEST}\n"
            ),
        ),
    ]
}

fn resolver(server: &SignedDns) -> SecureResolver {
    SecureResolver::new(&[server.address], Some(&server.trust_anchor_path)).expect("resolver")
}

fn tlsa(usage: u8, selector: u8, matching: u8, hex: &str) -> Tlsa {
    let data = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    Tlsa {
        usage,
        selector,
        matching,
        data,
    }
}

fn is_bogus<T: std::fmt::Debug>(answer: &Security<T>) -> bool {
    matches!(answer, Security::Bogus(_))
}

#[tokio::test]
async fn a_signed_zone_answers_securely() {
    let server = SignedDns::start(&zones());
    let resolver = resolver(&server);
    assert_eq!(resolver.probe().await, Ok(()), "{}", server.log());
    assert_eq!(
        resolver.mx("dane.test").await.unwrap(),
        Security::Secure(MxAnswer::Hosts(vec![(10, "mx.dane.test".into())]))
    );
    assert_eq!(
        resolver.addresses("mx.dane.test").await.unwrap(),
        Security::Secure(HostAddresses {
            addresses: vec!["::1".parse().unwrap(), "127.0.0.1".parse().unwrap()],
            canonical: "mx.dane.test".into(),
        })
    );
    let Security::Secure(mut records) = resolver.tlsa("mx.dane.test", 25).await.unwrap() else {
        panic!("TLSA not secure");
    };
    records.sort_by_key(|r| r.usage);
    assert_eq!(
        records,
        [tlsa(2, 0, 2, &format!("{DIGEST}{DIGEST}")), tlsa(3, 1, 1, DIGEST)]
    );
    // Again, from hickory's cache.
    let again = resolver.tlsa("mx.dane.test", 25).await.unwrap();
    assert!(again.is_secure(), "{again:?}");
    // The ordinary resolver reads the same server (the end-to-end tests
    // point both at it).
    let plain = dns::Resolver::new(&[server.address]).unwrap();
    assert_eq!(
        plain.route("dane.test", "me.test").await.unwrap().hosts,
        ["mx.dane.test"]
    );
    // The anchor zone itself: no MX (the implicit MX), and a null MX.
    assert_eq!(
        resolver.mx("nomx.test").await.unwrap(),
        Security::Secure(MxAnswer::NoMx)
    );
    assert_eq!(
        resolver.mx("nullmx.test").await.unwrap(),
        Security::Secure(MxAnswer::Null)
    );
    assert_eq!(
        resolver.mx("absent.dane.test").await,
        Err(DnsError::NoSuchDomain("absent.dane.test".into()))
    );
}

#[tokio::test]
async fn missing_tlsa_is_a_secure_denial() {
    let server = SignedDns::start(&zones());
    let resolver = resolver(&server);
    // NXDOMAIN at _25._tcp of a host that exists (NSEC proves it).
    assert_eq!(
        resolver.tlsa("notlsa.dane.test", 25).await.unwrap(),
        Security::Secure(vec![])
    );
    // Again, from hickory's cache: the status is kept with the answer.
    assert_eq!(
        resolver.tlsa("notlsa.dane.test", 25).await.unwrap(),
        Security::Secure(vec![])
    );
    // NODATA: the name exists with other records only.
    assert_eq!(
        resolver.tlsa("nodata.dane.test", 25).await.unwrap(),
        Security::Secure(vec![])
    );
    // A host that does not exist at all.
    assert_eq!(
        resolver.tlsa("nowhere.dane.test", 25).await.unwrap(),
        Security::Secure(vec![])
    );
    // Another port of a host with TLSA for port 25 only.
    assert_eq!(
        resolver.tlsa("mx.dane.test", 465).await.unwrap(),
        Security::Secure(vec![])
    );
}

#[tokio::test]
async fn an_unsigned_child_is_insecure() {
    let server = SignedDns::start(&zones());
    let resolver = resolver(&server);
    assert_eq!(
        resolver.mx("insecure.test").await.unwrap(),
        Security::Insecure(MxAnswer::Hosts(vec![(10, "mx.insecure.test".into())]))
    );
    assert_eq!(
        resolver.addresses("mx.insecure.test").await.unwrap(),
        Security::Insecure(HostAddresses {
            addresses: vec!["127.0.0.3".parse::<IpAddr>().unwrap()],
            canonical: "mx.insecure.test".into(),
        })
    );
    // Its TLSA records are there, but nothing vouches for them.
    assert_eq!(
        resolver.tlsa("mx.insecure.test", 25).await.unwrap(),
        Security::Insecure(vec![tlsa(3, 1, 1, DIGEST)])
    );
    assert_eq!(
        resolver.tlsa("other.insecure.test", 25).await.unwrap(),
        Security::Insecure(vec![])
    );
}

#[tokio::test]
async fn bogus_zones_are_bogus() {
    let server = SignedDns::start(&zones());
    let resolver = resolver(&server);
    // A DS in the parent that matches none of the child's keys; expired
    // signatures; and a zone served without its signatures (the records
    // alone are never taken as secure).
    for zone in ["bogus.test", "expired.test", "stripped.test"] {
        let mx = format!("mx.{zone}");
        let found = resolver.mx(zone).await.unwrap();
        assert!(is_bogus(&found), "{zone} MX: {found:?}");
        let found = resolver.addresses(&mx).await.unwrap();
        assert!(is_bogus(&found), "{mx} addresses: {found:?}");
        for _ in 0..2 {
            let found = resolver.tlsa(&mx, 25).await.unwrap();
            assert!(is_bogus(&found), "{mx} TLSA: {found:?}");
        }
        // Denials in a bogus zone are bogus too.
        let found = resolver.tlsa(&format!("none.{zone}"), 25).await.unwrap();
        assert!(is_bogus(&found), "none.{zone} TLSA: {found:?}");
    }
}

#[tokio::test]
async fn answers_are_secure_only_from_the_anchor() {
    let server = SignedDns::start(&zones());
    // The same server, with an anchor that is not the zone's key: nothing
    // validates, so nothing is secure, and the probe says so.
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new("ldns-keygen")
        .args(["-a", "ECDSAP256SHA256", "-k", "test."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let other = dir
        .path()
        .join(format!("{}.key", String::from_utf8(output.stdout).unwrap().trim()));
    let resolver = SecureResolver::new(&[server.address], Some(&other)).unwrap();
    assert!(matches!(resolver.probe().await, Err(ProbeError::NotValidating(_))));
    let found = resolver.mx("dane.test").await.unwrap();
    assert!(is_bogus(&found), "{found:?}");
    let found = resolver.tlsa("mx.dane.test", 25).await.unwrap();
    assert!(is_bogus(&found), "{found:?}");
}

#[tokio::test]
async fn cname_expansion_gives_the_tlsa_base_domains() {
    let server = SignedDns::start(&zones());
    let resolver = resolver(&server);
    // RFC 7672 §2.2.2: a secure CNAME chain makes the expanded name the
    // first TLSA base domain, then the original name.
    let found = resolver.addresses("alias.dane.test").await.unwrap();
    assert_eq!(
        found,
        Security::Secure(HostAddresses {
            addresses: vec!["::1".parse().unwrap(), "127.0.0.1".parse().unwrap()],
            canonical: "mx.dane.test".into(),
        })
    );
    assert_eq!(
        tlsa_base_domains("alias.dane.test", &found),
        ["mx.dane.test", "alias.dane.test"]
    );
    // Most hosts have addresses of one family only: the other's denial
    // comes at the end of the chain, and is secure too.
    let found = resolver.addresses("alias4.dane.test").await.unwrap();
    assert_eq!(
        found,
        Security::Secure(HostAddresses {
            addresses: vec!["127.0.0.5".parse().unwrap()],
            canonical: "v4only.dane.test".into(),
        })
    );
    // A loop ends where the bound on the chain is.
    let looped = resolver.addresses("loop1.dane.test").await;
    assert!(
        matches!(&looped, Err(dns::DnsError::Temporary { reason, .. }) if reason.contains("CNAME chain longer than 8")),
        "{looped:?}"
    );
    // A chain that leaves the signed tree is insecure: the original name
    // only (and DANE would not look at all, the addresses being insecure).
    let found = resolver.addresses("outside.dane.test").await.unwrap();
    assert!(matches!(found, Security::Insecure(_)), "{found:?}");
    assert_eq!(tlsa_base_domains("outside.dane.test", &found), ["outside.dane.test"]);
    assert_eq!(
        tlsa_base_domains("mx.dane.test", &resolver.addresses("mx.dane.test").await.unwrap()),
        ["mx.dane.test"]
    );
    // A CNAME at the TLSA name itself (RFC 7671 §7) is followed; the
    // answer is as secure as its weakest link.
    let Security::Secure(records) = resolver.tlsa("tlsalias.dane.test", 25).await.unwrap() else {
        panic!("TLSA through a signed CNAME not secure");
    };
    assert_eq!(records.len(), 2);
    // A signed CNAME to a name without TLSA is a secure denial.
    assert_eq!(
        resolver.tlsa("tlsdangling.dane.test", 25).await.unwrap(),
        Security::Secure(vec![])
    );
    assert_eq!(
        resolver.tlsa("tlsout.dane.test", 25).await.unwrap(),
        Security::Insecure(vec![tlsa(3, 1, 1, DIGEST)])
    );
}

#[tokio::test]
async fn tlsa_records_are_bounded() {
    let mut records = String::new();
    for i in 0..MAX_TLSA + 8 {
        records.push_str(&format!("_25._tcp.many TLSA 3 1 1 {DIGEST}{i:04x}\n"));
    }
    // One association longer than MAX_TLSA_DATA (8192 bytes) is dropped.
    records.push_str(&format!("_25._tcp.huge TLSA 3 0 0 {}\n", "ab".repeat(8193)));
    records.push_str(&format!("_25._tcp.huge TLSA 3 1 1 {DIGEST}\n"));
    let server = SignedDns::start(&[ZoneSpec::new("test", Signing::Signed, &records)]);
    let resolver = resolver(&server);
    let Security::Secure(many) = resolver.tlsa("many.test", 25).await.unwrap() else {
        panic!("not secure: {}", server.log());
    };
    assert_eq!(many.len(), MAX_TLSA);
    assert_eq!(
        resolver.tlsa("huge.test", 25).await.unwrap(),
        Security::Secure(vec![tlsa(3, 1, 1, DIGEST)])
    );
}

#[tokio::test]
async fn the_probe_fails_without_dnssec() {
    // dnslib answers every question, but without signatures or NSEC: a
    // resolver path that strips them looks just like this.
    let plain = DnsServer::start(
        "test SOA ns.test hostmaster.test 1 3600 600 86400 300\n\
         test NS ns.test\n\
         ns.test A 127.0.0.1\n\
         mx.test A 127.0.0.1\n",
    );
    let signed = SignedDns::start(&zones());
    let resolver = SecureResolver::new(&[plain.address], Some(&signed.trust_anchor_path)).unwrap();
    let probe = resolver.probe().await;
    assert!(matches!(probe, Err(ProbeError::NotValidating(_))), "{probe:?}");
    let found = resolver.addresses("mx.test").await.unwrap();
    assert!(is_bogus(&found), "{found:?}");
    // The built-in root anchor against that server: the root's SOA is
    // not even there.
    let root = SecureResolver::new(&[plain.address], None).unwrap();
    let probe = root.probe().await;
    assert!(matches!(probe, Err(ProbeError::NotValidating(_))), "{probe:?}");
}

#[tokio::test]
async fn lookups_are_bounded_in_time() {
    // A server that never answers (dnslib's SILENT) and a port where no
    // one listens: the lookup ends at the time limit, as a temporary
    // failure, and the probe says the servers did not answer.
    let plain = DnsServer::start("mx.test SILENT -\n");
    let signed = SignedDns::start(&zones());
    let resolver = SecureResolver::new(&[plain.address], Some(&signed.trust_anchor_path))
        .unwrap()
        .with_time_limit(Duration::from_secs(1));
    let started = Instant::now();
    let found = resolver.tlsa("mx.test", 25).await;
    assert!(matches!(found, Err(DnsError::Temporary { .. })), "{found:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

    let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let resolver = SecureResolver::new(&[address], Some(&signed.trust_anchor_path))
        .unwrap()
        .with_time_limit(Duration::from_secs(1));
    let probe = resolver.probe().await;
    assert!(matches!(probe, Err(ProbeError::Unreachable(_))), "{probe:?}");
}

#[tokio::test]
async fn a_bad_trust_anchor_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.key");
    assert!(SecureResolver::new(&[], Some(&missing)).is_err());
    let empty = dir.path().join("empty.key");
    std::fs::write(&empty, "; nothing here\n").unwrap();
    assert!(SecureResolver::new(&[], Some(&empty)).is_err());
    // DS records are refused with a reason (hickory trusts keys only).
    let ds = dir.path().join("root.ds");
    std::fs::write(
        &ds,
        ". IN DS 20326 8 2 e06d44b80b8f1d39a95c0b0d7c65d08458e880409bbc683457104237c7f8ec8d\n",
    )
    .unwrap();
    let refused = SecureResolver::new(&[], Some(&ds)).err().expect("DS refused");
    assert!(refused.to_string().contains("DNSKEY"), "{refused}");
    let garbage = dir.path().join("garbage.key");
    std::fs::write(&garbage, "test. IN DNSKEY not a key\n").unwrap();
    assert!(SecureResolver::new(&[], Some(&garbage)).is_err());
}

#[tokio::test]
async fn nsec3_denials_are_understood() {
    let server = SignedDns::start(&zones());
    let resolver = resolver(&server);
    assert_eq!(
        resolver.tlsa("mx.nsec3.test", 25).await.unwrap(),
        Security::Secure(vec![tlsa(3, 1, 1, DIGEST)])
    );
    // NXDOMAIN and NODATA proven by NSEC3 (RFC 5155 §8.4-8.5).
    assert_eq!(
        resolver.tlsa("notlsa.nsec3.test", 25).await.unwrap(),
        Security::Secure(vec![])
    );
    assert_eq!(
        resolver.tlsa("nowhere.nsec3.test", 25).await.unwrap(),
        Security::Secure(vec![])
    );
    assert_eq!(
        resolver.mx("mx.nsec3.test").await.unwrap(),
        Security::Secure(MxAnswer::NoMx)
    );
    // An unsigned child whose missing DS an NSEC3 record proves (RFC 5155
    // §8.6).
    let found = resolver.addresses("mx.insecure.nsec3.test").await.unwrap();
    assert_eq!(
        found,
        Security::Insecure(HostAddresses {
            addresses: vec!["127.0.0.9".parse().unwrap()],
            canonical: "mx.insecure.nsec3.test".into(),
        })
    );
}

#[tokio::test]
async fn a_tlsa_record_for_a_certificate() {
    // What the end-to-end DANE tests do: a certificate, its `3 1 1`
    // record in a signed zone, and the same 32 bytes back, secure.
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = (dir.path().join("key.pem"), dir.path().join("cert.pem"));
    let output = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .args(["-subj", "/CN=mx.test", "-days", "1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let digest = spki_sha256_hex(&cert);
    assert_eq!(digest.len(), 64, "{digest}");
    let records = format!("mx A 127.0.0.1\n_25._tcp.mx TLSA 3 1 1 {digest}\n");
    let server = SignedDns::start(&[ZoneSpec::new("test", Signing::Signed, &records)]);
    assert_eq!(
        resolver(&server).tlsa("mx.test", 25).await.unwrap(),
        Security::Secure(vec![tlsa(3, 1, 1, &digest)])
    );
}
