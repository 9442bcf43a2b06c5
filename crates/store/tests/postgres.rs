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
        [1, 2, 3, 4, 5, 6],
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
