//! A small PKI made with rcgen, a TLS server on loopback that presents a
//! chosen chain, and a client handshake through `net::Connection` (the
//! path the SMTP client takes), for the certificate verifiers' tests.

#![allow(dead_code)] // each test file uses its own part

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use net::{Connection, Stream, TlsConnector, VerifyFailure};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::ServerConfig;
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};

/// A validity period: now, or over before the test ran.
#[derive(Clone, Copy)]
pub enum Validity {
    Current,
    Expired,
}

fn params(common_name: &str, names: &[&str], validity: Validity) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    // Distinct subjects: path building matches issuers by name.
    params.distinguished_name.push(DnType::CommonName, common_name);
    if let Validity::Expired = validity {
        params.not_before = rcgen::date_time_ymd(2001, 1, 1);
        params.not_after = rcgen::date_time_ymd(2002, 1, 1);
    }
    params
}

/// A certificate with its key.
pub struct Pair {
    pub cert: CertificateDer<'static>,
    pub key: KeyPair,
}

/// A certificate authority that can issue.
pub struct Ca {
    pub cert: CertificateDer<'static>,
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    /// A self-signed root named `name`.
    pub fn root(name: &str) -> Ca {
        let mut params = params(name, &[], Validity::Current);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca {
            pem: cert.pem(),
            cert: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// An intermediate CA named `name` issued by this one.
    pub fn intermediate(&self, name: &str) -> Ca {
        let mut params = params(name, &[], Validity::Current);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Ca {
            pem: cert.pem(),
            cert: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A server certificate for `names`.
    pub fn leaf(&self, names: &[&str], validity: Validity) -> Pair {
        let key = KeyPair::generate().unwrap();
        let cert = params(names[0], names, validity)
            .signed_by(&key, &self.issuer)
            .unwrap()
            .der()
            .clone();
        Pair { cert, key }
    }
}

/// A self-signed server certificate for `names`.
pub fn self_signed(names: &[&str], validity: Validity) -> Pair {
    let key = KeyPair::generate().unwrap();
    let cert = params(names[0], names, validity)
        .self_signed(&key)
        .unwrap()
        .der()
        .clone();
    Pair { cert, key }
}

fn private_key(key: &KeyPair) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()))
}

/// TLS 1.3 and 1.2, or only 1.2.
#[derive(Clone, Copy)]
pub enum Versions {
    Any,
    Tls12,
}

/// A TLS server on loopback that presents `chain` and proves it with
/// `key` (which need not belong to the chain: a server that cannot sign
/// for its certificate), for as many handshakes as are made.
pub async fn serve(chain: Vec<CertificateDer<'static>>, key: &KeyPair, versions: Versions) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let signing_key = provider.key_provider.load_private_key(private_key(key)).unwrap();
    let certified = CertifiedKey::new(chain, signing_key);
    let versions: &[&rustls::SupportedProtocolVersion] = match versions {
        Versions::Any => &[&rustls::version::TLS13, &rustls::version::TLS12],
        Versions::Tls12 => &[&rustls::version::TLS12],
    };
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(stream).await {
                    use tokio::io::AsyncWriteExt;
                    let _ = tls.write_all(b"220 ok\r\n").await;
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    address
}

/// What a client handshake came to: the protocol version and cipher
/// suite, or the verifier's reason (or another error's text).
pub type Outcome = Result<(String, String), Result<VerifyFailure, String>>;

/// Handshakes with `address` as the SMTP client does after STARTTLS,
/// presenting `sni`.
pub async fn handshake(connector: &TlsConnector, address: SocketAddr, sni: &str) -> Outcome {
    let tcp = TcpStream::connect(address).await.unwrap();
    let mut connection = Connection::new(Stream::Plain(tcp), Duration::from_secs(10));
    let name = net::server_name(sni).unwrap();
    match connection.start_tls_client(connector, name).await {
        Ok(()) => Ok(connection.tls_parameters().expect("TLS parameters after a handshake")),
        Err(e) => Err(VerifyFailure::of(&e).ok_or_else(|| e.to_string())),
    }
}

/// The refusal, or a panic naming what happened instead.
pub fn refused(outcome: Outcome) -> VerifyFailure {
    match outcome {
        Err(Ok(failure)) => failure,
        other => panic!("expected a verifier's refusal, got {other:?}"),
    }
}
