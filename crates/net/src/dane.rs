//! DANE for SMTP (RFC 7672): the SMTP client authenticates a server by
//! the TLSA records DNSSEC vouched for, not by certificate authorities.
//!
//! Only the DANE usages are usable between MTAs (RFC 7672 §3.1.3):
//! DANE-EE(3) pins the server's own certificate or key, with no name and
//! no expiry check (§3.1.1); DANE-TA(2) names a trust anchor the server's
//! chain must lead to, and then the name and the validity dates are
//! checked as usual (§3.1.2). The record parameters are RFC 6698 §2.1's,
//! their names RFC 7218's.

use std::sync::Arc;

use ring::digest;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::server::ParsedCertificate;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, Der, ServerName, TrustAnchor, UnixTime};
use tokio_rustls::TlsConnector;

use crate::TlsError;
use crate::tls_client::{builder, provider};
use crate::verify::{HandshakeSignatures, VerifyFailure};

/// Certificate usage DANE-TA(2): a trust anchor (RFC 7218 §2.1).
pub const DANE_TA: u8 = 2;
/// Certificate usage DANE-EE(3): the end entity itself (RFC 7218 §2.1).
pub const DANE_EE: u8 = 3;

/// Server certificates after the first that are looked at for a DANE-TA
/// match. Real chains hold one to three; the server chooses how many it
/// sends, and each one looked at costs four digests.
pub const MAX_TRUST_ANCHOR_CANDIDATES: usize = 8;

/// DANE-TA(2) records with a bare public key tried as trust anchors;
/// each costs a trust anchor per issuer named in the chain.
pub const MAX_BARE_KEYS: usize = 8;

/// One TLSA record (RFC 6698 §2.1): certificate usage, selector, matching
/// type and the certificate association data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TlsaRecord {
    pub usage: u8,
    pub selector: u8,
    pub matching: u8,
    pub data: Vec<u8>,
}

impl TlsaRecord {
    /// Whether an SMTP client can authenticate with it: usage DANE-TA(2)
    /// or DANE-EE(3) (RFC 7672 §3.1.3 makes PKIX-TA(0) and PKIX-EE(1)
    /// unusable), selector Cert(0) or SPKI(1), matching type Full(0),
    /// SHA2-256(1) or SHA2-512(2) (RFC 6698 §2.1.2-2.1.3), and data of the
    /// length its matching type produces (a digest of another length can
    /// match nothing, an empty Full(0) value neither).
    pub fn is_usable(&self) -> bool {
        let length_ok = match self.matching {
            0 => !self.data.is_empty(),
            1 => self.data.len() == digest::SHA256_OUTPUT_LEN,
            2 => self.data.len() == digest::SHA512_OUTPUT_LEN,
            _ => false,
        };
        matches!(self.usage, DANE_TA | DANE_EE) && self.selector <= 1 && length_ok
    }
}

/// Whether any of `records` is usable ([`TlsaRecord::is_usable`]). With
/// records but none usable, RFC 7672 §2.2 still makes TLS mandatory, only
/// unauthenticated: the caller then uses the opportunistic connector with
/// TLS required, since [`dane_connector`] refuses every server.
pub fn usable(records: &[TlsaRecord]) -> bool {
    records.iter().any(TlsaRecord::is_usable)
}

/// A connector that authenticates the server by `records` (RFC 7672 §3).
///
/// `names` are the reference identifiers a DANE-TA(2) chain's end entity
/// must match (RFC 7672 §3.2.2-3.2.3): for delivery by MX, the TLSA base domain
/// (the MX host name after CNAME expansion) and the MX host name as the
/// MX record gave it; never the recipient's domain, which DNSSEC did not
/// tie to the server. The name given to `connect` (the SNI, for which
/// RFC 7672 has the client send the TLSA base domain) is accepted too. Wildcards in
/// the certificate match one left-most label (RFC 6125 §6.4.3, as webpki
/// does). DANE-EE(3) checks no name.
///
/// Unusable records are dropped; with none left, every handshake fails
/// with [`VerifyFailure::NoUsableRecord`]. A refused certificate fails the
/// handshake with a [`VerifyFailure`] that [`VerifyFailure::of`] reads
/// from the handshake's error.
pub fn dane_connector(records: &[TlsaRecord], names: &[String]) -> Result<TlsConnector, TlsError> {
    let names = names
        .iter()
        .map(|name| crate::server_name(name.trim_end_matches('.')))
        .collect::<Result<Vec<_>, _>>()?;
    let verifier = DaneVerifier {
        records: records.iter().filter(|r| r.is_usable()).cloned().collect(),
        names,
        signatures: HandshakeSignatures(provider()),
    };
    let config = builder()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

#[derive(Debug)]
struct DaneVerifier {
    /// The usable records only.
    records: Vec<TlsaRecord>,
    names: Vec<ServerName<'static>>,
    signatures: HandshakeSignatures,
}

/// What the records of one certificate are compared with: the selected
/// content (RFC 6698 §2.1.2) and its digests, computed once per
/// certificate however many records there are.
struct Selected {
    /// By selector: the whole certificate, then its SubjectPublicKeyInfo
    /// (absent if the certificate cannot be parsed).
    content: [Option<Vec<u8>>; 2],
    sha256: [Option<digest::Digest>; 2],
    sha512: [Option<digest::Digest>; 2],
}

impl Selected {
    fn of(certificate: &CertificateDer<'_>) -> Selected {
        let spki = ParsedCertificate::try_from(certificate)
            .ok()
            .map(|parsed| parsed.subject_public_key_info().as_ref().to_vec());
        let content = [Some(certificate.as_ref().to_vec()), spki];
        let hash = |algorithm| [0, 1].map(|i| content[i].as_deref().map(|c| digest::digest(algorithm, c)));
        Selected {
            sha256: hash(&digest::SHA256),
            sha512: hash(&digest::SHA512),
            content,
        }
    }

    /// Whether `record`'s data matches (RFC 6698 §2.1.3). Digests are
    /// public values: no need to compare them in constant time.
    fn matches(&self, record: &TlsaRecord) -> bool {
        let selector = usize::from(record.selector);
        let selected: Option<&[u8]> = match record.matching {
            0 => self.content.get(selector).and_then(|c| c.as_deref()),
            1 => self.sha256.get(selector).and_then(|d| d.as_ref()).map(|d| d.as_ref()),
            2 => self.sha512.get(selector).and_then(|d| d.as_ref()).map(|d| d.as_ref()),
            _ => None,
        };
        selected == Some(record.data.as_slice())
    }
}

impl DaneVerifier {
    fn verify(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<(), VerifyFailure> {
        if self.records.is_empty() {
            return Err(VerifyFailure::NoUsableRecord);
        }
        let by_usage = |usage| self.records.iter().filter(move |r| r.usage == usage);
        // RFC 7672 §3.1.1: DANE-EE matches the end entity alone, and
        // neither its names nor its dates matter.
        if by_usage(DANE_EE).next().is_some() {
            let selected = Selected::of(end_entity);
            if by_usage(DANE_EE).any(|r| selected.matches(r)) {
                return Ok(());
            }
        }
        // RFC 7672 §3.1.2: a DANE-TA record matches a certificate the
        // server sends (it must send the anchor's), which then is the
        // only root the end entity may chain to.
        let mut failure = None;
        if by_usage(DANE_TA).next().is_some() {
            for candidate in intermediates.iter().take(MAX_TRUST_ANCHOR_CANDIDATES) {
                let selected = Selected::of(candidate);
                if !by_usage(DANE_TA).any(|r| selected.matches(r)) {
                    continue;
                }
                let mut roots = RootCertStore::empty();
                if roots.add(candidate.clone().into_owned()).is_err() {
                    continue;
                }
                match self.chain_to(&roots, end_entity, intermediates, server_name, now) {
                    Ok(()) => return Ok(()),
                    Err(e) => failure = failure.or(Some(e)),
                }
            }
        }
        let anchors = self.bare_key_anchors(end_entity, intermediates);
        if !anchors.is_empty() {
            match self.chain_to(
                &anchors.into_iter().collect(),
                end_entity,
                intermediates,
                server_name,
                now,
            ) {
                Ok(()) => return Ok(()),
                // No certificate the server sent was issued by the key.
                Err(VerifyFailure::NotTrusted(_)) => {}
                Err(e) => failure = failure.or(Some(e)),
            }
        }
        Err(failure.unwrap_or(VerifyFailure::NoMatch))
    }

    /// The trust anchors of the DANE-TA(2) SPKI(1) Full(0) records: a
    /// bare public key, which the server need not send a certificate for
    /// (RFC 7671 §5.2.2, RFC 7672 §3.1.2). Path building looks anchors up
    /// by name, so each key stands in for every issuer named in the chain
    /// (the signature check then tells which, if any, it issued).
    fn bare_key_anchors(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
    ) -> Vec<TrustAnchor<'static>> {
        let keys: Vec<&[u8]> = self
            .records
            .iter()
            .filter(|r| r.usage == DANE_TA && r.selector == 1 && r.matching == 0)
            .filter_map(|r| sequence_contents(&r.data))
            .take(MAX_BARE_KEYS)
            .collect();
        if keys.is_empty() {
            return Vec::new();
        }
        let mut issuers: Vec<&[u8]> = Vec::new();
        let parsed: Vec<_> = std::iter::once(end_entity)
            .chain(intermediates.iter().take(MAX_TRUST_ANCHOR_CANDIDATES))
            .filter_map(|c| webpki::EndEntityCert::try_from(c).ok())
            .collect();
        for certificate in &parsed {
            if !issuers.contains(&certificate.issuer()) {
                issuers.push(certificate.issuer());
            }
        }
        let mut anchors = Vec::new();
        for issuer in issuers {
            for key in &keys {
                anchors.push(TrustAnchor {
                    subject: Der::from(issuer.to_vec()),
                    subject_public_key_info: Der::from(key.to_vec()),
                    name_constraints: None,
                });
            }
        }
        anchors
    }

    /// Validates the end entity with `roots` as the only roots: the
    /// signatures along the chain, the validity dates (of the end entity
    /// and any intermediate) and a name (RFC 7672 §3.1.2, §3.2.3).
    fn chain_to(
        &self,
        roots: &RootCertStore,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<(), VerifyFailure> {
        let names = || self.reference_identifiers(server_name);
        let parsed = ParsedCertificate::try_from(end_entity).map_err(|e| VerifyFailure::classify(&e, names))?;
        let algorithms = self.signatures.0.signature_verification_algorithms.all;
        verify_server_cert_signed_by_trust_anchor(&parsed, roots, intermediates, now, algorithms)
            .map_err(|e| VerifyFailure::classify(&e, names))?;
        let named = std::iter::once(server_name)
            .chain(&self.names)
            .any(|name| verify_server_name(&parsed, name).is_ok());
        if named {
            Ok(())
        } else {
            Err(VerifyFailure::HostMismatch(names()))
        }
    }

    fn reference_identifiers(&self, server_name: &ServerName<'_>) -> String {
        let mut names: Vec<String> = Vec::new();
        for name in std::iter::once(server_name).chain(&self.names) {
            let name = name.to_str().into_owned();
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names.join(" or ")
    }
}

impl ServerCertVerifier for DaneVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verify(end_entity, intermediates, server_name, now)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signatures.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signatures.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.signatures.schemes()
    }
}

/// The contents of the DER SEQUENCE that is all of `der` (a
/// SubjectPublicKeyInfo, which a trust anchor holds without its tag and
/// length), or `None` if `der` is something else.
fn sequence_contents(der: &[u8]) -> Option<&[u8]> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    if tag != 0x30 {
        return None;
    }
    // X.690 §8.1.3: a short length, or the count of length bytes to follow
    // (three are plenty for anything a DNS message can carry).
    let (length, contents) = match first {
        0..=0x7f => (usize::from(first), rest),
        0x81..=0x83 => {
            let (bytes, contents) = rest.split_at_checked(usize::from(first & 0x7f))?;
            (bytes.iter().fold(0, |n, b| n << 8 | usize::from(*b)), contents)
        }
        _ => return None,
    };
    (length == contents.len()).then_some(contents)
}

#[cfg(test)]
mod tests {
    use super::sequence_contents;

    #[test]
    fn sequence_contents_takes_exactly_one_sequence() {
        assert_eq!(sequence_contents(&[0x30, 2, 5, 6]), Some(&[5, 6][..]));
        assert_eq!(sequence_contents(&[0x30, 0]), Some(&[][..]));
        let long: Vec<u8> = [0x30, 0x82, 0x01, 0x00].into_iter().chain([7; 256]).collect();
        assert_eq!(sequence_contents(&long), Some(&[7; 256][..]));
        assert_eq!(sequence_contents(&[0x30, 0x81, 2, 5, 6]), Some(&[5, 6][..]));
        // Wrong tag, short, trailing bytes, truncated or oversized lengths.
        assert_eq!(sequence_contents(&[0x31, 2, 5, 6]), None);
        assert_eq!(sequence_contents(&[0x30, 3, 5, 6]), None);
        assert_eq!(sequence_contents(&[0x30, 1, 5, 6]), None);
        assert_eq!(sequence_contents(&[0x30, 0x82, 0x01]), None);
        assert_eq!(sequence_contents(&[0x30, 0x84, 0, 0, 0, 2, 5, 6]), None);
        assert_eq!(sequence_contents(&[0x30, 0x80]), None);
        assert_eq!(sequence_contents(&[0x30]), None);
        assert_eq!(sequence_contents(&[]), None);
    }
}
