//! CREATE-SPECIAL-USE (RFC 6154 §3) as the store keeps it, on both
//! backends: a new mailbox with a role, refused when another mailbox of
//! the account has it, with nothing created then.

mod support;

use support::Backend;

use store::{Error, MailboxLimits};

const LIMITS: MailboxLimits = MailboxLimits {
    max_name: 200,
    max_mailboxes: 100,
};

async fn a_special_use_is_held_by_one_mailbox(backend: Backend) {
    let (_place, store) = backend.store().await;
    store.add_domain("example.test").await.unwrap();
    let alice = store.add_account("alice@example.test", "h").await.unwrap();
    let bob = store.add_account("bob@example.test", "h").await.unwrap();
    let refused = store
        .create_mailbox_for(alice, "Mine/Drafts", Some("\\Drafts"), LIMITS)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, Error::SpecialUseTaken(ref role) if role == "\\Drafts"),
        "{refused:?}"
    );
    assert!(store.mailbox(alice, "Mine").await.unwrap().is_none(), "nothing created");
    store.delete_mailbox(alice, "Drafts").await.unwrap();
    let created = store
        .create_mailbox_for(alice, "Mine/Drafts", Some("\\Drafts"), LIMITS)
        .await
        .unwrap();
    assert_eq!(created.special_use.as_deref(), Some("\\Drafts"));
    let parent = store.mailbox(alice, "Mine").await.unwrap().unwrap();
    assert_eq!(parent.special_use, None, "a new parent gets no role");
    // Roles are per account.
    assert!(
        store
            .create_mailbox_for(bob, "Other", Some("\\Drafts"), LIMITS)
            .await
            .is_err()
    );
    store.delete_mailbox(bob, "Drafts").await.unwrap();
    store
        .create_mailbox_for(bob, "Other", Some("\\Drafts"), LIMITS)
        .await
        .unwrap();
}

on_both_backends!(a_special_use_is_held_by_one_mailbox);
