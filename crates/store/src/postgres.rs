//! The PostgreSQL backend's schema: `migrations/postgres/`, the same tables
//! and columns as SQLite's (held together by the `the_schema_matches_sqlite`
//! test), applied at start under an advisory lock, so that two nodes
//! starting together apply each migration once. The store's methods reach
//! PostgreSQL through the `sql` seam.

pub use crate::bus::{APPLICATION_NAME as BUS_APPLICATION_NAME, CHANNEL as BUS_CHANNEL};

use crate::Result;

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial schema",
        include_str!("../migrations/postgres/0001_initial.sql"),
    ),
    (2, "nodes", include_str!("../migrations/postgres/0002_nodes.sql")),
    (
        3,
        "bytewise text",
        include_str!("../migrations/postgres/0003_bytewise_text.sql"),
    ),
    (
        4,
        "uidvalidity counter start",
        include_str!("../migrations/postgres/0004_uidvalidity_start.sql"),
    ),
    (
        5,
        "maildrop locks",
        include_str!("../migrations/postgres/0005_maildrop_locks.sql"),
    ),
    (
        6,
        "content chunks",
        include_str!("../migrations/postgres/0006_content_chunks.sql"),
    ),
    (
        7,
        "rate counters",
        include_str!("../migrations/postgres/0007_rate_counters.sql"),
    ),
    (8, "acme", include_str!("../migrations/postgres/0008_acme.sql")),
    (9, "quota", include_str!("../migrations/postgres/0009_quota.sql")),
    (
        10,
        "object ids",
        include_str!("../migrations/postgres/0010_object_ids.sql"),
    ),
    (
        11,
        "imap_metadata",
        include_str!("../migrations/postgres/0011_imap_metadata.sql"),
    ),
    (
        12,
        "expunged by modseq",
        include_str!("../migrations/postgres/0012_expunged_modseq.sql"),
    ),
    (
        13,
        "sort keys",
        include_str!("../migrations/postgres/0013_sort_keys.sql"),
    ),
    (
        14,
        "flag indexes",
        include_str!("../migrations/postgres/0014_flag_indexes.sql"),
    ),
    (
        15,
        "meta index",
        include_str!("../migrations/postgres/0015_meta_index.sql"),
    ),
    (
        16,
        "sent date",
        include_str!("../migrations/postgres/0016_sent_date.sql"),
    ),
    (
        17,
        "mta-sts policies",
        include_str!("../migrations/postgres/0017_mta_sts.sql"),
    ),
    (
        18,
        "transport security",
        include_str!("../migrations/postgres/0018_transport_security.sql"),
    ),
    (
        19,
        "tls reports",
        include_str!("../migrations/postgres/0019_tls_reports.sql"),
    ),
    (20, "sieve", include_str!("../migrations/postgres/0020_sieve.sql")),
];

/// The advisory lock every node takes while it migrates ("postamt" and a
/// 1, as a number): PostgreSQL queues the others until it is released.
const MIGRATION_LOCK: i64 = 0x706f_7374_616d_7401;

/// Applies the migrations not applied yet to the database at `url`
/// (`postgres://user@host/db`, or `host=/run/postgresql dbname=...`);
/// returns the versions this call applied.
pub async fn migrate(url: &str) -> Result<Vec<i64>> {
    let (mut client, connection) = crate::sql::pg_tls::connect(url).await?;
    let connection = tokio::spawn(connection);
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let applied = apply(&mut client).await;
    // Closing the connection releases the lock too; this says so sooner.
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    drop(client);
    let _ = connection.await;
    let applied = applied?;
    unlocked?;
    Ok(applied)
}

/// True if the database at `url` holds a store (its migrations table):
/// `store copy` must not make an empty store of a source named wrongly.
pub async fn holds_store(url: &str) -> Result<bool> {
    let (client, connection) = crate::sql::pg_tls::connect(url).await?;
    let connection = tokio::spawn(connection);
    let found = client
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
        .await;
    drop(client);
    let _ = connection.await;
    Ok(found?.get(0))
}

async fn apply(client: &mut tokio_postgres::Client) -> Result<Vec<i64>> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version BIGINT PRIMARY KEY,
                 description TEXT NOT NULL,
                 applied_at BIGINT NOT NULL)",
        )
        .await?;
    let mut applied = Vec::new();
    for &(version, description, sql) in MIGRATIONS {
        let done = client
            .query_opt("SELECT 1 FROM schema_migrations WHERE version = $1", &[&version])
            .await?;
        if done.is_some() {
            continue;
        }
        // Each migration and its record in one transaction: a crash
        // leaves it applied and recorded, or neither.
        let transaction = client.transaction().await?;
        transaction.batch_execute(sql).await?;
        transaction
            .execute(
                "INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)",
                &[&version, &description, &crate::now()],
            )
            .await?;
        transaction.commit().await?;
        tracing::info!(version, description, "applied a PostgreSQL migration");
        applied.push(version);
    }
    Ok(applied)
}
