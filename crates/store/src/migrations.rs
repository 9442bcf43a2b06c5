//! Versioned schema migrations. Each runs once, in its own transaction, in
//! order; the versions applied are recorded in `schema_migrations`.

use rusqlite::{Connection, TransactionBehavior};

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
    (11, "dkim keys", include_str!("../migrations/0011_dkim_keys.sql")),
    (12, "junk delivery", include_str!("../migrations/0012_junk.sql")),
    (13, "secrets", include_str!("../migrations/0013_secrets.sql")),
    (
        14,
        "client verdicts",
        include_str!("../migrations/0014_client_verdicts.sql"),
    ),
    (15, "greylist", include_str!("../migrations/0015_greylist.sql")),
    (16, "spam filing", include_str!("../migrations/0016_spam_filing.sql")),
    (
        17,
        "spam training",
        include_str!("../migrations/0017_spam_training.sql"),
    ),
    (18, "nodes", include_str!("../migrations/0018_nodes.sql")),
    (
        19,
        "maildrop locks",
        include_str!("../migrations/0019_maildrop_locks.sql"),
    ),
    (
        20,
        "content chunks",
        include_str!("../migrations/0020_content_chunks.sql"),
    ),
    (
        21,
        "rate counters",
        include_str!("../migrations/0021_rate_counters.sql"),
    ),
    (22, "acme", include_str!("../migrations/0022_acme.sql")),
    (24, "object ids", include_str!("../migrations/0024_object_ids.sql")),
];

/// Applies the migrations not applied yet, on a connection of its own
/// (blocking: it runs once, while the store opens).
pub(crate) fn apply(connection: &mut Connection) -> Result<()> {
    connection.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY,
             description TEXT NOT NULL,
             applied_at INTEGER NOT NULL)",
    )?;
    for &(version, description, sql) in MIGRATIONS {
        // BEGIN IMMEDIATE: two processes starting at once apply each
        // migration once; the second sees the first one's row.
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let applied: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)",
            [version],
            |row| row.get(0),
        )?;
        if !applied {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)",
                (version, description, crate::now()),
            )?;
        }
        tx.commit()?;
    }
    Ok(())
}
