//! DKIM signing of outgoing mail (RFC 6376 §5): which domain signs (the
//! one in From, as DMARC aligns on it, RFC 7489 §3.1), over which header
//! fields, and the DKIM-Signature fields to prepend.

use mail_auth::common::crypto::{DkimKey, Ed25519Key, RsaKey, Sha256, SigningKey};
use mail_auth::common::headers::{HeaderWriter, Writable};
use mail_auth::dkim::{Canonicalization, DkimSigner};
use mail_parser::{Address, HeaderName, HeaderValue};
use rustls_pki_types::PrivateKeyDer;

use crate::keys::Algorithm;

/// The header fields signed, in this order (RFC 6376 §5.4.1 recommends
/// these). Each one absent from a message is signed as absent, so nobody
/// can add it later; From is listed twice, so even a second From added in
/// transit breaks the signature (RFC 6376 §8.15, "oversigning").
pub const SIGNED_HEADERS: &[&str] = &[
    "From",
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
];

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("the stored {algorithm} key cannot be loaded: {reason}")]
    BadKey { algorithm: Algorithm, reason: String },
    #[error("signing with {selector} failed: {reason}")]
    Failed { selector: String, reason: String },
}

/// Parses a stored PKCS#8 DER private key (what `keys::generate` makes)
/// into a key ready to sign with.
pub fn load_key(algorithm: Algorithm, pkcs8_der: &[u8]) -> Result<DkimKey, SignError> {
    let bad = |e: mail_auth::Error| SignError::BadKey {
        algorithm,
        reason: e.to_string(),
    };
    Ok(match algorithm {
        Algorithm::Ed25519Sha256 => DkimKey::Ed25519(Ed25519Key::from_pkcs8_der(pkcs8_der).map_err(bad)?),
        Algorithm::RsaSha256 => {
            DkimKey::Rsa(RsaKey::from_key_der(PrivateKeyDer::Pkcs8(pkcs8_der.into())).map_err(bad)?)
        }
    })
}

/// A domain's key under its selector, parsed once and kept for many
/// messages.
pub struct DomainKey {
    pub domain: String,
    pub selector: String,
    pub key: DkimKey,
}

impl DomainKey {
    pub fn algorithm(&self) -> Algorithm {
        match self.key.algorithm() {
            mail_auth::common::crypto::Algorithm::Ed25519Sha256 => Algorithm::Ed25519Sha256,
            _ => Algorithm::RsaSha256,
        }
    }

    /// The complete `DKIM-Signature:` field (folded, CRLF-terminated) for
    /// `message`, with relaxed/relaxed canonicalization (RFC 6376 §3.4.2
    /// and §3.4.4): it survives the re-folding and whitespace changes that
    /// relays make.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let signature = DkimSigner::from_key(KeyRef(&self.key))
            .domain(&self.domain)
            .selector(&self.selector)
            .headers(SIGNED_HEADERS.iter().copied())
            .header_canonicalization(Canonicalization::Relaxed)
            .body_canonicalization(Canonicalization::Relaxed)
            .sign(message)
            .map_err(|e| SignError::Failed {
                selector: self.selector.clone(),
                reason: e.to_string(),
            })?;
        Ok(signature.to_header().into_bytes())
    }
}

/// Lends a parsed key to mail-auth's signer, which wants to own one, so
/// that a cached key signs many messages without being parsed again.
struct KeyRef<'k>(&'k DkimKey);

impl SigningKey for KeyRef<'_> {
    type Hasher = Sha256;

    fn sign(&self, input: impl Writable) -> mail_auth::Result<Vec<u8>> {
        self.0.sign(input)
    }

    fn algorithm(&self) -> mail_auth::common::crypto::Algorithm {
        self.0.algorithm()
    }
}

/// Signs `message` with every key, in order: the DKIM-Signature fields to
/// put in front of it (the first key's field first).
pub fn sign_all(message: &[u8], keys: &[&DomainKey]) -> Result<Vec<u8>, SignError> {
    let mut fields = Vec::new();
    for key in keys {
        fields.extend(key.sign(message)?);
    }
    Ok(fields)
}

/// Where the DKIM-Signature fields go: after the Received field that
/// this server put at the top when it took the message in, so the message
/// still starts with its newest trace field (RFC 5321 §4.4); at the very
/// top if there is none. Verifiers find the signature anywhere in the
/// header (RFC 6376 §5.6 only asks that it be before other signatures).
pub fn insert_position(message: &[u8]) -> usize {
    const RECEIVED: &[u8] = b"received:";
    if message.len() < RECEIVED.len() || !message[..RECEIVED.len()].eq_ignore_ascii_case(RECEIVED) {
        return 0;
    }
    let mut position = 0;
    // The field's first line, then its continuation lines (RFC 5322 §2.2.3).
    while let Some(end) = message[position..].windows(2).position(|w| w == b"\r\n") {
        position += end + 2;
        if !matches!(message.get(position), Some(b' ' | b'\t')) {
            return position;
        }
    }
    0
}

/// The address of the message's author: the one mailbox of its one From
/// field. None when there is no such single author (no From, two From
/// fields, a list or group of authors, no domain): RFC 7489 §6.6.1 lets
/// receivers reject such messages anyway, and no key of ours speaks for
/// them.
pub fn author(message: &[u8]) -> Option<String> {
    let parsed = mail_parser::MessageParser::new().parse_headers(message)?;
    let mut from = parsed.headers().iter().filter(|header| header.name == HeaderName::From);
    let (Some(field), None) = (from.next(), from.next()) else {
        return None;
    };
    let HeaderValue::Address(Address::List(authors)) = &field.value else {
        return None;
    };
    let [author] = authors.as_slice() else {
        return None;
    };
    let address = author.address.as_deref()?;
    let (local, domain) = address.rsplit_once('@')?;
    (!local.is_empty() && !domain.is_empty()).then(|| address.trim_end_matches('.').to_string())
}

/// The author's domain (see `author`), lower-cased.
pub fn author_domain(message: &[u8]) -> Option<String> {
    let author = author(message)?;
    Some(author.rsplit_once('@')?.1.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_author_domain_needs_one_author() {
        let domain = |m: &str| author_domain(m.as_bytes());
        assert_eq!(domain("From: A <a@Example.ORG>\r\n\r\nx"), Some("example.org".into()));
        assert_eq!(domain("Subject: x\r\nfrom: a@b.test\r\n\r\n"), Some("b.test".into()));
        assert_eq!(domain("From: a@b.test\r\nFrom: c@d.test\r\n\r\n"), None);
        assert_eq!(domain("From: a@b.test, c@b.test\r\n\r\n"), None);
        assert_eq!(domain("From: nobody\r\n\r\n"), None);
        assert_eq!(domain("To: a@b.test\r\n\r\n"), None);
        assert_eq!(
            author(b"From: \"A\" <Al@Example.org>\r\n\r\n"),
            Some("Al@Example.org".into())
        );
    }

    #[test]
    fn signatures_go_after_our_received_field() {
        let message = b"Received: from a\r\n\tby b; date\r\nReceived: x\r\nFrom: a@b.test\r\n\r\n";
        assert_eq!(insert_position(message), 31);
        assert_eq!(&message[31..40], b"Received:");
        assert_eq!(insert_position(b"From: a@b.test\r\n\r\n"), 0);
        assert_eq!(insert_position(b"Received: never ending"), 0);
    }

    #[test]
    fn signatures_cover_the_listed_fields_with_from_twice() {
        let keys = crate::keys::generate_all().unwrap();
        let message = b"From: a@example.org\r\nTo: b@example.net\r\nSubject: hi\r\n\r\nbody\r\n";
        for generated in keys {
            let key = DomainKey {
                domain: "example.org".into(),
                selector: "sel".into(),
                key: load_key(generated.algorithm, &generated.private_key).unwrap(),
            };
            let field = String::from_utf8(key.sign(message).unwrap()).unwrap();
            assert!(field.starts_with("DKIM-Signature: "), "{field}");
            assert!(field.ends_with("\r\n"));
            let unfolded: String = field.split_whitespace().collect();
            assert!(unfolded.contains(&format!("a={};", generated.algorithm)), "{field}");
            assert!(unfolded.contains("c=relaxed/relaxed;"), "{field}");
            assert!(unfolded.contains("d=example.org;"), "{field}");
            let h = unfolded
                .split(';')
                .find_map(|tag| tag.strip_prefix("h="))
                .unwrap()
                .to_lowercase();
            assert_eq!(h.split(':').filter(|name| *name == "from").count(), 2, "{field}");
            assert!(h.split(':').any(|name| name == "cc"), "{field}");
        }
    }
}
