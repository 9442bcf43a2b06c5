//! What ACME (RFC 8555) leaves in the store, per directory URL: the
//! account (its serialized credentials, private key included) and, per
//! hostname, the certificate served (chain, private key, expiry, when to
//! renew) and the lease of the one process that orders it.
//!
//! Nodes sharing a PostgreSQL store and a hostname share all of it: one
//! orders (it holds the lease), the others read the certificate it stored. A lease is taken
//! when there is none, when it is this process's own, or when it ran out
//! (its holder died or hangs): it is a time bound, not a lock held by a
//! connection.

use crate::sql::OptionalExtension;
use crate::{Result, Store};

/// A certificate issued by ACME, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct AcmeCertificate {
    /// The names it was ordered for, in order.
    pub names: Vec<String>,
    /// PEM, end-entity certificate first.
    pub chain_pem: String,
    /// PEM (PKCS#8).
    pub key_pem: String,
    /// Unix seconds.
    pub not_after: i64,
    /// Unix seconds; 0 when a renewal was asked for.
    pub renew_at: i64,
}

/// The key stays out of logs and panics.
impl std::fmt::Debug for AcmeCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcmeCertificate")
            .field("names", &self.names)
            .field("not_after", &self.not_after)
            .field("renew_at", &self.renew_at)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The account's serialized credentials at `directory`, if one was made.
    pub async fn acme_account(&self, directory: &str) -> Result<Option<String>> {
        let directory = directory.to_string();
        self.point_reads.read(move |c| {
            c.prepare_cached("SELECT credentials FROM acme_accounts WHERE directory = $1")?
                .query_row([&directory], |row| row.get(0))
                .optional()
        })
    }

    /// Keeps the account made at `directory` (replacing an older one).
    pub async fn save_acme_account(&self, directory: &str, credentials: &str) -> Result<()> {
        let (directory, credentials) = (directory.to_string(), credentials.to_string());
        self.batched(move |tx| {
            tx.prepare_cached(
                "INSERT INTO acme_accounts (directory, credentials) VALUES ($1, $2)
                 ON CONFLICT (directory) DO UPDATE SET credentials = excluded.credentials",
            )?
            .execute((&directory, &credentials))?;
            Ok(())
        })
        .await
    }

    /// The certificate `directory` last issued for `hostname`, if any.
    pub async fn acme_certificate(&self, directory: &str, hostname: &str) -> Result<Option<AcmeCertificate>> {
        let (directory, hostname) = (directory.to_string(), hostname.to_string());
        self.point_reads.read(move |c| {
            c.prepare_cached(
                "SELECT names, chain_pem, key_pem, not_after, renew_at FROM acme_certificates
                 WHERE directory = $1 AND hostname = $2",
            )?
            .query_row([&directory, &hostname], |row| {
                let names: String = row.get(0)?;
                Ok(AcmeCertificate {
                    names: names.split_whitespace().map(str::to_string).collect(),
                    chain_pem: row.get(1)?,
                    key_pem: row.get(2)?,
                    not_after: row.get(3)?,
                    renew_at: row.get(4)?,
                })
            })
            .optional()
        })
    }

    /// Keeps `certificate` as the one `directory` issued last for `hostname`.
    pub async fn save_acme_certificate(
        &self,
        directory: &str,
        hostname: &str,
        certificate: &AcmeCertificate,
    ) -> Result<()> {
        let (directory, hostname) = (directory.to_string(), hostname.to_string());
        let certificate = certificate.clone();
        self.batched(move |tx| {
            tx.prepare_cached(
                "INSERT INTO acme_certificates (directory, hostname, names, chain_pem, key_pem, not_after, renew_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (directory, hostname) DO UPDATE SET names = excluded.names, chain_pem = excluded.chain_pem,
                     key_pem = excluded.key_pem, not_after = excluded.not_after, renew_at = excluded.renew_at",
            )?
            .execute((
                &directory,
                &hostname,
                &certificate.names.join(" "),
                &certificate.chain_pem,
                &certificate.key_pem,
                certificate.not_after,
                certificate.renew_at,
            ))?;
            Ok(())
        })
        .await
    }

    /// Makes the certificate of `directory` for `hostname` due for renewal
    /// now; false if there is none.
    pub async fn mark_acme_renewal_due(&self, directory: &str, hostname: &str) -> Result<bool> {
        let (directory, hostname) = (directory.to_string(), hostname.to_string());
        self.batched(move |tx| {
            Ok(tx
                .prepare_cached("UPDATE acme_certificates SET renew_at = 0 WHERE directory = $1 AND hostname = $2")?
                .execute([&directory, &hostname])?
                == 1)
        })
        .await
    }

    /// Takes the lease to order `hostname`'s certificate from `directory`
    /// for `holder` until `until` (Unix seconds); false while another
    /// holder's lease runs.
    pub async fn take_acme_lease(
        &self,
        directory: &str,
        hostname: &str,
        holder: &str,
        until: i64,
        now: i64,
    ) -> Result<bool> {
        let (directory, hostname, holder) = (directory.to_string(), hostname.to_string(), holder.to_string());
        self.batched(move |tx| {
            Ok(tx
                .prepare_cached(
                    "INSERT INTO acme_orders (directory, hostname, holder, until) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (directory, hostname) DO UPDATE SET holder = excluded.holder, until = excluded.until
                     WHERE acme_orders.holder = excluded.holder OR acme_orders.until <= $5
                     RETURNING directory",
                )?
                .query_map((&directory, &hostname, &holder, until, now), |row| row.get::<String>(0))?
                .count()
                > 0)
        })
        .await
    }

    /// Gives the lease back (a no-op if another holder has it now).
    pub async fn release_acme_lease(&self, directory: &str, hostname: &str, holder: &str) -> Result<()> {
        let (directory, hostname, holder) = (directory.to_string(), hostname.to_string(), holder.to_string());
        self.batched(move |tx| {
            tx.prepare_cached("DELETE FROM acme_orders WHERE directory = $1 AND hostname = $2 AND holder = $3")?
                .execute((&directory, &hostname, &holder))?;
            Ok(())
        })
        .await
    }
}
