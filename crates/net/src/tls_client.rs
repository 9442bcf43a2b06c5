//! TLS for postamt as a client. Between MTAs, STARTTLS is opportunistic
//! (RFC 7435, RFC 3207 §4.1): any certificate is accepted, since refusing
//! would only push the mail back to plain text; the handshake signatures
//! are still checked. Toward a configured relay that gets our password,
//! the certificate is verified against the system's CAs (and an optional
//! extra CA file). A destination that publishes a policy gets its own
//! check: MTA-STS in `pkix.rs`, DANE in `dane.rs`.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::TlsConnector;

use crate::TlsError;
use crate::verify::HandshakeSignatures;

/// Debian's bundle of the system's trusted CAs (package ca-certificates).
const SYSTEM_CAS: &str = "/etc/ssl/certs/ca-certificates.crt";

pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

pub(crate) fn builder() -> Result<rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>, TlsError> {
    ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Config(e.to_string()))
}

/// A connector for opportunistic TLS: encrypts without authenticating.
pub fn opportunistic_connector() -> Result<TlsConnector, TlsError> {
    let config = builder()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(HandshakeSignatures(provider()))))
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// A connector that verifies the server's certificate against the system
/// CAs and, if given, the CAs in `extra_ca_file`.
pub fn verifying_connector(extra_ca_file: Option<&Path>) -> Result<TlsConnector, TlsError> {
    let config = builder()?
        .with_root_certificates(roots(extra_ca_file)?)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// The system's CAs and, if given, those in `extra_ca_file`.
pub(crate) fn roots(extra_ca_file: Option<&Path>) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    let system = Path::new(SYSTEM_CAS);
    for path in [Some(system).filter(|p| p.exists()), extra_ca_file]
        .into_iter()
        .flatten()
    {
        let read_error = |e: &dyn std::fmt::Display| TlsError::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        for certificate in CertificateDer::pem_file_iter(path).map_err(|e| read_error(&e))? {
            let certificate = certificate.map_err(|e| read_error(&e))?;
            // A bundle may hold certificates rustls cannot use; skip those.
            let _ = roots.add(certificate);
        }
    }
    Ok(roots)
}

/// The name to present in SNI and, when verifying, to check: a DNS name,
/// or an IP address.
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(host.to_string()).map_err(|e| TlsError::Config(format!("{host}: {e}")))
}

#[derive(Debug)]
struct AnyCertificate(HandshakeSignatures);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.schemes()
    }
}
