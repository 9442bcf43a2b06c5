//! TLS for postamt as a client. Between MTAs, STARTTLS is opportunistic
//! (RFC 7435, RFC 3207 §4.1): any certificate is accepted, since refusing
//! would only push the mail back to plain text; the handshake signatures
//! are still checked. Toward a configured relay that gets our password,
//! the certificate is verified against the system's CAs (and an optional
//! extra CA file).

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::TlsConnector;

use crate::TlsError;

/// Debian's bundle of the system's trusted CAs (package ca-certificates).
const SYSTEM_CAS: &str = "/etc/ssl/certs/ca-certificates.crt";

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn builder() -> Result<rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>, TlsError> {
    ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Config(e.to_string()))
}

/// A connector for opportunistic TLS: encrypts without authenticating.
pub fn opportunistic_connector() -> Result<TlsConnector, TlsError> {
    let config = builder()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate { provider: provider() }))
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// A connector that verifies the server's certificate against the system
/// CAs and, if given, the CAs in `extra_ca_file`.
pub fn verifying_connector(extra_ca_file: Option<&Path>) -> Result<TlsConnector, TlsError> {
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
    let config = builder()?.with_root_certificates(roots).with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// The name to present in SNI and, when verifying, to check: a DNS name,
/// or an IP address.
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(host.to_string()).map_err(|e| TlsError::Config(format!("{host}: {e}")))
}

#[derive(Debug)]
struct AnyCertificate {
    provider: Arc<CryptoProvider>,
}

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
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}
