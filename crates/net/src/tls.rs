//! TLS server configuration: TLS 1.2 and 1.3 only, ring as the crypto
//! provider, and a certificate from the config or, without one, a
//! self-signed certificate created on first start and kept in the data
//! directory so clients can pin it.
//!
//! The certificate can change while the server runs ([`ServerTls`]): a
//! reload re-reads the files (an outside tool such as certbot renewed
//! them), or ACME hands over a new chain. Every acceptor ever given out
//! asks the same resolver, so new handshakes get the new certificate and
//! established sessions keep theirs: nothing restarts, nothing drops.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// The ALPN protocol of the ACME TLS-ALPN-01 challenge (RFC 8737 §6.2).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

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
    #[error(
        "the private key {path} can be read by every user of this machine (mode {mode:04o}): \
         make it the server's alone with `chmod 600 {path}` (or 640, group-readable by the group \
         the server runs as)"
    )]
    KeyReadableByOthers { path: PathBuf, mode: u32 },
}

/// The server's certificate, swappable while it serves, and the answers
/// to ACME TLS-ALPN-01 challenges. Cheap to clone: clones share it all.
#[derive(Clone)]
pub struct ServerTls {
    resolver: Arc<Resolver>,
    config: Arc<ServerConfig>,
    files: Arc<(PathBuf, PathBuf)>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls").field("files", &self.files).finish()
    }
}

/// Chooses the certificate of each new handshake: always the current one
/// (one certificate names every host this server answers for).
#[derive(Debug)]
struct Resolver {
    current: crate::Live<CertifiedKey>,
    /// TLS-ALPN-01 answers by the lowercase name they validate, each a
    /// complete configuration that negotiates `acme-tls/1`.
    challenges: RwLock<HashMap<String, Arc<ServerConfig>>>,
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.get())
    }
}

impl ServerTls {
    /// Loads the configured certificate and key, or the self-signed pair
    /// in `data_dir` (creating it for `hostname` on first use).
    pub fn load_or_create(
        cert: Option<&Path>,
        key: Option<&Path>,
        data_dir: &Path,
        hostname: &str,
    ) -> Result<Self, TlsError> {
        let files = match (cert, key) {
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
        let current = load_files(&files.0, &files.1)?;
        let resolver = Arc::new(Resolver {
            current: crate::Live::new(current),
            challenges: RwLock::new(HashMap::new()),
        });
        let config = base_config()?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        Ok(ServerTls {
            resolver,
            config: Arc::new(config),
            files: Arc::new(files),
        })
    }

    /// An acceptor for STARTTLS and implicit-TLS ports. It keeps following
    /// this certificate: one taken at start serves renewed certificates.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config.clone())
    }

    /// The files the certificate is read from.
    pub fn files(&self) -> (&Path, &Path) {
        (&self.files.0, &self.files.1)
    }

    /// Reads the certificate files again (after an outside renewal). On an
    /// error the certificate in use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        self.resolver.current.set(load_files(&self.files.0, &self.files.1)?);
        Ok(())
    }

    /// Serves `chain` with `key` from the next handshake on (a certificate
    /// just issued by ACME). Refused if the key does not match.
    pub fn replace(&self, chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<(), TlsError> {
        self.resolver.current.set(certified_key(chain, key)?);
        Ok(())
    }

    /// The end-entity certificate being served now (DER).
    pub fn current_certificate(&self) -> CertificateDer<'static> {
        self.resolver.current.get().cert[0].clone()
    }

    /// Answers TLS-ALPN-01 for `name` with `chain` and `key` (RFC 8737 §3)
    /// until [`Self::remove_challenge`].
    pub fn set_challenge(
        &self,
        name: &str,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<(), TlsError> {
        // Not `with_single_cert`: it parses the certificate as a path
        // validator would and refuses the critical acmeIdentifier
        // extension (RFC 8737 §3) it does not know; the validating CA,
        // not rustls, reads this certificate.
        let signing_key = provider()
            .key_provider
            .load_private_key(key)
            .map_err(|e| TlsError::Config(e.to_string()))?;
        let certified = CertifiedKey::new(chain, signing_key);
        let mut config = base_config()?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
        config.alpn_protocols = vec![ACME_TLS_ALPN.to_vec()];
        write(&self.resolver.challenges).insert(name.to_ascii_lowercase(), Arc::new(config));
        Ok(())
    }

    pub fn remove_challenge(&self, name: &str) {
        write(&self.resolver.challenges).remove(&name.to_ascii_lowercase());
    }

    /// Accepts TLS on a connection that starts with it, answering an ACME
    /// validation itself: a client that offers only `acme-tls/1` gets the
    /// challenge certificate for the name it asks (or is refused), and the
    /// connection ends there (RFC 8737 §3: nothing follows the handshake).
    /// `Ok(None)` is such a validation; `Ok(Some)` a real client.
    pub async fn accept<S>(&self, stream: S) -> std::io::Result<Option<TlsStream<S>>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let start = tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream).await?;
        let hello = start.client_hello();
        let validation = hello
            .alpn()
            .is_some_and(|mut protocols| protocols.all(|p| p == ACME_TLS_ALPN));
        if !validation {
            return start.into_stream(self.config.clone()).await.map(Some);
        }
        let name = hello.server_name().unwrap_or_default().to_ascii_lowercase();
        let challenge = read(&self.resolver.challenges).get(&name).cloned();
        let Some(config) = challenge else {
            return Err(std::io::Error::other(format!(
                "an ACME validation for {name:?}, which has no challenge pending"
            )));
        };
        let mut stream = start.into_stream(config).await?;
        stream.shutdown().await?;
        Ok(None)
    }
}

/// Loads the configured certificate and key, or the self-signed pair in
/// `data_dir`, as an acceptor (tests and servers that need no reloads).
pub fn load_or_create_tls(
    cert: Option<&Path>,
    key: Option<&Path>,
    data_dir: &Path,
    hostname: &str,
) -> Result<TlsAcceptor, TlsError> {
    ServerTls::load_or_create(cert, key, data_dir, hostname).map(|tls| tls.acceptor())
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn base_config() -> Result<rustls::ConfigBuilder<ServerConfig, rustls::WantsVerifier>, TlsError> {
    ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Config(e.to_string()))
}

fn certified_key(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<CertifiedKey, TlsError> {
    if chain.is_empty() {
        return Err(TlsError::Config("no certificate in the chain".into()));
    }
    CertifiedKey::from_der(chain, key, &provider()).map_err(|e| TlsError::Config(e.to_string()))
}

/// Reads a PEM chain and its key, refusing a key others may read.
fn load_files(cert_path: &Path, key_path: &Path) -> Result<CertifiedKey, TlsError> {
    let read_error = |path: &Path, e: &dyn std::fmt::Display| TlsError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let chain = CertificateDer::pem_file_iter(cert_path)
        .map_err(|e| read_error(cert_path, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| read_error(cert_path, &e))?;
    if chain.is_empty() {
        return Err(read_error(cert_path, &"no certificate in the file"));
    }
    refuse_if_others_can_read(key_path)?;
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| read_error(key_path, &e))?;
    certified_key(chain, key)
}

/// A private key every local user can read is no longer private: refuse
/// it rather than serve with it. Group read stays allowed (Debian's
/// ssl-cert group keeps keys 0640).
fn refuse_if_others_can_read(path: &Path) -> Result<(), TlsError> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::metadata(path).map_err(|e| TlsError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o007 != 0 {
        return Err(TlsError::KeyReadableByOthers {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
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

/// A lock poisoned by a panic elsewhere still holds a whole map of
/// challenges: entries are only ever inserted or removed whole.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}
