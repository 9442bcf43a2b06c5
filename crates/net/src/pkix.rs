//! The SMTP client's certificate check for MTA-STS (RFC 8461 §4.2): the
//! MX host's certificate must chain to a trusted root (the system's CAs,
//! and an extra CA file if configured), be within its validity dates and
//! name the MX host, by a subject alternative name that is the host or a
//! wildcard for its left-most label (RFC 6125 §6.4.3, as webpki checks).
//!
//! The checks are rustls's own (`WebPkiServerVerifier`); this wrapper
//! only sorts their errors into [`VerifyFailure`]s, so a failure can be
//! reported (RFC 8460 §4.3.1) and not only logged.

use std::path::Path;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::TlsConnector;

use crate::TlsError;
use crate::tls_client::{builder, provider, roots};
use crate::verify::VerifyFailure;

/// A connector that verifies the server's certificate for the name given
/// to `connect` (the MX host name) against the system's CAs and, if
/// given, the CAs in `extra_ca_file` (RFC 8461 §4.2). A refused
/// certificate fails the handshake with a [`VerifyFailure`] that
/// [`VerifyFailure::of`] reads from the handshake's error.
///
/// Reading the system's CA bundle takes a while: build one connector and
/// use it for every MX host.
pub fn pkix_connector(extra_ca_file: Option<&Path>) -> Result<TlsConnector, TlsError> {
    let roots = roots(extra_ca_file)?;
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let config = builder()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Classifying(inner)))
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// rustls's verifier, its refusals turned into [`VerifyFailure`]s.
#[derive(Debug)]
struct Classifying(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for Classifying {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(|e| VerifyFailure::classify(&e, || server_name.to_str().into_owned()).into())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
