//! DANE authentication of an SMTP server (RFC 7672) over real TLS
//! handshakes on loopback: DANE-EE pins the end entity whatever its name
//! and dates, DANE-TA makes a certificate the server sends the only root
//! and checks name and dates, PKIX usages are unusable, and every refusal
//! comes back from the handshake with its TLS-RPT result type.

mod support;

use net::{TlsaRecord, VerifyFailure, dane_connector, usable};
use rcgen::PublicKeyData;
use ring::digest;
use rustls::server::ParsedCertificate;
use rustls_pki_types::CertificateDer;
use support::{Ca, Pair, Validity, Versions, handshake, refused, self_signed, serve};

const MX: &str = "mx.example.test";

fn spki(cert: &CertificateDer<'_>) -> Vec<u8> {
    ParsedCertificate::try_from(cert)
        .unwrap()
        .subject_public_key_info()
        .as_ref()
        .to_vec()
}

/// A record over `content` (a certificate or its SPKI, as `selector` says).
fn record(usage: u8, selector: u8, matching: u8, content: &[u8]) -> TlsaRecord {
    let data = match matching {
        0 => content.to_vec(),
        1 => digest::digest(&digest::SHA256, content).as_ref().to_vec(),
        2 => digest::digest(&digest::SHA512, content).as_ref().to_vec(),
        _ => unreachable!(),
    };
    TlsaRecord {
        usage,
        selector,
        matching,
        data,
    }
}

/// The record `usage selector matching` for `cert`.
fn tlsa(usage: u8, selector: u8, matching: u8, cert: &CertificateDer<'_>) -> TlsaRecord {
    let content = if selector == 0 { cert.to_vec() } else { spki(cert) };
    record(usage, selector, matching, &content)
}

fn names(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

async fn dane(
    records: &[TlsaRecord],
    reference: &[&str],
    chain: Vec<CertificateDer<'static>>,
    key: &Pair,
) -> support::Outcome {
    let address = serve(chain, &key.key, Versions::Any).await;
    let connector = dane_connector(records, &names(reference)).unwrap();
    handshake(&connector, address, MX).await
}

#[tokio::test]
async fn dane_ee_matches_the_end_entity_whatever_its_name_and_dates() {
    // RFC 7672 §3.1.1: neither the name nor the expiry of a DANE-EE
    // certificate is checked.
    let server = self_signed(&["elsewhere.example"], Validity::Expired);
    let chain = vec![server.cert.clone()];
    for (selector, matching) in [(1, 1), (0, 1), (1, 2), (0, 2), (1, 0), (0, 0)] {
        let records = [tlsa(3, selector, matching, &server.cert)];
        let outcome = dane(&records, &[MX], chain.clone(), &server).await;
        let (version, suite) = outcome.unwrap_or_else(|e| panic!("3 {selector} {matching}: {e:?}"));
        assert_eq!(version, "TLSv1_3");
        assert!(suite.starts_with("TLS13_"), "{suite}");
    }
}

#[tokio::test]
async fn dane_ee_over_tls_1_2() {
    let server = self_signed(&[MX], Validity::Current);
    let address = serve(vec![server.cert.clone()], &server.key, Versions::Tls12).await;
    let connector = dane_connector(&[tlsa(3, 1, 1, &server.cert)], &names(&[MX])).unwrap();
    let (version, _) = handshake(&connector, address, MX).await.unwrap();
    assert_eq!(version, "TLSv1_2");
}

#[tokio::test]
async fn a_dane_ee_mismatch_is_refused_as_tlsa_invalid() {
    let server = self_signed(&[MX], Validity::Current);
    let other = self_signed(&[MX], Validity::Current);
    let records = [tlsa(3, 1, 1, &other.cert), tlsa(3, 0, 2, &other.cert)];
    let failure = refused(dane(&records, &[MX], vec![server.cert.clone()], &server).await);
    assert_eq!(failure, VerifyFailure::NoMatch);
    assert_eq!(failure.tlsrpt_result_type(), "tlsa-invalid");
    // One matching record among others that do not is enough.
    let records = [tlsa(3, 1, 1, &other.cert), tlsa(3, 1, 1, &server.cert)];
    dane(&records, &[MX], vec![server.cert.clone()], &server).await.unwrap();
}

#[tokio::test]
async fn the_server_must_hold_the_pinned_key() {
    // The handshake signature is checked even though the certificate
    // matched: a server that copied the certificate cannot sign for it.
    let server = self_signed(&[MX], Validity::Current);
    let impostor = self_signed(&[MX], Validity::Current);
    let address = serve(vec![server.cert.clone()], &impostor.key, Versions::Any).await;
    let connector = dane_connector(&[tlsa(3, 1, 1, &server.cert)], &names(&[MX])).unwrap();
    let error = handshake(&connector, address, MX).await.unwrap_err();
    assert!(
        error.is_err(),
        "not a certificate refusal but a signature failure: {error:?}"
    );
    let address = serve(vec![server.cert.clone()], &impostor.key, Versions::Tls12).await;
    assert!(handshake(&connector, address, MX).await.is_err());
}

#[tokio::test]
async fn dane_ta_in_the_chain_authenticates_a_leaf_for_the_mx_name() {
    let ca = Ca::root("Test TA");
    let leaf = ca.leaf(&[MX], Validity::Current);
    let chain = vec![leaf.cert.clone(), ca.cert.clone()];
    for (selector, matching) in [(0, 1), (1, 1), (0, 2), (1, 0)] {
        let records = [tlsa(2, selector, matching, &ca.cert)];
        dane(&records, &[MX], chain.clone(), &leaf)
            .await
            .unwrap_or_else(|e| panic!("2 {selector} {matching}: {e:?}"));
    }
}

#[tokio::test]
async fn dane_ta_may_be_an_intermediate() {
    let root = Ca::root("Test Root");
    let intermediate = root.intermediate("Test Intermediate");
    let leaf = intermediate.leaf(&[MX], Validity::Current);
    let chain = vec![leaf.cert.clone(), intermediate.cert.clone(), root.cert.clone()];
    dane(&[tlsa(2, 0, 1, &intermediate.cert)], &[MX], chain.clone(), &leaf)
        .await
        .unwrap();
    dane(&[tlsa(2, 1, 1, &root.cert)], &[MX], chain, &leaf).await.unwrap();
}

#[tokio::test]
async fn dane_ta_checks_the_name_against_the_reference_identifiers() {
    let ca = Ca::root("Test TA");
    let records = [tlsa(2, 0, 1, &ca.cert)];

    let elsewhere = ca.leaf(&["mail.elsewhere.example"], Validity::Current);
    let chain = vec![elsewhere.cert.clone(), ca.cert.clone()];
    let failure = refused(dane(&records, &[MX], chain.clone(), &elsewhere).await);
    assert!(
        matches!(failure, VerifyFailure::HostMismatch(ref n) if n.contains(MX)),
        "{failure:?}"
    );
    assert_eq!(failure.tlsrpt_result_type(), "certificate-host-mismatch");

    // RFC 7672 §3.2.3: the CNAME-expanded MX name is a reference
    // identifier too, even when the SNI is the MX name as published.
    dane(&records, &[MX, "mail.elsewhere.example."], chain, &elsewhere)
        .await
        .unwrap();

    // A wildcard covers one left-most label (RFC 6125 §6.4.3).
    let wildcard = ca.leaf(&["*.example.test"], Validity::Current);
    let chain = vec![wildcard.cert.clone(), ca.cert.clone()];
    dane(&records, &[MX], chain, &wildcard).await.unwrap();
    let deeper = ca.leaf(&["*.test"], Validity::Current);
    let chain = vec![deeper.cert.clone(), ca.cert.clone()];
    let failure = refused(dane(&records, &[MX], chain, &deeper).await);
    assert!(matches!(failure, VerifyFailure::HostMismatch(_)), "{failure:?}");
}

#[tokio::test]
async fn dane_ta_checks_expiry() {
    let ca = Ca::root("Test TA");
    let leaf = ca.leaf(&[MX], Validity::Expired);
    let chain = vec![leaf.cert.clone(), ca.cert.clone()];
    let failure = refused(dane(&[tlsa(2, 0, 1, &ca.cert)], &[MX], chain, &leaf).await);
    assert_eq!(failure, VerifyFailure::Expired);
    assert_eq!(failure.tlsrpt_result_type(), "certificate-expired");
}

#[tokio::test]
async fn dane_ta_must_be_sent_and_must_have_issued_the_chain() {
    let ca = Ca::root("Test TA");
    let leaf = ca.leaf(&[MX], Validity::Current);
    let records = [tlsa(2, 0, 1, &ca.cert)];
    // RFC 7672 §3.1.2: the server sends its trust anchor; without it,
    // a record for its certificate (not its bare key) matches nothing.
    let failure = refused(dane(&records, &[MX], vec![leaf.cert.clone()], &leaf).await);
    assert_eq!(failure, VerifyFailure::NoMatch);
    // The leaf itself is no trust anchor.
    let records_for_leaf = [tlsa(2, 0, 1, &leaf.cert)];
    let failure = refused(
        dane(
            &records_for_leaf,
            &[MX],
            vec![leaf.cert.clone(), ca.cert.clone()],
            &leaf,
        )
        .await,
    );
    assert_eq!(failure, VerifyFailure::NoMatch);

    // The anchor is sent but issued something else: the leaf's chain
    // leads nowhere trusted.
    let other = Ca::root("Other CA");
    let stranger = other.leaf(&[MX], Validity::Current);
    let chain = vec![stranger.cert.clone(), ca.cert.clone()];
    let failure = refused(dane(&records, &[MX], chain, &stranger).await);
    assert!(matches!(failure, VerifyFailure::NotTrusted(_)), "{failure:?}");
    assert_eq!(failure.tlsrpt_result_type(), "certificate-not-trusted");
}

#[tokio::test]
async fn a_bare_key_is_a_trust_anchor_the_server_need_not_send() {
    // DANE-TA(2) SPKI(1) Full(0): the anchor is the key itself.
    let root = Ca::root("Test Root");
    let intermediate = root.intermediate("Test Intermediate");
    let leaf = intermediate.leaf(&[MX], Validity::Current);
    let root_key = [record(2, 1, 0, &spki(&root.cert))];
    dane(
        &root_key,
        &[MX],
        vec![leaf.cert.clone(), intermediate.cert.clone()],
        &leaf,
    )
    .await
    .unwrap();
    let issuer_key = [record(2, 1, 0, &spki(&intermediate.cert))];
    dane(&issuer_key, &[MX], vec![leaf.cert.clone()], &leaf).await.unwrap();

    // A key that issued nothing here matches nothing.
    let other = Ca::root("Other CA");
    let other_key = [record(2, 1, 0, &spki(&other.cert))];
    let failure = refused(dane(&other_key, &[MX], vec![leaf.cert.clone()], &leaf).await);
    assert_eq!(failure, VerifyFailure::NoMatch);

    // Name and dates still count.
    let expired = intermediate.leaf(&[MX], Validity::Expired);
    let failure = refused(dane(&issuer_key, &[MX], vec![expired.cert.clone()], &expired).await);
    assert_eq!(failure, VerifyFailure::Expired);
    let elsewhere = intermediate.leaf(&["mail.elsewhere.example"], Validity::Current);
    let failure = refused(dane(&issuer_key, &[MX], vec![elsewhere.cert.clone()], &elsewhere).await);
    assert!(matches!(failure, VerifyFailure::HostMismatch(_)), "{failure:?}");

    // What is not a SubjectPublicKeyInfo is no key.
    let garbage = [record(2, 1, 0, b"not a key")];
    let failure = refused(dane(&garbage, &[MX], vec![leaf.cert.clone()], &leaf).await);
    assert_eq!(failure, VerifyFailure::NoMatch);
}

#[tokio::test]
async fn only_so_many_bare_keys_are_tried() {
    let ca = Ca::root("Test TA");
    let leaf = ca.leaf(&[MX], Validity::Current);
    let chain = vec![leaf.cert.clone()];
    let filler =
        |n: usize| (0..n).map(|_| record(2, 1, 0, &rcgen::KeyPair::generate().unwrap().subject_public_key_info()));
    let mut records: Vec<TlsaRecord> = filler(net::MAX_BARE_KEYS - 1).collect();
    records.push(record(2, 1, 0, &spki(&ca.cert)));
    dane(&records, &[MX], chain.clone(), &leaf).await.unwrap();

    let mut records: Vec<TlsaRecord> = filler(net::MAX_BARE_KEYS).collect();
    records.push(record(2, 1, 0, &spki(&ca.cert)));
    let failure = refused(dane(&records, &[MX], chain, &leaf).await);
    assert_eq!(failure, VerifyFailure::NoMatch);
}

#[tokio::test]
async fn only_so_many_certificates_are_looked_at_for_the_anchor() {
    let ca = Ca::root("Test TA");
    let leaf = ca.leaf(&[MX], Validity::Current);
    let records = [tlsa(2, 0, 1, &ca.cert)];
    let filler = |n: usize| (0..n).map(|i| self_signed(&[&format!("filler{i}.test")], Validity::Current).cert);
    let mut chain = vec![leaf.cert.clone()];
    chain.extend(filler(net::MAX_TRUST_ANCHOR_CANDIDATES - 1));
    chain.push(ca.cert.clone());
    dane(&records, &[MX], chain, &leaf).await.unwrap();

    let mut chain = vec![leaf.cert.clone()];
    chain.extend(filler(net::MAX_TRUST_ANCHOR_CANDIDATES));
    chain.push(ca.cert.clone());
    let failure = refused(dane(&records, &[MX], chain, &leaf).await);
    assert_eq!(failure, VerifyFailure::NoMatch);
}

#[tokio::test]
async fn pkix_usages_and_unknown_parameters_are_unusable() {
    let ca = Ca::root("Public CA");
    let leaf = ca.leaf(&[MX], Validity::Current);
    let chain = vec![leaf.cert.clone(), ca.cert.clone()];
    // RFC 7672 §3.1.3: PKIX-TA(0) and PKIX-EE(1) are not for SMTP, even
    // when they match.
    let pkix = [tlsa(0, 0, 1, &ca.cert), tlsa(1, 1, 1, &leaf.cert)];
    assert!(!usable(&pkix));
    let failure = refused(dane(&pkix, &[MX], chain.clone(), &leaf).await);
    assert_eq!(failure, VerifyFailure::NoUsableRecord);
    assert_eq!(failure.tlsrpt_result_type(), "tlsa-invalid");

    let good = tlsa(3, 1, 1, &leaf.cert);
    let unusable = [
        TlsaRecord {
            usage: 4,
            ..good.clone()
        },
        TlsaRecord {
            selector: 2,
            ..good.clone()
        },
        TlsaRecord {
            matching: 3,
            ..good.clone()
        },
        // A digest of the wrong length for its matching type.
        TlsaRecord {
            matching: 2,
            ..good.clone()
        },
        TlsaRecord {
            matching: 0,
            data: vec![],
            ..good.clone()
        },
    ];
    for record in &unusable {
        assert!(!record.is_usable(), "{record:?}");
    }
    assert!(!usable(&unusable));
    assert!(usable(&[unusable[0].clone(), good.clone()]));
    let failure = refused(dane(&unusable, &[MX], chain.clone(), &leaf).await);
    assert_eq!(failure, VerifyFailure::NoUsableRecord);
    // Unusable records beside a usable one do not get in the way.
    let mut mixed = pkix.to_vec();
    mixed.push(good);
    dane(&mixed, &[MX], chain, &leaf).await.unwrap();
}

#[tokio::test]
async fn no_records_authenticate_nothing() {
    let server = self_signed(&[MX], Validity::Current);
    let failure = refused(dane(&[], &[MX], vec![server.cert.clone()], &server).await);
    assert_eq!(failure, VerifyFailure::NoUsableRecord);
}

#[test]
fn a_reference_identifier_must_be_a_name() {
    assert!(dane_connector(&[], &names(&["not a name"])).is_err());
}
