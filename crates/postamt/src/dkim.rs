//! DKIM for postamt: making keys for hosted domains (at `domain add`,
//! `dkim rotate`, and at start for domains hosted before keys existed),
//! signing submitted mail once, at queueing time (RFC 6376 §5), and
//! sealing what aliases forward (DKIM signatures and an ARC set, RFC 8617).

use anyhow::Context;
use msgauth::keys::Algorithm;
use msgauth::sign::DomainKey;
use store::{NewDkimKey, Store};

/// A fresh key of each algorithm, with selectors named by today's date.
/// RSA generation takes a moment, so it runs off the async threads.
pub async fn new_keys() -> anyhow::Result<Vec<NewDkimKey>> {
    let keys = tokio::task::spawn_blocking(msgauth::keys::generate_all).await??;
    let date = msgauth::keys::selector_date(store::now());
    Ok(keys
        .into_iter()
        .map(|key| NewDkimKey {
            algorithm: key.algorithm.name().to_string(),
            selector: msgauth::keys::selector(&date, key.algorithm, 1),
            private_key: key.private_key,
            public_key: key.public_key,
        })
        .collect())
}

/// Gives every hosted domain without an active key its keys (domains
/// added before postamt signed mail).
pub async fn create_missing_keys(store: &Store) -> anyhow::Result<()> {
    for domain in store.domains_without_dkim().await? {
        let selectors = store
            .rotate_dkim_keys(&domain, new_keys().await?)
            .await
            .with_context(|| format!("cannot store DKIM keys for {domain}"))?;
        tracing::info!(
            %domain,
            selectors = %selectors.join(", "),
            "created DKIM keys; publish them with the records `postamt dns {domain}` prints",
        );
    }
    Ok(())
}

/// Signs messages with the active keys of their author's domain. The keys
/// are read for every message: the read is needed anyway to notice a
/// `dkim rotate` from the command line (another process), and parsing
/// them costs about 20 µs against 40 µs (ed25519) and 610 µs (RSA) of
/// signing, so a cache of parsed keys would save little.
pub struct Signer {
    store: Store,
    /// Our authserv-id: the name our checks' verdicts are under.
    hostname: String,
}

impl Signer {
    pub fn new(store: Store, hostname: &str) -> Signer {
        Signer {
            store,
            hostname: hostname.to_string(),
        }
    }

    /// The message with DKIM-Signature fields added, one per active key
    /// of `domain` (its author's); unchanged if that domain is not hosted
    /// here or has no keys.
    pub async fn sign(&self, domain: &str, content: Vec<u8>) -> anyhow::Result<Vec<u8>> {
        let keys = self.keys(domain).await?;
        if keys.is_empty() {
            return Ok(content);
        }
        // Hashing the body and signing take CPU time in proportion to the
        // message: off the async threads.
        tokio::task::spawn_blocking(move || {
            let refs: Vec<&DomainKey> = keys.iter().collect();
            let fields = msgauth::sign::sign_all(&content, &refs)?;
            let at = msgauth::sign::insert_position(&content);
            let mut signed = Vec::with_capacity(content.len() + fields.len());
            signed.extend_from_slice(&content[..at]);
            signed.extend_from_slice(&fields);
            signed.extend_from_slice(&content[at..]);
            Ok(signed)
        })
        .await?
    }

    /// What goes on top of a copy of `content` that an alias of `domain`
    /// forwards: the domain's DKIM signatures, and above them its ARC set,
    /// whose message signature covers them too.
    async fn forward_fields(&self, domain: &str, content: &[u8]) -> anyhow::Result<Vec<u8>> {
        let keys = self.keys(domain).await?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let (content, hostname) = (content.to_vec(), self.hostname.clone());
        let now = u64::try_from(store::now()).unwrap_or_default();
        tokio::task::spawn_blocking(move || {
            let refs: Vec<&DomainKey> = keys.iter().collect();
            let dkim = msgauth::sign::sign_all(&content, &refs)?;
            let mut signed = dkim.clone();
            signed.extend_from_slice(&content);
            let rsa = keys.iter().find(|key| key.algorithm() == Algorithm::RsaSha256);
            let mut fields = match rsa {
                Some(key) => msgauth::arc_seal::seal(&signed, key, &hostname, now)?.unwrap_or_default(),
                None => Vec::new(),
            };
            fields.extend_from_slice(&dkim);
            Ok(fields)
        })
        .await?
    }

    /// The parsed active keys of `domain`; none if it has none.
    async fn keys(&self, domain: &str) -> anyhow::Result<Vec<DomainKey>> {
        let stored = self.store.active_dkim_keys(domain).await?;
        stored
            .into_iter()
            .map(|key| {
                let algorithm = Algorithm::from_name(&key.algorithm)
                    .with_context(|| format!("unknown DKIM algorithm {} in the store", key.algorithm))?;
                Ok(DomainKey {
                    domain: domain.to_string(),
                    selector: key.selector,
                    key: msgauth::sign::load_key(algorithm, &key.private_key)?,
                })
            })
            .collect()
    }
}

impl queue::Sealer for Signer {
    fn seal<'a>(
        &'a self,
        domain: &'a str,
        content: &'a [u8],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<u8>, String>> + Send + 'a>> {
        Box::pin(async move { self.forward_fields(domain, content).await.map_err(|e| format!("{e:#}")) })
    }

    fn sign<'a>(
        &'a self,
        domain: &'a str,
        content: &'a [u8],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<u8>, String>> + Send + 'a>> {
        Box::pin(async move {
            let keys = self.keys(domain).await.map_err(|e| format!("{e:#}"))?;
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let content = content.to_vec();
            tokio::task::spawn_blocking(move || {
                let refs: Vec<&DomainKey> = keys.iter().collect();
                msgauth::sign::sign_all(&content, &refs).map_err(|e| format!("{e:#}"))
            })
            .await
            .map_err(|e| e.to_string())?
        })
    }
}
