//! Holds the statements that store messages to plans that find their rows
//! through an index, by the few values that name them: a statement that
//! walks a whole table (SQLite's `EXPLAIN QUERY PLAN` says `SCAN <table>`)
//! or every message of a mailbox (`SEARCH ... (mailbox_id=?)`) costs time
//! in proportion to the mailbox on every message stored, and importing or
//! delivering into a mailbox of 100 000 messages becomes quadratic. That
//! happened once (`object_ids::thread_for`); this keeps it from coming
//! back unseen.
//!
//! While a test watches a store's directory, every statement prepared on
//! a SQLite connection to a database in it is noted (`Db::prepare_cached`
//! calls [`note`]); the test then runs the write paths and asks SQLite for
//! the plan of each statement they prepared. SQLite plans without
//! statistics here (the store never runs ANALYZE), so a small store gets
//! the plans a big one does. PostgreSQL plans by statistics and is not
//! held to this.

use std::sync::Mutex;

/// The directories watched, and the statements noted in each.
static NOTED: Mutex<Vec<(String, Vec<String>)>> = Mutex::new(Vec::new());

/// Notes `sql`, prepared on `connection`, if its database is in a watched
/// directory.
pub(crate) fn note(connection: &rusqlite::Connection, sql: &str) {
    let Some(path) = connection.path() else {
        return;
    };
    let mut noted = NOTED.lock().unwrap_or_else(|e| e.into_inner());
    for (dir, statements) in noted.iter_mut() {
        if path.starts_with(dir.as_str()) && !statements.iter().any(|s| s == sql) {
            statements.push(sql.to_string());
        }
    }
}

mod tests {
    use super::*;
    use crate::sql::Db;
    use crate::{Flags, LocalCopy, MessageFacts, QueueEntry, Store};

    fn watch(dir: &std::path::Path) {
        let dir = dir.to_string_lossy().into_owned();
        NOTED.lock().unwrap().push((dir, Vec::new()));
    }

    fn noted(dir: &std::path::Path) -> Vec<String> {
        let dir = dir.to_string_lossy();
        let noted = NOTED.lock().unwrap();
        noted
            .iter()
            .find(|(d, _)| *d == dir)
            .map(|(_, s)| s.clone())
            .unwrap_or_default()
    }

    /// A message that names many others (its thread's lookup takes the
    /// most ids imf keeps), with a keyword.
    fn message(n: usize) -> (Vec<u8>, Flags) {
        let references: String = (0..30).map(|i| format!(" <{i}.{n}@x.test>")).collect();
        let raw = format!(
            "From: A <a@x.test>\r\nSubject: number {n}\r\nMessage-ID: <m{n}@x.test>\r\n\
             In-Reply-To: <m{}@x.test>\r\nReferences:{references}\r\n\r\nbody {n}\r\n",
            n.saturating_sub(1)
        );
        let flags = Flags {
            system: 0,
            keywords: vec![format!("k{}", n % 2)],
        };
        (raw.into_bytes(), flags)
    }

    /// The plan of `sql`, its lines as SQLite words them; every parameter
    /// NULL (the plan does not depend on the values).
    fn plan(db: &Db, sql: &str) -> crate::Result<Vec<String>> {
        let Db::Sqlite(connection) = db else {
            unreachable!("the test store is SQLite");
        };
        let mut statement = connection.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let nulls = vec![rusqlite::types::Null; statement.parameter_count()];
        let lines = statement
            .query_map(rusqlite::params_from_iter(nulls), |row| row.get::<_, String>(3))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(lines)
    }

    /// Whether a plan line reads a whole table, or every row of one
    /// mailbox: an index searched on `mailbox_id` alone (`messages_modseq`,
    /// `expunged_modseq`, the UID index) finds all its messages, which is
    /// what the slow THREADID lookup did. A table-valued function
    /// (`json_each`, the lists of UIDs the store passes) is no table, and
    /// the one row of a constant is none.
    fn walks(line: &str) -> bool {
        let scan = line.starts_with("SCAN ") && !line.contains("json_each") && line != "SCAN CONSTANT ROW";
        scan || line.contains("(mailbox_id=?)")
    }

    /// APPEND (one message and many), delivery into INBOX and Junk, COPY,
    /// MOVE, REPLACE and EXPUNGE, each run once on a store with a few
    /// messages, then every statement they prepared explained.
    #[tokio::test]
    async fn storing_messages_walks_no_table() {
        let dir = tempfile::tempdir().unwrap();
        watch(dir.path());
        let store = Store::open(dir.path()).await.unwrap();
        store.add_domain("example.test").await.unwrap();
        let alice = store.add_account("alice@example.test", "h").await.unwrap();
        let mailbox = |name: &'static str| {
            let store = &store;
            async move { store.mailbox(alice, name).await.unwrap().unwrap().id }
        };
        let (inbox, junk, archive) = (mailbox("INBOX").await, mailbox("Junk").await, mailbox("Archive").await);

        let mut batch = Vec::new();
        for n in 0..4 {
            let (raw, flags) = message(n);
            let facts = MessageFacts::of(&raw);
            batch.push((store.put_content(raw).await.unwrap(), flags, 1_000_000, facts));
        }
        let (_, uids) = store.append_many(inbox, batch).await.unwrap();
        let (raw, flags) = message(9);
        let facts = MessageFacts::of(&raw);
        let content = store.put_content(raw.clone()).await.unwrap();
        store
            .append(junk, content, flags.clone(), 1_000_000, facts.clone())
            .await
            .unwrap();

        let received = crate::now();
        store
            .enqueue(QueueEntry {
                id: "Q1".into(),
                reverse_path: "sender@elsewhere.test".into(),
                recipients: vec![wire::smtp::Recipient::new("alice@example.test")],
                options: wire::smtp::MessageOptions::default(),
                content: store.put_content(raw.clone()).await.unwrap(),
                received_at: received,
            })
            .await
            .unwrap();
        let due = store.claim_due(received, 10, "test", received + 600).await.unwrap();
        let copies = [crate::CopyTarget::Inbox, crate::CopyTarget::Junk]
            .map(|target| LocalCopy::new(alice, b"Return-Path: <sender@elsewhere.test>\r\n".to_vec(), target));
        store
            .deliver_local(&due[0], &copies, Vec::new(), Vec::new(), None, &facts)
            .await
            .unwrap();

        store.copy_messages(inbox, &uids[..2], archive).await.unwrap();
        store.move_messages(inbox, &uids[2..3], junk).await.unwrap();
        let content = store.put_content(raw).await.unwrap();
        store
            .replace_message(inbox, uids[3], inbox, content, flags, 1_000_000, facts)
            .await
            .unwrap()
            .unwrap();
        store.expunge(archive, &[1]).await.unwrap();

        let statements = noted(dir.path());
        assert!(
            statements.iter().any(|s| s.contains("header_message_id IN")),
            "the THREADID lookup was not run: {statements:#?}"
        );
        let plans = store
            .batched(move |tx| {
                statements
                    .iter()
                    .map(|sql| Ok((plan(tx, sql)?, sql.clone())))
                    .collect::<crate::Result<Vec<_>>>()
            })
            .await
            .unwrap();
        let scans: Vec<String> = plans
            .iter()
            .filter(|(plan, _)| plan.iter().any(|line| walks(line)))
            .map(|(plan, sql)| format!("{sql}\n  {}", plan.join("\n  ")))
            .collect();
        assert!(
            scans.is_empty(),
            "statements that walk a table:\n{}",
            scans.join("\n\n")
        );
    }

    /// What a session reads to catch up after a change (RFC 7162's two
    /// questions) reads the changes, not the mailbox: each selected
    /// session of a big mailbox runs them on every change.
    #[tokio::test]
    async fn catching_up_walks_no_mailbox() {
        let dir = tempfile::tempdir().unwrap();
        watch(dir.path());
        let store = Store::open(dir.path()).await.unwrap();
        store.add_domain("example.test").await.unwrap();
        let alice = store.add_account("alice@example.test", "h").await.unwrap();
        let inbox = store.inbox(alice).await.unwrap().id;
        let (raw, flags) = message(1);
        let facts = MessageFacts::of(&raw);
        let content = store.put_content(raw).await.unwrap();
        store.append(inbox, content, flags, 1_000_000, facts).await.unwrap();
        store.messages_changed_since(inbox, 0).await.unwrap();
        store.expunged_since(inbox, 0).await.unwrap();

        let statements: Vec<String> = noted(dir.path())
            .into_iter()
            .filter(|sql| sql.contains("modseq >"))
            .collect();
        assert_eq!(statements.len(), 2, "{statements:#?}");
        let plans = store
            .batched(move |tx| {
                statements
                    .iter()
                    .map(|sql| plan(tx, sql))
                    .collect::<crate::Result<Vec<_>>>()
            })
            .await
            .unwrap();
        for plan in plans {
            assert!(!plan.iter().any(|line| walks(line)), "{plan:#?}");
        }
    }
}
