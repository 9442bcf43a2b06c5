//! Immutable message content, one file per distinct content, named by its
//! SHA-256 (`blobs/ab/abcdef...`): the content store of a store on SQLite
//! (`content_store`). A blob is made durable by writing a temporary file,
//! fsyncing it, renaming it into place and fsyncing the directory; only
//! then may a transaction reference it.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

use crate::content_store::{Boxed, ContentRead, ContentReader, ContentStore};
use crate::sql::Db;
use crate::{Error, Result};

/// A stored blob: its content hash (hex SHA-256) and size in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    pub hash: String,
    pub size: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct BlobStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    /// Makes temporary file names unique within this process; the process
    /// id makes them unique across processes.
    counter: AtomicU64,
}

impl BlobStore {
    pub(crate) fn at(dir: PathBuf) -> Result<BlobStore> {
        let tmp = dir.join("tmp");
        crate::private::create_dir(&tmp)?;
        crate::private::restrict(&dir)?;
        // Every fan-out directory exists, durably, before the first write:
        // a writer never relies on a directory that another has just made
        // but not yet synced into `blobs/`.
        for byte in 0..=255u8 {
            crate::private::create_dir(&dir.join(format!("{byte:02x}")))?;
        }
        sync_dir(&dir)?;
        // Leftovers of writes interrupted by a crash are never referenced.
        if let Ok(entries) = fs::read_dir(&tmp) {
            for entry in entries.flatten() {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(BlobStore {
            inner: Arc::new(Inner {
                dir,
                counter: AtomicU64::new(0),
            }),
        })
    }

    /// Stores `data` durably and returns its reference. Content that is
    /// already stored is not written again; its modification time is
    /// refreshed so garbage collection treats it as new.
    pub(crate) async fn put(&self, data: Vec<u8>) -> Result<BlobRef> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.put_blocking(&data))
            .await
            .map_err(|e| Error::io(&self.inner.dir, io::Error::other(e)))?
    }

    fn put_blocking(&self, data: &[u8]) -> Result<BlobRef> {
        let hash = sha256_hex(data);
        let path = self.path(&hash)?;
        let blob = BlobRef {
            hash,
            size: data.len() as u64,
        };
        let fan_out = path.parent().unwrap_or(&self.inner.dir);
        if let Ok(file) = File::options().append(true).open(&path) {
            file.set_modified(SystemTime::now()).map_err(|e| Error::io(&path, e))?;
            // Another writer may have renamed it into place and not yet
            // synced the directory: this message's commit must not count
            // on that entry before it is durable.
            sync_dir(fan_out)?;
            return Ok(blob);
        }
        if !fan_out.exists() {
            crate::private::create_dir(fan_out)?;
            sync_dir(&self.inner.dir)?;
        }
        let tmp = self.inner.dir.join("tmp").join(format!(
            "{}.{}",
            std::process::id(),
            self.inner.counter.fetch_add(1, Ordering::Relaxed)
        ));
        let written = (|| {
            let mut file = crate::private::create_file(&tmp)?;
            file.write_all(data)?;
            file.sync_all()
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(Error::io(&tmp, e));
        }
        fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
        sync_dir(fan_out)?;
        Ok(blob)
    }

    /// Opens a blob for reading.
    async fn open_file(&self, hash: &str) -> Result<tokio::fs::File> {
        let path = self.path(hash)?;
        tokio::fs::File::open(&path).await.map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => Error::MissingBlob(hash.to_string()),
            _ => Error::io(&path, e),
        })
    }

    /// Removes the blob `hash` if its file was last modified at least
    /// `min_age` ago (a `put` since the listing made it new again).
    fn remove_if_old(&self, hash: &str, min_age: Duration) -> Result<bool> {
        let path = self.path(hash)?;
        let cutoff = SystemTime::now() - min_age;
        let old = fs::metadata(&path)
            .and_then(|m| m.modified())
            .is_ok_and(|modified| modified <= cutoff);
        if !old {
            return Ok(false);
        }
        match fs::remove_file(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(&path, e)),
            Ok(()) => Ok(true),
        }
    }

    /// The path of a blob. Hashes come from our own rows, but are checked
    /// anyway so that no string can name a path outside the blob directory.
    fn path(&self, hash: &str) -> Result<PathBuf> {
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::MissingBlob(hash.to_string()));
        }
        Ok(self.inner.dir.join(&hash[..2]).join(hash))
    }
}

/// Blob files: the content store of a store on SQLite. Its transactions
/// have one writer at a time (SQLite's write lock, across processes too),
/// so a check or removal inside one is not interleaved with another's.
impl ContentStore for BlobStore {
    fn put(&self, data: Vec<u8>) -> Boxed<'static, Result<BlobRef>> {
        let store = self.clone();
        Box::pin(async move { store.put(data).await })
    }

    fn open(&self, hash: &str) -> Boxed<'static, Result<(ContentReader, u64)>> {
        let (store, hash) = (self.clone(), hash.to_string());
        Box::pin(async move {
            let file = store.open_file(&hash).await?;
            let len = file.metadata().await.map_err(|e| Error::io(Path::new(&hash), e))?.len();
            Ok((Box::new(BlobFile { file, hash }) as ContentReader, len))
        })
    }

    /// The file is there; garbage collection removes files only inside a
    /// write transaction, which cannot run beside `tx`.
    fn exists(&self, _tx: &Db, hash: &str) -> Result<bool> {
        Ok(self.path(hash).is_ok_and(|p| p.exists()))
    }

    /// `tx` holds SQLite's write lock: no transaction can add a reference
    /// before it ends, so the check and the removal are one step.
    fn remove(
        &self,
        tx: &Db,
        hash: &str,
        min_age: Duration,
        unreferenced: &dyn Fn(&Db) -> Result<bool>,
    ) -> Result<bool> {
        if !unreferenced(tx)? {
            return Ok(false);
        }
        self.remove_if_old(hash, min_age)
    }

    fn older_than(&self, min_age: Duration) -> Boxed<'static, Result<Vec<String>>> {
        let dir = self.inner.dir.clone();
        Box::pin(async move {
            let listing = dir.clone();
            tokio::task::spawn_blocking(move || list_older_than(&listing, min_age))
                .await
                .map_err(|e| Error::io(&dir, io::Error::other(e)))?
        })
    }
}

/// A blob file opened for reading.
struct BlobFile {
    file: tokio::fs::File,
    hash: String,
}

impl AsyncRead for BlobFile {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().file).poll_read(cx, buf)
    }
}

impl ContentRead for BlobFile {
    /// One blocking task does all the reads: tokio's file handle would
    /// hand each read to the blocking pool separately, which costs more
    /// than the read itself for typical message sizes.
    fn read_rest(self: Box<Self>, mut into: Vec<u8>) -> Boxed<'static, Result<Vec<u8>>> {
        let BlobFile { file, hash } = *self;
        Box::pin(async move {
            let mut file = file.into_std().await;
            tokio::task::spawn_blocking(move || match io::Read::read_to_end(&mut file, &mut into) {
                Ok(_) => Ok(into),
                Err(e) => Err(Error::io(Path::new(&hash), e)),
            })
            .await
            .map_err(|e| Error::io(Path::new("blobs"), io::Error::other(e)))?
        })
    }
}

fn list_older_than(dir: &Path, min_age: Duration) -> Result<Vec<String>> {
    let cutoff = SystemTime::now() - min_age;
    let mut hashes = Vec::new();
    for fan_out in fs::read_dir(dir).map_err(|e| Error::io(dir, e))?.flatten() {
        if fan_out.file_name().len() != 2 {
            continue;
        }
        let Ok(files) = fs::read_dir(fan_out.path()) else {
            continue;
        };
        for file in files.flatten() {
            let old = file
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|modified| modified <= cutoff);
            if let (true, Some(name)) = (old, file.file_name().to_str()) {
                hashes.push(name.to_string());
            }
        }
    }
    Ok(hashes)
}

/// Makes a rename or a new directory entry durable (POSIX requires an fsync
/// of the directory itself).
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

/// The name of content: its SHA-256 in lower-case hex.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, data).as_ref())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn stores_reads_and_deduplicates() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::at(dir.path().join("blobs")).unwrap();
        let a = blobs.put(b"hello".to_vec()).await.unwrap();
        let b = blobs.put(b"hello".to_vec()).await.unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a.hash,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        let mut content = String::new();
        blobs
            .open_file(&a.hash)
            .await
            .unwrap()
            .read_to_string(&mut content)
            .await
            .unwrap();
        assert_eq!(content, "hello");
        assert!(fs::read_dir(dir.path().join("blobs/tmp")).unwrap().next().is_none());
    }

    #[tokio::test]
    async fn refuses_paths_that_are_not_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::at(dir.path().to_path_buf()).unwrap();
        assert!(matches!(
            blobs.open_file("../../etc/passwd").await,
            Err(Error::MissingBlob(_))
        ));
    }
}
