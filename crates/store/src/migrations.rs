//! Versioned schema migrations. Each runs once, in its own transaction, in
//! order; the versions applied are recorded in `schema_migrations`.

use sqlx::SqlitePool;

use crate::Result;

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial schema", include_str!("../migrations/0001_initial.sql")),
    (
        2,
        "envelope options",
        include_str!("../migrations/0002_envelope_options.sql"),
    ),
    (
        3,
        "delivery reports",
        include_str!("../migrations/0003_delivery_reports.sql"),
    ),
    (4, "imap", include_str!("../migrations/0004_imap.sql")),
    (5, "recent", include_str!("../migrations/0005_recent.sql")),
    (6, "stored header", include_str!("../migrations/0006_stored_header.sql")),
    (7, "search fields", include_str!("../migrations/0007_search_fields.sql")),
    (8, "inline blobs", include_str!("../migrations/0008_inline_blobs.sql")),
    (
        9,
        "uidvalidity counter",
        include_str!("../migrations/0009_uidvalidity.sql"),
    ),
    (
        10,
        "subscriptions",
        include_str!("../migrations/0010_subscriptions.sql"),
    ),
];

pub(crate) async fn apply(pool: &SqlitePool) -> Result<()> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY,
             description TEXT NOT NULL,
             applied_at INTEGER NOT NULL)",
    )
    .execute(pool)
    .await?;
    for &(version, description, sql) in MIGRATIONS {
        // BEGIN IMMEDIATE: two processes starting at once apply each
        // migration once; the second sees the first one's row.
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        let applied: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)")
            .bind(version)
            .fetch_one(&mut *tx)
            .await?;
        if !applied {
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)")
                .bind(version)
                .bind(description)
                .bind(crate::now())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    Ok(())
}
