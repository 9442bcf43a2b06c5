//! RFC 1939 §8: a maildrop is locked while a session has it in the
//! TRANSACTION state, so two sessions never delete behind each other.
//!
//! Two locks: one in this process, taken first, which settles sessions of
//! this node without a write; then one in the store, which other nodes
//! sharing the store see (`Store::lock_maildrop`: it lapses with the node
//! claim of a node that crashed).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use store::{AccountId, MaildropToken, Store};

#[derive(Debug, Clone)]
pub struct MaildropLocks {
    store: Store,
    held: Arc<Mutex<HashSet<AccountId>>>,
}

/// Held while a session owns a maildrop; dropping it releases the lock,
/// however the session ends.
#[derive(Debug)]
pub struct MaildropLock {
    locks: MaildropLocks,
    account: AccountId,
    /// None only while the store lock is being taken.
    token: Option<MaildropToken>,
}

impl MaildropLocks {
    pub fn new(store: Store) -> MaildropLocks {
        MaildropLocks {
            store,
            held: Arc::default(),
        }
    }

    /// The maildrop's lock, or None if another session (of this node or
    /// another) holds it.
    pub async fn try_lock(&self, account: AccountId) -> store::Result<Option<MaildropLock>> {
        let mut lock = {
            let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
            if !held.insert(account) {
                return Ok(None);
            }
            MaildropLock {
                locks: self.clone(),
                account,
                token: None,
            }
        };
        // On an error or a refusal, dropping `lock` frees the local one.
        lock.token = self.store.lock_maildrop(account).await?;
        Ok(lock.token.is_some().then_some(lock))
    }
}

impl Drop for MaildropLock {
    fn drop(&mut self) {
        if let Some(token) = self.token.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let store = self.locks.store.clone();
            runtime.spawn(async move {
                if let Err(error) = store.unlock_maildrop(token).await {
                    tracing::warn!(%error, "cannot release a maildrop lock; it lapses with this node's claim");
                }
            });
        }
        let mut held = self.locks.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.remove(&self.account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn account(store: &Store, address: &str) -> AccountId {
        store.add_account(address, "hash").await.unwrap()
    }

    #[tokio::test]
    async fn one_holder_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        store.add_domain("example.test").await.unwrap();
        let (alice, bob) = (
            account(&store, "alice@example.test").await,
            account(&store, "bob@example.test").await,
        );
        let locks = MaildropLocks::new(store);
        let first = locks.try_lock(alice).await.unwrap().unwrap();
        assert!(locks.try_lock(alice).await.unwrap().is_none());
        assert!(locks.try_lock(bob).await.unwrap().is_some());
        drop(first);
        assert!(locks.try_lock(alice).await.unwrap().is_some());
    }

    /// Two processes' locks on one store (two `MaildropLocks` on two
    /// handles, each with a node claim, as two nodes have): the second is
    /// refused while the first holds the maildrop and its node is alive,
    /// and gets it once the lock is released.
    #[tokio::test]
    async fn another_node_is_refused_while_the_holder_lives() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (
            Store::open(dir.path()).await.unwrap(),
            Store::open(dir.path()).await.unwrap(),
        );
        a.add_domain("example.test").await.unwrap();
        let alice = account(&a, "alice@example.test").await;
        let until = store::now() + 60;
        a.claim_node("a", "host-a:1:x", until).await.unwrap().unwrap();
        b.claim_node("b", "host-b:1:y", until).await.unwrap().unwrap();
        let (on_a, on_b) = (MaildropLocks::new(a.clone()), MaildropLocks::new(b.clone()));
        let held = on_a.try_lock(alice).await.unwrap().expect("a takes the lock");
        assert!(on_b.try_lock(alice).await.unwrap().is_none(), "b is refused");
        // b's refusal left no local lock behind: a retry asks the store again.
        drop(held);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while on_b.try_lock(alice).await.unwrap().is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "the released lock was never free for b"
            );
            tokio::task::yield_now().await;
        }
    }

    /// A node that stopped renewing its claim (crashed) loses its locks.
    #[tokio::test]
    async fn a_dead_nodes_lock_lapses_with_its_claim() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (
            Store::open(dir.path()).await.unwrap(),
            Store::open(dir.path()).await.unwrap(),
        );
        a.add_domain("example.test").await.unwrap();
        let alice = account(&a, "alice@example.test").await;
        a.claim_node("a", "host-a:1:x", store::now() + 60)
            .await
            .unwrap()
            .unwrap();
        b.claim_node("b", "host-b:1:y", store::now() + 60)
            .await
            .unwrap()
            .unwrap();
        let on_a = MaildropLocks::new(a.clone());
        let held = on_a.try_lock(alice).await.unwrap().unwrap();
        assert!(MaildropLocks::new(b.clone()).try_lock(alice).await.unwrap().is_none());
        // a's claim runs out (as when it stops renewing it).
        assert!(a.renew_node("a", "host-a:1:x", store::now() - 1).await.unwrap());
        assert!(MaildropLocks::new(b).try_lock(alice).await.unwrap().is_some());
        std::mem::forget(held);
    }
}
