//! Where the store's database is, and how its connections are opened:
//! SQLite in the data directory (the default), or a PostgreSQL server
//! shared by the nodes of a cluster (`[store] url`).

use std::path::PathBuf;

use rusqlite::OpenFlags;

use crate::sql::Db;
use crate::sql::pg::PgRuntime;
use crate::{Error, Result};

/// Prepared statements each SQLite connection keeps: every statement the
/// store writes fits in the writer's; readers need fewer.
const SQLITE_WRITER_STATEMENTS: usize = 128;
const SQLITE_READER_STATEMENTS: usize = 16;

/// What every PostgreSQL connection of the store runs with. A commit is
/// durable when it returns (`synchronous_commit = on`, PostgreSQL's
/// default, said again so that a server configured otherwise cannot
/// weaken the 250 we answer after it); a statement never waits for a
/// lock longer than a write would wait for SQLite's.
const POSTGRES_SETTINGS: &str = "SET synchronous_commit = on; SET lock_timeout = '30s'; SET TIME ZONE 'UTC'";

/// The writer's wait for a row lock another node holds, at most: then its
/// job runs again in the next batch (see `batch`), instead of two nodes'
/// batches waiting for each other until PostgreSQL's deadlock check (a
/// second) cancels one.
const POSTGRES_WRITER_SETTINGS: &str = "SET synchronous_commit = on; SET lock_timeout = '100ms'; SET TIME ZONE 'UTC'";

#[derive(Debug, Clone)]
pub(crate) enum Backend {
    Sqlite { path: PathBuf },
    Postgres { url: String, runtime: PgRuntime },
}

impl Backend {
    /// A connection for writing (the writer's, SQLite's checkpointer's):
    /// for SQLite every commit and checkpoint synced (the durability rule),
    /// foreign keys enforced, and other processes' write locks (the CLI's)
    /// waited for.
    pub(crate) fn open_writer(&self) -> Result<Db> {
        match self {
            Backend::Sqlite { path } => {
                let connection = rusqlite::Connection::open(path)?;
                connection.busy_timeout(crate::BUSY_TIMEOUT)?;
                connection.pragma_update(None, "synchronous", "FULL")?;
                connection.pragma_update(None, "foreign_keys", "ON")?;
                // Each job runs in a savepoint, so the statements inside it
                // keep their undo records in its sub-journal. That journal
                // stays a temporary file (SQLite's default past 64 KiB), not
                // memory: SQLite truncates an in-memory one, at the end of
                // every statement, by walking its 1 KiB chunks from the
                // start, so a job of many statements (an import's 500
                // messages) cost time quadratic in its size; a file's
                // truncation is one system call.
                connection.pragma_update(None, "temp_store", "FILE")?;
                // Checkpoints are the checkpoint thread's (see `batch`).
                connection.pragma_update(None, "wal_autocheckpoint", 0)?;
                connection.set_prepared_statement_cache_capacity(SQLITE_WRITER_STATEMENTS);
                Ok(Db::Sqlite(connection))
            }
            Backend::Postgres { url, runtime } => Ok(Db::Postgres(runtime.connect(url, POSTGRES_WRITER_SETTINGS)?)),
        }
    }

    /// A connection for reading; SQLite's are read-only.
    pub(crate) fn open_reader(&self) -> Result<Db> {
        match self {
            Backend::Sqlite { path } => {
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let connection = rusqlite::Connection::open_with_flags(path, flags)?;
                connection.busy_timeout(crate::BUSY_TIMEOUT)?;
                connection.set_prepared_statement_cache_capacity(SQLITE_READER_STATEMENTS);
                Ok(Db::Sqlite(connection))
            }
            Backend::Postgres { url, runtime } => Ok(Db::Postgres(runtime.connect(url, POSTGRES_SETTINGS)?)),
        }
    }

    /// Where the database is, for messages: a path, or the URL without
    /// its password.
    pub(crate) fn describe(&self) -> String {
        match self {
            Backend::Sqlite { path } => path.display().to_string(),
            Backend::Postgres { url, .. } => redact(url),
        }
    }

    pub(crate) fn io_error(&self, error: std::io::Error) -> Error {
        Error::io(std::path::Path::new(&self.describe()), error)
    }
}

/// `url` with any password replaced by `***`.
pub fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((credentials, host)) = rest.split_once('@')
        && let Some((user, _password)) = credentials.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer's sub-journals stay files (see `open_writer`): with
    /// `temp_store = MEMORY` a 100 000-message import spent most of its
    /// time in SQLite walking the in-memory journal's chunks.
    #[test]
    fn the_writer_keeps_statement_journals_in_files() {
        let dir = tempfile::tempdir().unwrap();
        let backend = Backend::Sqlite {
            path: dir.path().join("test.db"),
        };
        let Db::Sqlite(connection) = backend.open_writer().unwrap() else {
            unreachable!("a SQLite backend opens SQLite connections")
        };
        let temp_store: i64 = connection.query_row("PRAGMA temp_store", [], |row| row.get(0)).unwrap();
        assert_eq!(temp_store, 1, "PRAGMA temp_store: 1 is FILE");
    }
}
