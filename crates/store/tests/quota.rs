//! Quotas (RFC 9208) on each backend: usage stays the exact SUM/COUNT of
//! the account's messages through every write, writes over a limit leave
//! nothing behind, and the warning comes once per crossing.

mod support;

use support::{Backend, Place};

use store::{AccountId, Error, Flags, Limit, MailboxId, MessageFacts, QueueEntry, QuotaLimits, QuotaPolicy, Store};
use wire::smtp::{MessageOptions, Recipient};

/// A store with example.test and alice; alice's id.
async fn populated(backend: Backend) -> (Place, Store, AccountId) {
    let (place, store) = backend.store().await;
    store.add_domain("example.test").await.unwrap();
    let alice = store.add_account("alice@example.test", "hash").await.unwrap();
    (place, store, alice)
}

/// A message of about `size` octets.
fn message(size: usize) -> Vec<u8> {
    let mut text = b"Subject: test\r\n\r\n".to_vec();
    text.resize(size.max(text.len() + 2), b'x');
    text
}

async fn append(store: &Store, mailbox: MailboxId, size: usize) -> store::Result<i64> {
    let content = store.put_content(message(size)).await?;
    let facts = MessageFacts::of(&message(size));
    Ok(store.append(mailbox, content, Flags::default(), 0, facts).await?.1)
}

/// Delivers a message of `size` octets to alice through the queue.
async fn deliver(store: &Store, id: &str, alice: AccountId, size: usize) -> store::Result<()> {
    let entry = QueueEntry {
        id: id.into(),
        reverse_path: String::new(),
        recipients: vec![Recipient::new("alice@example.test")],
        options: MessageOptions::default(),
        content: store.put_content(message(size)).await?,
        received_at: 0,
    };
    store.enqueue(entry).await?;
    let now = store::now();
    let copy = store::LocalCopy::new(
        alice,
        b"Delivered-To: alice@example.test\r\n".to_vec(),
        store::CopyTarget::Inbox,
    );
    for recipient in store.claim_due(now, 10, "test", now + 600).await? {
        store
            .deliver_local(
                &recipient,
                std::slice::from_ref(&copy),
                Vec::new(),
                Vec::new(),
                None,
                &MessageFacts::default(),
            )
            .await?;
    }
    Ok(())
}

/// (octets, messages) of alice's messages as the database itself counts.
async fn counted(place: &Place, alice: AccountId) -> (u64, u64) {
    let of = "FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id =";
    let bytes = place
        .count(&format!("SELECT CAST(COALESCE(SUM(m.size), 0) AS BIGINT) {of} {alice}"))
        .await;
    let count = place.count(&format!("SELECT COUNT(*) {of} {alice}")).await;
    (bytes as u64, count as u64)
}

async fn assert_exact(place: &Place, store: &Store, alice: AccountId, when: &str) {
    let usage = store.quota(alice).await.unwrap();
    assert_eq!(
        (usage.storage, usage.messages),
        counted(place, alice).await,
        "after {when}"
    );
}

async fn usage_is_exact_after_every_kind_of_change(backend: Backend) {
    let (place, store, alice) = populated(backend).await;
    let inbox = store.inbox(alice).await.unwrap().id;
    let archive = store.mailbox(alice, "Archive").await.unwrap().unwrap().id;
    assert_exact(&place, &store, alice, "nothing").await;
    deliver(&store, "Q1", alice, 300).await.unwrap();
    deliver(&store, "Q2", alice, 70_000).await.unwrap();
    assert_exact(&place, &store, alice, "delivery").await;
    for size in [100, 2000, 90_000] {
        append(&store, inbox, size).await.unwrap();
    }
    assert_exact(&place, &store, alice, "APPEND").await;
    store.copy_messages(inbox, &[1, 2, 3], archive).await.unwrap();
    assert_exact(&place, &store, alice, "COPY").await;
    let sent = store.mailbox(alice, "Sent").await.unwrap().unwrap().id;
    store.move_messages(inbox, &[4, 5], sent).await.unwrap();
    assert_exact(&place, &store, alice, "MOVE").await;
    store.expunge(inbox, &[1, 3]).await.unwrap();
    assert_exact(&place, &store, alice, "EXPUNGE").await;
    store.delete_mailbox(alice, "Sent").await.unwrap();
    assert_exact(&place, &store, alice, "DELETE of a mailbox").await;
    store.rename_mailbox(alice, "INBOX", "Old", limits()).await.unwrap();
    assert_exact(&place, &store, alice, "RENAME of INBOX").await;
    let usage = store.quota(alice).await.unwrap();
    assert!(usage.messages >= 4 && usage.storage > 70_000, "{usage:?}");
}

fn limits() -> store::MailboxLimits {
    store::MailboxLimits {
        max_name: 1000,
        max_mailboxes: 1000,
    }
}

fn over(result: store::Result<impl std::fmt::Debug>) -> bool {
    match result {
        Err(Error::OverQuota { permanent, .. }) => permanent,
        other => panic!("not refused for quota: {other:?}"),
    }
}

async fn writes_over_quota_are_refused_and_leave_nothing(backend: Backend) {
    let (place, store, alice) = populated(backend).await;
    let inbox = store.inbox(alice).await.unwrap().id;
    let archive = store.mailbox(alice, "Archive").await.unwrap().unwrap().id;
    // No warning here: it would be a message of its own.
    store.set_quota_policy(QuotaPolicy {
        warn_percent: 0,
        ..QuotaPolicy::default()
    });
    store
        .set_quota("alice@example.test", Some(Limit::At(10_000)), Some(Limit::At(4)))
        .await
        .unwrap();
    append(&store, inbox, 4000).await.unwrap();
    append(&store, inbox, 4000).await.unwrap();
    let before = counted(&place, alice).await;
    assert!(!over(append(&store, inbox, 4000).await), "room for it another day");
    assert!(over(append(&store, inbox, 20_000).await), "larger than the whole quota");
    assert!(!over(store.copy_messages(inbox, &[1, 2], archive).await));
    // MULTIAPPEND: the first would fit, the second not; neither stays.
    assert!(!over(
        store.append_many(inbox, batch(&store, &[1000, 1000, 1000]).await).await
    ));
    assert!(!over(deliver(&store, "Q1", alice, 4000).await));
    assert!(over(deliver(&store, "Q2", alice, 20_000).await));
    assert_eq!(counted(&place, alice).await, before, "nothing of a refused write stays");
    assert_exact(&place, &store, alice, "refusals").await;
    // Within the account MOVE adds nothing, so it is never refused.
    store.move_messages(inbox, &[1], archive).await.unwrap();
    // The message limit: 2 messages, limit 4, so 2 more fit and no third.
    store
        .set_quota("alice@example.test", Some(Limit::Unlimited), None)
        .await
        .unwrap();
    store.append_many(inbox, batch(&store, &[10, 10]).await).await.unwrap();
    assert!(!over(append(&store, inbox, 10).await));
    assert_eq!(store.quota(alice).await.unwrap().messages, 4);
    // Back to the server's default.
    store.set_quota_policy(QuotaPolicy {
        default: QuotaLimits {
            storage: Some(1),
            messages: None,
        },
        warn_percent: 0,
    });
    store
        .set_quota("alice@example.test", Some(Limit::Default), Some(Limit::Default))
        .await
        .unwrap();
    let usage = store.quota(alice).await.unwrap();
    assert_eq!((usage.own_storage, usage.limits.storage), (Limit::Default, Some(1)));
    assert!(over(append(&store, inbox, 10).await));
}

/// Messages of these sizes for `Store::append_many`.
async fn batch(store: &Store, sizes: &[usize]) -> Vec<store::Appended> {
    let mut messages = Vec::new();
    for &size in sizes {
        let content = store.put_content(message(size)).await.unwrap();
        messages.push((content, Flags::default(), 0, MessageFacts::default()));
    }
    messages
}

async fn warnings(store: &Store, alice: AccountId) -> usize {
    let inbox = store.inbox(alice).await.unwrap().id;
    let mut found = 0;
    let uids: Vec<i64> = store.message_list(inbox).await.unwrap().iter().map(|m| m.uid).collect();
    for content in store.message_contents(inbox, &uids).await.unwrap() {
        if content.envelope.unwrap_or_default().contains("almost full") {
            found += 1;
        }
    }
    found
}

async fn the_warning_comes_once_per_crossing(backend: Backend) {
    let (_place, store, alice) = populated(backend).await;
    let archive = store.mailbox(alice, "Archive").await.unwrap().unwrap().id;
    store
        .set_quota("alice@example.test", Some(Limit::At(100_000)), None)
        .await
        .unwrap();
    deliver(&store, "Q1", alice, 80_000).await.unwrap();
    assert_eq!(warnings(&store, alice).await, 0, "below 90 %");
    deliver(&store, "Q2", alice, 10_000).await.unwrap();
    assert_eq!(warnings(&store, alice).await, 1, "crossed 90 %");
    assert!(store.quota(alice).await.unwrap().warned);
    append(&store, archive, 1000).await.unwrap();
    assert_eq!(warnings(&store, alice).await, 1, "still above: no second warning");
    // Below again, then above again: warned again.
    let inbox = store.inbox(alice).await.unwrap().id;
    store.expunge(inbox, &[1]).await.unwrap();
    assert!(!store.quota(alice).await.unwrap().warned);
    append(&store, archive, 80_000).await.unwrap();
    assert_eq!(warnings(&store, alice).await, 2);
}

/// A store made before quotas gets its usage from the migration: the
/// quota columns are dropped and the migration forgotten, as before it.
async fn the_migration_computes_existing_usage(backend: Backend) {
    let (place, store, alice) = populated(backend).await;
    let inbox = store.inbox(alice).await.unwrap().id;
    append(&store, inbox, 500).await.unwrap();
    deliver(&store, "Q1", alice, 70_000).await.unwrap();
    drop(store);
    let drop_columns = "ALTER TABLE mailboxes DROP COLUMN message_count;
         ALTER TABLE mailboxes DROP COLUMN message_bytes;
         ALTER TABLE accounts DROP COLUMN quota_storage;
         ALTER TABLE accounts DROP COLUMN quota_messages;
         ALTER TABLE accounts DROP COLUMN quota_warned;";
    match place.postgres().await {
        Some(client) => {
            let sql = format!("{drop_columns} DELETE FROM schema_migrations WHERE version = 9;");
            client.batch_execute(&sql).await.unwrap();
        }
        None => {
            let sql = format!("{drop_columns} DELETE FROM schema_migrations WHERE version = 23;");
            let db = rusqlite::Connection::open(place.dir.path().join("postamt.db")).unwrap();
            db.execute_batch(&sql).unwrap();
        }
    }
    let store = place.open().await;
    let usage = store.quota(alice).await.unwrap();
    assert_eq!(usage.messages, 2);
    assert_exact(&place, &store, alice, "the migration").await;
}

on_both_backends!(
    usage_is_exact_after_every_kind_of_change,
    writes_over_quota_are_refused_and_leave_nothing,
    the_warning_comes_once_per_crossing,
    the_migration_computes_existing_usage,
);
