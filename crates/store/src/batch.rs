//! Group commit: write jobs from many tasks share one transaction, so one
//! fsync makes a whole batch durable instead of one fsync per job.
//!
//! One writer thread owns the write connection. It takes the jobs waiting
//! in its queue (up to [`MAX_BATCH`]), runs each inside a SAVEPOINT of one
//! `BEGIN IMMEDIATE` transaction, commits, and only then answers each
//! job's caller. While it commits, new jobs wait and form the next batch,
//! so batches grow with the load and a lone job is committed at once: no
//! timer, no added latency. A job that fails is rolled back to its
//! savepoint and gets its own error; the others in the batch go on. If the
//! commit fails, every job that had succeeded gets that error, and none
//! was acknowledged before.
//!
//! The writer never checkpoints the WAL itself: a checkpoint copies the
//! log into the database and syncs it, tens of milliseconds during which
//! the batch that triggered it (and every job queued behind) would wait.
//! A checkpoint thread of its own does it instead, after commits, at
//! most every [`CHECKPOINT_INTERVAL`], without blocking the writer
//! (PASSIVE: it copies what no reader still needs).
//!
//! Jobs are plain functions run on that thread against a connection
//! (`sql::Db`): every statement is a function call, where an async driver
//! would hand each one to a worker thread and back (those hand-offs were
//! the largest cost of local delivery; see bench/RESULTS.md).
//!
//! With several nodes on PostgreSQL, two writers can each hold a row the
//! other's batch needs next (two INBOXes, taken in opposite orders): a
//! deadlock, which PostgreSQL breaks only after a second. So the writer's
//! connection waits at most `LOCK_WAIT` for a row lock; a job that meets
//! another node's lock (or is chosen as a deadlock's victim) is rolled
//! back to its savepoint and runs again at the head of the next batch,
//! after this one has committed and let go of its own locks. That is why
//! jobs are `FnMut`: they may run more than once, each time from the
//! start, in a fresh savepoint.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::backend::Backend;
use crate::sql::Db;
use crate::{Error, Result};

/// Jobs per transaction at most, so that one transaction stays short.
const MAX_BATCH: usize = 256;

/// The WAL is checkpointed at most this often while writes go on, so the
/// log stays short without a checkpoint (and its syncs) per commit.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(200);

/// Called once the batch's fate is known: `None` when it committed, else
/// the error that made it fail.
type Finish = Box<dyn FnOnce(Option<&Arc<Error>>) + Send>;

/// A job runs on the writer connection inside its savepoint and says how
/// it went, and how to tell its caller; or that it met another node's lock
/// and must run again in the next batch.
type Job = Box<dyn FnMut(&Db) -> Ran + Send>;

enum Ran {
    Done(Outcome, Finish),
    Again,
}

/// Times a job that meets other nodes' locks runs at most; then it fails
/// with the lock's error (a temporary failure for its caller). With a wait
/// of `backend::LOCK_WAIT` each, about ten seconds.
const MAX_TRIES: u32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Succeeded,
    Failed,
    /// Failed for want of space (or a read-only disk): SQLite may have
    /// rolled the whole transaction back with it.
    FailedStorageFull,
}

/// A job as queued: `alone` jobs get a transaction of their own.
struct Queued {
    job: Job,
    alone: bool,
}

/// The handle write jobs are sent through; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Batcher {
    jobs: mpsc::UnboundedSender<Queued>,
    stats: Arc<Stats>,
}

/// What group commit achieved so far: jobs committed and the commits they
/// took (jobs per commit is the batching factor).
#[derive(Debug, Default)]
struct Stats {
    commits: AtomicU64,
    jobs: AtomicU64,
}

impl Batcher {
    /// Opens the write connection to the database and starts the writer
    /// thread on it. The thread ends when the last handle is dropped.
    pub(crate) fn start(backend: &Backend) -> Result<Batcher> {
        let connection = backend.open_writer()?;
        let (jobs, queue) = mpsc::unbounded_channel();
        let stats = Arc::new(Stats::default());
        let committed = match backend {
            Backend::Sqlite { .. } => Some(start_checkpoints(backend)?),
            // PostgreSQL checkpoints by itself.
            Backend::Postgres { .. } => None,
        };
        let writer = Writer {
            connection,
            backend: backend.clone(),
            stats: stats.clone(),
            committed,
        };
        std::thread::Builder::new()
            .name("postamt-writer".into())
            .spawn(move || writer.run(queue))
            .map_err(|e| backend.io_error(e))?;
        Ok(Batcher { jobs, stats })
    }

    pub(crate) fn stats(&self) -> (u64, u64) {
        (
            self.stats.commits.load(Ordering::Relaxed),
            self.stats.jobs.load(Ordering::Relaxed),
        )
    }

    /// Queues `job` for the next batch at once, when called, so writes
    /// commit in the order they were asked for; the future answers with
    /// its result once the batch has committed (durably: the store syncs
    /// every commit).
    pub(crate) fn write<T, F>(&self, job: F) -> impl Future<Output = Result<T>> + Send + use<T, F>
    where
        T: Send + 'static,
        F: FnMut(&Db) -> Result<T> + Send + 'static,
    {
        self.queue(job, false)
    }

    /// Like [`Batcher::write`], but `job` runs in a transaction of its own:
    /// for a job with an effect outside the database (garbage collection
    /// deleting a blob file), which must not depend on what other jobs in
    /// its batch did, since their rollback could not undo it.
    pub(crate) fn write_alone<T, F>(&self, job: F) -> impl Future<Output = Result<T>> + Send + use<T, F>
    where
        T: Send + 'static,
        F: FnMut(&Db) -> Result<T> + Send + 'static,
    {
        self.queue(job, true)
    }

    fn queue<T, F>(&self, job: F, alone: bool) -> impl Future<Output = Result<T>> + Send + use<T, F>
    where
        T: Send + 'static,
        F: FnMut(&Db) -> Result<T> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let mut answer = Some(answer);
        let mut job = job;
        let mut tries = 0;
        let job: Job = Box::new(move |connection| {
            let result = job(connection);
            tries += 1;
            if let Err(error) = &result
                && error.is_lock_conflict()
                && tries < MAX_TRIES
            {
                return Ran::Again;
            }
            let answer = answer.take();
            let outcome = match &result {
                Ok(_) => Outcome::Succeeded,
                Err(error) if error.is_storage_full() => Outcome::FailedStorageFull,
                Err(_) => Outcome::Failed,
            };
            let finish: Finish = Box::new(move |failed_commit| {
                let result = match (result, failed_commit) {
                    (Ok(_), Some(error)) => Err(Error::Shared(error.clone())),
                    (result, _) => result,
                };
                if let Some(answer) = answer {
                    let _ = answer.send(result);
                }
            });
            Ran::Done(outcome, finish)
        });
        let sent = self.jobs.send(Queued { job, alone });
        async move {
            sent.map_err(|_| Error::WriteAbandoned)?;
            answered.await.map_err(|_| Error::WriteAbandoned)?
        }
    }
}

/// Starts the checkpoint thread on a connection of its own; it checkpoints
/// after the commits it is told of, and ends with the writer.
fn start_checkpoints(backend: &Backend) -> Result<SyncSender<()>> {
    let connection = backend.open_writer()?;
    // One pending notice is enough: it means "there were commits".
    let (committed, commits) = sync_channel(1);
    std::thread::Builder::new()
        .name("postamt-checkpoint".into())
        .spawn(move || checkpoint_after(connection, commits))
        .map_err(|e| backend.io_error(e))?;
    Ok(committed)
}

fn checkpoint_after(connection: Db, commits: Receiver<()>) {
    while commits.recv().is_ok() {
        // (busy, frames in the log, frames checkpointed); a busy or
        // partial checkpoint is finished by a later one.
        let checkpoint = connection
            .prepare_cached("PRAGMA wal_checkpoint(PASSIVE)")
            .and_then(|mut statement| statement.query_row((), |_| Ok(())));
        if let Err(error) = checkpoint {
            tracing::warn!(%error, "checkpointing the write-ahead log failed");
        }
        std::thread::sleep(CHECKPOINT_INTERVAL);
    }
}

struct Writer {
    connection: Db,
    backend: Backend,
    stats: Arc<Stats>,
    /// Tells SQLite's checkpoint thread of commits.
    committed: Option<SyncSender<()>>,
}

impl Writer {
    fn run(mut self, mut queue: mpsc::UnboundedReceiver<Queued>) {
        // Jobs to run again (they met another node's lock) come first.
        let mut again: VecDeque<Queued> = VecDeque::new();
        let mut next = None;
        loop {
            let first = match again.pop_front().or_else(|| next.take()) {
                Some(first) => first,
                None => match queue.blocking_recv() {
                    Some(first) => first,
                    None => break,
                },
            };
            let alone = first.alone;
            let mut batch = Vec::with_capacity(MAX_BATCH);
            batch.push(first);
            while !alone && batch.len() < MAX_BATCH {
                let queued = match again.pop_front() {
                    Some(queued) => queued,
                    None => match queue.try_recv() {
                        Ok(queued) => queued,
                        Err(_) => break,
                    },
                };
                // It starts the next batch, with nothing beside it.
                if queued.alone {
                    next = Some(queued);
                    break;
                }
                batch.push(queued);
            }
            let jobs = batch.len() as u64;
            // Should a job panic, its batch is lost (the transaction rolls
            // back below, the dropped jobs answer WriteAbandoned) but the
            // writer lives on for the next one.
            match catch_unwind(AssertUnwindSafe(|| commit_batch(&self.connection, batch, &self.stats))) {
                Ok((committed, to_run_again)) => {
                    // Full means a notice is pending already.
                    if committed && let Some(notice) = &self.committed {
                        let _ = notice.try_send(());
                    }
                    again.extend(to_run_again);
                }
                Err(_) => tracing::error!(jobs, "a batch of writes panicked"),
            }
            self.leave_transaction();
        }
    }

    /// Makes sure the connection is outside any transaction before the next
    /// batch: after a panic or a failed ROLLBACK (as when the disk is full)
    /// it could be left inside one, and every later write would fail. If
    /// rolling back does not get it out (or the connection to PostgreSQL
    /// was lost), a fresh connection replaces it (a database rolls back
    /// what a closed connection left open).
    fn leave_transaction(&mut self) {
        if !self.connection.in_transaction() || self.connection.rollback().is_ok() {
            return;
        }
        tracing::warn!("replacing a database connection left inside a failed transaction");
        match self.backend.open_writer() {
            Ok(connection) => self.connection = connection,
            Err(error) => tracing::error!(%error, "cannot reopen the database for writing"),
        }
    }
}

/// Runs one statement through the statement cache.
fn run(connection: &Db, sql: &str) -> Result<()> {
    connection.prepare_cached(sql)?.execute(())?;
    Ok(())
}

/// Runs and commits one batch; true if it committed, and the jobs to run
/// again in the next batch.
fn commit_batch(connection: &Db, batch: Vec<Queued>, stats: &Stats) -> (bool, Vec<Queued>) {
    let mut again = Vec::new();
    let started = std::time::Instant::now();
    if let Err(error) = connection.begin() {
        // Dropping the jobs answers their callers with WriteAbandoned; say
        // why once, here.
        tracing::error!(%error, jobs = batch.len(), "cannot start a write transaction");
        return (false, again);
    }
    let mut finishes = Vec::with_capacity(batch.len());
    for mut queued in batch {
        if let Err(error) = run(connection, "SAVEPOINT job") {
            return (abandon(connection, finishes, error), again);
        }
        let (outcome, finish) = match (queued.job)(connection) {
            Ran::Done(outcome, finish) => (outcome, finish),
            Ran::Again => {
                let undone = run(connection, "ROLLBACK TO job").and_then(|()| run(connection, "RELEASE job"));
                again.push(queued);
                if let Err(error) = undone {
                    return (abandon(connection, finishes, error), again);
                }
                continue;
            }
        };
        finishes.push(finish);
        if outcome != Outcome::Succeeded && !connection.in_transaction() {
            // The failure rolled the whole transaction back (SQLite does so
            // on a full disk, among others): the jobs before it are lost.
            let code = match outcome {
                Outcome::FailedStorageFull => rusqlite::ffi::SQLITE_FULL,
                _ => rusqlite::ffi::SQLITE_ABORT,
            };
            let error = rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                Some("a write in the same batch failed and took the batch with it".into()),
            );
            return (abandon(connection, finishes, error.into()), again);
        }
        let ended = if outcome == Outcome::Succeeded {
            run(connection, "RELEASE job")
        } else {
            run(connection, "ROLLBACK TO job").and_then(|()| run(connection, "RELEASE job"))
        };
        if let Err(error) = ended {
            return (abandon(connection, finishes, error), again);
        }
    }
    match connection.commit() {
        Ok(()) => {
            // Counted before the callers hear of it, so they see it counted.
            metrics::STORE_COMMIT.observe(started.elapsed());
            stats.commits.fetch_add(1, Ordering::Relaxed);
            stats.jobs.fetch_add(finishes.len() as u64, Ordering::Relaxed);
            finishes.into_iter().for_each(|finish| finish(None));
            (true, again)
        }
        Err(error) => (abandon(connection, finishes, error), again),
    }
}

/// Rolls the batch back and fails the jobs that ran; jobs not yet run are
/// dropped, which answers them with WriteAbandoned.
fn abandon(connection: &Db, finishes: Vec<Finish>, error: Error) -> bool {
    tracing::error!(%error, "a batch of writes failed");
    let _ = connection.rollback();
    let error = Arc::new(error);
    finishes.into_iter().for_each(|finish| finish(Some(&error)));
    false
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    /// A database with a table `t (n)` and a writer on it.
    fn table_t() -> (tempfile::TempDir, PathBuf, Batcher) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER)")
            .unwrap();
        let batcher = Batcher::start(&Backend::Sqlite { path: path.clone() }).unwrap();
        (dir, path, batcher)
    }

    /// A job that holds the writer until the sender is used, so that the
    /// jobs queued meanwhile share a batch (with it, or after it).
    fn hold_writer(batcher: &Batcher) -> (std::sync::mpsc::Sender<()>, impl Future<Output = Result<()>> + use<>) {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let holding = batcher.write(move |_| {
            held.recv().unwrap();
            Ok(())
        });
        (release, holding)
    }

    fn insert(n: i64) -> impl FnMut(&Db) -> Result<()> + Send + 'static {
        move |tx| {
            tx.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
            Ok(())
        }
    }

    fn stored(path: &Path) -> Vec<i64> {
        let connection = rusqlite::Connection::open(path).unwrap();
        let mut select = connection.prepare("SELECT n FROM t ORDER BY n").unwrap();
        select
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// A job that panics loses its batch, not the writer.
    #[tokio::test]
    async fn the_writer_survives_a_panicking_job() {
        let (_dir, path, batcher) = table_t();
        let panicked = batcher
            .write(|tx| {
                tx.execute("INSERT INTO t (n) VALUES (1)", ())?;
                panic!("a bug in a job");
                #[allow(unreachable_code)]
                Ok(())
            })
            .await;
        assert!(matches!(panicked, Err(Error::WriteAbandoned)), "{panicked:?}");
        let written = batcher
            .write(|tx| {
                tx.execute("INSERT INTO t (n) VALUES (2)", ())?;
                Ok(2)
            })
            .await;
        assert_eq!(written.unwrap(), 2);
        assert_eq!(stored(&path), vec![2], "the panicked batch rolled back");
    }

    /// When a failing job took the whole transaction down with it (SQLite
    /// rolls back on a full disk), the jobs before it fail with what it
    /// failed of, so a full disk is still told as one.
    #[tokio::test]
    async fn a_failure_that_rolls_the_batch_back_fails_the_jobs_before_it() {
        let (_dir, path, batcher) = table_t();
        let (release, gate) = hold_writer(&batcher);
        let first = batcher.write(insert(1));
        let failing = batcher.write(|tx| -> Result<()> {
            // What SQLite does by itself when the disk fills up.
            tx.execute_batch("ROLLBACK")?;
            let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
            Err(Error::io(Path::new("t.db"), full))
        });
        release.send(()).unwrap();
        let _ = gate.await;
        let first = first.await.unwrap_err();
        assert!(first.is_storage_full(), "{first}");
        assert!(failing.await.unwrap_err().is_storage_full());
        assert_eq!(stored(&path), Vec::<i64>::new());
        // The writer goes on.
        batcher.write(insert(2)).await.unwrap();
        assert_eq!(stored(&path), vec![2]);
    }

    /// A job queued to run alone shares its transaction with no other: the
    /// jobs queued before it commit first, those after it next.
    #[tokio::test]
    async fn a_job_queued_alone_gets_a_transaction_of_its_own() {
        let (_dir, path, batcher) = table_t();
        let (release, first) = hold_writer(&batcher);
        let before = batcher.write(insert(1));
        let alone = batcher.write_alone(insert(2));
        let after = batcher.write(insert(3));
        release.send(()).unwrap();
        first.await.unwrap();
        before.await.unwrap();
        alone.await.unwrap();
        after.await.unwrap();
        assert_eq!(stored(&path), vec![1, 2, 3]);
        // Without the alone job the four would take one or two commits.
        let (commits, jobs) = batcher.stats();
        assert_eq!(jobs, 4);
        assert!(commits >= 3, "the alone job shared a commit: {commits} commits");
    }

    /// The checkpoint thread copies the log into the database file while
    /// the writer goes on: the writer itself never checkpoints, so the file
    /// would not grow while it is open without that thread.
    #[tokio::test]
    async fn commits_reach_the_database_file_through_the_checkpoint_thread() {
        let (_dir, path, batcher) = table_t();
        let before = std::fs::metadata(&path).unwrap().len();
        batcher
            .write(|tx| {
                let mut insert = tx.prepare_cached("INSERT INTO t (n) VALUES (?1)")?;
                for n in 0..10_000_i64 {
                    insert.execute([n])?;
                }
                Ok(())
            })
            .await
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::fs::metadata(&path).unwrap().len() <= before {
            assert!(std::time::Instant::now() < deadline, "no checkpoint within 10 s");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Jobs queued while the writer is busy commit together, and a job that
    /// fails is rolled back alone. The first job holds the writer until all
    /// the others are queued.
    #[tokio::test]
    async fn queued_jobs_share_one_commit_and_a_failure_stays_its_own() {
        let (_dir, path, batcher) = table_t();
        let (release, held) = std::sync::mpsc::channel::<()>();
        let first = batcher.write(move |_| {
            held.recv().unwrap();
            Ok(-1)
        });
        let writes: Vec<_> = (0..50_i64)
            .map(|n| {
                batcher.write(move |tx| {
                    tx.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
                    // One failure in the middle, one at the end.
                    if n == 7 || n == 49 {
                        return Err(Error::NoSuchMailbox(n.to_string()));
                    }
                    Ok(n)
                })
            })
            .collect();
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap(), -1);
        for (n, write) in writes.into_iter().enumerate() {
            match write.await {
                Ok(answer) => assert_eq!(answer, n as i64),
                Err(Error::NoSuchMailbox(failed)) => assert_eq!(failed, n.to_string()),
                Err(e) => panic!("write {n} failed: {e}"),
            }
        }
        assert_eq!(stored(&path), (0..49).filter(|&n| n != 7).collect::<Vec<_>>());
        let (commits, jobs) = batcher.stats();
        assert_eq!(jobs, 51);
        assert!(commits <= 2, "51 queued jobs took {commits} commits");
    }
}
