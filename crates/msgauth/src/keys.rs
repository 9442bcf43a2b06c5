//! DKIM keys: generating them, naming them, and the public half that DNS
//! publishes. Two algorithms are made for every domain (RFC 8463 §1):
//! ed25519-sha256, short and fast, and rsa-sha256 (RFC 6376 §3.3.1, 2048
//! bits as RFC 8301 §3.2 asks), because many verifiers still know only
//! RSA. Private keys are PKCS#8 DER for both, the form ring loads.

use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};

/// RFC 8301 §3.2: signers must use at least 1024 bits and should use 2048.
pub const RSA_BITS: usize = 2048;

/// A DKIM signing algorithm (RFC 6376 §3.3, RFC 8463 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Ed25519Sha256,
    RsaSha256,
}

impl Algorithm {
    pub const ALL: [Algorithm; 2] = [Algorithm::Ed25519Sha256, Algorithm::RsaSha256];

    /// The name in the `a=` tag of a signature, also the one the store keeps.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Ed25519Sha256 => "ed25519-sha256",
            Algorithm::RsaSha256 => "rsa-sha256",
        }
    }

    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The `k=` tag of the key record (RFC 6376 §3.6.1, RFC 8463 §4).
    pub fn key_type(self) -> &'static str {
        match self {
            Algorithm::Ed25519Sha256 => "ed25519",
            Algorithm::RsaSha256 => "rsa",
        }
    }

    /// The letter that ends a selector of this algorithm, so that the two
    /// keys made the same day have different names.
    pub fn selector_suffix(self) -> char {
        match self {
            Algorithm::Ed25519Sha256 => 'e',
            Algorithm::RsaSha256 => 'r',
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot generate a {algorithm} key: {reason}")]
pub struct KeyError {
    pub algorithm: Algorithm,
    pub reason: String,
}

/// A fresh key pair.
pub struct GeneratedKey {
    pub algorithm: Algorithm,
    /// PKCS#8 DER. Secret: never printed or logged.
    pub private_key: Vec<u8>,
    /// What the `p=` tag carries, before base64: the raw 32-byte key for
    /// ed25519 (RFC 8463 §4.2), SubjectPublicKeyInfo DER for RSA (RFC 6376
    /// §3.6.1, the form `openssl rsa -pubout` writes and every verifier
    /// reads).
    pub public_key: Vec<u8>,
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("algorithm", &self.algorithm)
            .field("private_key", &"<secret>")
            .finish_non_exhaustive()
    }
}

/// Generates a key pair. RSA takes a noticeable moment (about 0.1 to 1 s).
pub fn generate(algorithm: Algorithm) -> Result<GeneratedKey, KeyError> {
    let fail = |reason: String| KeyError { algorithm, reason };
    match algorithm {
        Algorithm::Ed25519Sha256 => {
            let private_key =
                mail_auth::common::crypto::Ed25519Key::generate_pkcs8().map_err(|e| fail(e.to_string()))?;
            let key =
                mail_auth::common::crypto::Ed25519Key::from_pkcs8_der(&private_key).map_err(|e| fail(e.to_string()))?;
            Ok(GeneratedKey {
                algorithm,
                public_key: key.public_key(),
                private_key,
            })
        }
        Algorithm::RsaSha256 => {
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, RSA_BITS).map_err(|e| fail(e.to_string()))?;
            let private_key = key.to_pkcs8_der().map_err(|e| fail(e.to_string()))?.as_bytes().to_vec();
            let public_key = key
                .to_public_key()
                .to_public_key_der()
                .map_err(|e| fail(e.to_string()))?
                .into_vec();
            Ok(GeneratedKey {
                algorithm,
                private_key,
                public_key,
            })
        }
    }
}

/// One key of each algorithm, as `postamt domain add` and `dkim rotate` make.
pub fn generate_all() -> Result<Vec<GeneratedKey>, KeyError> {
    Algorithm::ALL.into_iter().map(generate).collect()
}

/// The date part of a selector, `YYYYMMDD` in UTC, for a time in seconds
/// since the Unix epoch. Selectors named by date tell an operator at a
/// glance how old a published key is (RFC 6376 §3.1 leaves the naming to
/// the signer).
pub fn selector_date(unix_seconds: i64) -> String {
    let (year, month, day) = wire::date::civil_from_days(unix_seconds.div_euclid(86_400));
    format!("{year:04}{month:02}{day:02}")
}

/// The `n`-th selector (counting from 1) for keys of `algorithm` made on
/// `date`: `20261201e`, then `20261201e2`, `20261201e3`, ... so rotating
/// twice a day still gives new names.
pub fn selector(date: &str, algorithm: Algorithm, n: u32) -> String {
    let suffix = algorithm.selector_suffix();
    if n <= 1 {
        format!("{date}{suffix}")
    } else {
        format!("{date}{suffix}{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(selector_date(0), "19700101");
        assert_eq!(selector_date(1_796_083_200), "20261201");
        assert_eq!(selector_date(1_709_164_800), "20240229");
        assert_eq!(selector_date(1_709_251_199), "20240229");
    }

    #[test]
    fn selectors() {
        assert_eq!(selector("20261201", Algorithm::Ed25519Sha256, 1), "20261201e");
        assert_eq!(selector("20261201", Algorithm::RsaSha256, 2), "20261201r2");
    }

    #[test]
    fn generated_keys_load_for_signing() {
        for key in generate_all().unwrap() {
            crate::sign::load_key(key.algorithm, &key.private_key).unwrap();
            assert!(!format!("{key:?}").contains(&format!("{:?}", &key.private_key[..8])));
        }
    }
}
