//! The store against each of its backends: a real SQLite database in a
//! temporary directory, and a real PostgreSQL (see `support`).

mod support;

use std::time::Duration;

use support::{Backend, Place};

use store::{Attempt, Error, MessageFacts, QueueEntry, ReportAction, Resolution, Store, StoredMessage, Target};
use wire::smtp::{MessageOptions, Recipient};

/// A stored message read whole through `Store::open_message`.
async fn read_message(store: &Store, trace_headers: &[u8], blob_hash: &str) -> store::Result<Vec<u8>> {
    let message = StoredMessage {
        trace_headers,
        blob_hash,
        header: None,
    };
    store.open_message(message, false).await?.read_all().await
}

async fn store(backend: Backend) -> (Place, Store) {
    backend.store().await
}

/// A store with example.test and the users alice and bob.
async fn populated(backend: Backend) -> (Place, Store) {
    let (dir, store) = store(backend).await;
    store.add_domain("example.test").await.unwrap();
    store.add_account("alice@example.test", "hash-a").await.unwrap();
    store.add_account("bob@example.test", "hash-b").await.unwrap();
    (dir, store)
}

async fn targets(store: &Store, address: &str) -> Resolution {
    let (local, domain) = address.rsplit_once('@').unwrap();
    store.resolve(local, domain).await.unwrap()
}

fn account(store_id: i64, address: &str) -> Target {
    Target::Account {
        id: store_id,
        address: address.to_string(),
    }
}

async fn opening_twice_applies_migrations_once(backend: Backend) {
    let place = backend.place();
    let first = place.open().await;
    first.add_domain("example.test").await.unwrap();
    drop(first);
    let second = place.open().await;
    assert_eq!(second.list_domains().await.unwrap().len(), 1);
}

async fn domains_are_normalized_unique_and_removable_only_when_empty(backend: Backend) {
    let (_dir, store) = store(backend).await;
    store.add_domain("Example.TEST.").await.unwrap();
    assert!(matches!(
        store.add_domain("example.test").await,
        Err(Error::DomainExists(_))
    ));
    assert!(matches!(
        store.add_domain("not a domain").await,
        Err(Error::InvalidAddress(_))
    ));
    assert!(store.is_local_domain("EXAMPLE.test").await.unwrap());
    store.add_account("alice@example.test", "h").await.unwrap();
    assert!(matches!(
        store.remove_domain("example.test").await,
        Err(Error::DomainInUse { accounts: 1, .. })
    ));
    store.remove_account("alice@example.test").await.unwrap();
    store.remove_domain("example.test").await.unwrap();
    assert!(matches!(
        store.remove_domain("example.test").await,
        Err(Error::NoSuchDomain(_))
    ));
}

async fn new_accounts_get_the_special_use_mailboxes(backend: Backend) {
    let (_dir, store) = populated(backend).await;
    let alice = store.find_account("Alice@Example.Test").await.unwrap().unwrap();
    assert_eq!(alice.address, "alice@example.test");
    let mailboxes = store.mailboxes(alice.id).await.unwrap();
    let roles: Vec<(&str, Option<&str>)> = mailboxes
        .iter()
        .map(|m| (m.name.as_str(), m.special_use.as_deref()))
        .collect();
    assert_eq!(
        roles,
        [
            ("Archive", Some("\\Archive")),
            ("Drafts", Some("\\Drafts")),
            ("INBOX", None),
            ("Junk", Some("\\Junk")),
            ("Sent", Some("\\Sent")),
            ("Trash", Some("\\Trash")),
        ]
    );
    assert!(mailboxes.iter().all(|m| m.uidnext == 1 && m.uidvalidity > 0));
    assert!(matches!(
        store.add_account("carol@nowhere.test", "h").await,
        Err(Error::NoSuchDomain(_))
    ));
    assert!(matches!(
        store.add_account("alice@example.test", "h").await,
        Err(Error::AccountExists(_))
    ));
    assert!(matches!(
        store.add_account("a+b@example.test", "h").await,
        Err(Error::InvalidAddress(_))
    ));
}

async fn resolution_follows_accounts_tags_aliases_and_catch_alls(backend: Backend) {
    let (_dir, store) = populated(backend).await;
    let alice = store.find_account("alice@example.test").await.unwrap().unwrap().id;
    let bob = store.find_account("bob@example.test").await.unwrap().unwrap().id;
    let alice_target = account(alice, "alice@example.test");
    let bob_target = account(bob, "bob@example.test");

    assert_eq!(
        targets(&store, "ALICE@example.test").await,
        Resolution::Local(vec![alice_target.clone()])
    );
    assert_eq!(
        targets(&store, "\"alice\"@example.test").await,
        Resolution::Local(vec![alice_target.clone()])
    );
    assert_eq!(
        targets(&store, "alice+lists@example.test").await,
        Resolution::Local(vec![alice_target.clone()])
    );
    assert_eq!(targets(&store, "nobody@example.test").await, Resolution::UnknownUser);
    assert_eq!(targets(&store, "alice@elsewhere.test").await, Resolution::NotLocal);

    // One alias to several targets, through another alias, with a loop.
    store
        .add_alias(
            "team@example.test",
            &["alice@example.test".into(), "staff@example.test".into()],
        )
        .await
        .unwrap();
    store
        .add_alias(
            "staff@example.test",
            &["bob@example.test".into(), "team@example.test".into()],
        )
        .await
        .unwrap();
    store
        .add_alias(
            "ext@example.test",
            &["friend@elsewhere.test".into(), "ghost@example.test".into()],
        )
        .await
        .unwrap();
    assert_eq!(
        targets(&store, "team@example.test").await,
        Resolution::Local(vec![alice_target.clone(), bob_target.clone()])
    );
    assert_eq!(
        targets(&store, "ext@example.test").await,
        Resolution::Local(vec![
            Target::Remote("friend@elsewhere.test".into()),
            Target::Unknown("ghost@example.test".into())
        ])
    );

    // An alias wins over an account of the same name (as in Postfix).
    store
        .add_alias("bob@example.test", &["alice@example.test".into()])
        .await
        .unwrap();
    assert_eq!(
        targets(&store, "bob@example.test").await,
        Resolution::Local(vec![alice_target.clone()])
    );
    store.remove_alias("bob@example.test", None).await.unwrap();

    // The catch-all takes only what nothing else takes.
    store
        .add_alias("@example.test", &["bob@example.test".into()])
        .await
        .unwrap();
    assert_eq!(
        targets(&store, "nobody@example.test").await,
        Resolution::Local(vec![bob_target.clone()])
    );
    assert_eq!(
        targets(&store, "alice@example.test").await,
        Resolution::Local(vec![alice_target])
    );
}

async fn domain_aliases_keep_the_local_part(backend: Backend) {
    let (_dir, store) = populated(backend).await;
    store.add_domain("old.test").await.unwrap();
    store.add_alias("@old.test", &["@example.test".into()]).await.unwrap();
    let bob = store.find_account("bob@example.test").await.unwrap().unwrap().id;
    assert_eq!(
        targets(&store, "bob@old.test").await,
        Resolution::Local(vec![account(bob, "bob@example.test")])
    );
}

async fn alias_administration(backend: Backend) {
    let (_dir, store) = populated(backend).await;
    store
        .add_alias(
            "info@example.test",
            &["alice@example.test".into(), "Bob@Example.test".into()],
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .add_alias("info@example.test", &["alice@example.test".into()])
            .await,
        Err(Error::AliasExists { .. })
    ));
    assert!(matches!(
        store.add_alias("x@nowhere.test", &["alice@example.test".into()]).await,
        Err(Error::NoSuchDomain(_))
    ));
    let aliases = store.list_aliases(None).await.unwrap();
    assert_eq!(aliases.len(), 1);
    assert_eq!(aliases[0].targets, ["alice@example.test", "bob@example.test"]);
    store
        .remove_alias("info@example.test", Some("bob@example.test"))
        .await
        .unwrap();
    assert_eq!(
        store.list_aliases(Some("example.test")).await.unwrap()[0].targets,
        ["alice@example.test"]
    );
    assert!(matches!(
        store.remove_alias("info@example.test", Some("bob@example.test")).await,
        Err(Error::NoSuchAlias(_))
    ));
}

/// Claims what is due at `at` for a test worker.
async fn claim(store: &Store, at: i64) -> Vec<store::QueueRecipient> {
    store.claim_due(at, 10, "test", at + 600).await.unwrap()
}

fn attempt(reply: &str, report: Option<ReportAction>) -> Attempt {
    Attempt {
        reply: reply.into(),
        status_code: reply.split(' ').nth(1).unwrap_or("").into(),
        remote_mta: None,
        report,
        transport: None,
    }
}

async fn the_queue_delivers_reports_and_forgets_finished_messages(backend: Backend) {
    let (_dir, store) = populated(backend).await;
    let alice = store.find_account("alice@example.test").await.unwrap().unwrap().id;
    let content = store
        .put_content(b"Subject: hi\r\n\r\nbody\r\n".to_vec())
        .await
        .unwrap();
    let now = store::now();
    let entry = QueueEntry {
        id: "Q1".into(),
        reverse_path: "sender@elsewhere.test".into(),
        recipients: vec![
            Recipient::new("alice@example.test"),
            Recipient::new("nobody@example.test"),
        ],
        options: MessageOptions::default(),
        content: content.clone(),
        received_at: now,
    };
    assert_eq!(store.queue_summary().await.unwrap(), (0, None));
    store.enqueue(entry.clone()).await.unwrap();
    // What /metrics shows: the count and the oldest message's time.
    assert_eq!(store.queue_summary().await.unwrap(), (1, Some(now)));
    let due = claim(&store, now).await;
    assert_eq!(due.len(), 2);
    assert!(
        claim(&store, now).await.is_empty(),
        "leased recipients are not claimed twice"
    );
    assert_eq!(store.queue_len().await.unwrap(), 1);

    let trace = b"Return-Path: <sender@elsewhere.test>\r\n".to_vec();
    store
        .deliver_local(
            &due[0],
            &[copy(alice, &trace)],
            Vec::new(),
            Vec::new(),
            None,
            &MessageFacts::default(),
        )
        .await
        .unwrap();
    store
        .fail_recipient(&due[1], &attempt("550 5.1.1 unknown", Some(ReportAction::Failed)))
        .await
        .unwrap();
    assert_eq!(
        store.queue_len().await.unwrap(),
        1,
        "the failure is still to be reported"
    );
    let unreported = store.unreported("Q1").await.unwrap();
    assert_eq!(unreported.len(), 1);
    assert_eq!(
        (unreported[0].address.as_str(), unreported[0].report),
        ("nobody@example.test", Some(ReportAction::Failed))
    );
    assert_eq!(store.with_reports().await.unwrap(), ["Q1"]);
    store.reported("Q1", &[unreported[0].id]).await.unwrap();
    assert_eq!(
        store.queue_len().await.unwrap(),
        0,
        "delivered and reported: the message is gone"
    );

    let inbox = store.inbox(alice).await.unwrap();
    assert_eq!((inbox.uidnext, inbox.highestmodseq), (2, 2));
    let messages = store.message_list(inbox.id).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].uid, 1);
    assert_eq!(messages[0].size, (content.blob().size as usize + trace.len()) as i64);
    assert_eq!(messages[0].internal_date, now);

    // A deferred recipient is not due again until its time.
    let second = QueueEntry {
        id: "Q2".into(),
        recipients: vec![Recipient::new("alice@example.test")],
        ..entry
    };
    store.enqueue(second.clone()).await.unwrap();
    let due = claim(&store, now).await;
    let retry_at = now + 60;
    store
        .defer_recipient(&due[0], &attempt("451 4.4.1 later", None), retry_at)
        .await
        .unwrap();
    assert!(claim(&store, retry_at - 1).await.is_empty());
    assert_eq!(store.next_attempt_at().await.unwrap(), Some(retry_at));
    let later = claim(&store, retry_at).await;
    assert_eq!(
        (later[0].attempts, later[0].last_reply.as_deref()),
        (1, Some("451 4.4.1 later"))
    );
    let forward = QueueEntry {
        id: "Q3".into(),
        reverse_path: "SRS0=x=y=elsewhere.test=sender@example.test".into(),
        recipients: vec![Recipient::new("friend@elsewhere.test")],
        ..second
    };
    store
        .deliver_local(
            &later[0],
            &[copy(alice, &trace)],
            vec![forward],
            Vec::new(),
            None,
            &MessageFacts::default(),
        )
        .await
        .unwrap();
    let forwarded = claim(&store, store::now()).await;
    assert_eq!(
        forwarded.len(),
        1,
        "an alias target elsewhere is a recipient of the forwarded message"
    );
    assert_eq!(
        (forwarded[0].queue_id.as_str(), forwarded[0].address.as_str()),
        ("Q3", "friend@elsewhere.test")
    );
    assert_eq!(forwarded[0].reverse_path, "SRS0=x=y=elsewhere.test=sender@example.test");
}

/// A lease counts while the node that took it lives (its node claim is
/// renewed): another node leaves it alone until it runs out. Once the
/// holder's claim has run out (it crashed), another node takes the work at
/// once. A holder without a node claim keeps its lease to the end.
async fn leases_of_a_dead_node_are_taken_over(backend: Backend) {
    let (_dir, store) = populated(backend).await;
    let content = store.put_content(b"x\r\n".to_vec()).await.unwrap();
    let now = store::now();
    for id in ["Q1", "Q2"] {
        let entry = QueueEntry {
            id: id.into(),
            reverse_path: "sender@elsewhere.test".into(),
            recipients: vec![Recipient::new("far@elsewhere.test")],
            options: MessageOptions::default(),
            content: content.clone(),
            received_at: now,
        };
        store.enqueue(entry).await.unwrap();
    }
    store.claim_node("a", "host-a:1:x", now + 30).await.unwrap().unwrap();
    store.claim_node("b", "host-b:1:y", now + 30).await.unwrap().unwrap();
    let lease_end = now + 1800;
    let first = store.claim_due(now, 1, "a", lease_end).await.unwrap();
    assert_eq!(first.len(), 1, "{first:#?}");
    assert_eq!(store.claim_due(now, 1, "solo", lease_end).await.unwrap().len(), 1);
    assert!(
        store.claim_due(now, 10, "b", lease_end).await.unwrap().is_empty(),
        "a lives"
    );
    assert_eq!(
        store.next_attempt_at().await.unwrap(),
        Some(lease_end),
        "due when the leases end"
    );

    // a stops renewing its claim.
    assert!(store.renew_node("a", "host-a:1:x", now - 1).await.unwrap());
    assert!(
        store.next_attempt_at().await.unwrap().is_some_and(|at| at <= now),
        "due now"
    );
    let taken = store.claim_due(now, 10, "b", lease_end).await.unwrap();
    assert_eq!(taken.len(), 1, "b takes over a's recipient, not solo's: {taken:?}");
    assert_eq!(taken[0].queue_id, "Q1");
}

/// A rate counted in the store holds for every handle on it (every node):
/// two handles share one limit, a refusal counts nothing, and the previous
/// window weighs by how much of it still overlaps the last `window`.
async fn rates_counted_in_the_store_hold_across_nodes(backend: Backend) {
    let place = backend.place();
    let (a, b) = (place.open().await, place.open().await);
    // A window start: a multiple of 60.
    let start: i64 = 1_800_000_000;
    let key = "user_messages:alice@example.test";
    assert!(a.count_within_rate(key, 2, 3, 60, start).await.unwrap());
    assert!(b.count_within_rate(key, 1, 3, 60, start + 1).await.unwrap());
    assert!(
        !b.count_within_rate(key, 1, 3, 60, start + 2).await.unwrap(),
        "over the limit on b"
    );
    assert!(
        !a.count_within_rate(key, 1, 3, 60, start + 3).await.unwrap(),
        "and on a"
    );
    assert!(
        a.count_within_rate("user_messages:bob@example.test", 1, 3, 60, start)
            .await
            .unwrap()
    );
    // A third into the next window, two thirds of the previous 3 still count.
    assert!(!a.count_within_rate(key, 2, 3, 60, start + 80).await.unwrap());
    assert!(a.count_within_rate(key, 1, 3, 60, start + 80).await.unwrap());
    assert_eq!(
        a.forget_rate_counts(start + 60).await.unwrap(),
        2,
        "the first window's rows"
    );
}

async fn queue_administration(backend: Backend) {
    let (_dir, store) = populated(backend).await;
    let content = store.put_content(b"x\r\n".to_vec()).await.unwrap();
    for (id, reverse_path) in [("Q1", "sender@elsewhere.test"), ("Q2", "")] {
        let entry = QueueEntry {
            id: id.into(),
            reverse_path: reverse_path.into(),
            recipients: vec![Recipient::new("far@elsewhere.test")],
            options: MessageOptions::default(),
            content: content.clone(),
            received_at: store::now(),
        };
        store.enqueue(entry.clone()).await.unwrap();
    }
    for recipient in claim(&store, store::now()).await {
        store
            .defer_recipient(&recipient, &attempt("451 4.4.1 later", None), store::now() + 3600)
            .await
            .unwrap();
    }
    let listed = store.queued_messages().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].recipients[0].last_reply.as_deref(), Some("451 4.4.1 later"));
    assert_eq!(store.retry_now(Some("Q1")).await.unwrap(), 1);
    assert_eq!(claim(&store, store::now()).await.len(), 1);
    // A bounced message is reported unless it is itself a bounce.
    assert_eq!(store.bounce_now("Q1", "550 5.0.0 returned", "5.0.0").await.unwrap(), 1);
    assert_eq!(store.bounce_now("Q2", "550 5.0.0 returned", "5.0.0").await.unwrap(), 1);
    assert_eq!(store.with_reports().await.unwrap(), ["Q1"]);
    assert!(
        !store.is_queued("Q2").await.unwrap(),
        "an unreportable bounce leaves at once"
    );
    assert!(store.delete_queued("Q1").await.unwrap());
    assert!(!store.delete_queued("Q1").await.unwrap());
    assert_eq!(store.queue_len().await.unwrap(), 0);
}

async fn expunge_removes_and_bumps_the_modseq(backend: Backend) {
    let (_dir, store) = populated(backend).await;
    let alice = store.find_account("alice@example.test").await.unwrap().unwrap().id;
    let content = store.put_content(b"x\r\n".to_vec()).await.unwrap();
    for n in 0..3 {
        let entry = QueueEntry {
            id: format!("Q{n}"),
            reverse_path: String::new(),
            recipients: vec![Recipient::new("alice@example.test")],
            options: MessageOptions::default(),
            content: content.clone(),
            received_at: 0,
        };
        store.enqueue(entry.clone()).await.unwrap();
    }
    for recipient in claim(&store, store::now()).await {
        store
            .deliver_local(
                &recipient,
                &[copy(alice, b"")],
                Vec::new(),
                Vec::new(),
                None,
                &MessageFacts::default(),
            )
            .await
            .unwrap();
    }
    let inbox = store.inbox(alice).await.unwrap();
    store.expunge(inbox.id, &[1, 3]).await.unwrap();
    let after = store.inbox(alice).await.unwrap();
    assert_eq!(after.highestmodseq, inbox.highestmodseq + 1);
    let uids: Vec<i64> = store
        .message_list(inbox.id)
        .await
        .unwrap()
        .iter()
        .map(|m| m.uid)
        .collect();
    assert_eq!(uids, [2]);
}

/// Content too large to be inline, different for each `fill`.
fn large(fill: u8) -> Vec<u8> {
    vec![fill; store::INLINE_LIMIT + 1]
}

async fn garbage_collection_removes_only_unreferenced_content(backend: Backend) {
    let (place, store) = populated(backend).await;
    let kept = store.put_content(large(b'k')).await.unwrap();
    let orphan = store.put_content(large(b'o')).await.unwrap();
    let entry = QueueEntry {
        id: "Q".into(),
        reverse_path: String::new(),
        recipients: vec![Recipient::new("alice@example.test")],
        options: MessageOptions::default(),
        content: kept.clone(),
        received_at: 0,
    };
    store.enqueue(entry.clone()).await.unwrap();
    assert_eq!(
        store.collect_garbage(Duration::from_secs(3600)).await.unwrap(),
        0,
        "young content stays"
    );
    assert_eq!(store.collect_garbage(Duration::ZERO).await.unwrap(), 1);
    assert_eq!(read_message(&store, b"", &kept.blob().hash).await.unwrap(), large(b'k'));
    assert!(matches!(
        read_message(&store, b"", &orphan.blob().hash).await,
        Err(Error::MissingBlob(_))
    ));
    assert_eq!(place.large_contents().await, 1, "what is left where it is stored");
    // Content that vanished cannot be enqueued.
    let gone = QueueEntry {
        id: "Q2".into(),
        content: orphan.clone(),
        ..entry
    };
    assert!(matches!(store.enqueue(gone.clone()).await, Err(Error::MissingBlob(_))));
    // Put again, it is stored afresh.
    assert_eq!(store.put_content(large(b'o')).await.unwrap(), orphan);
    store.enqueue(gone).await.unwrap();
    assert_eq!(
        read_message(&store, b"", &orphan.blob().hash).await.unwrap(),
        large(b'o')
    );
}

async fn users_may_send_as_the_addresses_that_reach_them(backend: Backend) {
    let (_dir, store) = populated(backend).await;
    let alice = store.find_account("alice@example.test").await.unwrap().unwrap().id;
    store
        .add_alias(
            "sales@example.test",
            &["alice@example.test".into(), "bob@example.test".into()],
        )
        .await
        .unwrap();
    store
        .add_alias("boss@example.test", &["bob@example.test".into()])
        .await
        .unwrap();
    for address in ["alice@example.test", "Alice+x@Example.test", "sales@example.test"] {
        assert!(store.delivers_to(address, alice).await.unwrap(), "{address}");
    }
    for address in [
        "bob@example.test",
        "boss@example.test",
        "alice@elsewhere.test",
        "nonsense",
    ] {
        assert!(!store.delivers_to(address, alice).await.unwrap(), "{address}");
    }
}

async fn internationalized_domains_match_in_either_form(backend: Backend) {
    let (_dir, store) = store(backend).await;
    store.add_domain("bücher.test").await.unwrap();
    assert_eq!(store.list_domains().await.unwrap()[0].name, "xn--bcher-kva.test");
    store.add_account("jürgen@bücher.test", "h").await.unwrap();
    assert!(matches!(
        targets(&store, "JÜRGEN@xn--bcher-kva.test").await,
        Resolution::Local(_)
    ));
    assert!(matches!(
        targets(&store, "jürgen@BÜCHER.test").await,
        Resolution::Local(_)
    ));
}

async fn small_content_lives_in_the_database(backend: Backend) {
    let (place, store) = populated(backend).await;
    let small = b"Subject: small\r\n\r\nhello\r\n".to_vec();
    let content = store.put_content(small.clone()).await.unwrap();
    let entry = QueueEntry {
        id: "SMALL".into(),
        reverse_path: String::new(),
        recipients: vec![Recipient::new("alice@example.test")],
        options: MessageOptions::default(),
        content: content.clone(),
        received_at: 0,
    };
    store.enqueue(entry.clone()).await.unwrap();
    assert_eq!(place.blob_files(), 0, "no file for small content");
    assert_eq!(place.large_contents().await, 0, "nothing in the content store");
    let hash = content.blob().hash.clone();
    let traced = [&b"trace:"[..], &small].concat();
    assert_eq!(read_message(&store, b"trace:", &hash).await.unwrap(), traced);
    let message = StoredMessage {
        trace_headers: b"trace:",
        blob_hash: &hash,
        header: None,
    };
    let mut reader = store.open_message(message, false).await.unwrap();
    let len = reader.len();
    let mut streamed = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut streamed)
        .await
        .unwrap();
    assert_eq!((streamed, len), (traced.clone(), traced.len() as u64));

    // Once nothing refers to it, small content is collected at once.
    assert!(store.delete_queued("SMALL").await.unwrap());
    store.collect_garbage(Duration::from_secs(3600)).await.unwrap();
    assert!(matches!(
        read_message(&store, b"", &hash).await,
        Err(Error::MissingBlob(_))
    ));
}

/// Large content lives in blob files beside SQLite, and in PostgreSQL
/// itself (shared by the nodes of a cluster) with PostgreSQL.
async fn large_content_lives_where_the_backend_keeps_it(backend: Backend) {
    let (place, store) = populated(backend).await;
    let content = store.put_content(large(b'x')).await.unwrap();
    assert_eq!(
        read_message(&store, b"", &content.blob().hash).await.unwrap(),
        large(b'x')
    );
    assert_eq!(place.large_contents().await, 1);
    match backend {
        Backend::Sqlite => {
            assert_eq!(place.blob_files(), 1, "a file for large content");
            assert_eq!(place.count("SELECT COUNT(*) FROM content_chunks").await, 0);
        }
        Backend::Postgres => {
            assert_eq!(place.blob_files(), 0, "no file on this node's disk");
            assert_eq!(place.count("SELECT COUNT(*) FROM content_chunks").await, 1);
        }
    }
}

async fn inline_content_is_collected_across_chunks(backend: Backend) {
    // Collection goes a thousand rows per transaction; 2 100 rows take
    // three, and the one still referenced stays.
    let (_dir, store) = populated(backend).await;
    let mut writes = tokio::task::JoinSet::new();
    for n in 0..2100 {
        let store = store.clone();
        writes.spawn(async move {
            let content = store
                .put_content(format!("Subject: {n}\r\n\r\nx\r\n").into_bytes())
                .await
                .unwrap();
            let entry = QueueEntry {
                id: format!("Q{n}"),
                reverse_path: String::new(),
                recipients: vec![Recipient::new("alice@example.test")],
                options: MessageOptions::default(),
                content: content.clone(),
                received_at: 0,
            };
            store.enqueue(entry.clone()).await.unwrap();
            (entry.id, content.blob().hash.clone())
        });
    }
    let mut stored = Vec::new();
    while let Some(written) = writes.join_next().await {
        stored.push(written.unwrap());
    }
    let (_, kept) = stored.pop().unwrap();
    for (id, _) in &stored {
        assert!(store.delete_queued(id).await.unwrap());
    }
    assert_eq!(store.collect_garbage(Duration::from_secs(3600)).await.unwrap(), 2099);
    assert!(read_message(&store, b"", &kept).await.is_ok());
    for (_, hash) in &stored {
        assert!(matches!(
            read_message(&store, b"", hash).await,
            Err(Error::MissingBlob(_))
        ));
    }
}

async fn client_verdicts_are_kept_bounded_and_expire(backend: Backend) {
    let (_dir, store) = populated(backend).await;
    let now = store::now();
    for n in 0..50u8 {
        store
            .remember_client(store::ClientVerdict {
                client: std::net::IpAddr::from([192, 0, 2, n]),
                passed: n % 2 == 0,
                // The first eleven have expired by `now`.
                until: now + i64::from(n) - 10,
            })
            .await
            .unwrap();
    }
    // A later verdict replaces the earlier one.
    let last = std::net::IpAddr::from([192, 0, 2, 49]);
    store
        .remember_client(store::ClientVerdict {
            client: last,
            passed: false,
            until: now + 1000,
        })
        .await
        .unwrap();
    let held = store.remembered_clients(now, 1000).await.unwrap();
    assert_eq!(held.len(), 39, "expired verdicts are not recalled");
    assert_eq!(held[0].client, last);
    assert!(!held[0].passed);
    assert_eq!(store.forget_clients(now, 5).await.unwrap(), 45);
    let kept = store.remembered_clients(now, 1000).await.unwrap();
    let kept: Vec<u8> = kept
        .iter()
        .map(|v| match v.client {
            std::net::IpAddr::V4(v4) => v4.octets()[3],
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(kept, [49, 48, 47, 46, 45], "those that hold longest stay");
}

async fn greylisting_passes_a_retry_after_the_delay_and_within_the_window(backend: Backend) {
    let (_dir, store) = populated(backend).await;
    let rules = store::Greylisting {
        delay: 300,
        retry_window: 3600,
        keep: 86_400,
        auto_allow: 2,
    };
    let triplet = |network: &str, recipient: &str| store::Triplet {
        network: network.into(),
        sender: "Sender@Elsewhere.test".into(),
        recipient: recipient.into(),
    };
    let t0 = 1_000_000;
    let check = |t: store::Triplet, now: i64| store.greylist(t, rules, now);
    assert_eq!(
        check(triplet("192.0.2.0/24", "alice@example.test"), t0).await.unwrap(),
        Some(300)
    );
    // Too early: the rest of the delay.
    assert_eq!(
        check(triplet("192.0.2.0/24", "ALICE@example.test"), t0 + 100)
            .await
            .unwrap(),
        Some(200)
    );
    // After the delay it passes, and stays passed.
    assert_eq!(
        check(triplet("192.0.2.0/24", "alice@example.test"), t0 + 300)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        check(triplet("192.0.2.0/24", "alice@example.test"), t0 + 50_000)
            .await
            .unwrap(),
        None
    );
    // Another recipient is another triplet.
    assert_eq!(
        check(triplet("192.0.2.0/24", "bob@example.test"), t0 + 300)
            .await
            .unwrap(),
        Some(300)
    );
    // A retry after the window starts over.
    assert_eq!(
        check(triplet("198.51.100.0/24", "alice@example.test"), t0)
            .await
            .unwrap(),
        Some(300)
    );
    assert_eq!(
        check(triplet("198.51.100.0/24", "alice@example.test"), t0 + 4000)
            .await
            .unwrap(),
        Some(300)
    );
    // A second passed triplet of 192.0.2.0/24 lets the whole network pass.
    assert_eq!(
        check(triplet("192.0.2.0/24", "bob@example.test"), t0 + 700)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        check(triplet("192.0.2.0/24", "carol@example.test"), t0 + 800)
            .await
            .unwrap(),
        None
    );
    // Cleanup: the passed triplets outlive the unpassed retry of the other network only while kept.
    assert_eq!(store.forget_greylist(rules, t0 + 4000 + 3901).await.unwrap(), 1);
    assert_eq!(store.forget_greylist(rules, t0 + 50_000 + 86_401).await.unwrap(), 3);
}

/// An INBOX copy for `account` with `trace` on top.
fn copy(account: store::AccountId, trace: &[u8]) -> store::LocalCopy {
    store::LocalCopy::new(account, trace.to_vec(), store::CopyTarget::Inbox)
}

async fn moving_into_and_out_of_junk_notes_spam_and_ham_once(backend: Backend) {
    let (_dir, store) = populated(backend).await;
    let alice = store.find_account("alice@example.test").await.unwrap().unwrap().id;
    let mailbox = |name: &'static str| {
        let store = store.clone();
        async move { store.mailbox(alice, name).await.unwrap().unwrap().id }
    };
    let (inbox, junk, trash, archive) = (
        mailbox("INBOX").await,
        mailbox("Junk").await,
        mailbox("Trash").await,
        mailbox("Archive").await,
    );
    let content = store
        .put_content(b"Subject: offer\r\n\r\nbuy\r\n".to_vec())
        .await
        .unwrap();
    let hash = content.blob().hash.clone();
    let (_, uid) = store
        .append(inbox, content, store::Flags::default(), 0, MessageFacts::default())
        .await
        .unwrap();
    assert!(
        store.pending_training(10).await.unwrap().is_empty(),
        "into the INBOX teaches nothing"
    );
    let (_, moved) = store.move_messages(inbox, &[uid], junk).await.unwrap();
    assert_eq!(
        store.pending_training(10).await.unwrap(),
        [(hash.clone(), store::SpamClass::Spam)]
    );
    store.trained(&hash, store::SpamClass::Spam).await.unwrap();
    // Into Junk again: already taught.
    store.copy_messages(junk, &[moved[0].1], junk).await.unwrap();
    assert!(store.pending_training(10).await.unwrap().is_empty());
    // Out of Junk into the Trash is no verdict; into the Archive is ham.
    store.copy_messages(junk, &[moved[0].1], trash).await.unwrap();
    assert!(store.pending_training(10).await.unwrap().is_empty());
    store.copy_messages(junk, &[moved[0].1], archive).await.unwrap();
    assert_eq!(
        store.pending_training(10).await.unwrap(),
        [(hash, store::SpamClass::Ham)]
    );
}

async fn a_node_id_is_held_by_one_live_process(backend: Backend) {
    let (_dir, store) = populated(backend).await;
    let now = store::now();
    // Held by a process on another machine: refused until its claim ends.
    assert_eq!(store.claim_node("mx1", "other:1:a", now + 30).await.unwrap(), Ok(()));
    let held = store
        .claim_node("mx1", "here:5:b", now + 30)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(held.instance, "other:1:a");
    assert!(
        store.claim_node("mx2", "here:5:b", now + 30).await.unwrap().is_ok(),
        "another id is free"
    );
    assert!(
        !store.renew_node("mx1", "here:5:b", now + 60).await.unwrap(),
        "only the holder renews"
    );
    assert!(store.renew_node("mx1", "other:1:a", now - 1).await.unwrap());
    assert_eq!(
        store.claim_node("mx1", "here:5:b", now + 30).await.unwrap(),
        Ok(()),
        "an ended claim is taken"
    );
    // A live claim of a process that is gone from this machine is taken
    // at once (no such pid).
    assert_eq!(
        store.claim_node("mx3", "here:4000000000:c", now + 30).await.unwrap(),
        Ok(())
    );
    assert_eq!(store.claim_node("mx3", "here:5:d", now + 30).await.unwrap(), Ok(()));
    // Given up at a clean stop: free for anyone.
    store.release_node("mx3", "here:5:d").await.unwrap();
    assert_eq!(store.claim_node("mx3", "other:1:e", now + 30).await.unwrap(), Ok(()));
}

/// Issue 21: the REQUIRETLS and TLS-Required: No flags travel with a
/// queued message; each remote attempt is recorded with its transport, at
/// most `MAX_ATTEMPTS_KEPT` per recipient, local ones not at all, and the
/// attempts go with their message.
async fn remote_attempts_are_kept_bounded_with_their_transport(backend: Backend) {
    let (_dir, store) = store(backend).await;
    let content = store
        .put_content(b"Subject: hi\r\n\r\nbody\r\n".to_vec())
        .await
        .unwrap();
    let now = store::now();
    let entry = QueueEntry {
        id: "Q1".into(),
        reverse_path: "sender@here.test".into(),
        recipients: vec![Recipient::new("a@far.test"), Recipient::new("b@far.test")],
        options: MessageOptions {
            require_tls: true,
            tls_optional: true,
            ..MessageOptions::default()
        },
        content,
        received_at: now,
    };
    store.enqueue(entry).await.unwrap();
    let due = claim(&store, now).await;
    assert!(due.iter().all(|r| r.require_tls && r.tls_optional), "{due:?}");
    let remote = |n: usize| Attempt {
        remote_mta: Some("mx.far.test".into()),
        transport: Some(store::Transport {
            policy: Some("opportunistic".into()),
            tls_version: Some("TLSv1_3".into()),
            tls_cipher: Some(format!("cipher {n}")),
        }),
        ..attempt(&format!("451 4.3.0 try {n}"), None)
    };
    let total = store::MAX_ATTEMPTS_KEPT as usize + 5;
    for n in 0..total {
        store.defer_recipient(&due[0], &remote(n), now).await.unwrap();
    }
    // A local attempt (no transport) is not one of them.
    store
        .defer_recipient(&due[1], &attempt("451 4.3.0 local", None), now)
        .await
        .unwrap();
    let attempts = store.queue_attempts("Q1").await.unwrap();
    assert_eq!(attempts.len(), store::MAX_ATTEMPTS_KEPT as usize);
    assert!(attempts.iter().all(|a| a.recipient_id == due[0].id));
    let first = &attempts[0];
    assert_eq!(first.reply, "451 4.3.0 try 5", "the oldest ones went");
    assert_eq!(first.host.as_deref(), Some("mx.far.test"));
    assert_eq!(first.transport.policy.as_deref(), Some("opportunistic"));
    assert_eq!(first.transport.tls_version.as_deref(), Some("TLSv1_3"));
    assert!(first.at >= now);
    assert_eq!(attempts.last().unwrap().reply, format!("451 4.3.0 try {}", total - 1));
    // The final one is recorded too, and goes with the message.
    store.fail_recipient(&due[0], &remote(99)).await.unwrap();
    let attempts = store.queue_attempts("Q1").await.unwrap();
    assert_eq!(
        attempts.last().unwrap().transport.tls_cipher.as_deref(),
        Some("cipher 99")
    );
    assert!(store.delete_queued("Q1").await.unwrap());
    assert!(store.queue_attempts("Q1").await.unwrap().is_empty());
}

on_both_backends!(
    opening_twice_applies_migrations_once,
    remote_attempts_are_kept_bounded_with_their_transport,
    domains_are_normalized_unique_and_removable_only_when_empty,
    new_accounts_get_the_special_use_mailboxes,
    resolution_follows_accounts_tags_aliases_and_catch_alls,
    domain_aliases_keep_the_local_part,
    alias_administration,
    the_queue_delivers_reports_and_forgets_finished_messages,
    queue_administration,
    leases_of_a_dead_node_are_taken_over,
    rates_counted_in_the_store_hold_across_nodes,
    expunge_removes_and_bumps_the_modseq,
    garbage_collection_removes_only_unreferenced_content,
    users_may_send_as_the_addresses_that_reach_them,
    internationalized_domains_match_in_either_form,
    small_content_lives_in_the_database,
    large_content_lives_where_the_backend_keeps_it,
    inline_content_is_collected_across_chunks,
    client_verdicts_are_kept_bounded_and_expire,
    greylisting_passes_a_retry_after_the_delay_and_within_the_window,
    moving_into_and_out_of_junk_notes_spam_and_ham_once,
    a_node_id_is_held_by_one_live_process,
);
