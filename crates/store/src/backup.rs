//! `postamt backup DIR` and `postamt restore`: a consistent copy of a store
//! on SQLite, taken while the server runs, that is itself a data
//! directory (`postamt serve --data-dir DIR` runs from it).
//!
//! The database is copied with `VACUUM INTO` (SQLite documentation,
//! "VACUUM INTO"): one read transaction, so the copy is a snapshot of one
//! moment, and writers carry on beside it (WAL). The blob files that
//! snapshot refers to are copied after it. Garbage collection may remove a
//! blob between the two, when the message that held it was expunged after
//! the snapshot and the blob is older than collection's minimum age: such
//! a blob is missing from the source, the copy notices, and a new snapshot
//! is taken, which no longer refers to it (blobs already copied are kept:
//! content is immutable and named by its hash). Every copied blob is
//! hashed while it is written and must hash to its name.
//!
//! Then the copy is checked on its own: `PRAGMA integrity_check`, the rows
//! of every table counted, and every content a message or queue entry
//! refers to (inline or a file) read back and hashed.
//!
//! PostgreSQL stores are not copied here: all their content is in the
//! database (`content_chunks`), and `pg_dump` copies it consistently.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::OpenFlags;

use crate::backend::Backend;
use crate::blobs::hex;
use crate::sql::Db;
use crate::{Error, Result, Store};

/// Snapshots taken at most, when blobs keep vanishing under the copy.
const ATTEMPTS: u32 = 5;

/// What a backup (or a restore) wrote and then verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// Every table of the copy with its rows.
    pub tables: Vec<(String, u64)>,
    pub rows: u64,
    /// Contents messages and queue entries refer to, each read back from
    /// the copy and hashed; and their bytes.
    pub contents: u64,
    pub content_bytes: u64,
    /// Blob files copied (contents kept outside the database).
    pub files: u64,
    /// Snapshots taken (more than one when garbage collection removed a
    /// blob between a snapshot and its copy).
    pub snapshots: u32,
}

impl Store {
    /// Copies this store, on SQLite, into `dir` (made if missing, refused
    /// if it already holds a store), consistently while others write, and
    /// verifies the copy (see the module's comment).
    pub async fn backup_to(&self, dir: &Path) -> Result<BackupSummary> {
        let source = self.sqlite_path()?;
        let dir = dir.to_path_buf();
        blocking(move || backup(&source, &dir)).await
    }

    /// The SQLite database file of this store; an error naming pg_dump on
    /// PostgreSQL.
    fn sqlite_path(&self) -> Result<PathBuf> {
        match self.point_reads.backend() {
            Backend::Sqlite { path } => Ok(path.clone()),
            Backend::Postgres { .. } => Err(Error::CopyRefused(
                "this store is on PostgreSQL: back it up with pg_dump (its message contents are in the \
                 database too, in content_chunks); see docs/backup.md"
                    .into(),
            )),
        }
    }
}

/// Puts the backup in `from` in place as the store in `to` (`postamt
/// restore`): checked first, then copied as a backup of it is (the same
/// code), and the copy checked again. `to` must not hold a store.
pub async fn restore_backup(from: &Path, to: &Path) -> Result<BackupSummary> {
    let (from, to) = (from.to_path_buf(), to.to_path_buf());
    blocking(move || {
        verify(&from, 0, 0)?;
        backup(&from.join("postamt.db"), &to)
    })
    .await
}

async fn blocking<T: Send + 'static>(job: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| Error::io(Path::new("backup"), io::Error::other(e)))?
}

fn backup(source: &Path, dir: &Path) -> Result<BackupSummary> {
    let target = dir.join("postamt.db");
    if target.exists() {
        return Err(Error::CopyRefused(format!(
            "{} already holds a store ({}): back up into a new or empty directory",
            dir.display(),
            target.display()
        )));
    }
    let source_blobs = source.parent().unwrap_or(Path::new(".")).join("blobs");
    let blobs = dir.join("blobs");
    crate::private::create_dir(&blobs.join("tmp"))?;
    crate::private::restrict(dir)?;
    let partial = dir.join("postamt.db.partial");
    let (mut files, mut missing) = (0, String::new());
    for snapshot in 1..=ATTEMPTS {
        remove_if_there(&partial)?;
        // VACUUM INTO wants a new or empty file; made here, it is private.
        crate::private::touch(&partial)?;
        let reader = Db::Sqlite(rusqlite::Connection::open_with_flags(
            source,
            OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?);
        reader.execute("VACUUM INTO $1", [partial.to_string_lossy().as_ref()])?;
        drop(reader);
        let mut vanished = None;
        for hash in file_contents(&partial)? {
            match copy_blob(&source_blobs, &blobs, &hash) {
                Ok(copied) => files += u64::from(copied),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    vanished = Some(hash);
                    break;
                }
                Err(e) => return Err(Error::io(&source_blobs.join(&hash), e)),
            }
        }
        if let Some(hash) = vanished {
            tracing::info!(%hash, snapshot, "a blob went between snapshot and copy; taking a new snapshot");
            missing = hash;
            continue;
        }
        forget_processes(&partial)?;
        File::open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(&partial, e))?;
        fs::rename(&partial, &target).map_err(|e| Error::io(&target, e))?;
        sync_dir(dir)?;
        return verify(dir, files, snapshot);
    }
    Err(Error::CopyFailed {
        step: "backup".into(),
        source: Box::new(Error::CopyMismatch(format!(
            "blobs kept vanishing between snapshot and copy in {ATTEMPTS} snapshots, last {missing}, which \
             is not in {}: the store refers to content it lacks (it is damaged), or garbage collection runs with a \
             very short minimum age",
            source_blobs.display()
        ))),
    })
}

/// Takes out of the copy what belongs to the processes that served the
/// source, not to its data (as `store copy` leaves them behind): node
/// claims, which would keep a server started on the copy from running
/// while the source's runs, and POP3 maildrop locks. The copy is left
/// in rollback-journal mode, one file, until a server opens it (WAL).
fn forget_processes(database: &Path) -> Result<()> {
    let db = Db::Sqlite(rusqlite::Connection::open(database)?);
    db.query_row("PRAGMA journal_mode = DELETE", (), |row| row.get::<String>(0))?;
    db.execute("PRAGMA synchronous = FULL", ())?;
    db.execute("DELETE FROM nodes", ())?;
    db.execute("DELETE FROM maildrop_locks", ())?;
    Ok(())
}

/// The contents a snapshot refers to that are files, not inline rows.
fn file_contents(database: &Path) -> Result<Vec<String>> {
    let db = open_read_only(database)?;
    let mut statement = db.prepare_cached(
        "SELECT blob_hash FROM messages UNION SELECT blob_hash FROM queue_messages
         EXCEPT SELECT hash FROM inline_blobs",
    )?;
    statement.query_map((), |row| row.get(0))?.collect()
}

fn open_read_only(database: &Path) -> Result<Db> {
    Ok(Db::Sqlite(rusqlite::Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?))
}

/// Copies blob `hash` unless the copy has it already; true when copied.
/// NotFound means the source has no such blob (any more).
fn copy_blob(from: &Path, to: &Path, hash: &str) -> io::Result<bool> {
    let (from, fan_out) = (blob_path(from, hash)?, to.join(&hash[..2]));
    let target = fan_out.join(hash);
    if target.exists() {
        return Ok(false);
    }
    let mut source = File::open(&from)?;
    crate::private::create_dir(&fan_out).map_err(io::Error::other)?;
    let tmp = to.join("tmp").join(hash);
    let mut out = crate::private::create_file(&tmp)?;
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let read = source.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        digest.update(&buffer[..read]);
        out.write_all(&buffer[..read])?;
    }
    let actual = hex(digest.finish().as_ref());
    if actual != hash {
        let _ = fs::remove_file(&tmp);
        return Err(io::Error::other(format!(
            "the source's blob {hash} has SHA-256 {actual}: it is damaged"
        )));
    }
    out.sync_all()?;
    fs::rename(&tmp, &target)?;
    File::open(&fan_out)?.sync_all()?;
    Ok(true)
}

/// The file of blob `hash` under `dir`; a hash that is not one is refused
/// so that no row can name a path elsewhere.
fn blob_path(dir: &Path, hash: &str) -> io::Result<PathBuf> {
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(io::Error::other(format!("{hash:?} is not a content hash")));
    }
    Ok(dir.join(&hash[..2]).join(hash))
}

/// Checks the store in `dir` (see the module's comment).
fn verify(dir: &Path, files: u64, snapshots: u32) -> Result<BackupSummary> {
    let database = dir.join("postamt.db");
    if !database.is_file() {
        return Err(Error::CopyMismatch(format!("{} does not exist", database.display())));
    }
    let db = open_read_only(&database)?;
    let integrity: String = db.query_row("PRAGMA integrity_check", (), |row| row.get(0))?;
    if integrity != "ok" {
        return Err(Error::CopyMismatch(format!("{}: {integrity}", database.display())));
    }
    let names: Vec<String> = db
        .prepare_cached(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?
        .query_map((), |row| row.get(0))?
        .collect::<Result<_>>()?;
    let mut summary = BackupSummary {
        tables: Vec::new(),
        rows: 0,
        contents: 0,
        content_bytes: 0,
        files,
        snapshots,
    };
    for name in names {
        let rows: i64 = db.query_row(&format!("SELECT COUNT(*) FROM \"{name}\""), (), |row| row.get(0))?;
        summary.rows += rows as u64;
        summary.tables.push((name, rows as u64));
    }
    let inline: Vec<(String, Vec<u8>)> = db
        .prepare_cached(
            "SELECT hash, data FROM inline_blobs WHERE hash IN
                 (SELECT blob_hash FROM messages UNION SELECT blob_hash FROM queue_messages)",
        )?
        .query_map((), |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_>>()?;
    for (hash, data) in inline {
        check_hash(&hash, &crate::blobs::sha256_hex(&data))?;
        summary.contents += 1;
        summary.content_bytes += data.len() as u64;
    }
    for hash in file_contents(&database)? {
        let path = blob_path(&dir.join("blobs"), &hash).map_err(|e| Error::io(dir, e))?;
        let (actual, len) = hash_file(&path)
            .map_err(|e| Error::CopyMismatch(format!("content {hash} cannot be read from {}: {e}", path.display())))?;
        check_hash(&hash, &actual)?;
        summary.contents += 1;
        summary.content_bytes += len;
    }
    Ok(summary)
}

fn check_hash(name: &str, actual: &str) -> Result<()> {
    if name == actual {
        return Ok(());
    }
    Err(Error::CopyMismatch(format!(
        "content {name} reads back with SHA-256 {actual}"
    )))
}

fn hash_file(path: &Path) -> io::Result<(String, u64)> {
    let mut file = File::open(path)?;
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buffer = vec![0; 64 * 1024];
    let mut len = 0;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            return Ok((hex(digest.finish().as_ref()), len));
        }
        digest.update(&buffer[..read]);
        len += read as u64;
    }
}

fn remove_if_there(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Content, Flags, MessageFacts};

    /// A store with one message too large to be kept inline; its hash.
    async fn store_with_blob(dir: &Path) -> (Store, String) {
        let store = Store::open(dir).await.unwrap();
        store.add_domain("example.test").await.unwrap();
        let account = store.add_account("a@example.test", "x").await.unwrap();
        let inbox = store.inbox(account).await.unwrap();
        let data = vec![b'x'; crate::INLINE_LIMIT + 1];
        let content: Content = store.put_content(data).await.unwrap();
        let hash = content.blob().hash.clone();
        store
            .append(inbox.id, content, Flags::default(), 0, MessageFacts::default())
            .await
            .unwrap();
        (store, hash)
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_backup_copies_and_checks_the_blobs_its_snapshot_names() {
        let dir = tempfile::tempdir().unwrap();
        let (store, hash) = store_with_blob(&dir.path().join("data")).await;
        let summary = store.backup_to(&dir.path().join("backup")).await.unwrap();
        assert_eq!((summary.files, summary.snapshots), (1, 1));
        assert!(
            summary
                .tables
                .iter()
                .any(|(table, rows)| table == "messages" && *rows == 1)
        );
        assert!(blob_path(&dir.path().join("backup/blobs"), &hash).unwrap().is_file());
    }

    /// A blob the snapshot names but the source no longer has: snapshots
    /// are taken again, and when it stays missing the backup fails
    /// instead of writing a copy that lacks it.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_blob_missing_from_the_source_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let (store, hash) = store_with_blob(&data).await;
        fs::remove_file(blob_path(&data.join("blobs"), &hash).unwrap()).unwrap();
        let error = store.backup_to(&dir.path().join("backup")).await.unwrap_err();
        assert!(error.to_string().contains("vanishing"), "{error}");
        assert!(!dir.path().join("backup/postamt.db").exists());
    }
}
