//! The nodes that serve a store (issue 18): each process claims its node
//! id at start and renews the claim while it runs. Another live process
//! with the same id is refused, so two nodes never take each other's
//! queue leases for their own. A claim left by a process that died on
//! this machine is taken over at once; one from elsewhere when it runs
//! out.

use crate::sql::OptionalExtension;

use crate::{Result, Store};

/// Who holds a node id, and until when its claim holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeClaim {
    /// `host:pid:random`, see [`Store::claim_node`].
    pub instance: String,
    pub alive_until: i64,
}

impl NodeClaim {
    /// True if the claim was made on `host` by a process that is gone.
    fn orphaned_on(&self, host: &str) -> bool {
        let mut parts = self.instance.split(':');
        let (Some(claim_host), Some(pid)) = (parts.next(), parts.next()) else {
            return false;
        };
        claim_host == host
            && pid
                .parse::<u32>()
                .is_ok_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
    }
}

impl Store {
    /// Claims `id` for `instance` (`host:pid:random`) until `until`.
    /// `Ok(Err(claim))`: another process holds it, alive.
    pub async fn claim_node(&self, id: &str, instance: &str, until: i64) -> Result<std::result::Result<(), NodeClaim>> {
        let (id, instance, instance_name) = (id.to_string(), instance.to_string(), instance.to_string());
        let host = instance.split(':').next().unwrap_or_default().to_string();
        let claimed = self
            .batched(move |tx| {
                let held: Option<NodeClaim> = tx
                    .prepare_cached("SELECT instance, alive_until FROM nodes WHERE id = $1")?
                    .query_row([&id], |row| {
                        Ok(NodeClaim {
                            instance: row.get(0)?,
                            alive_until: row.get(1)?,
                        })
                    })
                    .optional()?;
                if let Some(claim) = held
                    && claim.instance != instance
                    && claim.alive_until > crate::now()
                    && !claim.orphaned_on(&host)
                {
                    return Ok(Err(claim));
                }
                tx.prepare_cached(
                    "INSERT INTO nodes (id, instance, alive_until) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET instance = excluded.instance, alive_until = excluded.alive_until",
                )?
                .execute((&id, &instance, until))?;
                Ok(Ok(()))
            })
            .await?;
        if claimed.is_ok() {
            // Locks this process takes from now on carry its claim.
            *self.instance.lock().unwrap_or_else(|e| e.into_inner()) = instance_name;
        }
        Ok(claimed)
    }

    /// Extends this instance's claim; false if another process took it.
    pub async fn renew_node(&self, id: &str, instance: &str, until: i64) -> Result<bool> {
        let (id, instance) = (id.to_string(), instance.to_string());
        self.batched(move |tx| {
            let changed = tx
                .prepare_cached("UPDATE nodes SET alive_until = ?3 WHERE id = ?1 AND instance = ?2")?
                .execute((&id, &instance, until))?;
            Ok(changed == 1)
        })
        .await
    }

    /// Gives the id up at a clean stop, so a restart need not wait.
    pub async fn release_node(&self, id: &str, instance: &str) -> Result<()> {
        let (id, instance) = (id.to_string(), instance.to_string());
        self.batched(move |tx| {
            tx.prepare_cached("DELETE FROM nodes WHERE id = $1 AND instance = $2")?
                .execute((&id, &instance))?;
            Ok(())
        })
        .await
    }

    /// The claims of processes that may be running on this store: those
    /// that hold for now, but for those left on `host` (this machine) by
    /// processes that are gone. A store to be copied must have none.
    pub async fn live_node_claims(&self, host: &str) -> Result<Vec<(String, NodeClaim)>> {
        let host = host.to_string();
        let claims: Vec<(String, NodeClaim)> = self
            .point_reads
            .scan(|db| {
                db.prepare_cached("SELECT id, instance, alive_until FROM nodes WHERE alive_until > $1 ORDER BY id")?
                    .query_map([crate::now()], |row| {
                        Ok((
                            row.get(0)?,
                            NodeClaim {
                                instance: row.get(1)?,
                                alive_until: row.get(2)?,
                            },
                        ))
                    })?
                    .collect()
            })
            .await?;
        Ok(claims
            .into_iter()
            .filter(|(_, claim)| !claim.orphaned_on(&host))
            .collect())
    }
}
