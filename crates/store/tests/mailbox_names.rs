//! Mailbox CREATE and RENAME against a real SQLite database: what they do
//! to the UIDVALIDITY counter and to names that are not ASCII.

use store::{MailboxLimits, Store};

const LIMITS: MailboxLimits = MailboxLimits {
    max_name: 1024,
    max_mailboxes: 1000,
};

async fn alice() -> (tempfile::TempDir, Store, store::AccountId) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    store.add_domain("example.test").await.unwrap();
    let id = store.add_account("alice@example.test", "hash").await.unwrap();
    (dir, store, id)
}

/// The counter is shared by the whole store and ends at 2^32-1: a CREATE
/// must use up one value per mailbox it really makes, not one per level of
/// the name (review finding 2).
#[tokio::test]
async fn create_uses_a_uidvalidity_only_for_the_mailboxes_it_makes() {
    let (_dir, store, alice) = alice().await;
    let parents: Vec<String> = (0..50).map(|i| format!("l{i}")).collect();
    let leaf = format!("{}/leaf", parents.join("/"));
    let mut last = store.create_mailbox(alice, &leaf, LIMITS).await.unwrap().uidvalidity;
    for _ in 0..3 {
        store.delete_mailbox(alice, &leaf).await.unwrap();
        let again = store.create_mailbox(alice, &leaf, LIMITS).await.unwrap();
        // The 50 parents exist: the counter (ahead of the clock since the
        // first CREATE) moves by one.
        assert_eq!(again.uidvalidity, last + 1, "{leaf}");
        last = again.uidvalidity;
    }
    // CREATE of a name that exists uses up nothing either.
    assert!(store.create_mailbox(alice, &leaf, LIMITS).await.is_err());
    let parent = store.create_mailbox(alice, "l0/other", LIMITS).await.unwrap();
    assert_eq!(parent.uidvalidity, last + 1);
}

/// SQLite's substr counts characters of TEXT, Rust's len bytes: the
/// children of a parent whose name is not ASCII must move with it, and
/// their subscriptions too (review finding 5).
#[tokio::test]
async fn rename_moves_the_children_of_a_non_ascii_parent() {
    let (_dir, store, alice) = alice().await;
    store.create_mailbox(alice, "Büro/2024", LIMITS).await.unwrap();
    store.create_mailbox(alice, "Büro/2024/Q1", LIMITS).await.unwrap();
    store.create_mailbox(alice, "Bürokratie", LIMITS).await.unwrap();
    store.set_subscribed(alice, "Büro/2024", true, LIMITS).await.unwrap();
    store.rename_mailbox(alice, "Büro", "Office", LIMITS).await.unwrap();
    let names: Vec<String> = store
        .mailboxes(alice)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    for moved in ["Office", "Office/2024", "Office/2024/Q1", "Bürokratie"] {
        assert!(names.iter().any(|n| n == moved), "{moved} missing from {names:?}");
    }
    assert!(
        !names.iter().any(|n| n.starts_with("Büro/") || n == "Büro"),
        "{names:?}"
    );
    let subscribed = store.subscriptions(alice).await.unwrap();
    assert!(subscribed.iter().any(|n| n == "Office/2024"), "{subscribed:?}");
    assert!(!subscribed.iter().any(|n| n.starts_with("Büro")), "{subscribed:?}");

    // And back, from ASCII to a longer non-ASCII name: cut by bytes too.
    store
        .rename_mailbox(alice, "Office", "Überstunden", LIMITS)
        .await
        .unwrap();
    let names: Vec<String> = store
        .mailboxes(alice)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    for moved in ["Überstunden", "Überstunden/2024", "Überstunden/2024/Q1"] {
        assert!(names.iter().any(|n| n == moved), "{moved} missing from {names:?}");
    }
}

/// The name-length limit is checked in bytes for the children of a
/// non-ASCII parent too.
#[tokio::test]
async fn rename_checks_the_byte_length_of_non_ascii_children() {
    let (_dir, store, alice) = alice().await;
    let limits = MailboxLimits {
        max_name: 40,
        max_mailboxes: 1000,
    };
    // "ü" is two bytes: the child's name is 37 bytes but 34 characters.
    let child = format!("üüü/{}", "x".repeat(30));
    assert_eq!(child.len(), 37);
    store.create_mailbox(alice, &child, limits).await.unwrap();
    // Below a 10-byte name the child would have 41 bytes.
    let err = store.rename_mailbox(alice, "üüü", "abcdefghij", limits).await;
    assert!(matches!(err, Err(store::Error::MailboxLimit(_))), "{err:?}");
}
