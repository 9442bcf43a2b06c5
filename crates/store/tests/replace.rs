//! REPLACE (RFC 8508) in the store, on both backends: the new message in
//! and the old one out together, or nothing when the old one is gone.

mod support;

use support::Backend;

use store::{Error, Flags, Limit, MessageFacts, QuotaPolicy, Store};

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

/// REPLACE of `old` in `mailbox` by a message of `size` octets.
async fn replace_with(store: &Store, mailbox: i64, old: i64, size: usize) -> store::Result<Option<(i64, i64)>> {
    let raw = [b"Subject: draft\r\n\r\n".as_slice(), &vec![b'x'; size]].concat();
    let content = store.put_content(raw.clone()).await.unwrap();
    let facts = MessageFacts::of(&raw);
    store
        .replace_message(mailbox, old, mailbox, content, Flags::default(), 0, facts)
        .await
}

/// A replacement counts what it adds beyond the message it replaces
/// (RFC 9208 §5): one that grows past the quota is refused with nothing
/// changed, one that shrinks always goes through.
async fn a_replacement_that_grows_past_the_quota_is_refused(backend: Backend) {
    let (_place, store) = backend.store().await;
    store.add_domain("example.test").await.unwrap();
    let alice = store.add_account("alice@example.test", "h").await.unwrap();
    let drafts = store.mailbox(alice, "Drafts").await.unwrap().unwrap();
    store.set_quota_policy(QuotaPolicy {
        warn_percent: 0,
        ..QuotaPolicy::default()
    });
    let first = replace_with(&store, drafts.id, 0, 0).await.unwrap();
    assert_eq!(first, None, "nothing to replace");
    let old = put(
        &store,
        drafts.id,
        &[b"Subject: draft\r\n\r\n".as_slice(), &[b'x'; 3000]].concat(),
    )
    .await;
    store
        .set_quota("alice@example.test", Some(Limit::At(4000)), None)
        .await
        .unwrap();
    match replace_with(&store, drafts.id, old, 5000).await {
        Err(Error::OverQuota { .. }) => {}
        other => panic!("not refused for quota: {other:?}"),
    }
    assert_eq!(uids(&store, drafts.id).await, [old], "nothing changed");
    let (_, smaller) = replace_with(&store, drafts.id, old, 100)
        .await
        .unwrap()
        .expect("replaced");
    assert_eq!(uids(&store, drafts.id).await, [smaller]);
}

on_both_backends!(
    replacing_appends_and_expunges_at_once,
    a_replacement_that_grows_past_the_quota_is_refused
);
