//! DANE as a sender (RFC 7672), the queue's decisions: which hosts DANE
//! applies to (a secure MX RRset only), where their TLSA records are
//! looked up (the CNAME-expanded name, then the host name), what a bogus
//! host answer does (the host is skipped, the next used), and that an idle
//! session never carries a message whose host needs another TLS. knotd
//! serves signed zones (crates/dns/tests/support/signed_zones.rs); the
//! receiving host is smtppeer.py with a self-signed certificate that only
//! a TLSA record vouches for.

mod support;

#[path = "../../dns/tests/support/signed_zones.rs"]
mod signed_zones;

use signed_zones::{SignedDns, Signing, ZoneSpec, spki_sha256_hex};
use store::RecipientStatus;
use support::{Harness, Peer};

/// A queue asking knotd (serving `zones` under a signed `test.` anchor)
/// and sending to `peer`.
async fn harness(peer: &Peer, zones: &[(&str, Signing, String)]) -> (Harness, SignedDns) {
    let mut specs = vec![ZoneSpec::new("test", Signing::Signed, "")];
    specs.extend(
        zones
            .iter()
            .map(|(name, signing, records)| ZoneSpec::new(name, *signing, records)),
    );
    let dns = SignedDns::start(&specs);
    let (address, anchor) = (dns.address, dns.trust_anchor_path.clone());
    let harness = Harness::start("", peer.port, |config| {
        config.nameservers = vec![address];
        config.dnssec_trust_anchor = Some(anchor);
    })
    .await;
    (harness, dns)
}

/// The TLSA record data (`3 1 1`) of the peer's own key.
fn matching(peer: &Peer) -> String {
    format!("3 1 1 {}", spki_sha256_hex(&peer.certificate()))
}

/// A `3 1 1` record of no key the peer has.
const OTHER: &str = "3 1 1 0000000000000000000000000000000000000000000000000000000000000000";

async fn deferred_with(q: &Harness, id: &str, address: &str) -> String {
    let r = q.recipient(id, address).await;
    assert_eq!(r.status, RecipientStatus::Pending, "{r:?}");
    format!(
        "{} {}",
        r.status_code.unwrap_or_default(),
        r.last_reply.unwrap_or_default()
    )
}

#[tokio::test]
async fn tlsa_records_are_found_at_the_cname_expanded_name_then_at_the_host() {
    let peer = Peer::start(&["--starttls"]);
    let port = peer.port;
    // mx1 is a CNAME for real1, whose name holds the record; mx2 a CNAME
    // for real2, which has none (a secure denial), so mx2's own counts.
    let records = format!(
        "@ IN MX 10 mx1.b.test.\nmx1 IN CNAME real1.b.test.\nreal1 IN A 127.0.0.1\n\
         _{port}._tcp.real1 IN TLSA {0}\n_{port}._tcp.mx1 IN TLSA {OTHER}\n\
         mx2 IN CNAME real2.b.test.\nreal2 IN A 127.0.0.1\n\
         _{port}._tcp.mx2 IN TLSA {0}\n",
        matching(&peer)
    );
    let zones = [
        ("b.test", Signing::Signed, records),
        ("c.test", Signing::Signed, "@ IN MX 10 mx2.b.test.\n".to_string()),
    ];
    let (q, _dns) = harness(&peer, &zones).await;
    q.send_to(&["bob@b.test"]).await;
    q.send_to(&["carol@c.test"]).await;
    q.run().await;
    assert_eq!(peer.received(), 2);
}

#[tokio::test]
async fn a_record_at_the_host_name_alone_does_not_pass_a_mismatch_at_the_expanded_name() {
    let peer = Peer::start(&["--starttls"]);
    let port = peer.port;
    let records = format!(
        "@ IN MX 10 mx.b.test.\nmx IN CNAME real.b.test.\nreal IN A 127.0.0.1\n\
         _{port}._tcp.real IN TLSA {OTHER}\n_{port}._tcp.mx IN TLSA {}\n",
        matching(&peer)
    );
    let (q, _dns) = harness(&peer, &[("b.test", Signing::Signed, records)]).await;
    let id = q.send_to(&["bob@b.test"]).await;
    q.run().await;
    let deferred = deferred_with(&q, &id, "bob@b.test").await;
    assert!(
        deferred.starts_with("4.7.5") && deferred.contains("no TLSA record matches"),
        "{deferred}"
    );
    assert_eq!(peer.received(), 0);
}

#[tokio::test]
async fn a_host_with_bogus_addresses_is_skipped_for_the_next() {
    let peer = Peer::start(&["--starttls"]);
    let port = peer.port;
    let records = format!(
        "@ IN MX 10 mx.bad.test.\n@ IN MX 20 mx.b.test.\nmx IN A 127.0.0.1\n_{port}._tcp.mx IN TLSA {}\n",
        matching(&peer)
    );
    let zones = [
        ("b.test", Signing::Signed, records),
        ("bad.test", Signing::WrongDs, "mx IN A 127.0.0.1\n".to_string()),
        ("c.test", Signing::Signed, "@ IN MX 10 mx.bad.test.\n".to_string()),
    ];
    let (q, _dns) = harness(&peer, &zones).await;
    q.send_to(&["bob@b.test"]).await;
    let id = q.send_to(&["carol@c.test"]).await;
    q.run().await;
    assert_eq!(peer.received(), 1, "b.test's second MX took bob's copy");
    let deferred = deferred_with(&q, &id, "carol@c.test").await;
    assert!(
        deferred.contains("DNSSEC validation failed for the addresses of mx.bad.test"),
        "{deferred}"
    );

    // TLS reporting (RFC 8460 §4.3): b.test's skipped host is counted as
    // dnssec-invalid, its session with the second MX as a success under
    // that host's TLSA record.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let counts = q.store.tls_report_counts(store::utc_day(now), "b.test").await.unwrap();
    let tlsa: Vec<_> = counts.iter().filter(|c| c.policy_type == "tlsa").collect();
    let failed = tlsa.iter().find(|c| c.failures == 1).expect("the skipped host counted");
    assert_eq!(failed.details[0].0.result_type, "dnssec-invalid");
    assert_eq!(failed.details[0].0.receiving_mx, "mx.bad.test");
    let succeeded = tlsa
        .iter()
        .find(|c| c.successes == 1)
        .expect("the DANE session counted");
    assert_eq!(succeeded.policy_strings, [matching(&peer)], "{counts:?}");
}

#[tokio::test]
async fn an_insecure_mx_rrset_brings_no_dane_to_signed_hosts() {
    // RFC 7672 §2.2.1 allows DANE here; we do not (an attacker who forges
    // the unsigned MX RRset picks the hosts), so the TLSA record that
    // would fail is not looked at, and neither would one that matched.
    let peer = Peer::start(&["--starttls"]);
    let port = peer.port;
    let zones = [
        ("u.test", Signing::Unsigned, "@ IN MX 10 mx.s.test.\n".to_string()),
        (
            "s.test",
            Signing::Signed,
            format!("mx IN A 127.0.0.1\n_{port}._tcp.mx IN TLSA {OTHER}\n"),
        ),
    ];
    let (q, _dns) = harness(&peer, &zones).await;
    let id = q.send_to(&["bob@u.test"]).await;
    q.run().await;
    assert_eq!(peer.received(), 1);
    assert!(q.gone(&id).await);
}

#[tokio::test]
async fn a_secure_mx_with_an_insecure_host_is_opportunistic() {
    let peer = Peer::start(&["--starttls"]);
    let port = peer.port;
    let zones = [
        ("b.test", Signing::Signed, "@ IN MX 10 mx.u.test.\n".to_string()),
        (
            "u.test",
            Signing::Unsigned,
            format!("mx IN A 127.0.0.1\n_{port}._tcp.mx IN TLSA {OTHER}\n"),
        ),
    ];
    let (q, _dns) = harness(&peer, &zones).await;
    q.send_to(&["bob@b.test"]).await;
    q.run().await;
    assert_eq!(peer.received(), 1);
}

#[tokio::test]
async fn an_idle_opportunistic_session_never_carries_a_message_that_needs_dane() {
    // Both domains' MX hosts are the one peer (one address and port):
    // i.test's unsigned, b.test's signed with a record of another key. The session left idle by i.test's
    // message must not take b.test's.
    let peer = Peer::start(&["--starttls"]);
    let port = peer.port;
    let zones = [
        (
            "i.test",
            Signing::Unsigned,
            "@ IN MX 10 mx.i.test.\nmx IN A 127.0.0.1\n".to_string(),
        ),
        (
            "b.test",
            Signing::Signed,
            format!("@ IN MX 10 mx.b.test.\nmx IN A 127.0.0.1\n_{port}._tcp.mx IN TLSA {OTHER}\n"),
        ),
    ];
    let (q, _dns) = harness(&peer, &zones).await;
    q.send_to(&["ivan@i.test"]).await;
    q.run().await;
    assert_eq!(peer.received(), 1);
    let id = q.send_to(&["bob@b.test"]).await;
    q.run().await;
    assert_eq!(peer.received(), 1, "the idle session carried it");
    let deferred = deferred_with(&q, &id, "bob@b.test").await;
    assert!(
        deferred.starts_with("4.7.5") && deferred.contains("no TLSA record matches"),
        "{deferred}"
    );
}
