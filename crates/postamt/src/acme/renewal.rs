//! Keeping the served certificate current: at start the stored one (if
//! still valid), then a look every `poll_seconds` at the store. A
//! certificate due (two thirds of its lifetime, or marked by `postamt tls
//! renew`), missing, or lacking a name now wanted is ordered by the
//! process that takes the store's lease; a certificate another process
//! stored is swapped in. Failed orders are retried after `poll_seconds`,
//! doubling up to an hour, each failure logged with what the CA said.

use std::time::Duration;

use anyhow::Context;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use store::{AcmeCertificate, Store};

use super::AcmeConfig;

/// The longest wait between failed orders.
const MAX_BACKOFF: i64 = 3600;
/// How long a lease holds: longer than an order takes.
const LEASE: i64 = 600;

/// What the renewal loop works with.
pub struct Renewal {
    config: AcmeConfig,
    store: Store,
    tls: net::ServerTls,
    http01: super::Http01Answers,
    hostname: String,
    resolver: dns::Resolver,
    /// This process among those sharing the store (the lease's holder).
    holder: String,
}

/// Serves the stored certificate if there is one still valid; true if so.
pub async fn serve_stored(
    config: &AcmeConfig,
    hostname: &str,
    store: &Store,
    tls: &net::ServerTls,
) -> anyhow::Result<bool> {
    match store.acme_certificate(&config.directory, hostname).await? {
        Some(stored) if stored.not_after > store::now() => {
            install(tls, &stored)?;
            tracing::info!(names = ?stored.names, not_after = stored.not_after, "serving the stored ACME certificate");
            Ok(true)
        }
        _ => Ok(false),
    }
}

impl Renewal {
    pub fn new(
        config: &AcmeConfig,
        server: &crate::config::Config,
        store: Store,
        (tls, http01): (net::ServerTls, super::Http01Answers),
        holder: &str,
    ) -> anyhow::Result<Renewal> {
        Ok(Renewal {
            config: config.clone(),
            store,
            tls,
            http01,
            hostname: server.hostname.clone(),
            resolver: dns::Resolver::new(&server.dns.nameservers).map_err(anyhow::Error::msg)?,
            holder: holder.to_string(),
        })
    }

    /// Runs until the server stops.
    pub async fn run(self) {
        let poll = self.config.poll_seconds as i64;
        let mut served = self.stored().await.map(|c| c.chain_pem);
        let mut failures = 0u32;
        let mut next_attempt = 0;
        let mut said_current = false;
        loop {
            let stored = self.stored().await;
            if let Some(stored) = &stored
                && served.as_ref() != Some(&stored.chain_pem)
                && stored.not_after > store::now()
            {
                // Another node (or this one, before a restart) stored it.
                match install(&self.tls, stored) {
                    Ok(()) => {
                        tracing::info!(names = ?stored.names, "serving the ACME certificate found in the store");
                        served = Some(stored.chain_pem.clone());
                    }
                    Err(e) => tracing::error!(error = %format!("{e:#}"), "the stored ACME certificate is unusable"),
                }
            }
            if store::now() >= next_attempt {
                match self.renew_if_needed(stored.as_ref()).await {
                    Ok(Some(chain_pem)) => {
                        served = Some(chain_pem);
                        failures = 0;
                        said_current = false;
                    }
                    Ok(None) => {
                        failures = 0;
                        // (Not when another node holds the lease to renew it.)
                        if !said_current && let Some(stored) = stored.as_ref().filter(|c| c.renew_at > store::now()) {
                            tracing::info!(renew_at = stored.renew_at, "the ACME certificate is current");
                            said_current = true;
                        }
                    }
                    Err(e) => {
                        failures += 1;
                        let wait = (poll << (failures - 1).min(20)).min(MAX_BACKOFF);
                        next_attempt = store::now() + wait;
                        tracing::error!(
                            directory = %self.config.directory,
                            error = %format!("{e:#}"),
                            retry_in_seconds = wait,
                            "getting a certificate by ACME failed"
                        );
                    }
                }
            }
            tokio::time::sleep(Duration::from_secs(poll as u64)).await;
        }
    }

    async fn stored(&self) -> Option<AcmeCertificate> {
        match self
            .store
            .acme_certificate(&self.config.directory, &self.hostname)
            .await
        {
            Ok(stored) => stored,
            Err(e) => {
                tracing::error!(error = %e, "reading the ACME certificate from the store failed");
                None
            }
        }
    }

    /// Orders a certificate if the stored one is due, missing or lacks a
    /// wanted name, under the lease; the new chain if one was installed.
    async fn renew_if_needed(&self, stored: Option<&AcmeCertificate>) -> anyhow::Result<Option<String>> {
        let now = store::now();
        let due = stored.is_none_or(|c| c.renew_at <= now);
        let names = super::names::wanted(&self.store, &self.hostname, self.config.domain_names, &self.resolver).await?;
        // A name that vanished from DNS stays until the next renewal: a
        // lookup that failed once must not cost an order.
        let lacking = stored.is_some_and(|c| names.iter().any(|name| !c.names.contains(name)));
        if !due && !lacking {
            return Ok(None);
        }
        let directory = &self.config.directory;
        if !self
            .store
            .take_acme_lease(directory, &self.hostname, &self.holder, now + LEASE, now)
            .await?
        {
            return Ok(None); // another node orders; its certificate comes through the store
        }
        tracing::info!(?names, %directory, "ordering a certificate by ACME");
        let ordered = super::order::order(&self.config, &self.store, (&self.tls, &self.http01), &names).await;
        let released = self
            .store
            .release_acme_lease(directory, &self.hostname, &self.holder)
            .await;
        let certificate = ordered?;
        released?;
        install(&self.tls, &certificate)?;
        self.store
            .save_acme_certificate(directory, &self.hostname, &certificate)
            .await?;
        tracing::info!(
            names = ?certificate.names,
            not_after = certificate.not_after,
            renew_at = certificate.renew_at,
            "a new ACME certificate is served"
        );
        Ok(Some(certificate.chain_pem))
    }
}

/// Serves `certificate` from the next handshake on.
fn install(tls: &net::ServerTls, certificate: &AcmeCertificate) -> anyhow::Result<()> {
    let chain = CertificateDer::pem_slice_iter(certificate.chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .context("the certificate chain is not PEM")?;
    // The error names no part of the key.
    let key = PrivateKeyDer::from_pem_slice(certificate.key_pem.as_bytes())
        .map_err(|_| anyhow::anyhow!("the certificate's private key is not PEM"))?;
    tls.replace(chain, key)?;
    Ok(())
}

/// What a certificate says about itself, for renewal and `postamt tls status`.
pub struct Facts {
    pub not_before: i64,
    pub not_after: i64,
    pub issuer: String,
    pub serial: String,
}

/// The facts of the first (end-entity) certificate of a PEM chain.
pub fn facts(chain_pem: &str) -> anyhow::Result<Facts> {
    let first = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
        .next()
        .context("no certificate in the chain")?
        .context("the certificate chain is not PEM")?;
    let (_, certificate) =
        x509_parser::parse_x509_certificate(&first).map_err(|e| anyhow::anyhow!("unreadable certificate: {e}"))?;
    let validity = certificate.validity();
    Ok(Facts {
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        issuer: certificate.issuer().to_string(),
        // As openssl prints it: hex digits, no separators.
        serial: certificate.raw_serial().iter().map(|b| format!("{b:02X}")).collect(),
    })
}
