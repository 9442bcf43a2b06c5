//! The server's certificate over real TLS handshakes (in-memory streams):
//! made and kept when none is configured, refused when its key is open to
//! everyone, swapped while a session stays up, and the ACME TLS-ALPN-01
//! validation answered with the challenge certificate.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use net::{ServerName, ServerTls, TlsError};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio_rustls::client::TlsStream;

/// Writes a self-signed certificate for `name` and its key (0600).
fn write_pair(dir: &Path, stem: &str, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let certified = rcgen::generate_simple_self_signed(vec![name.to_string()]).unwrap();
    let cert = dir.join(format!("{stem}.crt"));
    let key = dir.join(format!("{stem}.key"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    (cert, key)
}

fn pem_pair(cert: &Path, key: &Path) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let chain = CertificateDer::pem_file_iter(cert)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    (chain, PrivateKeyDer::from_pem_file(key).unwrap())
}

/// A client that takes any certificate (the test looks at which one it
/// got) and offers `alpn`.
async fn handshake(tls: &ServerTls, name: &str, alpn: &[&[u8]]) -> (Option<TlsStream<DuplexStream>>, ServerSide) {
    let mut config = (*net::opportunistic_connector().unwrap().config().as_ref()).clone();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let (client, server) = tokio::io::duplex(64 * 1024);
    let tls = tls.clone();
    let server = tokio::spawn(async move { tls.accept(server).await });
    let client = connector
        .connect(ServerName::try_from(name.to_string()).unwrap(), client)
        .await
        .ok();
    (client, server.await.unwrap())
}

type ServerSide = std::io::Result<Option<tokio_rustls::server::TlsStream<DuplexStream>>>;

fn served(client: &TlsStream<DuplexStream>) -> CertificateDer<'static> {
    client.get_ref().1.peer_certificates().unwrap()[0].clone().into_owned()
}

#[test]
fn creates_then_reuses_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    ServerTls::load_or_create(None, None, dir.path(), "mx.example.test").unwrap();
    let first = std::fs::read(dir.path().join("tls-selfsigned.crt")).unwrap();
    ServerTls::load_or_create(None, None, dir.path(), "mx.example.test").unwrap();
    assert_eq!(first, std::fs::read(dir.path().join("tls-selfsigned.crt")).unwrap());
    let mode = std::fs::metadata(dir.path().join("tls-selfsigned.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn names_the_file_that_cannot_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let err = ServerTls::load_or_create(Some(&missing), Some(&missing), dir.path(), "x").unwrap_err();
    assert!(err.to_string().contains("missing.pem"), "{err}");
    assert!(matches!(
        ServerTls::load_or_create(Some(&missing), None, dir.path(), "x"),
        Err(TlsError::HalfConfigured)
    ));
}

#[test]
fn a_key_every_user_can_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = write_pair(dir.path(), "server", "mx.example.test");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = ServerTls::load_or_create(Some(&cert), Some(&key), dir.path(), "x").unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, TlsError::KeyReadableByOthers { mode: 0o644, .. }),
        "{message}"
    );
    assert!(
        message.contains("chmod 600") && message.contains("server.key"),
        "{message}"
    );
    // Readable by a group (Debian's ssl-cert) is allowed.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    ServerTls::load_or_create(Some(&cert), Some(&key), dir.path(), "x").unwrap();
}

#[tokio::test]
async fn a_reload_serves_the_new_certificate_while_a_session_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = write_pair(dir.path(), "server", "mx.example.test");
    let tls = ServerTls::load_or_create(Some(&cert), Some(&key), dir.path(), "x").unwrap();
    let old = tls.current_certificate();

    let (client, server) = handshake(&tls, "mx.example.test", &[]).await;
    let (mut client, mut server) = (client.unwrap(), server.unwrap().unwrap());
    assert_eq!(served(&client), old);

    // certbot renews the files in place; a reload picks them up.
    let (new_cert, new_key) = write_pair(dir.path(), "renewed", "mx.example.test");
    std::fs::rename(&new_cert, &cert).unwrap();
    std::fs::rename(&new_key, &key).unwrap();
    tls.reload().unwrap();
    assert_ne!(tls.current_certificate(), old);

    let (fresh, _) = handshake(&tls, "mx.example.test", &[]).await;
    assert_eq!(served(&fresh.unwrap()), tls.current_certificate());
    // The session from before the swap still carries data both ways.
    client.write_all(b"ping").await.unwrap();
    client.flush().await.unwrap();
    let mut buf = [0; 4];
    server.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");

    // A broken file leaves the certificate in use as it was.
    std::fs::write(&cert, "not a certificate").unwrap();
    let current = tls.current_certificate();
    assert!(tls.reload().is_err());
    assert_eq!(tls.current_certificate(), current);
}

#[tokio::test]
async fn replace_swaps_in_an_issued_chain_and_refuses_a_foreign_key() {
    let dir = tempfile::tempdir().unwrap();
    let tls = ServerTls::load_or_create(None, None, dir.path(), "mx.example.test").unwrap();
    let (cert, key) = write_pair(dir.path(), "issued", "mx.example.test");
    let (chain, issued_key) = pem_pair(&cert, &key);
    let (_, foreign) = write_pair(dir.path(), "other", "mx.example.test");
    let (_, foreign_key) = pem_pair(&cert, &foreign);
    assert!(tls.replace(chain.clone(), foreign_key).is_err());
    tls.replace(chain.clone(), issued_key).unwrap();
    let (client, _) = handshake(&tls, "mx.example.test", &[]).await;
    assert_eq!(served(&client.unwrap()), chain[0]);
}

#[tokio::test]
async fn an_acme_validation_gets_the_challenge_certificate_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let tls = ServerTls::load_or_create(None, None, dir.path(), "mx.example.test").unwrap();
    let normal = tls.current_certificate();

    // Without a pending challenge, a validation is refused.
    let (client, server) = handshake(&tls, "mx.example.test", &[net::ACME_TLS_ALPN]).await;
    assert!(client.is_none());
    assert!(server.is_err());

    let (cert, key) = write_pair(dir.path(), "challenge", "mx.example.test");
    let (chain, challenge_key) = pem_pair(&cert, &key);
    tls.set_challenge("MX.example.test", chain.clone(), challenge_key)
        .unwrap();
    let (client, server) = handshake(&tls, "mx.example.test", &[net::ACME_TLS_ALPN]).await;
    let client = client.unwrap();
    assert_eq!(served(&client), chain[0]);
    assert_eq!(client.get_ref().1.alpn_protocol(), Some(net::ACME_TLS_ALPN));
    assert!(server.unwrap().is_none(), "a validation is answered, not handed on");

    // Everyone else still gets the server's certificate, with or without ALPN.
    let (client, server) = handshake(&tls, "mx.example.test", &[b"imap"]).await;
    assert_eq!(served(&client.unwrap()), normal);
    assert!(server.unwrap().is_some());

    tls.remove_challenge("mx.example.test");
    let (client, _) = handshake(&tls, "mx.example.test", &[net::ACME_TLS_ALPN]).await;
    assert!(client.is_none());
}
