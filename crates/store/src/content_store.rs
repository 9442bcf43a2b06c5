//! The one door to message content too large to be kept inline
//! (`content`): [`ContentStore`]. The store holds one implementation,
//! chosen by its backend, and every caller (`put_content`, `open_content`,
//! [`crate::Content`]'s check in the metadata transaction, garbage
//! collection) reaches content through the trait only, so that another
//! place for content (an S3-compatible object store) is one more
//! implementation, not a change to the callers.
//!
//! The implementations: blob files in the data directory (`blobs`, with
//! SQLite) and chunks of at most 1 MiB in PostgreSQL (`chunks`), so that
//! every node of a cluster sharing one PostgreSQL sees the same content.
//!
//! What each implementation promises, which the durability rule (see
//! `lib.rs`) rests on:
//! - `put` returns only once the content is durable (fsynced, or
//!   committed), so a metadata transaction that refers to it commits
//!   after it;
//! - `exists`, asked inside the metadata write transaction, answers true
//!   only for content that garbage collection can no longer take before
//!   that transaction ends;
//! - `remove` takes content only if, once it is sure no transaction can
//!   refer to it any more, the caller still finds no reference.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::time::Duration;

use tokio::io::AsyncRead;

use crate::sql::Db;
use crate::{BlobRef, Result};

/// A future boxed, as a trait that is used as `dyn` returns them.
pub(crate) type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where content larger than [`crate::INLINE_LIMIT`] lives.
pub(crate) trait ContentStore: Send + Sync + std::fmt::Debug {
    /// Stores `data` durably and returns its reference (SHA-256 and
    /// size). Content already stored is not written again, but counts as
    /// new for garbage collection (`min_age`) from now on.
    fn put(&self, data: Vec<u8>) -> Boxed<'static, Result<BlobRef>>;

    /// Opens content for streaming, with its length;
    /// [`crate::Error::MissingBlob`] when it is not stored.
    fn open(&self, hash: &str) -> Boxed<'static, Result<(ContentReader, u64)>>;

    /// Inside the write transaction `tx` that is about to refer to `hash`:
    /// true if the content is stored, and then held until `tx` ends so
    /// that garbage collection cannot remove it before the reference is
    /// committed.
    fn exists(&self, tx: &Db, hash: &str) -> Result<bool>;

    /// Inside a write transaction of its own, `tx`: removes the content if
    /// it is (still) at least `min_age` old and `unreferenced(tx)` says no
    /// row refers to it. `unreferenced` is asked only once no other
    /// transaction can add a reference before `tx` ends. True if removed.
    fn remove(
        &self,
        tx: &Db,
        hash: &str,
        min_age: Duration,
        unreferenced: &dyn Fn(&Db) -> Result<bool>,
    ) -> Result<bool>;

    /// Hashes of the content stored (or last put) more than `min_age` ago:
    /// the candidates for garbage collection.
    fn older_than(&self, min_age: Duration) -> Boxed<'static, Result<Vec<String>>>;
}

/// Content opened for reading: a stream, which can also be read to its
/// end in one go.
pub(crate) trait ContentRead: AsyncRead + Send + Unpin {
    /// Appends what is left to read to `into`, in one task off the async
    /// threads where the implementation does blocking I/O (cheaper than
    /// one hand-off per read for whole messages).
    fn read_rest(self: Box<Self>, into: Vec<u8>) -> Boxed<'static, Result<Vec<u8>>>;
}

pub(crate) type ContentReader = Box<dyn ContentRead>;

/// Inline content (a row of `inline_blobs`), already in memory.
impl ContentRead for io::Cursor<Vec<u8>> {
    fn read_rest(self: Box<Self>, mut into: Vec<u8>) -> Boxed<'static, Result<Vec<u8>>> {
        let at = usize::try_from(self.position()).unwrap_or(usize::MAX);
        into.extend_from_slice(self.get_ref().get(at..).unwrap_or_default());
        Box::pin(std::future::ready(Ok(into)))
    }
}
