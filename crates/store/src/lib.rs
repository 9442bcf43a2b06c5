//! The store is postamt's single source of truth: domains, accounts,
//! aliases, mailboxes, messages and the queue, in SQLite (WAL) or
//! PostgreSQL, with message content immutable and content-addressed: small
//! messages as rows beside the rest, larger ones in the content store
//! (`content`, `content_store`): blob files with SQLite, chunks in
//! PostgreSQL.
//!
//! Durability rule: large content is made durable (a blob file written
//! and fsynced, or its chunks committed in a transaction of their own)
//! before the metadata transaction that references it commits, small
//! content is written in that same transaction, and every commit is
//! synced (`synchronous = FULL`, `synchronous_commit = on`), so a
//! committed row never points at missing content, even after power loss.
//! Frequent writes share commits (`batch`, group commit).
//!
//! Read/write rule, for every method of the store:
//! - A write goes to the one writer: `self.batched(|tx| ..)` (group
//!   commit, on the writer's thread). A read that must agree with the
//!   write it decides (flags before changing them, a UID before taking
//!   it) is made inside that job, on `tx`.
//! - Any other read runs on the store's read connections (`point_read`):
//!   `self.point_reads.read(..)` on the caller's thread for a lookup by
//!   key that answers one row (an account, a mailbox, a blob by hash);
//!   `self.point_reads.scan(..)` on the blocking pool for anything that
//!   walks rows (listings, counts over a mailbox or the queue).
//! - SQL stays inside this crate; callers see only `Store` methods and
//!   plain types, never the database library (rusqlite, the only one), so
//!   a second backend can implement the same methods.

#![forbid(unsafe_code)]

mod accounts;
mod acme;
mod address;
mod aliases;
mod append;
mod backend;
mod backup;
mod batch;
mod blobs;
mod bus;
mod changes;
mod chunks;
mod client_verdicts;
mod content;
mod content_store;
mod copy;
mod copy_rows;
mod copy_schema;
mod copy_verify;
mod dkim;
mod domains;
mod error;
mod filing;
mod flags;
pub mod fuzz;
mod greylist;
mod keywords;
mod mailboxes;
mod maildrop_locks;
mod message_reader;
mod messages;
mod metadata;
mod migrations;
mod modseq;
mod mta_sts;
mod nodes;
mod object_ids;
mod point_read;
pub mod postgres;
mod private;
#[cfg(test)]
mod query_plans;
mod queue;
mod queue_attempts;
mod queue_values;
mod quota;
mod quota_warning;
mod rate_counters;
mod replace;
mod resolve;
mod sieve;
mod spam_training;
mod sql;
mod srs;
mod status;
mod tls_reports;
mod uidvalidity;
mod view_reads;

use std::path::{Path, PathBuf};
use std::time::Duration;

use backend::Backend;

pub use accounts::Account;
pub use acme::AcmeCertificate;
pub use address::{normalize_domain, split_address};
pub use aliases::Alias;
pub use append::Appended;
pub use backend::redact as redact_store_url;
pub use backup::{BackupSummary, restore_backup};
pub use blobs::BlobRef;
pub use changes::{Changes, Event as ChangeEvent};
pub use client_verdicts::ClientVerdict;
pub use content::{Content, INLINE_LIMIT};
pub use copy::CopySummary;
pub use copy_verify::Verified;
pub use dkim::{DkimKey, DkimState, NewDkimKey, SigningKey};
pub use domains::{Domain, is_valid_domain};
pub use error::{DatabaseError, Error};
pub use filing::{CopyTarget, MAX_FILTER_MAILBOXES};
pub use flags::{FlagChange, Flags, keyword_order};
pub use greylist::{Greylisting, Triplet};
pub use metadata::{MetadataDepth, MetadataLimits, MetadataRefusal};
pub use mta_sts::StoredStsPolicy;
pub use sieve::{SieveChange, SieveLimits, SieveRefusal, SieveScriptInfo, StoredSieveScript};
/// The system flag bits of [`Flags::system`].
pub mod flag {
    pub use crate::flags::{ANSWERED, DELETED, DRAFT, FLAGGED, SEEN};
}
pub use mailboxes::{MailboxInfo, MailboxLimits, SEPARATOR, canonical_name};
pub use maildrop_locks::MaildropToken;
pub use message_reader::{MessageReader, StoredMessage};
pub use messages::{MessageContent, MessageFacts, MessageLocation, MessageMeta, SearchContent, SortKeyRow};
pub use nodes::NodeClaim;
pub use queue::{Attempt, EditedContent, LocalCopy, QueueEntry, QueueRecipient, QueuedMessage, Remembered};
pub use queue_attempts::{MAX_ATTEMPTS_KEPT, QueueAttempt, Transport};
pub use queue_values::{RecipientStatus, ReportAction};
pub use quota::{Limit, QuotaLimits, QuotaPolicy, QuotaUsage};
pub use resolve::{Resolution, Target};
pub use spam_training::SpamClass;
pub use srs::{Srs, SrsError};
pub use status::MailboxStatus;
pub use tls_reports::{MAX_FAILURE_ROWS, MAX_POLICY_ROWS, TlsFailure, TlsPolicyCounts, TlsSessionCount, utc_day};
pub use view_reads::Marked;

pub type Result<T, E = Error> = std::result::Result<T, E>;
pub type AccountId = i64;
pub type MailboxId = i64;

/// A handle on the store; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    /// Every read (see `point_read`); SQLite in WAL mode lets them run
    /// beside the writer.
    point_reads: std::sync::Arc<point_read::PointReads>,
    /// The one writer (group commit): writes queue in-process instead of
    /// failing with SQLITE_BUSY; other processes (the CLI) wait on the
    /// busy timeout.
    batcher: batch::Batcher,
    /// Where content larger than [`INLINE_LIMIT`] lives, by backend.
    content: std::sync::Arc<dyn content_store::ContentStore>,
    /// The change bus: the id of every mailbox whose messages changed, for
    /// the sessions that show it (IMAP EXISTS, EXPUNGE, FETCH FLAGS).
    changes: tokio::sync::broadcast::Sender<changes::Change>,
    /// On PostgreSQL, the bus's way to the other nodes (see `bus`).
    bus: Option<bus::Publisher>,
    /// Makes and checks the SRS addresses of forwarded mail, under the
    /// secret kept in the store.
    srs: Srs,
    /// This process among the store's users: the instance of its node
    /// claim once it made one (see `nodes`), a name of its own before.
    instance: std::sync::Arc<std::sync::Mutex<String>>,
    /// The server's quota settings (see `quota`), shared by the clones.
    quota: std::sync::Arc<std::sync::RwLock<quota::QuotaPolicy>>,
}

/// How long a writer waits for another process's write lock.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the store is and how it is reached.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// The node's own files: the SQLite database and the blob files (when
    /// `url` is None; with PostgreSQL all content is there).
    pub data_dir: PathBuf,
    /// A PostgreSQL server shared by the nodes of a cluster
    /// (`postgres://user@host/db`, or `host=/run/postgresql dbname=...`);
    /// None keeps everything in `data_dir`, in SQLite.
    pub url: Option<String>,
    /// PostgreSQL connections for reads at most (the writer has one more).
    pub pool_size: usize,
}

impl StoreOptions {
    /// The embedded default: SQLite in `data_dir`.
    pub fn sqlite(data_dir: &Path) -> StoreOptions {
        StoreOptions {
            data_dir: data_dir.to_path_buf(),
            url: None,
            pool_size: DEFAULT_POOL_SIZE,
        }
    }
}

/// Read connections to PostgreSQL per node unless configured otherwise.
pub const DEFAULT_POOL_SIZE: usize = 16;

impl Store {
    /// Opens (creating if needed) the store in `data_dir`: `postamt.db` and
    /// `blobs/`. Pending schema migrations are applied.
    pub async fn open(data_dir: &Path) -> Result<Store> {
        Store::open_with(&StoreOptions::sqlite(data_dir)).await
    }

    /// Opens the store `options` name, applying pending migrations: in
    /// SQLite, or in PostgreSQL under an advisory lock (see `postgres`).
    pub async fn open_with(options: &StoreOptions) -> Result<Store> {
        let Some(url) = &options.url else {
            return Store::open_sqlite(&options.data_dir).await;
        };
        let data_dir = &options.data_dir;
        private::create_dir(data_dir)?;
        private::restrict(data_dir)?;
        postgres::migrate(url).await?;
        let backend = Backend::Postgres {
            url: url.clone(),
            runtime: sql::pg::PgRuntime::start()?,
        };
        let batcher = batch::Batcher::start(&backend)?;
        let srs_secret = batcher.write(srs::secret).await?;
        let changes = Store::change_bus();
        let Backend::Postgres { runtime, .. } = &backend else {
            unreachable!("made as PostgreSQL above")
        };
        let bus = bus::start(url, runtime, changes.clone()).await?;
        Store::assemble(&backend, batcher, data_dir, &srs_secret, options.pool_size).map(|store| Store {
            bus: Some(bus),
            changes,
            ..store
        })
    }

    async fn open_sqlite(data_dir: &Path) -> Result<Store> {
        private::create_dir(data_dir)?;
        private::restrict(data_dir)?;
        let db_path = data_dir.join("postamt.db");
        // SQLite creates the database with the umask's mode; the WAL and
        // shared-memory files then copy the database's.
        private::touch(&db_path)?;
        for file in ["postamt.db", "postamt.db-wal", "postamt.db-shm"] {
            private::restrict(&data_dir.join(file))?;
        }
        let migrate = db_path.clone();
        let srs_secret = tokio::task::spawn_blocking(move || {
            let mut connection = rusqlite::Connection::open(&migrate)?;
            connection.busy_timeout(BUSY_TIMEOUT)?;
            // WAL is a property of the database file, kept once set.
            connection.pragma_update(None, "journal_mode", "WAL")?;
            connection.pragma_update(None, "synchronous", "FULL")?;
            connection.pragma_update(None, "foreign_keys", "ON")?;
            migrations::apply(&mut connection)?;
            srs::secret(&sql::Db::Sqlite(connection))
        })
        .await
        .map_err(|e| Error::io(data_dir, std::io::Error::other(e)))??;
        let backend = Backend::Sqlite { path: db_path };
        let batcher = batch::Batcher::start(&backend)?;
        Store::assemble(&backend, batcher, data_dir, &srs_secret, DEFAULT_POOL_SIZE)
    }

    /// A store with a change bus of this process only (`bus` adds the
    /// other nodes on PostgreSQL).
    fn assemble(
        backend: &Backend,
        batcher: batch::Batcher,
        data_dir: &Path,
        srs_secret: &[u8],
        pool_size: usize,
    ) -> Result<Store> {
        let point_reads = std::sync::Arc::new(point_read::PointReads::new(backend, pool_size));
        let content: std::sync::Arc<dyn content_store::ContentStore> = match backend {
            Backend::Sqlite { .. } => std::sync::Arc::new(blobs::BlobStore::at(data_dir.join("blobs"))?),
            Backend::Postgres { .. } => std::sync::Arc::new(chunks::ChunkStore::new(point_reads.clone())),
        };
        Ok(Store {
            point_reads,
            batcher,
            content,
            changes: Store::change_bus(),
            bus: None,
            srs: Srs::new(srs_secret),
            instance: std::sync::Arc::new(std::sync::Mutex::new(unclaimed_instance())),
            quota: std::sync::Arc::default(),
        })
    }

    /// True when the store may be shared by several nodes (PostgreSQL):
    /// what each node would count for itself is better counted here.
    pub fn is_shared(&self) -> bool {
        self.bus.is_some()
    }

    /// This process's instance name (see `nodes`).
    pub(crate) fn instance(&self) -> String {
        self.instance.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The local change bus: a listener more than this many changes behind
    /// gets `Lagged` and looks at its mailbox afresh.
    fn change_bus() -> tokio::sync::broadcast::Sender<changes::Change> {
        tokio::sync::broadcast::channel(1024).0
    }

    /// Listens to the change bus: the changes of this store and, on
    /// PostgreSQL, those of the other nodes on its database. A listener
    /// that gets `Lagged` (it fell behind, or other nodes' changes were
    /// lost with the connection that hears them) should look at its
    /// mailbox afresh.
    pub fn changes(&self) -> Changes {
        Changes::new(self.changes.subscribe())
    }

    /// Tells the sessions showing `mailbox` that it changed: those of this
    /// process at once, those of other nodes by the next NOTIFY (`bus`).
    /// Called once the change committed.
    pub(crate) fn announce(&self, mailbox: MailboxId) {
        self.publish(changes::Change::Mailbox(mailbox));
    }

    /// Tells the sessions following `account`'s mailbox list (NOTIFY,
    /// RFC 5465 §5.4-§5.7) that mailboxes were created, deleted or
    /// renamed, or subscriptions or METADATA entries changed; as
    /// [`Store::announce`].
    pub(crate) fn announce_account(&self, account: AccountId) {
        self.publish(changes::Change::Account(account));
    }

    fn publish(&self, change: changes::Change) {
        let _ = self.changes.send(change);
        if let Some(bus) = &self.bus {
            bus.publish(change);
        }
    }

    /// Group commit so far: (commits, writes they carried).
    pub fn commit_stats(&self) -> (u64, u64) {
        self.batcher.stats()
    }

    /// Runs `job` as part of the next group commit (see `batch`): it shares
    /// a transaction, and its fsync, with the writes queued beside it. It
    /// is queued when called; the future returns once it is durable. Every
    /// write of the store goes this way. A job may run more than once (on
    /// PostgreSQL, when it met another node's lock; see `batch`), each time
    /// from a clean slate, so it must not consume what it captured. Jobs run on the writer thread, so
    /// they do no more than their SQL (and, for garbage collection, the
    /// removal of a blob file).
    fn batched<T, F>(&self, job: F) -> impl std::future::Future<Output = Result<T>> + Send + use<T, F>
    where
        T: Send + 'static,
        F: FnMut(&sql::Db) -> Result<T> + Send + 'static,
    {
        self.batcher.write(job)
    }

    /// Removes content no row references any more: inline rows at once
    /// (content is only ever inserted together with its first reference),
    /// and stored content older than `min_age`, each checked and removed
    /// inside a write transaction, so content being stored concurrently
    /// is never lost (how each content store makes sure of it:
    /// [`content_store::ContentStore::remove`]).
    pub async fn collect_garbage(&self, min_age: Duration) -> Result<usize> {
        let mut removed = self.collect_inline_garbage().await? as usize;
        let candidates = self.content.older_than(min_age).await?;
        for hash in candidates {
            let content = self.content.clone();
            // Alone in its transaction: in a shared batch it could see a
            // reference already deleted by a job that then rolls back, with
            // the content gone for good.
            let gone = self
                .batcher
                .write_alone(move |tx| {
                    let unreferenced = |tx: &sql::Db| -> Result<bool> {
                        let referenced: bool = tx
                            .prepare_cached(
                                "SELECT EXISTS (SELECT 1 FROM messages WHERE blob_hash = $1)
                                     OR EXISTS (SELECT 1 FROM queue_messages WHERE blob_hash = $1)",
                            )?
                            .query_row([&hash], |row| row.get(0))?;
                        Ok(!referenced)
                    };
                    content.remove(tx, &hash, min_age, &unreferenced)
                })
                .await?;
            removed += usize::from(gone);
        }
        Ok(removed)
    }
}

/// The instance name of a store handle before its node claim: unique in
/// this process and across processes, and never a live node's.
fn unclaimed_instance() -> String {
    static OPENED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = OPENED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("unclaimed:{}:{n}", std::process::id())
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The durability rule rests on the writer's own connection: asked
    /// through the batcher, as every write goes, it is in WAL mode with
    /// `synchronous = FULL` (2). With NORMAL, SQLite syncs the log only at
    /// checkpoints, so a commit (and the 250 sent after it) could be lost
    /// with the power; a connection opened here afresh would show SQLite's
    /// default, not what the writer runs with.
    #[tokio::test]
    async fn the_writer_syncs_every_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let (synchronous, journal_mode) = store
            .batched(|c| {
                let synchronous: i64 = c.query_row("PRAGMA synchronous", (), |row| row.get(0))?;
                let journal_mode: String = c.query_row("PRAGMA journal_mode", (), |row| row.get(0))?;
                Ok((synchronous, journal_mode))
            })
            .await
            .unwrap();
        assert_eq!(synchronous, 2, "the writer's PRAGMA synchronous is not FULL");
        assert_eq!(journal_mode, "wal");
    }

    /// On PostgreSQL a commit is durable when it returns only with
    /// `synchronous_commit = on`; the writer says so itself, so a database
    /// (or server) set to `off` cannot weaken the 250 sent after a commit.
    #[tokio::test]
    async fn the_postgres_writer_waits_for_every_commit_to_be_flushed() {
        let Some(url) = test_postgres::fresh_database() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let database = url.rsplit_once("dbname=").unwrap().1.to_string();
        let mut options = StoreOptions::sqlite(dir.path());
        options.url = Some(url);
        let store = Store::open_with(&options).await.unwrap();
        store
            .batched(move |c| c.execute_batch(&format!("ALTER DATABASE {database} SET synchronous_commit = off")))
            .await
            .unwrap();
        drop(store);
        let store = Store::open_with(&options).await.unwrap();
        let synchronous: String = store
            .batched(|c| c.query_row("SHOW synchronous_commit", (), |row| row.get(0)))
            .await
            .unwrap();
        assert_eq!(synchronous, "on", "the writer's synchronous_commit");
    }
}
