//! REPLACE (RFC 8508) in the store, on both backends: the new message in
//! and the old one out together, or nothing when the old one is gone.

mod support;

use support::Backend;

use store::{Flags, MessageFacts, Store};

async fn put(store: &Store, mailbox: i64, raw: &[u8]) -> i64 {
    let content = store.put_content(raw.to_vec()).await.unwrap();
    store
        .append(mailbox, content, Flags::default(), 0, MessageFacts::of(raw))
        .await
        .unwrap()
        .1
}

async fn uids(store: &Store, mailbox: i64) -> Vec<i64> {
    store
        .message_list(mailbox)
        .await
        .unwrap()
        .iter()
        .map(|m| m.uid)
        .collect()
}

async fn replacing_appends_and_expunges_at_once(backend: Backend) {
    let (_place, store) = backend.store().await;
    store.add_domain("example.test").await.unwrap();
    let alice = store.add_account("alice@example.test", "h").await.unwrap();
    let drafts = store.mailbox(alice, "Drafts").await.unwrap().unwrap();
    let sent = store.mailbox(alice, "Sent").await.unwrap().unwrap();
    let old = put(&store, drafts.id, b"Subject: draft 1\r\n\r\nv1\r\n").await;
    let raw = b"Subject: draft 2\r\n\r\nv2\r\n";
    let content = store.put_content(raw.to_vec()).await.unwrap();
    let (validity, new) = store
        .replace_message(
            drafts.id,
            old,
            drafts.id,
            content,
            Flags::default(),
            0,
            MessageFacts::of(raw),
        )
        .await
        .unwrap()
        .expect("replaced");
    assert_eq!(validity, drafts.uidvalidity);
    assert_eq!(uids(&store, drafts.id).await, [new]);
    // Into another mailbox; an old message already gone changes nothing.
    let content = store.put_content(raw.to_vec()).await.unwrap();
    let moved = store
        .replace_message(
            drafts.id,
            new,
            sent.id,
            content,
            Flags::default(),
            0,
            MessageFacts::of(raw),
        )
        .await
        .unwrap();
    assert!(moved.is_some());
    assert!(uids(&store, drafts.id).await.is_empty());
    assert_eq!(uids(&store, sent.id).await.len(), 1);
    let content = store.put_content(raw.to_vec()).await.unwrap();
    let gone = store
        .replace_message(
            drafts.id,
            new,
            sent.id,
            content,
            Flags::default(),
            0,
            MessageFacts::of(raw),
        )
        .await
        .unwrap();
    assert_eq!(gone, None);
    assert_eq!(uids(&store, sent.id).await.len(), 1, "nothing appended");
}

on_both_backends!(replacing_appends_and_expunges_at_once);
