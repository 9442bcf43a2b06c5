//! What ACME leaves in the store, on both backends: the account, the
//! certificate with its renewal time, and the lease of the one process
//! that orders at a time.

mod support;

use store::AcmeCertificate;
use support::Backend;

const DIRECTORY: &str = "https://acme.example/directory";
const STAGING: &str = "https://staging.acme.example/directory";
const HOST: &str = "mx.example.org";

fn certificate(serial: &str) -> AcmeCertificate {
    AcmeCertificate {
        names: vec!["mx.example.org".into(), "mta-sts.example.org".into()],
        chain_pem: format!("-----BEGIN CERTIFICATE-----\n{serial}\n-----END CERTIFICATE-----\n"),
        key_pem: "-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n".into(),
        not_after: 2_000_000_000,
        renew_at: 1_900_000_000,
    }
}

async fn accounts_and_certificates_are_kept_per_directory(backend: Backend) {
    let (place, store) = backend.store().await;
    assert_eq!(store.acme_account(DIRECTORY).await.unwrap(), None);
    assert_eq!(store.acme_certificate(DIRECTORY, HOST).await.unwrap(), None);
    assert!(
        !store.mark_acme_renewal_due(DIRECTORY, HOST).await.unwrap(),
        "nothing to renew yet"
    );

    store.save_acme_account(DIRECTORY, r#"{"id":"1"}"#).await.unwrap();
    store.save_acme_account(DIRECTORY, r#"{"id":"2"}"#).await.unwrap();
    assert_eq!(
        store.acme_account(DIRECTORY).await.unwrap().as_deref(),
        Some(r#"{"id":"2"}"#)
    );
    assert_eq!(
        store.acme_account(STAGING).await.unwrap(),
        None,
        "another directory, another account"
    );

    store
        .save_acme_certificate(DIRECTORY, HOST, &certificate("first"))
        .await
        .unwrap();
    store
        .save_acme_certificate(DIRECTORY, HOST, &certificate("second"))
        .await
        .unwrap();
    assert_eq!(
        store.acme_certificate(DIRECTORY, HOST).await.unwrap(),
        Some(certificate("second"))
    );
    assert_eq!(store.acme_certificate(STAGING, HOST).await.unwrap(), None);
    assert_eq!(
        store.acme_certificate(DIRECTORY, "mx2.example.org").await.unwrap(),
        None,
        "another node's name, another certificate"
    );

    assert!(store.mark_acme_renewal_due(DIRECTORY, HOST).await.unwrap());
    let due = store.acme_certificate(DIRECTORY, HOST).await.unwrap().unwrap();
    assert_eq!(due.renew_at, 0, "marked due");
    assert_eq!(
        due.chain_pem,
        certificate("second").chain_pem,
        "still served until renewed"
    );
    assert!(
        !format!("{due:?}").contains("secret"),
        "the private key stays out of Debug"
    );

    // Another process (a restart, another node) finds it all.
    drop(store);
    let reopened = place.open().await;
    assert_eq!(reopened.acme_certificate(DIRECTORY, HOST).await.unwrap(), Some(due));
    assert!(reopened.acme_account(DIRECTORY).await.unwrap().is_some());
}

async fn one_holder_orders_at_a_time(backend: Backend) {
    let (_place, store) = backend.store().await;
    let now = 1_000;
    assert!(
        store
            .take_acme_lease(DIRECTORY, HOST, "node-a", now + 60, now)
            .await
            .unwrap()
    );
    assert!(
        !store
            .take_acme_lease(DIRECTORY, HOST, "node-b", now + 60, now)
            .await
            .unwrap(),
        "a's lease runs"
    );
    assert!(
        store
            .take_acme_lease(STAGING, HOST, "node-b", now + 60, now)
            .await
            .unwrap(),
        "per directory"
    );
    assert!(
        store
            .take_acme_lease(DIRECTORY, HOST, "node-a", now + 120, now + 30)
            .await
            .unwrap(),
        "renewed by a"
    );
    assert!(
        !store
            .take_acme_lease(DIRECTORY, HOST, "node-b", now + 150, now + 90)
            .await
            .unwrap(),
        "renewed lease runs"
    );
    assert!(
        store
            .take_acme_lease(DIRECTORY, HOST, "node-b", now + 180, now + 120)
            .await
            .unwrap(),
        "ran out"
    );

    store.release_acme_lease(DIRECTORY, HOST, "node-a").await.unwrap();
    assert!(
        !store
            .take_acme_lease(DIRECTORY, HOST, "node-c", now + 180, now + 121)
            .await
            .unwrap(),
        "a late release frees nothing"
    );
    store.release_acme_lease(DIRECTORY, HOST, "node-b").await.unwrap();
    assert!(
        store
            .take_acme_lease(DIRECTORY, HOST, "node-c", now + 180, now + 121)
            .await
            .unwrap(),
        "released"
    );
}

on_both_backends!(
    accounts_and_certificates_are_kept_per_directory,
    one_holder_orders_at_a_time
);
