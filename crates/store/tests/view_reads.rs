//! The reads of a view that keeps only UIDs (issue 20, point 5): the
//! UIDs, the flags of named messages, and the unseen and deleted ones by
//! their partial indexes, on each backend, with the plans that show the
//! indexes are used rather than a scan of the mailbox's rows.

mod support;

use store::{FlagChange, Flags, Marked, MessageFacts, Store};
use support::{Backend, Place};

/// alice's INBOX with six messages: 1, 2 and 4 \Seen, 3 and 5 \Deleted;
/// and a Trash with one unseen, deleted message that no answer about
/// the INBOX may name.
async fn marked_inbox(backend: Backend) -> (Place, Store, i64) {
    let (place, store) = backend.store().await;
    store.add_domain("example.test").await.unwrap();
    let alice = store.add_account("alice@example.test", "hash").await.unwrap();
    let inbox = store.inbox(alice).await.unwrap().id;
    let trash = store.mailbox(alice, "Trash").await.unwrap().unwrap().id;
    for (mailbox, flags) in [
        (trash, &["\\Deleted"][..]),
        (inbox, &["\\Seen"][..]),
        (inbox, &["\\Seen", "$Work"][..]),
        (inbox, &["\\Deleted"][..]),
        (inbox, &["\\Seen"][..]),
        (inbox, &["\\Deleted", "\\Flagged"][..]),
        (inbox, &[][..]),
    ] {
        let content = store.put_content(b"Subject: x\r\n\r\nx\r\n".to_vec()).await.unwrap();
        store
            .append(mailbox, content, Flags::from_names(flags), 0, MessageFacts::default())
            .await
            .unwrap();
    }
    (place, store, inbox)
}

async fn marked_reads_answer_from_the_flags(backend: Backend) {
    let (_place, store, inbox) = marked_inbox(backend).await;
    assert_eq!(store.message_uids(inbox).await.unwrap(), [1, 2, 3, 4, 5, 6]);
    assert_eq!(store.marked_uids(inbox, Marked::Unseen).await.unwrap(), [3, 5, 6]);
    assert_eq!(store.marked_uids(inbox, Marked::Deleted).await.unwrap(), [3, 5]);
    assert_eq!(store.first_marked(inbox, Marked::Unseen).await.unwrap(), Some(3));

    // The indexes follow flag changes and expunges.
    let seen = Flags::from_names(&["\\Seen"]);
    store
        .store_flags(inbox, &[3], FlagChange::Add, &seen, None)
        .await
        .unwrap();
    store
        .store_flags(inbox, &[1], FlagChange::Add, &Flags::from_names(&["\\Deleted"]), None)
        .await
        .unwrap();
    assert_eq!(store.marked_uids(inbox, Marked::Unseen).await.unwrap(), [5, 6]);
    assert_eq!(store.marked_uids(inbox, Marked::Deleted).await.unwrap(), [1, 3, 5]);
    store.expunge(inbox, &[1, 3, 5]).await.unwrap();
    assert!(store.marked_uids(inbox, Marked::Deleted).await.unwrap().is_empty());
    assert_eq!(store.first_marked(inbox, Marked::Deleted).await.unwrap(), None);
    assert_eq!(store.first_marked(inbox, Marked::Unseen).await.unwrap(), Some(6));
    assert_eq!(store.message_uids(inbox).await.unwrap(), [2, 4, 6]);
}

async fn metas_are_read_for_the_named_messages_only(backend: Backend) {
    let (_place, store, inbox) = marked_inbox(backend).await;
    let named = store.message_metas(inbox, &[4, 2, 99]).await.unwrap();
    assert_eq!(named.iter().map(|m| m.uid).collect::<Vec<_>>(), [2, 4], "in UID order");
    assert_eq!(named[0].flags.names(), ["\\Seen", "$Work"]);
    assert!(store.message_metas(inbox, &[]).await.unwrap().is_empty());
    let between = store.message_metas_between(inbox, 2, 4).await.unwrap();
    assert_eq!(between.iter().map(|m| m.uid).collect::<Vec<_>>(), [2, 3, 4]);
    assert!(between[1].flags.has(store::flag::DELETED));
    assert!(between.windows(2).all(|w| w[0].modseq <= w[1].modseq));
}

/// The marked reads use their partial index, not a scan of the mailbox's
/// messages: SQLite's plan names the index; PostgreSQL, told to avoid
/// sequential scans where it can, finds it usable (on a table this small
/// it would rightly prefer a scan).
async fn marked_reads_use_their_partial_indexes(backend: Backend) {
    let (place, _store, inbox) = marked_inbox(backend).await;
    for (term, index) in [
        ("flags & 1 = 0", "messages_unseen"),
        ("flags & 8 <> 0", "messages_deleted"),
    ] {
        for shape in [
            "SELECT uid FROM {table} WHERE mailbox_id = {inbox} AND {term} ORDER BY uid",
            "SELECT MIN(uid) FROM {table} WHERE mailbox_id = {inbox} AND {term}",
        ] {
            // The store names the index for SQLite (see `Marked::table`).
            let table = match place.postgres().await {
                Some(_) => "messages".to_string(),
                None => format!("messages INDEXED BY {index}"),
            };
            let query = shape
                .replace("{table}", &table)
                .replace("{inbox}", &inbox.to_string())
                .replace("{term}", term);
            let plan = match place.postgres().await {
                Some(client) => {
                    client.batch_execute("SET enable_seqscan = off").await.unwrap();
                    let rows = client.query(&format!("EXPLAIN {query}"), &[]).await.unwrap();
                    rows.iter()
                        .map(|r| r.get::<_, String>(0))
                        .collect::<Vec<_>>()
                        .join("\n")
                }
                None => {
                    let db = rusqlite::Connection::open(place.dir.path().join("postamt.db")).unwrap();
                    let mut explain = db.prepare(&format!("EXPLAIN QUERY PLAN {query}")).unwrap();
                    let rows = explain.query_map([], |row| row.get::<_, String>(3)).unwrap();
                    rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
                }
            };
            assert!(plan.contains(index), "{query}:\n{plan}");
        }
    }
}

/// FETCH FLAGS and SEARCH read UID, MODSEQ, flags, size and date from
/// one narrow index (migration 29), never the wide rows: SQLite's plan
/// says the index covers the query; PostgreSQL, told to avoid sequential
/// scans, finds the index usable.
async fn meta_reads_use_the_meta_index(backend: Backend) {
    let (place, _store, inbox) = marked_inbox(backend).await;
    let select = format!(
        "SELECT m.uid, m.modseq, m.flags, m.size, m.internal_date,
                (SELECT string_agg(keyword, ' ') FROM message_keywords k WHERE k.message_id = m.id)
         FROM messages m WHERE m.mailbox_id = {inbox}"
    );
    let queries = [
        format!("{select} AND m.uid IN (SELECT value FROM json_each('[2, 4]')) ORDER BY m.uid"),
        format!("{select} AND m.uid BETWEEN 2 AND 4 ORDER BY m.uid"),
    ];
    for query in queries {
        match place.postgres().await {
            Some(client) => {
                // PostgreSQL has no json_each: the between form only.
                if query.contains("json_each") {
                    continue;
                }
                client.batch_execute("SET enable_seqscan = off").await.unwrap();
                let rows = client.query(&format!("EXPLAIN {query}"), &[]).await.unwrap();
                let plan: Vec<String> = rows.iter().map(|r| r.get::<_, String>(0)).collect();
                assert!(plan.join("\n").contains("messages_meta"), "{query}:\n{plan:#?}");
            }
            None => {
                let db = rusqlite::Connection::open(place.dir.path().join("postamt.db")).unwrap();
                let mut explain = db.prepare(&format!("EXPLAIN QUERY PLAN {query}")).unwrap();
                let rows = explain.query_map([], |row| row.get::<_, String>(3)).unwrap();
                let plan: Vec<String> = rows.map(Result::unwrap).collect();
                assert!(
                    plan.iter()
                        .any(|line| line.contains("SEARCH m USING COVERING INDEX messages_meta")),
                    "{query}:\n{plan:#?}"
                );
            }
        }
    }
}

on_both_backends!(
    marked_reads_answer_from_the_flags,
    metas_are_read_for_the_named_messages_only,
    marked_reads_use_their_partial_indexes,
    meta_reads_use_the_meta_index,
);
