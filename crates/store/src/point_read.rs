//! Point reads on the calling thread: the lookups made for every message
//! (recipient resolution for each RCPT and each delivery, small content
//! by hash) are a few microseconds of SQLite each, less than handing them
//! to a reader thread and waiting for the answer, which is what sqlx's
//! pool does for every statement. They run here on a connection taken
//! from a small idle list, directly on the caller's thread. Only lookups
//! by key belong here; reads that walk a mailbox stay on the sqlx pool.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

use crate::Result;

/// Connections kept for reuse; more are opened while that many are busy
/// and closed when given back to a full list.
const MAX_IDLE: usize = 8;

/// Statements each connection keeps prepared.
const STATEMENT_CACHE: usize = 16;

#[derive(Debug)]
pub(crate) struct PointReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl PointReads {
    pub(crate) fn new(path: &Path) -> PointReads {
        PointReads {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
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

    fn open(&self) -> Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(&self.path, flags)?;
        connection.busy_timeout(crate::BUSY_TIMEOUT)?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(connection)
    }
}
