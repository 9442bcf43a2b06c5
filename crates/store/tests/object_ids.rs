//! OBJECTID (RFC 8474), SAVEDATE (RFC 8514) and PREVIEW (RFC 8970) as the
//! store keeps them, on both backends.

mod support;

use support::Backend;

use store::{Flags, MessageContent, MessageFacts, Store};

/// Appends `raw` to `mailbox` with the facts delivery would compute.
async fn append(store: &Store, mailbox: i64, raw: &[u8]) -> i64 {
    let content = store.put_content(raw.to_vec()).await.unwrap();
    let (_, uid) = store
        .append(mailbox, content, Flags::default(), 1_000_000, MessageFacts::of(raw))
        .await
        .unwrap();
    uid
}

async fn one(store: &Store, mailbox: i64, uid: i64) -> MessageContent {
    store.message_contents(mailbox, &[uid]).await.unwrap().remove(0)
}

const ORIGINAL: &[u8] = b"Message-ID: <a@x.test>\r\nSubject: first\r\n\r\nHello  there.\r\n";
const REPLY: &[u8] = b"Message-ID: <b@x.test>\r\nIn-Reply-To: <a@x.test>\r\nReferences: <a@x.test>\r\n\
    Subject: Re: first\r\n\r\nHi back.\r\n";
const OTHER: &[u8] = b"Message-ID: <c@x.test>\r\nSubject: other\r\n\r\nUnrelated.\r\n";

async fn ids_survive_copy_and_move_and_replies_share_a_thread(backend: Backend) {
    let (_place, store) = backend.store().await;
    store.add_domain("example.test").await.unwrap();
    let alice = store.add_account("alice@example.test", "h").await.unwrap();
    let bob = store.add_account("bob@example.test", "h").await.unwrap();
    let inbox = store.mailbox(alice, "INBOX").await.unwrap().unwrap();
    let archive = store.mailbox(alice, "Archive").await.unwrap().unwrap();
    let trash = store.mailbox(alice, "Trash").await.unwrap().unwrap();
    let bob_inbox = store.mailbox(bob, "INBOX").await.unwrap().unwrap();
    assert!(inbox.object_id.starts_with('M') && inbox.object_id.len() == 25);
    assert_ne!(inbox.object_id, archive.object_id);
    assert_ne!(inbox.object_id, bob_inbox.object_id);

    let original = one(&store, inbox.id, append(&store, inbox.id, ORIGINAL).await).await;
    let reply = one(&store, inbox.id, append(&store, inbox.id, REPLY).await).await;
    let other = one(&store, inbox.id, append(&store, inbox.id, OTHER).await).await;
    let email = original.email_id.clone().unwrap();
    assert!(email.starts_with('E'));
    assert_eq!(
        reply.thread_id, original.thread_id,
        "a reply joins its original's thread"
    );
    assert_ne!(other.thread_id, original.thread_id);
    assert_ne!(reply.email_id, original.email_id);
    assert_eq!(original.preview.as_deref(), Some("Hello there."));

    // Another account's copy of the reply does not find alice's thread.
    let bobs = one(&store, bob_inbox.id, append(&store, bob_inbox.id, REPLY).await).await;
    assert_ne!(bobs.thread_id, original.thread_id, "threads stay within an account");

    let (_, copied) = store
        .copy_messages(inbox.id, &[original.uid], archive.id)
        .await
        .unwrap();
    let copy = one(&store, archive.id, copied[0].1).await;
    assert_eq!(copy.email_id.as_deref(), Some(email.as_str()), "COPY keeps the EMAILID");
    assert_eq!(copy.thread_id, original.thread_id, "COPY keeps the THREADID");
    assert_eq!(copy.preview, original.preview);
    let (_, moved) = store.move_messages(archive.id, &[copy.uid], trash.id).await.unwrap();
    let moved = one(&store, trash.id, moved[0].1).await;
    assert_eq!(
        moved.email_id.as_deref(),
        Some(email.as_str()),
        "MOVE keeps the EMAILID"
    );
    assert_eq!(moved.thread_id, original.thread_id);

    // A reply to the copy's Message-ID still finds the thread after the
    // original is gone: the moved copy carries the Message-ID.
    store.expunge(inbox.id, &[original.uid]).await.unwrap();
    let late = b"Message-ID: <d@x.test>\r\nIn-Reply-To: <a@x.test>\r\n\r\nLate.\r\n";
    let late = one(&store, inbox.id, append(&store, inbox.id, late).await).await;
    assert_eq!(late.thread_id, original.thread_id);

    // RENAME keeps the MAILBOXID.
    let limits = store::MailboxLimits {
        max_name: 200,
        max_mailboxes: 100,
    };
    store.rename_mailbox(alice, "Archive", "Old", limits).await.unwrap();
    let renamed = store.mailbox(alice, "Old").await.unwrap().unwrap();
    assert_eq!(renamed.object_id, archive.object_id);
}

async fn a_copy_gets_a_save_date_of_its_own(backend: Backend) {
    let (place, store) = backend.store().await;
    store.add_domain("example.test").await.unwrap();
    let alice = store.add_account("alice@example.test", "h").await.unwrap();
    let inbox = store.mailbox(alice, "INBOX").await.unwrap().unwrap();
    let archive = store.mailbox(alice, "Archive").await.unwrap().unwrap();
    let before = store::now();
    let uid = append(&store, inbox.id, ORIGINAL).await;
    let saved = one(&store, inbox.id, uid).await.save_date.unwrap();
    assert!(saved >= before && saved <= store::now());
    // Pretend it was saved long ago: the copy's date is today's.
    let rewind = "UPDATE messages SET save_date = 1000";
    match place.postgres().await {
        Some(client) => {
            client.execute(rewind, &[]).await.unwrap();
        }
        None => {
            let db = rusqlite::Connection::open(place.dir.path().join("postamt.db")).unwrap();
            db.execute(rewind, ()).unwrap();
        }
    }
    assert_eq!(one(&store, inbox.id, uid).await.save_date, Some(1000));
    let (_, copied) = store.copy_messages(inbox.id, &[uid], archive.id).await.unwrap();
    let copy = one(&store, archive.id, copied[0].1).await;
    assert!(copy.save_date.unwrap() >= before, "COPY sets a new save date");
}

on_both_backends!(
    ids_survive_copy_and_move_and_replies_share_a_thread,
    a_copy_gets_a_save_date_of_its_own,
);
