//! The reads that bring an IMAP view up to date by MODSEQ (RFC 7162):
//! the messages changed after a MODSEQ and the UIDs expunged after it,
//! on each backend.

mod support;

use store::{FlagChange, Flags, MessageFacts, Store};
use support::{Backend, Place};

/// A store with alice's INBOX holding `n` messages; its id.
async fn inbox_with(backend: Backend, n: usize) -> (Place, Store, i64) {
    let (place, store) = backend.store().await;
    store.add_domain("example.test").await.unwrap();
    let alice = store.add_account("alice@example.test", "hash").await.unwrap();
    let inbox = store.inbox(alice).await.unwrap().id;
    for i in 0..n {
        let content = store
            .put_content(format!("Subject: {i}\r\n\r\nx\r\n").into_bytes())
            .await
            .unwrap();
        store
            .append(inbox, content, Flags::default(), 0, MessageFacts::default())
            .await
            .unwrap();
    }
    (place, store, inbox)
}

async fn highest(store: &Store, mailbox: i64) -> i64 {
    store.mailbox_info(mailbox).await.unwrap().unwrap().highestmodseq
}

/// After a MODSEQ: the flag change, the new message and the expunges
/// made since, and nothing older; each answer in UID order.
async fn changes_since_a_modseq_are_exactly_those_made_after_it(backend: Backend) {
    let (_place, store, inbox) = inbox_with(backend, 6).await;
    let before = highest(&store, inbox).await;
    assert!(store.messages_changed_since(inbox, before).await.unwrap().is_empty());
    assert!(store.expunged_since(inbox, before).await.unwrap().is_empty());

    let seen = Flags::from_names(&["\\Seen"]);
    store
        .store_flags(inbox, &[5, 2], FlagChange::Add, &seen, None)
        .await
        .unwrap();
    store.expunge(inbox, &[4, 1]).await.unwrap();
    let content = store.put_content(b"Subject: new\r\n\r\nx\r\n".to_vec()).await.unwrap();
    store
        .append(inbox, content, Flags::default(), 0, MessageFacts::default())
        .await
        .unwrap();

    let changed = store.messages_changed_since(inbox, before).await.unwrap();
    let uids: Vec<i64> = changed.iter().map(|m| m.uid).collect();
    assert_eq!(uids, [2, 5, 7], "the flagged ones and the new one, not 4 and 1");
    assert!(
        changed[..2]
            .iter()
            .all(|m| m.flags.has(store::flag::SEEN) && m.modseq == before + 1)
    );
    assert_eq!(changed[2].modseq, before + 3);
    assert_eq!(store.expunged_since(inbox, before).await.unwrap(), [1, 4]);

    // From the expunge's MODSEQ on, only what came after it.
    assert_eq!(
        store
            .messages_changed_since(inbox, before + 2)
            .await
            .unwrap()
            .iter()
            .map(|m| m.uid)
            .collect::<Vec<_>>(),
        [7]
    );
    assert!(store.expunged_since(inbox, before + 2).await.unwrap().is_empty());
    assert_eq!(store.expunged_since(inbox, before + 1).await.unwrap(), [1, 4]);
    // MODSEQ 0: everything there is, and every UID ever expunged.
    assert_eq!(store.messages_changed_since(inbox, 0).await.unwrap().len(), 5);
    assert_eq!(store.expunged_since(inbox, 0).await.unwrap(), [1, 4]);
}

/// A MOVE records the moved UIDs as expunged from the source, with the
/// MODSEQ of the move; the target shows the copies as changed.
async fn a_move_is_an_expunge_of_the_source(backend: Backend) {
    let (_place, store, inbox) = inbox_with(backend, 3).await;
    let alice = store.find_account("alice@example.test").await.unwrap().unwrap().id;
    let archive = store.mailbox(alice, "Archive").await.unwrap().unwrap().id;
    let (source_before, target_before) = (highest(&store, inbox).await, highest(&store, archive).await);
    store.move_messages(inbox, &[2], archive).await.unwrap();
    assert_eq!(store.expunged_since(inbox, source_before).await.unwrap(), [2]);
    assert!(
        store
            .messages_changed_since(inbox, source_before)
            .await
            .unwrap()
            .is_empty()
    );
    let copies = store.messages_changed_since(archive, target_before).await.unwrap();
    assert_eq!(copies.len(), 1);
}

on_both_backends!(
    changes_since_a_modseq_are_exactly_those_made_after_it,
    a_move_is_an_expunge_of_the_source,
);
