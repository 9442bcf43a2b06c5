//! TLS server configuration: TLS 1.2 and 1.3 only, ring as the crypto
//! provider, and a certificate from the config or, without one, a
//! self-signed certificate created on first start and kept in the data
//! directory so clients can pin it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("cannot write the self-signed certificate to {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot create a self-signed certificate: {0}")]
    Generate(String),
    #[error("the certificate and key do not work together: {0}")]
    Config(String),
    #[error("[tls] needs both `cert` and `key`, or neither (for a self-signed certificate)")]
    HalfConfigured,
}

/// Loads the configured certificate and key, or the self-signed pair in
/// `data_dir` (creating it for `hostname` on first use).
pub fn load_or_create_tls(
    cert: Option<&Path>,
    key: Option<&Path>,
    data_dir: &Path,
    hostname: &str,
) -> Result<TlsAcceptor, TlsError> {
    let (cert_path, key_path) = match (cert, key) {
        (Some(cert), Some(key)) => (cert.to_path_buf(), key.to_path_buf()),
        (None, None) => {
            let cert = data_dir.join("tls-selfsigned.crt");
            let key = data_dir.join("tls-selfsigned.key");
            if !cert.exists() || !key.exists() {
                create_self_signed(&cert, &key, hostname)?;
            }
            (cert, key)
        }
        _ => return Err(TlsError::HalfConfigured),
    };
    let read_error = |path: &Path, e: &dyn std::fmt::Display| TlsError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let chain = CertificateDer::pem_file_iter(&cert_path)
        .map_err(|e| read_error(&cert_path, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| read_error(&cert_path, &e))?;
    if chain.is_empty() {
        return Err(read_error(&cert_path, &"no certificate in the file"));
    }
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| read_error(&key_path, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn create_self_signed(cert_path: &Path, key_path: &Path, hostname: &str) -> Result<(), TlsError> {
    let names = vec![hostname.to_string(), "localhost".to_string()];
    let certified = rcgen::generate_simple_self_signed(names).map_err(|e| TlsError::Generate(e.to_string()))?;
    write_private(key_path, certified.signing_key.serialize_pem().as_bytes())?;
    // The certificate is no secret, but it lives in the private data
    // directory, where every file is the owner's alone.
    write_private(cert_path, certified.cert.pem().as_bytes())
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, contents: &[u8]) -> Result<(), TlsError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(contents))
        .map_err(|source| TlsError::Write {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_then_reuses_a_self_signed_certificate() {
        let dir = tempfile::tempdir().unwrap();
        load_or_create_tls(None, None, dir.path(), "mx.example.test").unwrap();
        let first = std::fs::read(dir.path().join("tls-selfsigned.crt")).unwrap();
        load_or_create_tls(None, None, dir.path(), "mx.example.test").unwrap();
        assert_eq!(first, std::fs::read(dir.path().join("tls-selfsigned.crt")).unwrap());
    }

    #[test]
    fn names_the_file_that_cannot_be_read() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let Err(err) = load_or_create_tls(Some(&missing), Some(&missing), dir.path(), "x") else {
            panic!("a missing certificate must be an error");
        };
        assert!(err.to_string().contains("missing.pem"), "{err}");
        assert!(matches!(
            load_or_create_tls(Some(&missing), None, dir.path(), "x"),
            Err(TlsError::HalfConfigured)
        ));
    }
}
