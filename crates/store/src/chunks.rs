//! Message content in PostgreSQL: the content store of a store on
//! PostgreSQL, shared by every node of a cluster. A content is a row of
//! `chunked_content` (hash, size, when it was last put) and its bytes are
//! rows of `content_chunks`, at most [`CHUNK`] each, so that a large
//! message goes in and comes out a chunk at a time and no single value
//! (nor the memory to send or receive it) is the size of the message.
//!
//! A put is committed in a transaction of its own, on a connection of the
//! read pool (`PointReads::write_apart`), before the metadata transaction
//! that refers to it: so a 50 MB put does not hold the writer, and its
//! rows are durable before any reference to them is (the durability rule
//! in `lib.rs`; every connection commits with `synchronous_commit = on`).
//!
//! Garbage collection against concurrent writers, which may be other
//! nodes with writers of their own (so SQLite's single-writer argument
//! does not carry over), rests on the row lock on `chunked_content`:
//! - the metadata transaction that is about to refer to content first
//!   reads its row `FOR SHARE` (`exists`); the lock is held until that
//!   transaction ends;
//! - garbage collection first locks the row `FOR UPDATE`, re-checking its
//!   age, and only then looks for references, in a statement of its own.
//!
//! The two locks conflict, so one transaction waits for the other to end.
//! If the referring transaction got there first, the collector's next
//! statement (READ COMMITTED takes a new snapshot per statement) sees the
//! committed reference and keeps the content. If the collector got there
//! first and deleted the row, the waiting `FOR SHARE` finds no row once it
//! may go on (PostgreSQL skips a row its concurrent locker deleted,
//! "Read Committed Isolation Level", PostgreSQL documentation 13.2.1), and
//! the write fails with `MissingBlob` rather than commit a dangling
//! reference. A put of content that is already there refreshes its
//! `created_at` with an UPDATE, which the same lock orders against the
//! collector: it either sees the collector's delete (and writes the
//! content afresh) or makes the row too young for the collector's
//! re-checked `FOR UPDATE`.
//!
//! The statements here run on PostgreSQL only (`FOR SHARE`, `FOR UPDATE`);
//! SQLite has the same tables, empty, for one schema.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, ReadBuf};

use crate::blobs::sha256_hex;
use crate::content_store::{Boxed, ContentRead, ContentReader, ContentStore};
use crate::point_read::PointReads;
use crate::sql::{Db, OptionalExtension, params};
use crate::{BlobRef, Error, Result};

/// The largest chunk: 1 MiB.
pub(crate) const CHUNK: usize = 1 << 20;

#[derive(Debug, Clone)]
pub(crate) struct ChunkStore {
    reads: Arc<PointReads>,
}

impl ChunkStore {
    pub(crate) fn new(reads: Arc<PointReads>) -> ChunkStore {
        ChunkStore { reads }
    }
}

impl ContentStore for ChunkStore {
    fn put(&self, data: Vec<u8>) -> Boxed<'static, Result<BlobRef>> {
        let reads = self.reads.clone();
        Box::pin(async move { reads.write_apart(move |db| put_chunks(db, &data)).await })
    }

    fn open(&self, hash: &str) -> Boxed<'static, Result<(ContentReader, u64)>> {
        let (reads, hash) = (self.reads.clone(), hash.to_string());
        Box::pin(async move {
            let size: Option<i64> = reads.read(|db| {
                db.query_row("SELECT size FROM chunked_content WHERE hash = $1", [&hash], |row| {
                    row.get(0)
                })
                .optional()
            })?;
            let Some(size) = size else {
                return Err(Error::MissingBlob(hash));
            };
            let size = u64::try_from(size).unwrap_or(0);
            let reader = ChunkReader {
                reads,
                hash: hash.into(),
                size,
                fetched: 0,
                next_seq: 0,
                chunk: io::Cursor::new(Vec::new()),
                fetching: None,
            };
            Ok((Box::new(reader) as ContentReader, size))
        })
    }

    /// Holds the row `FOR SHARE` until `tx` ends (see the module's
    /// comment).
    fn exists(&self, tx: &Db, hash: &str) -> Result<bool> {
        Ok(tx
            .query_row(
                "SELECT size FROM chunked_content WHERE hash = $1 FOR SHARE",
                [hash],
                |row| row.get::<i64>(0),
            )
            .optional()?
            .is_some())
    }

    /// Locks the row `FOR UPDATE` (still old enough) before asking for
    /// references; the chunks go with the row (`ON DELETE CASCADE`).
    fn remove(
        &self,
        tx: &Db,
        hash: &str,
        min_age: Duration,
        unreferenced: &dyn Fn(&Db) -> Result<bool>,
    ) -> Result<bool> {
        let locked = tx
            .query_row(
                "SELECT size FROM chunked_content WHERE hash = $1 AND created_at <= $2 FOR UPDATE",
                params![hash, cutoff(min_age)],
                |row| row.get::<i64>(0),
            )
            .optional()?;
        if locked.is_none() || !unreferenced(tx)? {
            return Ok(false);
        }
        tx.execute("DELETE FROM chunked_content WHERE hash = $1", [hash])?;
        Ok(true)
    }

    fn older_than(&self, min_age: Duration) -> Boxed<'static, Result<Vec<String>>> {
        let reads = self.reads.clone();
        Box::pin(async move {
            reads
                .scan(move |db| {
                    db.prepare_cached("SELECT hash FROM chunked_content WHERE created_at <= $1")?
                        .query_map([cutoff(min_age)], |row| row.get(0))?
                        .collect()
                })
                .await
        })
    }
}

/// The `created_at` at or before which content is `min_age` old.
fn cutoff(min_age: Duration) -> i64 {
    crate::now().saturating_sub(i64::try_from(min_age.as_secs()).unwrap_or(i64::MAX))
}

/// Stores `data` within the transaction `write_apart` opened on `db`.
fn put_chunks(db: &Db, data: &[u8]) -> Result<BlobRef> {
    let blob = BlobRef {
        hash: sha256_hex(data),
        size: data.len() as u64,
    };
    let now = crate::now();
    let size = i64::try_from(blob.size).unwrap_or(i64::MAX);
    // Already there: new again for garbage collection, nothing to write.
    let refreshed = db.execute(
        "UPDATE chunked_content SET created_at = $1 WHERE hash = $2",
        params![now, blob.hash],
    )?;
    if refreshed > 0 {
        return Ok(blob);
    }
    // A concurrent put of the same content makes this wait for its end:
    // then it finds the row (and its chunks) committed and writes nothing,
    // or rolled back and writes them itself.
    let inserted = db.execute(
        "INSERT INTO chunked_content (hash, size, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        params![blob.hash, size, now],
    )?;
    if inserted == 0 {
        return Ok(blob);
    }
    let mut insert = db.prepare_cached("INSERT INTO content_chunks (hash, seq, data) VALUES ($1, $2, $3)")?;
    for (seq, chunk) in data.chunks(CHUNK).enumerate() {
        insert.execute(params![blob.hash, seq as i64, chunk])?;
    }
    Ok(blob)
}

/// Chunk `seq` of `hash`, if stored.
fn read_chunk(db: &Db, hash: &str, seq: i64) -> Result<Option<Vec<u8>>> {
    db.query_row(
        "SELECT data FROM content_chunks WHERE hash = $1 AND seq = $2",
        params![hash, seq],
        |row| row.get(0),
    )
    .optional()
}

/// Stored content read a chunk at a time, each fetched on the blocking
/// pool when the one before is used up: one chunk in memory at most.
///
/// Each chunk is its own read, not one transaction over the whole content:
/// a slow reader would otherwise hold a connection (and a snapshot) for
/// as long as it reads. Content is immutable, so the chunks agree; only
/// garbage collection could take them in between, which it does to
/// content no row refers to for `min_age` (an hour), and then the read
/// fails rather than return anything else.
struct ChunkReader {
    reads: Arc<PointReads>,
    hash: Arc<str>,
    size: u64,
    /// Bytes of the chunks fetched so far.
    fetched: u64,
    next_seq: i64,
    chunk: io::Cursor<Vec<u8>>,
    fetching: Option<Boxed<'static, Result<Option<Vec<u8>>>>>,
}

impl ChunkReader {
    /// Takes the next chunk in, checking that it fits the content's size.
    fn accept(&mut self, chunk: Option<Vec<u8>>) -> io::Result<()> {
        let missing = || {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "content {}: chunk {} is missing or out of size (removed while read?)",
                    self.hash, self.next_seq
                ),
            )
        };
        let chunk = chunk.ok_or_else(missing)?;
        let fetched = self.fetched + chunk.len() as u64;
        if chunk.is_empty() || fetched > self.size {
            return Err(missing());
        }
        self.fetched = fetched;
        self.next_seq += 1;
        self.chunk = io::Cursor::new(chunk);
        Ok(())
    }

    fn fetch(&self) -> Boxed<'static, Result<Option<Vec<u8>>>> {
        let (reads, hash, seq) = (self.reads.clone(), self.hash.clone(), self.next_seq);
        Box::pin(async move { reads.scan(move |db| read_chunk(db, &hash, seq)).await })
    }
}

impl AsyncRead for ChunkReader {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if (this.chunk.position() as usize) < this.chunk.get_ref().len() {
                return Pin::new(&mut this.chunk).poll_read(cx, buf);
            }
            if this.fetched >= this.size {
                return Poll::Ready(Ok(()));
            }
            // The chunk used up goes before the next comes in.
            this.chunk = io::Cursor::new(Vec::new());
            let mut fetching = match this.fetching.take() {
                Some(fetching) => fetching,
                None => this.fetch(),
            };
            let Poll::Ready(fetched) = fetching.as_mut().poll(cx) else {
                this.fetching = Some(fetching);
                return Poll::Pending;
            };
            match fetched {
                Ok(chunk) => this.accept(chunk)?,
                Err(error) => return Poll::Ready(Err(io::Error::other(error))),
            }
        }
    }
}

impl ContentRead for ChunkReader {
    /// The rest in one task on the blocking pool, on one connection.
    fn read_rest(self: Box<Self>, mut into: Vec<u8>) -> Boxed<'static, Result<Vec<u8>>> {
        let mut this = *self;
        Box::pin(async move {
            let at = usize::try_from(this.chunk.position()).unwrap_or(usize::MAX);
            into.extend_from_slice(this.chunk.get_ref().get(at..).unwrap_or_default());
            this.chunk = io::Cursor::new(Vec::new());
            let reads = this.reads.clone();
            reads
                .scan(move |db| {
                    while this.fetched < this.size {
                        let chunk = read_chunk(db, &this.hash, this.next_seq)?;
                        this.accept(chunk)
                            .map_err(|e| Error::io(std::path::Path::new(&*this.hash), e))?;
                        into.extend_from_slice(this.chunk.get_ref());
                    }
                    Ok(into)
                })
                .await
        })
    }
}
