//! The change bus across nodes: two stores on one PostgreSQL database, as
//! two nodes of a cluster would have, each with its own data directory.
//! What one changes reaches the other's listeners (LISTEN/NOTIFY), and a
//! lost bus connection comes back and tells them to look afresh. PostgreSQL
//! only: on SQLite the bus stays within the process.

mod support;

use std::time::Duration;

use store::{Changes, FlagChange, Flags, MailboxId, MessageFacts, Store, StoreOptions};
use support::{Backend, Place};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

/// Two stores on one database, and alice's INBOX and Archive in it.
struct Nodes {
    a: Store,
    b: Store,
    inbox: MailboxId,
    archive: MailboxId,
    place: Place,
    _b_dir: tempfile::TempDir,
}

/// None (the reason printed) without PostgreSQL.
async fn two_nodes() -> Option<Nodes> {
    if !Backend::Postgres.available() {
        return None;
    }
    let place = Backend::Postgres.place();
    let a = place.open().await;
    let b_dir = tempfile::tempdir().unwrap();
    let b = Store::open_with(&StoreOptions {
        data_dir: b_dir.path().to_path_buf(),
        ..place.options.clone()
    })
    .await
    .expect("open the second node's store");
    a.add_domain("example.test").await.unwrap();
    a.add_account("alice@example.test", "hash").await.unwrap();
    let alice = b.find_account("alice@example.test").await.unwrap().unwrap().id;
    let inbox = b.inbox(alice).await.unwrap().id;
    let archive = b.mailbox(alice, "Archive").await.unwrap().unwrap().id;
    Some(Nodes {
        a,
        b,
        inbox,
        archive,
        place,
        _b_dir: b_dir,
    })
}

/// A small message (kept in the database, which both nodes share).
async fn append(store: &Store, mailbox: MailboxId) -> i64 {
    let content = store.put_content(b"Subject: hi\r\n\r\nhi\r\n".to_vec()).await.unwrap();
    let (_, uid) = store
        .append(mailbox, content, Flags::default(), 0, MessageFacts::default())
        .await
        .unwrap();
    uid
}

/// The next thing `changes` hears, which must come within `within`.
async fn next(changes: &mut Changes, within: Duration) -> Result<MailboxId, RecvError> {
    tokio::time::timeout(within, changes.recv())
        .await
        .unwrap_or_else(|_| panic!("no change heard within {within:?}"))
}

const ONE_SECOND: Duration = Duration::from_secs(1);

/// An append, a flag change and an expunge on node A are each heard on
/// node B within a second, and B then reads what A wrote.
#[tokio::test]
async fn changes_on_one_node_reach_the_other_within_a_second() {
    let Some(nodes) = two_nodes().await else {
        return;
    };
    let (a, b, inbox) = (&nodes.a, &nodes.b, nodes.inbox);
    let mut heard = b.changes();

    let uid = append(a, inbox).await;
    assert_eq!(next(&mut heard, ONE_SECOND).await, Ok(inbox), "the append");
    let messages = b.message_list(inbox).await.unwrap();
    assert_eq!(messages.iter().map(|m| m.uid).collect::<Vec<_>>(), [uid]);

    let flagged = Flags::from_names(&["\\Flagged"]);
    a.store_flags(inbox, &[uid], FlagChange::Add, &flagged, None)
        .await
        .unwrap();
    assert_eq!(next(&mut heard, ONE_SECOND).await, Ok(inbox), "the flag change");
    assert!(b.message_list(inbox).await.unwrap()[0].flags.has(store::flag::FLAGGED));

    a.expunge(inbox, &[uid]).await.unwrap();
    assert_eq!(next(&mut heard, ONE_SECOND).await, Ok(inbox), "the expunge");
    assert!(b.message_list(inbox).await.unwrap().is_empty());
}

/// NOTIFY's mailbox list events (RFC 5465 §5.6, §5.7) cross nodes too:
/// a CREATE, RENAME, DELETE and SUBSCRIBE on node A are each heard on node
/// B as a change of the account, which mailbox listeners (IDLE's `recv`)
/// pass over.
#[tokio::test]
async fn mailbox_list_changes_reach_the_other_node_as_account_changes() {
    let Some(nodes) = two_nodes().await else {
        return;
    };
    let (a, b) = (&nodes.a, &nodes.b);
    let alice = b.find_account("alice@example.test").await.unwrap().unwrap().id;
    let mut heard = b.changes();
    let mut mailbox_listener = b.changes();
    let limits = store::MailboxLimits {
        max_name: 100,
        max_mailboxes: 100,
    };
    a.create_mailbox(alice, "Lists", limits).await.unwrap();
    a.rename_mailbox(alice, "Lists", "Lists2", limits).await.unwrap();
    a.set_subscribed(alice, "Lists2", true, limits).await.unwrap();
    a.delete_mailbox(alice, "Lists2").await.unwrap();
    for what in ["create", "rename", "subscribe", "delete"] {
        let event = tokio::time::timeout(ONE_SECOND, heard.recv_event())
            .await
            .unwrap_or_else(|_| panic!("the {what} was not heard within a second"));
        assert_eq!(event, Ok(store::ChangeEvent::Account(alice)), "the {what}");
    }
    append(a, nodes.inbox).await;
    assert_eq!(
        next(&mut mailbox_listener, ONE_SECOND).await,
        Ok(nodes.inbox),
        "mailbox listeners hear only the append"
    );
}

/// A node's bus connection hears the node's own NOTIFY too; the store
/// leaves those out, having told its listeners at once. PostgreSQL hands
/// each listener the notices in commit order, so once A hears B's later
/// change, its own earlier notice has come and gone.
#[tokio::test]
async fn a_node_hears_its_own_changes_once() {
    let Some(nodes) = two_nodes().await else {
        return;
    };
    let mut a_heard = nodes.a.changes();
    let mut b_heard = nodes.b.changes();
    append(&nodes.a, nodes.inbox).await;
    assert_eq!(a_heard.try_recv(), Ok(nodes.inbox), "told at once, locally");
    assert_eq!(next(&mut b_heard, ONE_SECOND).await, Ok(nodes.inbox));
    append(&nodes.b, nodes.archive).await;
    assert_eq!(
        next(&mut a_heard, Duration::from_secs(5)).await,
        Ok(nodes.archive),
        "B's change, and nothing before it"
    );
    assert_eq!(a_heard.try_recv(), Err(TryRecvError::Empty));
}

/// Ends the bus connections of the nodes on this database (found by their
/// application_name); how many there were.
async fn terminate_bus_connections(url: &str) -> usize {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE application_name = $1 AND datname = current_database()",
            &[&store::postgres::BUS_APPLICATION_NAME],
        )
        .await
        .unwrap()
        .len()
}

/// When the bus connections are ended (as a server restart would), each
/// store opens its own again and tells its listeners to look afresh
/// (`Lagged`: whatever other nodes changed meanwhile was not heard); then
/// changes cross as before.
#[tokio::test]
async fn a_lost_bus_connection_comes_back_and_listeners_look_afresh() {
    let Some(nodes) = two_nodes().await else {
        return;
    };
    let mut a_heard = nodes.a.changes();
    let mut b_heard = nodes.b.changes();
    let url = nodes.place.options.url.clone().unwrap();
    assert_eq!(terminate_bus_connections(&url).await, 2, "one bus connection per node");
    for heard in [&mut a_heard, &mut b_heard] {
        let resync = next(heard, Duration::from_secs(5)).await;
        assert!(matches!(resync, Err(RecvError::Lagged(_))), "{resync:?}");
    }
    append(&nodes.a, nodes.inbox).await;
    assert_eq!(next(&mut b_heard, ONE_SECOND).await, Ok(nodes.inbox));
    append(&nodes.b, nodes.archive).await;
    assert_eq!(
        next(&mut a_heard, ONE_SECOND).await,
        Ok(nodes.inbox),
        "its own, locally"
    );
    assert_eq!(next(&mut a_heard, ONE_SECOND).await, Ok(nodes.archive));
}
