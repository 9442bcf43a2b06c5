//! IMAP METADATA entries (RFC 5464) in the store, on both backends: set,
//! read at each depth, removed, held within the account's limits all or
//! nothing, following a mailbox's RENAME and going with its DELETE.

mod support;

use store::{ChangeEvent, MailboxLimits, MetadataDepth, MetadataLimits, MetadataRefusal, Store};
use support::{Backend, Place};

const MAILBOXES: MailboxLimits = MailboxLimits {
    max_name: 1024,
    max_mailboxes: 100,
};

const LIMITS: MetadataLimits = MetadataLimits {
    max_value: 100,
    max_entries: 5,
    max_total: 400,
};

async fn alice(backend: Backend) -> (Place, Store, i64) {
    let (place, store) = backend.store().await;
    store.add_domain("example.test").await.unwrap();
    let account = store.add_account("alice@example.test", "hash").await.unwrap();
    (place, store, account)
}

fn set(name: &str, value: &str) -> (String, Option<Vec<u8>>) {
    (name.to_string(), Some(value.as_bytes().to_vec()))
}

fn names(found: &[(String, Vec<u8>)]) -> Vec<&str> {
    found.iter().map(|(name, _)| name.as_str()).collect()
}

async fn entries_are_read_at_each_depth_and_removed(backend: Backend) {
    let (_place, store, account) = alice(backend).await;
    let entries = vec![
        set("/private/vendor", "v"),
        set("/private/vendor/a", "1"),
        set("/private/vendor/a/b", "2"),
        set("/private/vendorx", "not below"),
    ];
    store
        .set_metadata(account, None, entries, LIMITS)
        .await
        .unwrap()
        .unwrap();
    let read = |depth| store.metadata(account, None, vec!["/private/vendor".into()], depth);
    assert_eq!(names(&read(MetadataDepth::Zero).await.unwrap()), ["/private/vendor"]);
    assert_eq!(
        names(&read(MetadataDepth::One).await.unwrap()),
        ["/private/vendor", "/private/vendor/a"]
    );
    let all = read(MetadataDepth::Infinity).await.unwrap();
    assert_eq!(
        names(&all),
        ["/private/vendor", "/private/vendor/a", "/private/vendor/a/b"]
    );
    assert_eq!(all[2].1, b"2");
    // A mailbox's entries are its own, not the server's.
    let inbox = store.inbox(account).await.unwrap();
    assert!(
        store
            .metadata(
                account,
                Some(inbox.id),
                vec!["/private/vendor".into()],
                MetadataDepth::Infinity
            )
            .await
            .unwrap()
            .is_empty()
    );
    let remove = vec![("/private/vendor/a".to_string(), None)];
    store
        .set_metadata(account, None, remove, LIMITS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        names(&read(MetadataDepth::Infinity).await.unwrap()),
        ["/private/vendor", "/private/vendor/a/b"]
    );
}

async fn limits_refuse_the_whole_change(backend: Backend) {
    let (_place, store, account) = alice(backend).await;
    let big = "x".repeat(101);
    let refused = store
        .set_metadata(
            account,
            None,
            vec![set("/shared/comment", "ok"), set("/shared/big", &big)],
            LIMITS,
        )
        .await
        .unwrap();
    assert_eq!(refused, Err(MetadataRefusal::TooLarge { max_value: 100 }));
    let five: Vec<_> = (0..5).map(|n| set(&format!("/private/e{n}"), "v")).collect();
    store.set_metadata(account, None, five, LIMITS).await.unwrap().unwrap();
    let sixth = vec![set("/shared/comment", "one too many"), set("/private/e0", "replaced")];
    assert_eq!(
        store.set_metadata(account, None, sixth, LIMITS).await.unwrap(),
        Err(MetadataRefusal::TooMany)
    );
    // Nothing of the refused change was written.
    let all = store
        .metadata(
            account,
            None,
            vec!["/private".into(), "/shared".into()],
            MetadataDepth::Infinity,
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all[0], ("/private/e0".to_string(), b"v".to_vec()));
    // Replacing an entry does not count twice; the total size does.
    let replace = vec![
        set("/private/e0", &"y".repeat(100)),
        set("/private/e1", &"y".repeat(100)),
    ];
    store
        .set_metadata(account, None, replace, LIMITS)
        .await
        .unwrap()
        .unwrap();
    let more = vec![
        set("/private/e2", &"y".repeat(100)),
        set("/private/e3", &"y".repeat(100)),
    ];
    assert_eq!(
        store.set_metadata(account, None, more, LIMITS).await.unwrap(),
        Err(MetadataRefusal::TooMuch)
    );
}

async fn entries_follow_rename_and_go_with_delete(backend: Backend) {
    let (_place, store, account) = alice(backend).await;
    let projects = store.create_mailbox(account, "Projects", MAILBOXES).await.unwrap();
    let entries = vec![set("/private/comment", "mine"), set("/shared/comment", "ours")];
    store
        .set_metadata(account, Some(projects.id), entries, LIMITS)
        .await
        .unwrap()
        .unwrap();
    store
        .rename_mailbox(account, "Projects", "Work", MAILBOXES)
        .await
        .unwrap();
    let work = store.mailbox(account, "Work").await.unwrap().unwrap();
    let all = vec!["/private".to_string(), "/shared".to_string()];
    let found = store
        .metadata(account, Some(work.id), all.clone(), MetadataDepth::Infinity)
        .await
        .unwrap();
    assert_eq!(names(&found), ["/private/comment", "/shared/comment"]);
    store.delete_mailbox(account, "Work").await.unwrap();
    // A new mailbox of the old name starts without entries, and the
    // deleted one's no longer count against the account.
    let again = store.create_mailbox(account, "Work", MAILBOXES).await.unwrap();
    assert!(
        store
            .metadata(account, Some(again.id), all, MetadataDepth::Infinity)
            .await
            .unwrap()
            .is_empty()
    );
    let five: Vec<_> = (0..5).map(|n| set(&format!("/private/e{n}"), "v")).collect();
    store.set_metadata(account, None, five, LIMITS).await.unwrap().unwrap();
}

/// A change of entries is announced as a change of the account (NOTIFY's
/// metadata events, RFC 5465 §5.6-§5.7, compare then), a refused one is
/// not; `account_metadata` reads every entry, the server's as None.
async fn changes_are_announced_and_read_whole(backend: Backend) {
    let (_place, store, account) = alice(backend).await;
    let inbox = store.mailbox(account, "INBOX").await.unwrap().unwrap().id;
    let mut changes = store.changes();
    store
        .set_metadata(account, None, vec![set("/private/motd", "hi")], LIMITS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changes.try_recv_event().unwrap(), ChangeEvent::Account(account));
    store
        .set_metadata(account, Some(inbox), vec![set("/shared/comment", "c")], LIMITS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changes.try_recv_event().unwrap(), ChangeEvent::Account(account));
    let refused = store
        .set_metadata(account, None, vec![set("/private/big", &"x".repeat(101))], LIMITS)
        .await
        .unwrap();
    assert!(refused.is_err());
    assert!(changes.try_recv_event().is_err(), "a refused change is no change");
    let mut all = store.account_metadata(account).await.unwrap();
    all.sort();
    assert_eq!(
        all,
        [
            (None, "/private/motd".to_string(), b"hi".to_vec()),
            (Some(inbox), "/shared/comment".to_string(), b"c".to_vec()),
        ]
    );
}

on_both_backends!(
    changes_are_announced_and_read_whole,
    entries_are_read_at_each_depth_and_removed,
    limits_refuse_the_whole_change,
    entries_follow_rename_and_go_with_delete,
);
