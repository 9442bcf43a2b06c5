//! This process as a node of its store (issue 18): it claims its node id
//! at start, renews the claim while it runs and gives it up when it
//! stops. A second process with the same id on the same store, on this
//! machine or another sharing a PostgreSQL, is refused at start with a
//! message that says what to do; a process that died here leaves a claim
//! the next start takes over at once.

use std::time::Duration;

use store::Store;

/// How long a claim holds without renewal, in seconds: how long another
/// machine waits for the id of a node that died.
const CLAIM: i64 = 30;
/// How often the claim is renewed.
const RENEW: Duration = Duration::from_secs(10);

pub struct Node {
    id: String,
    /// `host:pid:random`: this process, among all that ever held the id.
    instance: String,
}

impl Node {
    /// This process among all that use the store (`host:pid:random`).
    pub fn instance(&self) -> &str {
        &self.instance
    }

    pub async fn claim(store: &Store, id: &str) -> anyhow::Result<Node> {
        let random = queue::Queue::new_id()?;
        let instance = format!("{}:{}:{random}", crate::config::machine_hostname(), std::process::id());
        match store.claim_node(id, &instance, store::now() + CLAIM).await? {
            Ok(()) => Ok(Node {
                id: id.to_string(),
                instance,
            }),
            Err(held) => anyhow::bail!(
                "another postamt is running with node id {id:?} on this store ({}, its claim holds for {} s more); \
                 stop it first, or give this one its own `node_id` in the config",
                held.instance,
                (held.alive_until - store::now()).max(0)
            ),
        }
    }

    /// Renews the claim until the task is dropped. If another process
    /// took the id meanwhile (this one was stalled for longer than the
    /// claim), both would take the same queue leases: this one stops.
    pub async fn keep_alive(self: std::sync::Arc<Self>, store: Store) {
        loop {
            tokio::time::sleep(RENEW).await;
            match store.renew_node(&self.id, &self.instance, store::now() + CLAIM).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::error!(node_id = %self.id, "another process took this node's id; stopping");
                    std::process::exit(1);
                }
                Err(e) => tracing::warn!(error = %e, "could not renew this node's claim"),
            }
        }
    }

    /// Gives the id up, so that a restart need not wait.
    pub async fn release(&self, store: &Store) {
        if let Err(e) = store.release_node(&self.id, &self.instance).await {
            tracing::warn!(error = %e, "could not give up this node's id");
        }
    }
}
