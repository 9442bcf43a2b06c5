//! Every read of the store, on read-only rusqlite connections of our own
//! (the rule is at the top of `lib.rs`), without a hand-off per statement
//! and per row as an async pool makes.
//!
//! Point reads, the lookups made for every message (recipient resolution
//! for each RCPT and each delivery, small content by hash), are a few
//! microseconds of SQLite each, less than any hand-off: they run directly
//! on the caller's thread. Scans, which walk a mailbox (IMAP FETCH and
//! SEARCH), run on tokio's blocking pool: one hand-off there and back for
//! the whole answer.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};

use crate::{Error, Result};

/// Connections kept for reuse; more are opened while that many are busy
/// and closed when given back to a full list.
const MAX_IDLE: usize = 8;

/// Scans running at once at most (each holds a connection and a thread of
/// the blocking pool); point reads add at most one per runtime thread.
const MAX_SCANS: usize = 8;

/// Statements each connection keeps prepared.
const STATEMENT_CACHE: usize = 16;

#[derive(Debug)]
pub(crate) struct PointReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    scans: tokio::sync::Semaphore,
}

impl PointReads {
    pub(crate) fn new(path: &Path) -> PointReads {
        PointReads {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            scans: tokio::sync::Semaphore::new(MAX_SCANS),
        }
    }

    /// Runs `read` on a read-only connection of its own. Each statement is
    /// its own read transaction: use one statement per consistent answer.
    pub(crate) fn read<T>(&self, read: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let connection = match idle {
            Some(connection) => connection,
            None => self.open()?,
        };
        let answer = read(&connection);
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(connection);
        }
        answer
    }

    /// Runs `read`, which walks many rows, on the blocking pool.
    pub(crate) async fn scan<T>(
        self: &Arc<Self>,
        read: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T>
    where
        T: Send + 'static,
    {
        // The semaphore is never closed.
        let _permit = self.scans.acquire().await.map_err(|_| Error::ReadAbandoned)?;
        let reads = self.clone();
        match tokio::task::spawn_blocking(move || reads.read(read)).await {
            Ok(answer) => answer,
            // A panic in the read is the caller's, as if it had run here.
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            // The runtime is shutting down.
            Err(_) => Err(Error::ReadAbandoned),
        }
    }

    fn open(&self) -> Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(&self.path, flags)?;
        connection.busy_timeout(crate::BUSY_TIMEOUT)?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(connection)
    }
}
