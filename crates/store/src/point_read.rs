//! Every read of the store, on connections of our own (the rule is at the
//! top of `lib.rs`), without a hand-off per statement and per row as an
//! async pool makes.
//!
//! Point reads, the lookups made for every message (recipient resolution
//! for each RCPT and each delivery, small content by hash), are a few
//! microseconds of SQLite each, less than any hand-off: they run directly
//! on the caller's thread. Scans, which walk a mailbox (IMAP FETCH and
//! SEARCH), run on tokio's blocking pool: one hand-off there and back for
//! the whole answer.
//!
//! With PostgreSQL a point read is a network round trip, waited for on the
//! caller's thread like SQLite's few microseconds (see `sql::pg`), and the
//! connections are bounded: at most `pool_size` at once, a read waiting
//! for one to come back beyond that.

use std::sync::{Arc, Condvar, Mutex};

use crate::backend::Backend;
use crate::sql::Db;
use crate::{Error, Result};

/// Connections kept for reuse; more are opened while that many are busy
/// and closed when given back to a full list.
const MAX_IDLE: usize = 8;

/// Scans running at once at most (each holds a connection and a thread of
/// the blocking pool); point reads add at most one per runtime thread.
const MAX_SCANS: usize = 8;

#[derive(Debug)]
pub(crate) struct PointReads {
    backend: Backend,
    idle: Mutex<Pool>,
    /// Signalled when a connection comes back.
    returned: Condvar,
    /// Connections open at once at most; None for SQLite, whose
    /// connections are files, not server processes.
    limit: Option<usize>,
    scans: tokio::sync::Semaphore,
}

#[derive(Debug, Default)]
struct Pool {
    idle: Vec<Db>,
    /// Connections open, idle or in use.
    open: usize,
}

impl PointReads {
    pub(crate) fn new(backend: &Backend, pool_size: usize) -> PointReads {
        let limit = match backend {
            Backend::Sqlite { .. } => None,
            Backend::Postgres { .. } => Some(pool_size.max(1)),
        };
        PointReads {
            backend: backend.clone(),
            idle: Mutex::new(Pool::default()),
            returned: Condvar::new(),
            limit,
            scans: tokio::sync::Semaphore::new(MAX_SCANS),
        }
    }

    /// Where the connections go (for `backup`, which reads the SQLite
    /// file itself).
    pub(crate) fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Runs `read` on a connection of its own (read-only, for SQLite). Each
    /// statement is its own read transaction: use one statement per
    /// consistent answer.
    pub(crate) fn read<T>(&self, read: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        let connection = self.take()?;
        let answer = read(&connection);
        let mut pool = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        // A PostgreSQL connection that broke is not given out again.
        let usable = !matches!(&connection, Db::Postgres(c) if c.is_closed());
        if usable && pool.idle.len() < MAX_IDLE.max(self.limit.unwrap_or(0)) {
            pool.idle.push(connection);
        } else {
            pool.open -= 1;
        }
        drop(pool);
        self.returned.notify_one();
        answer
    }

    /// An idle connection, a new one, or (at the limit) the next one given
    /// back.
    fn take(&self) -> Result<Db> {
        let mut pool = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(connection) = pool.idle.pop() {
                return Ok(connection);
            }
            if self.limit.is_none_or(|limit| pool.open < limit) {
                pool.open += 1;
                drop(pool);
                return self.backend.open_reader().inspect_err(|_| {
                    self.idle.lock().unwrap_or_else(|e| e.into_inner()).open -= 1;
                });
            }
            pool = self.returned.wait(pool).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Runs `read`, which walks many rows, on the blocking pool.
    pub(crate) async fn scan<T>(self: &Arc<Self>, read: impl FnOnce(&Db) -> Result<T> + Send + 'static) -> Result<T>
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

    /// Runs `write` in a transaction of its own on a pool connection, on
    /// the blocking pool, committed (durably: `synchronous_commit = on`)
    /// before the answer: for content put into PostgreSQL (`chunks`),
    /// which must be committed before the metadata that refers to it and,
    /// being large, must not hold the writer meanwhile. PostgreSQL only:
    /// SQLite's read connections are read-only.
    pub(crate) async fn write_apart<T>(
        self: &Arc<Self>,
        write: impl FnOnce(&Db) -> Result<T> + Send + 'static,
    ) -> Result<T>
    where
        T: Send + 'static,
    {
        self.scan(move |db| {
            db.begin()?;
            match write(db) {
                Ok(answer) => {
                    db.commit()?;
                    Ok(answer)
                }
                Err(error) => {
                    // A connection that cannot roll back is broken, and is
                    // not given out again (see `read`).
                    let _ = db.rollback();
                    Err(error)
                }
            }
        })
        .await
    }
}
