//! Message content, stored where it is cheapest to make durable: small
//! messages (up to [`INLINE_LIMIT`]) as rows of `inline_blobs`, written in
//! the same group commit as the queue entry or mailbox row that refers to
//! them, so they cost no file, no fsync and no transaction of their own;
//! larger ones in the store's content store (`content_store`: blob files
//! with SQLite, chunks in PostgreSQL), made durable before that commit.
//! Both are content-addressed by SHA-256, and readers find either by hash.

use std::io;

use crate::content_store::{ContentReader, ContentStore};
use crate::sql::OptionalExtension;
use crate::{BlobRef, Error, Result, Store};

/// Content up to this size is kept in the database.
pub const INLINE_LIMIT: usize = 64 * 1024;

/// Content about to be stored, for [`Store::enqueue`] and
/// [`Store::append`]: either still in memory, to be written with the row
/// that refers to it, or already durable in the content store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    blob: BlobRef,
    inline: Option<Vec<u8>>,
}

impl Content {
    pub fn blob(&self) -> &BlobRef {
        &self.blob
    }

    /// Makes the content durable within `tx`: an inline row, or a check
    /// that the content store still has it, which also keeps garbage
    /// collection from taking it before `tx` commits (see
    /// [`ContentStore::exists`]).
    pub(crate) fn keep(&self, tx: &crate::sql::Db, store: &dyn ContentStore) -> Result<()> {
        match &self.inline {
            Some(data) => {
                tx.prepare_cached("INSERT INTO inline_blobs (hash, data) VALUES ($1, $2) ON CONFLICT DO NOTHING")?
                    .execute((&self.blob.hash, data))?;
                Ok(())
            }
            None if store.exists(tx, &self.blob.hash)? => Ok(()),
            None => Err(Error::MissingBlob(self.blob.hash.clone())),
        }
    }
}

impl Store {
    /// Prepares `data` for storing: small content stays in memory until
    /// the write that refers to it; large content is made durable in the
    /// content store now.
    pub async fn put_content(&self, data: Vec<u8>) -> Result<Content> {
        if data.len() > INLINE_LIMIT {
            let blob = self.content.put(data).await?;
            return Ok(Content { blob, inline: None });
        }
        let blob = BlobRef {
            hash: crate::blobs::sha256_hex(&data),
            size: data.len() as u64,
        };
        Ok(Content {
            blob,
            inline: Some(data),
        })
    }

    /// Opens a message's content for streaming, with its length (for
    /// [`Store::open_message`], the one way callers read messages).
    pub(crate) async fn open_content(&self, hash: &str) -> Result<(ContentReader, u64)> {
        if let Some(data) = self.inline_content(hash).await? {
            let len = data.len() as u64;
            return Ok((Box::new(io::Cursor::new(data)), len));
        }
        self.content.open(hash).await
    }

    async fn inline_content(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        self.point_reads.read(|connection| {
            connection
                .prepare_cached("SELECT data FROM inline_blobs WHERE hash = $1")?
                .query_row([hash], |row| row.get(0))
                .optional()
        })
    }

    /// Removes inline content no message and no queue entry refers to, a
    /// thousand rows per transaction so that writers never wait long.
    pub(crate) async fn collect_inline_garbage(&self) -> Result<u64> {
        const CHUNK: i64 = 1000;
        // Walked in hash order, a chunk at a time from the last hash seen.
        let (mut after, mut removed) = (String::new(), 0);
        loop {
            let from = after.clone();
            let chunk = self
                .batched(move |tx| {
                    let last: Option<String> = tx
                        .prepare_cached(
                            "SELECT MAX(hash) FROM
                                 (SELECT hash FROM inline_blobs WHERE hash > $1 ORDER BY hash LIMIT $2) AS chunk",
                        )?
                        .query_row((&from, CHUNK), |row| row.get(0))?;
                    let Some(last) = last else {
                        return Ok(None);
                    };
                    let removed = tx
                        .prepare_cached(
                            "DELETE FROM inline_blobs WHERE hash > $1 AND hash <= $2
                                 AND NOT EXISTS (SELECT 1 FROM messages WHERE blob_hash = hash)
                                 AND NOT EXISTS (SELECT 1 FROM queue_messages WHERE blob_hash = hash)",
                        )?
                        .execute((&from, &last))?;
                    Ok(Some((last, removed as u64)))
                })
                .await?;
            let Some((last, chunk_removed)) = chunk else {
                return Ok(removed);
            };
            removed += chunk_removed;
            after = last;
        }
    }
}
