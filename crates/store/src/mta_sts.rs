//! The MTA-STS policies (RFC 8461) of the domains the queue sends to, as
//! fetched: the queue keeps them here so that a restart, or another node
//! sharing the store, goes on enforcing a policy until it expires (§5.1),
//! even when the policy server is down or the TXT record gone. The store
//! keeps the text; the queue parses it.

use crate::sql::OptionalExtension;
use crate::{Result, Store};

/// A recipient domain's policy as fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStsPolicy {
    /// The `id` of the `_mta-sts` TXT record it was fetched under (§3.1).
    pub policy_id: String,
    /// The policy text as served (§3.2).
    pub policy: String,
    /// Unix seconds.
    pub fetched_at: i64,
    /// Unix seconds: `fetched_at` plus the policy's max_age.
    pub expires_at: i64,
}

impl Store {
    /// The policy kept for `domain` (lower case, no final dot), expired or not.
    pub async fn mta_sts_policy(&self, domain: &str) -> Result<Option<StoredStsPolicy>> {
        let domain = domain.to_string();
        self.point_reads.read(move |c| {
            c.prepare_cached(
                "SELECT policy_id, policy, fetched_at, expires_at FROM mta_sts_policies WHERE domain = $1",
            )?
            .query_row([&domain], |row| {
                Ok(StoredStsPolicy {
                    policy_id: row.get(0)?,
                    policy: row.get(1)?,
                    fetched_at: row.get(2)?,
                    expires_at: row.get(3)?,
                })
            })
            .optional()
        })
    }

    /// Keeps `policy` as `domain`'s, replacing the one kept before.
    pub async fn save_mta_sts_policy(&self, domain: &str, policy: &StoredStsPolicy) -> Result<()> {
        let domain = domain.to_string();
        let policy = policy.clone();
        self.batched(move |tx| {
            tx.prepare_cached(
                "INSERT INTO mta_sts_policies (domain, policy_id, policy, fetched_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (domain) DO UPDATE SET policy_id = excluded.policy_id, policy = excluded.policy,
                     fetched_at = excluded.fetched_at, expires_at = excluded.expires_at",
            )?
            .execute((
                &domain,
                &policy.policy_id,
                &policy.policy,
                policy.fetched_at,
                policy.expires_at,
            ))?;
            Ok(())
        })
        .await
    }

    /// Forgets the policies that expired before `now` (Unix seconds);
    /// returns how many.
    pub async fn delete_expired_mta_sts_policies(&self, now: i64) -> Result<usize> {
        self.batched(move |tx| {
            tx.prepare_cached("DELETE FROM mta_sts_policies WHERE expires_at < $1")?
                .execute([now])
        })
        .await
    }
}
