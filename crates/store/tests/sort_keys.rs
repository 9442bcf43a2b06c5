//! The sort keys kept with each message for SORT and THREAD: written at
//! APPEND, carried by COPY and MOVE, read in one query, on both backends;
//! and the sent date SORT by DATE reads from the row's index.

mod support;

use store::{Flags, MessageFacts, Store};
use support::Backend;

async fn append(store: &Store, mailbox: i64, data: &[u8]) -> i64 {
    let facts = MessageFacts::of(data);
    let content = store.put_content(data.to_vec()).await.unwrap();
    store
        .append(mailbox, content, Flags::default(), 1_700_000_000, facts)
        .await
        .unwrap()
        .1
}

/// Every message's UID and stored keys, in UID order.
async fn stored_keys(store: &Store, mailbox: i64) -> Vec<(i64, Option<String>)> {
    store
        .read_sort_keys(mailbox, (1, i64::MAX), true, |row| {
            (row.uid, row.keys.map(str::to_string))
        })
        .await
        .unwrap()
}

fn keys(stored: &Option<String>) -> imf::SortKeys {
    imf::SortKeys::from_stored(stored.as_deref().expect("sort keys stored")).expect("sort keys readable")
}

async fn sort_keys_are_stored_copied_and_moved(backend: Backend) {
    let (_place, store) = backend.store().await;
    store.add_domain("example.test").await.unwrap();
    let alice = store.add_account("alice@example.test", "h").await.unwrap();
    let inbox = store.inbox(alice).await.unwrap().id;
    let other = store
        .create_mailbox(
            alice,
            "Other",
            store::MailboxLimits {
                max_name: 200,
                max_mailboxes: 100,
            },
        )
        .await
        .unwrap()
        .id;
    append(
        &store,
        inbox,
        b"Subject: Re: [list] Hello\r\nFrom: Ann <ann@x.test>\r\n\r\nbody\r\n",
    )
    .await;
    append(&store, inbox, b"Subject: second\r\nMessage-ID: <2@x.test>\r\n\r\n").await;
    // A message stored without keys (as by an older version) has no row.
    let content = store.put_content(b"Subject: old\r\n\r\n".to_vec()).await.unwrap();
    store
        .append(inbox, content, Flags::default(), 0, MessageFacts::default())
        .await
        .unwrap();

    let stored = stored_keys(&store, inbox).await;
    assert_eq!(stored.iter().map(|s| s.0).collect::<Vec<_>>(), [1, 2, 3]);
    let first = keys(&stored[0].1);
    assert_eq!((first.subject.as_str(), first.reply_or_forward), ("HELLO", true));
    assert_eq!(first.display_from, "ANN");
    assert_eq!(keys(&stored[1].1).message_id.as_deref(), Some("<2@x.test>"));
    assert_eq!(stored[2].1, None);

    store.copy_messages(inbox, &[1], other).await.unwrap();
    store.move_messages(inbox, &[2], other).await.unwrap();
    let copied = stored_keys(&store, other).await;
    assert_eq!(copied.len(), 2);
    assert_eq!(copied[0].1, stored[0].1);
    assert_eq!(copied[1].1, stored[1].1);
    assert_eq!(stored_keys(&store, inbox).await.len(), 2);
}

/// Every message's UID and sent date, read without the keys.
async fn sent_dates(store: &Store, mailbox: i64) -> Vec<(i64, Option<i64>)> {
    store
        .read_sort_keys(mailbox, (1, i64::MAX), false, |row| {
            assert_eq!(row.keys, None);
            (row.uid, row.sent)
        })
        .await
        .unwrap()
}

/// The sent date is the Date field, else the internal date, and unknown
/// for a message stored without keys; migration 30 gives messages stored
/// before it the same (its column is dropped and the migration forgotten,
/// as before it).
async fn the_sent_date_is_stored_and_migrated(backend: Backend) {
    let (place, store) = backend.store().await;
    store.add_domain("example.test").await.unwrap();
    let alice = store.add_account("alice@example.test", "h").await.unwrap();
    let inbox = store.inbox(alice).await.unwrap().id;
    append(
        &store,
        inbox,
        b"Date: Thu, 1 Jan 1970 01:00:00 +0000\r\nSubject: a\r\n\r\n",
    )
    .await;
    append(&store, inbox, b"Subject: no date\r\n\r\n").await;
    append(&store, inbox, b"Date: 31 Dec 1969 23:00:00 +0000\r\n\r\n").await;
    let content = store.put_content(b"Subject: old\r\n\r\n".to_vec()).await.unwrap();
    store
        .append(inbox, content, Flags::default(), 7, MessageFacts::default())
        .await
        .unwrap();
    let expected = [(1, Some(3600)), (2, Some(1_700_000_000)), (3, Some(-3600)), (4, None)];
    assert_eq!(sent_dates(&store, inbox).await, expected);

    drop(store);
    let undo = "DROP INDEX messages_meta;
         CREATE INDEX messages_meta ON messages (mailbox_id, uid, modseq, flags, size, internal_date);
         ALTER TABLE messages DROP COLUMN sent;";
    match place.postgres().await {
        Some(client) => {
            let sql = format!("{undo} DELETE FROM schema_migrations WHERE version = 16;");
            client.batch_execute(&sql).await.unwrap();
        }
        None => {
            let sql = format!("{undo} DELETE FROM schema_migrations WHERE version = 30;");
            let db = rusqlite::Connection::open(place.dir.path().join("postamt.db")).unwrap();
            db.execute_batch(&sql).unwrap();
        }
    }
    let store = place.open().await;
    assert_eq!(sent_dates(&store, inbox).await, expected);
}

on_both_backends!(
    sort_keys_are_stored_copied_and_moved,
    the_sent_date_is_stored_and_migrated
);
