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
    (23, "quota", include_str!("../migrations/0023_quota.sql")),
    (24, "object ids", include_str!("../migrations/0024_object_ids.sql")),
    (
        25,
        "imap_metadata",
        include_str!("../migrations/0025_imap_metadata.sql"),
    ),
    (
        26,
        "expunged by modseq",
        include_str!("../migrations/0026_expunged_modseq.sql"),
    ),
    (27, "sort keys", include_str!("../migrations/0027_sort_keys.sql")),
    (28, "flag indexes", include_str!("../migrations/0028_flag_indexes.sql")),
    (29, "meta index", include_str!("../migrations/0029_meta_index.sql")),
    (30, "sent date", include_str!("../migrations/0030_sent_date.sql")),
    (31, "mta-sts policies", include_str!("../migrations/0031_mta_sts.sql")),
    (
        32,
        "transport security",
        include_str!("../migrations/0032_transport_security.sql"),
    ),
    (33, "tls reports", include_str!("../migrations/0033_tls_reports.sql")),
    (34, "sieve", include_str!("../migrations/0034_sieve.sql")),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Migration 24 fills what rows stored before it lack: a MAILBOXID
    /// each, one EMAILID for the copies of one content in one account (as
    /// COPY would have given them) but not across accounts, a THREADID, and
    /// the internal date as save date.
    #[test]
    fn object_ids_are_filled_for_existing_rows() {
        let connection = Connection::open_in_memory().unwrap();
        for &(version, _, sql) in MIGRATIONS.iter().filter(|(version, _, _)| *version < 24) {
            connection
                .execute_batch(sql)
                .unwrap_or_else(|e| panic!("migration {version}: {e}"));
        }
        connection
            .execute_batch(
                "INSERT INTO domains (id, name, created_at) VALUES (1, 'example.test', 0);
                 INSERT INTO accounts (id, domain_id, local_part, password_hash, created_at)
                     VALUES (1, 1, 'alice', 'h', 0), (2, 1, 'bob', 'h', 0);
                 INSERT INTO mailboxes (id, account_id, name, uidvalidity) VALUES
                     (1, 1, 'INBOX', 1), (2, 1, 'Archive', 2), (3, 2, 'INBOX', 3);
                 INSERT INTO messages (id, mailbox_id, uid, modseq, blob_hash, trace_headers, size, internal_date)
                     VALUES (1, 1, 1, 1, 'aaa', x'', 3, 1000),
                            (2, 2, 1, 1, 'aaa', x'', 3, 2000),
                            (3, 1, 2, 1, 'bbb', x'', 3, 3000),
                            (4, 3, 1, 1, 'aaa', x'', 3, 4000);",
            )
            .unwrap();
        connection
            .execute_batch(include_str!("../migrations/0024_object_ids.sql"))
            .unwrap();
        let mailbox_ids: Vec<String> = connection
            .prepare("SELECT object_id FROM mailbox_info ORDER BY id")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(mailbox_ids.len(), 3);
        assert!(mailbox_ids.iter().all(|id| id.len() == 25 && id.starts_with('M')));
        assert!(mailbox_ids[0] != mailbox_ids[1] && mailbox_ids[1] != mailbox_ids[2]);
        let rows: Vec<(String, String, i64)> = connection
            .prepare("SELECT email_id, thread_id, save_date FROM messages ORDER BY id")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows[0].0, rows[1].0, "a copy in the same account shares the EMAILID");
        assert_ne!(rows[0].0, rows[2].0, "other content has its own");
        assert_ne!(rows[0].0, rows[3].0, "another account's copy has its own");
        assert!(
            rows.iter()
                .all(|(email, thread, _)| email.starts_with('E') && thread.starts_with('T'))
        );
        assert_eq!(
            rows.iter().map(|row| row.2).collect::<Vec<_>>(),
            [1000, 2000, 3000, 4000],
            "the internal date stands in for the save date"
        );
    }
}
