//! The MTA-STS certificate check (RFC 8461 §4.2) over real TLS
//! handshakes on loopback: a chain to a CA from the extra CA file and the
//! MX name pass; another name, an unknown CA and an expired certificate
//! are refused with their TLS-RPT result types (RFC 8460 §4.3.1).

mod support;

use net::{VerifyFailure, pkix_connector};
use support::{Ca, Validity, Versions, handshake, refused, self_signed, serve};

const MX: &str = "mx.example.test";

/// A connector trusting the system's CAs and `ca`.
fn connector_trusting(ca: &Ca) -> (tempfile::TempDir, net::TlsConnector) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ca.pem");
    std::fs::write(&file, &ca.pem).unwrap();
    let connector = pkix_connector(Some(&file)).unwrap();
    (dir, connector)
}

#[tokio::test]
async fn a_chain_to_a_trusted_ca_for_the_mx_name_passes() {
    let root = Ca::root("Test Root");
    let intermediate = root.intermediate("Test Intermediate");
    let (_dir, connector) = connector_trusting(&root);
    let leaf = intermediate.leaf(&[MX], Validity::Current);
    let address = serve(
        vec![leaf.cert.clone(), intermediate.cert.clone()],
        &leaf.key,
        Versions::Any,
    )
    .await;
    let (version, _) = handshake(&connector, address, MX).await.unwrap();
    assert_eq!(version, "TLSv1_3");

    // A wildcard for the left-most label (RFC 8461 §4.2 via RFC 6125).
    let wildcard = root.leaf(&["*.example.test"], Validity::Current);
    let address = serve(vec![wildcard.cert.clone()], &wildcard.key, Versions::Tls12).await;
    let (version, _) = handshake(&connector, address, MX).await.unwrap();
    assert_eq!(version, "TLSv1_2");
}

#[tokio::test]
async fn a_certificate_for_another_name_is_a_host_mismatch() {
    let root = Ca::root("Test Root");
    let (_dir, connector) = connector_trusting(&root);
    let leaf = root.leaf(&["mail.elsewhere.example"], Validity::Current);
    let address = serve(vec![leaf.cert.clone()], &leaf.key, Versions::Any).await;
    let failure = refused(handshake(&connector, address, MX).await);
    assert_eq!(failure, VerifyFailure::HostMismatch(MX.to_string()));
    assert_eq!(failure.tlsrpt_result_type(), "certificate-host-mismatch");
    // A wildcard covers one label only.
    let deeper = root.leaf(&["*.test"], Validity::Current);
    let address = serve(vec![deeper.cert.clone()], &deeper.key, Versions::Any).await;
    let failure = refused(handshake(&connector, address, MX).await);
    assert!(matches!(failure, VerifyFailure::HostMismatch(_)), "{failure:?}");
}

#[tokio::test]
async fn an_unknown_ca_or_a_self_signed_certificate_is_not_trusted() {
    let root = Ca::root("Test Root");
    let (_dir, connector) = connector_trusting(&root);
    let stranger = Ca::root("Unknown CA");
    let leaf = stranger.leaf(&[MX], Validity::Current);
    let address = serve(vec![leaf.cert.clone(), stranger.cert.clone()], &leaf.key, Versions::Any).await;
    let failure = refused(handshake(&connector, address, MX).await);
    assert!(matches!(failure, VerifyFailure::NotTrusted(_)), "{failure:?}");
    assert_eq!(failure.tlsrpt_result_type(), "certificate-not-trusted");

    let own = self_signed(&[MX], Validity::Current);
    let address = serve(vec![own.cert.clone()], &own.key, Versions::Any).await;
    let failure = refused(handshake(&connector, address, MX).await);
    assert_eq!(failure.tlsrpt_result_type(), "certificate-not-trusted");
}

#[tokio::test]
async fn an_expired_certificate_is_refused_as_expired() {
    let root = Ca::root("Test Root");
    let (_dir, connector) = connector_trusting(&root);
    let leaf = root.leaf(&[MX], Validity::Expired);
    let address = serve(vec![leaf.cert.clone()], &leaf.key, Versions::Any).await;
    let failure = refused(handshake(&connector, address, MX).await);
    assert_eq!(failure, VerifyFailure::Expired);
    assert_eq!(failure.tlsrpt_result_type(), "certificate-expired");
}

#[tokio::test]
async fn a_server_without_the_certificates_key_fails_the_handshake() {
    let root = Ca::root("Test Root");
    let (_dir, connector) = connector_trusting(&root);
    let leaf = root.leaf(&[MX], Validity::Current);
    let impostor = root.leaf(&[MX], Validity::Current);
    let address = serve(vec![leaf.cert.clone()], &impostor.key, Versions::Any).await;
    assert!(handshake(&connector, address, MX).await.is_err());
}

#[test]
fn an_unreadable_ca_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let Err(error) = pkix_connector(Some(&missing)) else {
        panic!("a missing CA file was accepted");
    };
    assert!(error.to_string().contains("missing.pem"), "{error}");
}
