//! Why an authenticated TLS handshake as a client failed, in a form the
//! SMTP client can read back and a TLS report (RFC 8460) can count.
//!
//! The DANE and PKIX verifiers ([`crate::dane_connector`],
//! [`crate::pkix_connector`]) refuse a certificate with
//! `rustls::Error::InvalidCertificate(CertificateError::Other(..))` holding
//! a [`VerifyFailure`]. rustls hands that error back from the handshake
//! (tokio-rustls wraps it in an `io::Error`), so [`VerifyFailure::of`]
//! finds it again without any state shared between connections.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};
use rustls_pki_types::CertificateDer;

/// Why the server's certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyFailure {
    /// DANE with TLSA records none of which an SMTP client may use
    /// (RFC 7672 §3.1.3: PKIX-TA/PKIX-EE, or unknown parameters).
    #[error("no usable TLSA record")]
    NoUsableRecord,
    /// DANE: no usable TLSA record matches the certificate chain presented
    /// (RFC 7672 §3.1).
    #[error("no TLSA record matches the server's certificate chain")]
    NoMatch,
    /// The certificate's validity period has ended.
    #[error("the certificate has expired")]
    Expired,
    /// The certificate's validity period has not begun.
    #[error("the certificate is not valid yet")]
    NotYetValid,
    /// The certificate names none of the reference identifiers.
    #[error("the certificate does not name {0}")]
    HostMismatch(String),
    /// The chain does not lead to a trusted anchor (unknown issuer, bad
    /// signature, wrong key purpose, revoked).
    #[error("the certificate is not trusted: {0}")]
    NotTrusted(String),
    /// Anything else (an unparsable certificate, say).
    #[error("the certificate cannot be validated: {0}")]
    Invalid(String),
}

impl VerifyFailure {
    /// The result type a TLS report gives this failure (RFC 8460 §4.3):
    /// a TLSA set that authenticates nothing is `tlsa-invalid` (§4.3.2,
    /// "none of the records in the RRset were found to be valid"); the
    /// certificate failures are §4.3.1's; the rest `validation-failure`
    /// (§4.3.3, a failure matching no other category).
    pub fn tlsrpt_result_type(&self) -> &'static str {
        match self {
            VerifyFailure::NoUsableRecord | VerifyFailure::NoMatch => "tlsa-invalid",
            VerifyFailure::Expired => "certificate-expired",
            VerifyFailure::HostMismatch(_) => "certificate-host-mismatch",
            VerifyFailure::NotTrusted(_) => "certificate-not-trusted",
            VerifyFailure::NotYetValid | VerifyFailure::Invalid(_) => "validation-failure",
        }
    }

    /// The failure behind a failed handshake (the error of
    /// `TlsConnector::connect` or `Connection::start_tls_client`), if one
    /// of our verifiers refused the certificate.
    pub fn of(error: &std::io::Error) -> Option<VerifyFailure> {
        let rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(inner))) =
            error.get_ref()?.downcast_ref::<rustls::Error>()?
        else {
            return None;
        };
        inner.downcast_ref::<VerifyFailure>().cloned()
    }

    /// Sorts an error of rustls's certificate checks (webpki's path
    /// building and name check) into the categories above.
    pub(crate) fn classify(error: &rustls::Error, names: impl FnOnce() -> String) -> VerifyFailure {
        let rustls::Error::InvalidCertificate(certificate) = error else {
            return VerifyFailure::Invalid(error.to_string());
        };
        match certificate {
            CertificateError::Other(OtherError(inner)) => match inner.downcast_ref::<VerifyFailure>() {
                Some(failure) => failure.clone(),
                None => VerifyFailure::Invalid(error.to_string()),
            },
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => VerifyFailure::Expired,
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => VerifyFailure::NotYetValid,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                VerifyFailure::HostMismatch(names())
            }
            CertificateError::UnknownIssuer
            | CertificateError::BadSignature
            | CertificateError::UnsupportedSignatureAlgorithmContext { .. }
            | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. }
            | CertificateError::InvalidPurpose
            | CertificateError::InvalidPurposeContext { .. }
            | CertificateError::Revoked => VerifyFailure::NotTrusted(error.to_string()),
            _ => VerifyFailure::Invalid(error.to_string()),
        }
    }
}

impl From<VerifyFailure> for rustls::Error {
    fn from(failure: VerifyFailure) -> rustls::Error {
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(failure))))
    }
}

/// The handshake's own signatures are checked whatever authenticated
/// the certificate: they prove the server holds the certificate's key.
#[derive(Debug)]
pub(crate) struct HandshakeSignatures(pub(crate) Arc<CryptoProvider>);

impl HandshakeSignatures {
    pub(crate) fn tls12(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    pub(crate) fn tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    pub(crate) fn schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
