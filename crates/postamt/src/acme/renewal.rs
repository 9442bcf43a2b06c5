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
        let names = super::names::wanted(&self.store, &self.hostname, self.config.domain_names, &self.resolver).await?;
        if !must_order(stored, &names, now) {
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

/// When a certificate valid from `not_before` to `not_after` is due for
/// renewal: two thirds into its lifetime, which for Let's Encrypt's 90
/// days leaves 30 for failed orders to be retried (a CA outage, a DNS
/// mistake) before it expires.
pub fn renew_at(not_before: i64, not_after: i64) -> i64 {
    not_before + (not_after - not_before) * 2 / 3
}

/// Whether a certificate must be ordered at `now`: none is stored, the
/// stored one is due (its `renew_at`, which `postamt tls renew` sets to
/// 0), or it lacks a name now `wanted`. A name that vanished from DNS
/// stays until the next renewal: a lookup that failed once must not cost
/// an order.
fn must_order(stored: Option<&AcmeCertificate>, wanted: &[String], now: i64) -> bool {
    match stored {
        None => true,
        Some(stored) => stored.renew_at <= now || wanted.iter().any(|name| !stored.names.contains(name)),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A certificate for `names`, valid from `not_before` to `not_after`,
    /// with its renewal time as an order sets it.
    fn certificate(names: &[&str], not_before: i64, not_after: i64) -> AcmeCertificate {
        AcmeCertificate {
            names: names.iter().map(ToString::to_string).collect(),
            chain_pem: String::new(),
            key_pem: String::new(),
            not_after,
            renew_at: renew_at(not_before, not_after),
        }
    }

    #[test]
    fn renewal_is_due_two_thirds_into_the_lifetime() {
        let day = 86_400;
        let (start, end) = (1_700_000_000, 1_700_000_000 + 90 * day);
        assert_eq!(renew_at(start, end), start + 60 * day);
        // Not a whole number of seconds: rounded towards the start.
        assert_eq!(renew_at(0, 100), 66);
        let wanted = ["mx.example.org".to_string()];
        let stored = certificate(&["mx.example.org"], start, end);
        for now in [start, start + 30 * day, start + 60 * day - 1] {
            assert!(!must_order(Some(&stored), &wanted, now), "{now}");
        }
        for now in [start + 60 * day, start + 60 * day + 1, end, end + day] {
            assert!(must_order(Some(&stored), &wanted, now), "{now}");
        }
    }

    #[test]
    fn a_missing_certificate_or_a_new_name_is_ordered_at_once() {
        let (start, end) = (1_700_000_000, 1_700_000_000 + 90 * 86_400);
        let now = start + 1;
        let hostname = vec!["mx.example.org".to_string()];
        assert!(must_order(None, &hostname, now));
        let stored = certificate(&["mx.example.org", "mta-sts.example.org"], start, end);
        assert!(!must_order(Some(&stored), &hostname, now), "a name gone from DNS stays");
        let more = [hostname.clone(), vec!["autoconfig.example.org".to_string()]].concat();
        assert!(must_order(Some(&stored), &more, now));
        // `postamt tls renew` marks it due.
        let forced = AcmeCertificate { renew_at: 0, ..stored };
        assert!(must_order(Some(&forced), &hostname, now));
    }
}
