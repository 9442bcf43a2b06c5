//! The check after `store copy` (`copy`): the target holds what the
//! source holds. Each copied table has as many rows on both sides, and the
//! same rows: both are read a page at a time in key order and compared
//! value by value, after the values are made fit for the same columns
//! (an SQLite BLOB column may hold text that PostgreSQL keeps as BYTEA).
//! Every content a message or queue entry refers to is then read back from
//! the target, inline or not, streamed through SHA-256, and must hash to
//! its name. The first difference is the error, named: a table and its
//! counts, a row by its key and column, or a content by its hash.

use tokio::io::AsyncReadExt;

use crate::blobs::hex;
use crate::copy_rows::{Owned, PAGE, Pages, fit};
use crate::copy_schema::{Kind, Table, quote};
use crate::{Error, Result, Store};

/// What [`Store::verify_copy`] found the same in source and target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Each copied table with its rows, in the order they were written.
    pub tables: Vec<(String, u64)>,
    pub rows: u64,
    /// Contents referred to by messages and queue entries, inline ones
    /// included, each read back from the target and hashed.
    pub contents: u64,
    pub content_bytes: u64,
}

impl Store {
    /// Checks that `target` holds what this store holds (see the module's
    /// comment); the first difference is the error
    /// ([`Error::CopyMismatch`]).
    pub async fn verify_copy(&self, target: &Store) -> Result<Verified> {
        let tables = self.copied_tables(target).await?;
        let mut verified = Verified {
            tables: Vec::new(),
            rows: 0,
            contents: 0,
            content_bytes: 0,
        };
        // Counts first: cheap, and the clearest first difference.
        for (table, _) in &tables {
            let here = count(self, &table.name).await?;
            let there = count(target, &table.name).await?;
            if here != there {
                return Err(Error::CopyMismatch(format!(
                    "table {}: {here} rows in the source, {there} in the target",
                    table.name
                )));
            }
            verified.tables.push((table.name.clone(), here));
            verified.rows += here;
        }
        for (table, kinds) in &tables {
            self.compare_rows(target, table, kinds).await?;
        }
        let mut after = String::new();
        loop {
            let hashes = self.referenced_content(&after, false).await?;
            for hash in &hashes {
                let (actual, len) = hash_content(target, hash).await.map_err(|error| {
                    Error::CopyMismatch(format!("content {hash} cannot be read from the target: {error}"))
                })?;
                if actual != *hash {
                    return Err(Error::CopyMismatch(format!(
                        "content {hash} reads back from the target with SHA-256 {actual}"
                    )));
                }
                verified.contents += 1;
                verified.content_bytes += len;
            }
            match hashes.last() {
                Some(last) if hashes.len() == PAGE => after = last.clone(),
                _ => return Ok(verified),
            }
        }
    }

    /// The rows of `table` side by side, in key order (text keys compare
    /// bytewise on both engines: SQLite's BINARY collation, and the "C"
    /// collation the PostgreSQL schema gives every text column).
    async fn compare_rows(&self, target: &Store, table: &Table, kinds: &[Kind]) -> Result<()> {
        let (mut ours, mut theirs) = (Pages::of(table), Pages::of(table));
        loop {
            let here = ours.next(self).await?;
            let there = theirs.next(target).await?;
            if here.is_empty() && there.is_empty() {
                return Ok(());
            }
            for at in 0..here.len().max(there.len()) {
                let (Some(mine), Some(other)) = (here.get(at), there.get(at)) else {
                    let (row, side) = match here.get(at) {
                        Some(row) => (row, "source"),
                        None => (&there[at], "target"),
                    };
                    return Err(Error::CopyMismatch(format!(
                        "table {}: the row with key {} is in the {side} only",
                        table.name,
                        show(&ours.key(row))
                    )));
                };
                let (mine, other) = (fit(mine.clone(), kinds, table)?, fit(other.clone(), kinds, table)?);
                if ours.key(&mine) != ours.key(&other) {
                    return Err(Error::CopyMismatch(format!(
                        "table {}: the source's row with key {} is not in the target (its row there has key {})",
                        table.name,
                        show(&ours.key(&mine)),
                        show(&ours.key(&other))
                    )));
                }
                if let Some(column) = (0..mine.len()).find(|&c| mine[c] != other[c]) {
                    return Err(Error::CopyMismatch(format!(
                        "table {}, row with key {}: {} is {} in the source, {} in the target",
                        table.name,
                        show(&ours.key(&mine)),
                        table.columns[column].name,
                        mine[column],
                        other[column]
                    )));
                }
            }
        }
    }
}

/// A key for messages: `(1, "a")`.
fn show(key: &[Owned]) -> String {
    format!(
        "({})",
        key.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )
}

/// The rows of `table` in `store`.
pub(crate) async fn count(store: &Store, table: &str) -> Result<u64> {
    let sql = format!("SELECT COUNT(*) FROM {}", quote(table));
    store
        .point_reads
        .scan(move |db| db.query_row(&sql, (), |row| row.get(0)))
        .await
}

/// The SHA-256 of a content as `store` reads it back (inline or not),
/// streamed, and its length.
async fn hash_content(store: &Store, hash: &str) -> Result<(String, u64)> {
    let (mut reader, _) = store.open_content(hash).await?;
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buffer = vec![0u8; 64 * 1024];
    let mut len = 0;
    loop {
        let read = reader
            .read(&mut buffer)
            .await
            .map_err(|e| Error::io(std::path::Path::new(hash), e))?;
        if read == 0 {
            return Ok((hex(digest.finish().as_ref()), len));
        }
        digest.update(&buffer[..read]);
        len += read as u64;
    }
}
