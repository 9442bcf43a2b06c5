//! What only the PostgreSQL backend has, against a real PostgreSQL (the
//! `test-postgres` crate): migrations that two nodes starting together
//! apply once, and a schema with the same tables and columns as SQLite's,
//! so that one set of queries serves both.

use std::collections::BTreeSet;

#[tokio::test]
async fn two_nodes_starting_together_apply_each_migration_once() {
    let Some(url) = test_postgres::fresh_database() else {
        return;
    };
    let (first, second) = tokio::join!(store::postgres::migrate(&url), store::postgres::migrate(&url));
    let mut applied = first.expect("first node");
    applied.extend(second.expect("second node"));
    assert_eq!(
        applied,
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
        "one node applied the migrations, the other found them done"
    );
    assert_eq!(store::postgres::migrate(&url).await.unwrap(), Vec::<i64>::new());
}

#[tokio::test]
async fn the_schema_matches_sqlite() {
    let Some(url) = test_postgres::fresh_database() else {
        return;
    };
    store::postgres::migrate(&url).await.unwrap();
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let columns: BTreeSet<(String, String)> = client
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = 'public'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();

    let dir = tempfile::tempdir().unwrap();
    drop(store::Store::open(dir.path()).await.unwrap());
    let sqlite = rusqlite::Connection::open(dir.path().join("postamt.db")).unwrap();
    let tables: Vec<String> = sqlite
        .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut expected = BTreeSet::new();
    for table in tables {
        let mut info = sqlite.prepare(&format!("PRAGMA table_info({table})")).unwrap();
        for column in info.query_map([], |row| row.get::<_, String>(1)).unwrap() {
            expected.insert((table.clone(), column.unwrap()));
        }
    }
    let missing: Vec<_> = expected.difference(&columns).collect();
    let extra: Vec<_> = columns.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "PostgreSQL lacks {missing:?} and has more {extra:?}: a SQLite migration needs its PostgreSQL twin"
    );
}

/// A write that meets another node's row lock does not wait for it to the
/// end (nor for PostgreSQL's deadlock check): it gives up after the
/// writer's short lock wait and runs again in the next batch, until the
/// other transaction has committed. Here the other node is a connection
/// of the test's own, holding alice's row for 600 ms: many times the wait.
#[tokio::test(flavor = "multi_thread")]
async fn a_write_that_meets_another_nodes_lock_runs_again_until_it_is_free() {
    let Some(url) = test_postgres::fresh_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut options = store::StoreOptions::sqlite(dir.path());
    options.url = Some(url.clone());
    let store = store::Store::open_with(&options).await.unwrap();
    store.add_domain("example.test").await.unwrap();
    store.add_account("alice@example.test", "old").await.unwrap();

    let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let other = client.transaction().await.unwrap();
    other
        .execute("SELECT 1 FROM accounts WHERE local_part = 'alice' FOR UPDATE", &[])
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let write = tokio::spawn({
        let store = store.clone();
        async move { store.set_password("alice@example.test", "new").await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    other.commit().await.unwrap();
    write
        .await
        .unwrap()
        .expect("the write ran again once the lock was free");
    assert!(started.elapsed() >= std::time::Duration::from_millis(600));
    let account = store.find_account("alice@example.test").await.unwrap().unwrap();
    assert_eq!(account.password_hash, "new");
}

/// Over TCP the store's connections use TLS when the URL asks, and verify
/// the server's certificate: against the CA named by `sslrootcert` they
/// connect (the server sees TLS on each), without it (the system's CAs
/// do not know the test CA) the store does not open.
#[tokio::test(flavor = "multi_thread")]
async fn connections_over_tls_verify_the_server() {
    let Some(server) = test_postgres::server() else { return };
    let url = server.database();
    let name = url.rsplit_once("dbname=").unwrap().1.to_string();
    let dir = tempfile::tempdir().unwrap();
    let mut options = store::StoreOptions::sqlite(dir.path());
    options.url = Some(server.tls_url(&name));
    let store = store::Store::open_with(&options)
        .await
        .expect("a store over verified TLS");
    store.add_domain("example.test").await.unwrap();
    assert_eq!(store.list_domains().await.unwrap().len(), 1);

    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let (encrypted, plain): (i64, i64) = {
        let row = client
            .query_one(
                "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl)
                 FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
                 WHERE a.datname = $1 AND a.pid <> pg_backend_pid()",
                &[&name],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert!(
        encrypted >= 2,
        "the writer and the change bus at least: {encrypted} over TLS"
    );
    assert_eq!(plain, 0, "a connection of the store without TLS");

    let unverified = server
        .tls_url(&name)
        .replace(&format!("sslrootcert={}", server.ca_file().display()), "");
    options.url = Some(unverified);
    let refused = store::Store::open_with(&options).await.map(drop).unwrap_err();
    assert!(refused.to_string().to_lowercase().contains("certificate"), "{refused}");
}
