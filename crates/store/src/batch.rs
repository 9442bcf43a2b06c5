//! Group commit: write jobs from many tasks share one transaction, so one
//! fsync makes a whole batch durable instead of one fsync per job.
//!
//! One writer task takes the jobs waiting in its queue (up to
//! [`MAX_BATCH`]), runs each inside a SAVEPOINT of one `BEGIN IMMEDIATE`
//! transaction, commits, and only then answers each job's caller. While it
//! commits, new jobs wait and form the next batch, so batches grow with the
//! load and a lone job is committed at once: no timer, no added latency.
//! A job that fails is rolled back to its savepoint and gets its own error;
//! the others in the batch go on. If the commit fails, every job that had
//! succeeded gets that error, and none was acknowledged before.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::SqliteConnection;
use sqlx::sqlite::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use crate::{Error, Result};

/// Jobs per transaction at most, so that one transaction stays short.
const MAX_BATCH: usize = 256;

/// What a job returns: a future borrowing the writer connection.
pub(crate) type BoxFuture<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;

/// Called once the batch's fate is known: `None` when it committed, else
/// the error that made it fail.
type Finish = Box<dyn FnOnce(Option<&Arc<Error>>) + Send>;

/// A job runs on the writer connection inside its savepoint and says
/// whether it succeeded, and how to tell its caller.
type Job = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, (bool, Finish)> + Send>;

/// The handle write jobs are sent through; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Batcher {
    jobs: mpsc::UnboundedSender<Job>,
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
    /// Starts the writer task on `writer`. It ends when the last handle is
    /// dropped.
    pub(crate) fn start(writer: SqlitePool) -> Batcher {
        let (jobs, queue) = mpsc::unbounded_channel();
        let stats = Arc::new(Stats::default());
        tokio::spawn(run(writer, queue, stats.clone()));
        Batcher { jobs, stats }
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
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |connection| {
            Box::pin(async move {
                let result = job(connection).await;
                let succeeded = result.is_ok();
                let finish: Finish = Box::new(move |failed_commit| {
                    let result = match (result, failed_commit) {
                        (Ok(_), Some(error)) => Err(Error::Shared(error.clone())),
                        (result, _) => result,
                    };
                    let _ = answer.send(result);
                });
                (succeeded, finish)
            })
        });
        let sent = self.jobs.send(job);
        async move {
            sent.map_err(|_| Error::WriteAbandoned)?;
            answered.await.map_err(|_| Error::WriteAbandoned)?
        }
    }
}

async fn run(writer: SqlitePool, mut queue: mpsc::UnboundedReceiver<Job>, stats: Arc<Stats>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let jobs = batch.len() as u64;
        // Each batch runs as a task of its own: should a job panic, its
        // batch is lost (the transaction rolls back, its callers get
        // WriteAbandoned) but the writer lives on for the next one.
        let batch = std::mem::take(&mut batch);
        match tokio::spawn(commit_batch(writer.clone(), batch)).await {
            Ok(true) => {
                stats.commits.fetch_add(1, Ordering::Relaxed);
                stats.jobs.fetch_add(jobs, Ordering::Relaxed);
            }
            Ok(false) => {}
            Err(error) => tracing::error!(%error, jobs, "a batch of writes panicked"),
        }
    }
}

/// Runs and commits one batch; true if it committed.
async fn commit_batch(writer: SqlitePool, batch: Vec<Job>) -> bool {
    let mut tx = match crate::begin_immediate(&writer).await {
        Ok(tx) => tx,
        Err(error) => {
            // Dropping the jobs answers their callers with WriteAbandoned;
            // say why once, here.
            tracing::error!(%error, jobs = batch.len(), "cannot start a write transaction");
            return false;
        }
    };
    let mut finishes = Vec::with_capacity(batch.len());
    let jobs = batch.len();
    // Each statement is a round trip to sqlx's SQLite thread, so the
    // savepoint bookkeeping between two jobs goes in one: RELEASE the last
    // job's savepoint and open the next one's. COMMIT releases the last.
    if let Err(error) = sqlx::raw_sql("SAVEPOINT job").execute(&mut *tx).await {
        return abandon(finishes, error.into());
    }
    for (index, job) in batch.into_iter().enumerate() {
        let (succeeded, finish) = job(&mut tx).await;
        finishes.push(finish);
        let next = match (succeeded, index + 1 == jobs) {
            (true, true) => continue,
            (true, false) => "RELEASE job; SAVEPOINT job",
            (false, true) => "ROLLBACK TO job",
            (false, false) => "ROLLBACK TO job; RELEASE job; SAVEPOINT job",
        };
        if let Err(error) = sqlx::raw_sql(next).execute(&mut *tx).await {
            return abandon(finishes, error.into());
        }
    }
    match tx.commit().await {
        Ok(()) => {
            finishes.into_iter().for_each(|finish| finish(None));
            true
        }
        Err(error) => abandon(finishes, error.into()),
    }
}

/// Fails the jobs that ran (the transaction rolls back when dropped); jobs
/// not yet run are dropped, which answers them with WriteAbandoned.
fn abandon(finishes: Vec<Finish>, error: Error) -> bool {
    tracing::error!(%error, "a batch of writes failed");
    let error = Arc::new(error);
    finishes.into_iter().for_each(|finish| finish(Some(&error)));
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

    /// A database with one connection and a table `t (n)`.
    async fn table_t() -> (tempfile::TempDir, SqlitePool) {
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("t.db"))
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER)").execute(&pool).await.unwrap();
        (dir, pool)
    }

    /// A job that panics loses its batch, not the writer.
    #[tokio::test]
    async fn the_writer_survives_a_panicking_job() {
        let (_dir, pool) = table_t().await;
        let batcher = Batcher::start(pool.clone());
        let panicked = batcher
            .write(|tx| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO t (n) VALUES (1)").execute(&mut *tx).await?;
                    panic!("a bug in a job");
                    #[allow(unreachable_code)]
                    Ok(())
                })
            })
            .await;
        assert!(matches!(panicked, Err(Error::WriteAbandoned)), "{panicked:?}");
        let written = batcher
            .write(|tx| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO t (n) VALUES (2)").execute(&mut *tx).await?;
                    Ok(2)
                })
            })
            .await;
        assert_eq!(written.unwrap(), 2);
        let stored: Vec<i64> = sqlx::query_scalar("SELECT n FROM t").fetch_all(&pool).await.unwrap();
        assert_eq!(stored, vec![2], "the panicked batch rolled back");
    }

    /// Jobs queued while the writer is busy commit together, and a job that
    /// fails is rolled back alone. The test runs on one thread, so the
    /// spawned writes are all queued before the writer is let go.
    #[tokio::test]
    async fn queued_jobs_share_one_commit_and_a_failure_stays_its_own() {
        let (_dir, pool) = table_t().await;
        let batcher = Batcher::start(pool.clone());
        // Hold the only connection: the writer waits, the jobs queue up.
        let held = pool.acquire().await.unwrap();
        let mut writes = Vec::new();
        for n in 0..50_i64 {
            let batcher = batcher.clone();
            writes.push(tokio::spawn(async move {
                batcher
                    .write(move |tx| {
                        Box::pin(async move {
                            sqlx::query("INSERT INTO t (n) VALUES ($1)")
                                .bind(n)
                                .execute(&mut *tx)
                                .await?;
                            // One failure in the middle, one at the end.
                            if n == 7 || n == 49 {
                                return Err(Error::NoSuchMailbox(n.to_string()));
                            }
                            Ok(n)
                        })
                    })
                    .await
            }));
        }
        tokio::task::yield_now().await;
        drop(held);
        for (n, write) in writes.into_iter().enumerate() {
            match write.await.unwrap() {
                Ok(answer) => assert_eq!(answer, n as i64),
                Err(Error::NoSuchMailbox(failed)) => assert_eq!(failed, n.to_string()),
                Err(e) => panic!("write {n} failed: {e}"),
            }
        }
        let stored: Vec<i64> = sqlx::query_scalar("SELECT n FROM t ORDER BY n")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(stored, (0..49).filter(|&n| n != 7).collect::<Vec<_>>());
        let (commits, jobs) = batcher.stats();
        assert_eq!(jobs, 50);
        assert!(commits <= 2, "50 queued jobs took {commits} commits");
    }
}
