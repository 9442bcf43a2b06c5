//! The MTA-STS policies the queue keeps, on both backends: one per
//! domain, replaced by a newer fetch, kept across a reopen (a restart
//! enforces what was fetched before it), and forgotten once expired.

mod support;

use store::StoredStsPolicy;
use support::Backend;

fn policy(id: &str, expires_at: i64) -> StoredStsPolicy {
    StoredStsPolicy {
        policy_id: id.into(),
        policy: format!("version: STSv1\r\nmode: enforce\r\nmx: mx.{id}.test\r\nmax_age: 86400\r\n"),
        fetched_at: expires_at - 86400,
        expires_at,
    }
}

async fn policies_are_kept_per_domain_and_replaced(backend: Backend) {
    let (place, store) = backend.store().await;
    assert_eq!(store.mta_sts_policy("example.test").await.unwrap(), None);
    store
        .save_mta_sts_policy("example.test", &policy("one", 1_000_000))
        .await
        .unwrap();
    store
        .save_mta_sts_policy("other.test", &policy("two", 3_000_000))
        .await
        .unwrap();
    store
        .save_mta_sts_policy("example.test", &policy("three", 2_000_000))
        .await
        .unwrap();
    drop(store);
    let store = place.open().await;
    assert_eq!(
        store.mta_sts_policy("example.test").await.unwrap(),
        Some(policy("three", 2_000_000)),
        "the newer fetch replaced the older, and survived the reopen"
    );
    assert_eq!(store.delete_expired_mta_sts_policies(2_500_000).await.unwrap(), 1);
    assert_eq!(store.mta_sts_policy("example.test").await.unwrap(), None);
    assert_eq!(
        store.mta_sts_policy("other.test").await.unwrap(),
        Some(policy("two", 3_000_000))
    );
}

on_both_backends!(policies_are_kept_per_domain_and_replaced);
