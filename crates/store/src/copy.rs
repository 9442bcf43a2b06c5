//! Moving a whole store to another backend (`postamt store copy`, issue
//! 18): every row of every table, ids kept, and every content kept out of
//! the database, from a store that no process uses into a new, empty one,
//! then checked.
//!
//! Rows travel generically through the `sql` seam: each table's columns
//! come from the source's schema (`copy_schema`), a page of rows is read
//! in primary-key order as [`Cell`]s and written back as [`Param`]s, each
//! page in one transaction of the target's writer: no transaction holds
//! the whole store, and none is paid per row. Tables are written after
//! those their foreign keys refer to. Content larger than the inline limit
//! goes through the [`ContentStore`] of each side (blob files or chunks),
//! one content in memory at a time, before the rows that refer to it, as
//! the durability rule in `lib.rs` has it.
//!
//! Not copied: `schema_migrations` (each side has its own, for its
//! engine), `nodes` and `maildrop_locks` (they describe processes running
//! on the source, and there are none), and the content store's own tables
//! (`chunked_content`, `content_chunks`), filled through the trait. The
//! rows a store makes when it is opened (the UIDVALIDITY counter, the SRS
//! secret) are replaced by the source's, so UIDVALIDITY keeps growing past
//! every value clients have seen and forwarded mail's SRS addresses stay
//! valid.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

use crate::blobs::{hex, sha256_hex};
use crate::content_store::ContentStore;
use crate::copy_schema::{self, Kind, Table, quote};
use crate::sql::{Cell, Column, Db, Param, Value};
use crate::{Error, Result, Store};

/// Tables that are not copied (see the module's comment).
const NOT_COPIED: &[&str] = &[
    "schema_migrations",
    "nodes",
    "maildrop_locks",
    "chunked_content",
    "content_chunks",
];

/// Tables whose rows a store makes when it is opened: the target's are
/// replaced by the source's.
const MADE_AT_OPEN: &[&str] = &["uidvalidity_counter", "secrets"];

/// Rows per page read and per transaction written; contents per listing.
const PAGE: usize = 256;

/// What a copy did, and what its verification checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySummary {
    /// Contents copied through the content stores (blob files, chunks).
    pub contents_copied: u64,
    pub content_bytes_copied: u64,
    /// What the verification found in both.
    pub verified: Verified,
    pub elapsed: Duration,
}

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
    /// Copies everything of this store (which no process may be using,
    /// see [`Store::live_node_claims`]) into `target`, a store just made,
    /// then checks the copy with [`Store::verify_copy`]. Refuses a target
    /// that holds rows already, naming them; a copy that fails half-way
    /// leaves a target to be dropped and made afresh.
    pub async fn copy_to(&self, target: &Store) -> Result<CopySummary> {
        let started = Instant::now();
        let tables = self.copied_tables(target).await?;
        refuse_filled(target, &tables).await?;
        let (contents_copied, content_bytes_copied) = self.copy_content(target).await?;
        let replaced: Vec<&'static str> = MADE_AT_OPEN
            .iter()
            .copied()
            .filter(|name| tables.iter().any(|(table, _)| table.name == *name))
            .collect();
        target
            .batcher
            .write_alone(move |tx| {
                for name in replaced {
                    tx.execute(&format!("DELETE FROM {}", quote(name)), ())?;
                }
                Ok(())
            })
            .await?;
        for (table, kinds) in &tables {
            let rows = self.copy_table(target, table, kinds).await?;
            tracing::info!(table = %table.name, rows, "copied");
        }
        target.batcher.write_alone(advance_identities).await?;
        let verified = self.verify_copy(target).await?;
        Ok(CopySummary {
            contents_copied,
            content_bytes_copied,
            verified,
            elapsed: started.elapsed(),
        })
    }

    /// Checks that `target` holds what this store holds: as many rows in
    /// each copied table, and for every content that a message or queue
    /// entry refers to, content in the target whose SHA-256 is its name.
    /// The first difference is the error ([`Error::CopyMismatch`]).
    pub async fn verify_copy(&self, target: &Store) -> Result<Verified> {
        let tables = self.copied_tables(target).await?;
        let mut verified = Verified {
            tables: Vec::new(),
            rows: 0,
            contents: 0,
            content_bytes: 0,
        };
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

    /// The source's tables that are copied, in the order they are
    /// written, each with the kind of value the target's columns hold
    /// (by the source's column order). The two schemas must have the
    /// same tables and columns: both stores are migrated by this binary.
    async fn copied_tables(&self, target: &Store) -> Result<Vec<(Table, Vec<Kind>)>> {
        let source = self.point_reads.scan(copy_schema::tables).await?;
        let mut theirs = target.point_reads.scan(copy_schema::tables).await?;
        let copied = |name: &String| !NOT_COPIED.contains(&name.as_str());
        if let Some(name) = theirs.keys().filter(|n| copied(n)).find(|n| !source.contains_key(*n)) {
            return Err(Error::CopyRefused(format!(
                "table {name} is in the target but not in the source: are they of different postamt versions?"
            )));
        }
        let mut tables = Vec::new();
        for (name, table) in source.into_iter().filter(|(name, _)| copied(name)) {
            let Some(their) = theirs.remove(&name) else {
                return Err(Error::CopyRefused(format!(
                    "table {name} is in the source but not in the target: are they of different postamt versions?"
                )));
            };
            let kinds: BTreeMap<&str, Kind> = their.columns.iter().map(|c| (c.name.as_str(), c.kind)).collect();
            let mut fitted = Vec::with_capacity(table.columns.len());
            for column in &table.columns {
                let Some(kind) = kinds.get(column.name.as_str()) else {
                    return Err(Error::CopyRefused(format!(
                        "column {name}.{} is in the source but not in the target",
                        column.name
                    )));
                };
                fitted.push(*kind);
            }
            if kinds.len() != table.columns.len() {
                return Err(Error::CopyRefused(format!(
                    "table {name} has {} columns in the target, {} in the source",
                    kinds.len(),
                    table.columns.len()
                )));
            }
            tables.push((table, fitted));
        }
        let order = copy_schema::in_dependency_order(tables.iter().map(|(t, _)| t.clone()).collect())?;
        let mut by_name: BTreeMap<String, (Table, Vec<Kind>)> =
            tables.into_iter().map(|(t, k)| (t.name.clone(), (t, k))).collect();
        Ok(order
            .into_iter()
            .filter_map(|table| by_name.remove(&table.name))
            .collect())
    }

    /// Copies the rows of `table`, a page at a time in key order; returns
    /// how many.
    async fn copy_table(&self, target: &Store, table: &Table, kinds: &[Kind]) -> Result<u64> {
        let name = quote(&table.name);
        let columns: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
        let key: Vec<String> = table.key.iter().map(|&at| columns[at].clone()).collect();
        let (columns, key) = (columns.join(", "), key.join(", "));
        let first = format!("SELECT {columns} FROM {name} ORDER BY {key} LIMIT {PAGE}");
        let placeholders = |n: usize| (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let next = format!(
            "SELECT {columns} FROM {name} WHERE ({key}) > ({}) ORDER BY {key} LIMIT {PAGE}",
            placeholders(table.key.len())
        );
        let insert = format!("INSERT INTO {name} ({columns}) VALUES ");
        let width = table.columns.len();
        let mut after: Option<Vec<Owned>> = None;
        let mut copied = 0;
        loop {
            let (sql, keys) = match after.take() {
                None => (first.clone(), Vec::new()),
                Some(keys) => (next.clone(), keys),
            };
            let rows: Vec<Vec<Owned>> = self
                .point_reads
                .scan(move |db| {
                    db.prepare_cached(&sql)?
                        .query_map(&keys, |row| (0..width).map(|at| row.get::<Owned>(at)).collect())?
                        .collect()
                })
                .await
                .map_err(|error| in_table(&table.name, error))?;
            let Some(last) = rows.last() else {
                return Ok(copied);
            };
            let full = rows.len() == PAGE;
            after = Some(table.key.iter().map(|&at| last[at].clone()).collect());
            let rows = rows
                .into_iter()
                .map(|row| fit(row, kinds, table))
                .collect::<Result<Vec<_>>>()?;
            copied += rows.len() as u64;
            // The page in one statement: a round trip per page, not per
            // row, to PostgreSQL. At most PAGE times a table's columns
            // parameters, well under SQLite's 32 766 and PostgreSQL's
            // 65 535.
            let insert = format!(
                "{insert}{}",
                (0..rows.len())
                    .map(|row| format!(
                        "({})",
                        (1..=width)
                            .map(|at| format!("${}", row * width + at))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            target
                .batcher
                .write_alone(move |tx| {
                    let values: Vec<&Owned> = rows.iter().flatten().collect();
                    tx.execute(&insert, &values).map(drop)
                })
                .await
                .map_err(|error| in_table(&table.name, error))?;
            if !full {
                return Ok(copied);
            }
        }
    }

    /// Copies the content kept out of the database, one at a time, each
    /// checked against its name on the way; (contents, bytes).
    async fn copy_content(&self, target: &Store) -> Result<(u64, u64)> {
        let (mut contents, mut bytes) = (0, 0);
        let mut after = String::new();
        loop {
            let hashes = self.referenced_content(&after, true).await?;
            for hash in &hashes {
                let data = read_whole(&*self.content, hash).await.map_err(|error| {
                    Error::CopyMismatch(format!("content {hash} cannot be read from the source: {error}"))
                })?;
                let actual = sha256_hex(&data);
                if actual != *hash {
                    return Err(Error::CopyMismatch(format!(
                        "content {hash} is damaged in the source: its SHA-256 is {actual}"
                    )));
                }
                bytes += data.len() as u64;
                target.content.put(data).await?;
                contents += 1;
            }
            match hashes.last() {
                Some(last) if hashes.len() == PAGE => after = last.clone(),
                _ => return Ok((contents, bytes)),
            }
        }
    }

    /// The next page of content names after `after` that messages and
    /// queue entries refer to; with `stored_only`, those not inline.
    async fn referenced_content(&self, after: &str, stored_only: bool) -> Result<Vec<String>> {
        let after = after.to_string();
        let inline = if stored_only {
            "AND NOT EXISTS (SELECT 1 FROM inline_blobs i WHERE i.hash = refs.hash)"
        } else {
            ""
        };
        let sql = format!(
            "SELECT hash FROM (SELECT blob_hash AS hash FROM messages UNION SELECT blob_hash FROM queue_messages) AS refs
             WHERE hash > $1 {inline} ORDER BY hash LIMIT $2"
        );
        self.point_reads
            .scan(move |db| {
                db.prepare_cached(&sql)?
                    .query_map((&after, PAGE as i64), |row| row.get(0))?
                    .collect()
            })
            .await
    }
}

/// Refuses a target with rows in any table the copy writes, but for the
/// rows every store makes when it is opened.
async fn refuse_filled(target: &Store, tables: &[(Table, Vec<Kind>)]) -> Result<()> {
    let mut found = Vec::new();
    for (table, _) in tables {
        if MADE_AT_OPEN.contains(&table.name.as_str()) {
            continue;
        }
        let rows = count(target, &table.name).await?;
        if rows > 0 {
            found.push(format!("{}: {rows} rows", table.name));
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    Err(Error::CopyRefused(format!(
        "the target store is not empty ({}); copy only into a new, empty store",
        found.join(", ")
    )))
}

/// On PostgreSQL, moves each identity column's sequence past the ids
/// copied, so the next row inserted gets a new one ("Sequence
/// Manipulation Functions", PostgreSQL documentation 9.17: `setval` with
/// the largest id makes the next `nextval` return one more). SQLite takes
/// the next rowid from the largest in the table by itself.
fn advance_identities(tx: &Db) -> Result<()> {
    if !tx.is_postgres() {
        return Ok(());
    }
    for (table, column) in copy_schema::identity_columns(tx)? {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence($1, $2), MAX({})) FROM {}",
            quote(&column),
            quote(&table)
        );
        tx.query_row(&sql, (quote(&table), column.as_str()), |_| Ok(()))?;
    }
    Ok(())
}

async fn count(store: &Store, table: &str) -> Result<u64> {
    let sql = format!("SELECT COUNT(*) FROM {}", quote(table));
    store
        .point_reads
        .scan(move |db| db.query_row(&sql, (), |row| row.get(0)))
        .await
}

/// Content read whole from a content store.
async fn read_whole(content: &dyn ContentStore, hash: &str) -> Result<Vec<u8>> {
    let (reader, len) = content.open(hash).await?;
    reader
        .read_rest(Vec::with_capacity(usize::try_from(len).unwrap_or(0)))
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

/// A failure while copying `table`, with the table named.
fn in_table(table: &str, error: Error) -> Error {
    Error::CopyFailed {
        step: format!("copying table {table}"),
        source: Box::new(error),
    }
}

/// A value read from the source, owned to outlive its row.
#[derive(Debug, Clone, PartialEq)]
enum Owned {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Column for Owned {
    fn read(cell: Cell<'_>) -> Result<Self, String> {
        Ok(match cell {
            Cell::Null => Owned::Null,
            Cell::Int(n) => Owned::Int(n),
            Cell::Text(text) => Owned::Text(text.to_string()),
            Cell::Bytes(bytes) => Owned::Bytes(bytes.to_vec()),
            // The store writes no real numbers; a column holding one is
            // not the store's.
            Cell::Real(x) => return Err(format!("a real number ({x}), which the store never writes")),
        })
    }
}

impl Value for Owned {
    fn param(&self) -> Param<'_> {
        match self {
            Owned::Null => Param::Null,
            Owned::Int(n) => Param::Int(*n),
            Owned::Text(text) => Param::Text(text),
            Owned::Bytes(bytes) => Param::Bytes(bytes),
        }
    }
}

/// A row read from the source made fit for the target's columns: SQLite
/// keeps a value as the client gave it, whatever the column's declared
/// type, while PostgreSQL's BYTEA and TEXT each take their own.
fn fit(row: Vec<Owned>, kinds: &[Kind], table: &Table) -> Result<Vec<Owned>> {
    row.into_iter()
        .zip(kinds)
        .zip(&table.columns)
        .map(|((value, kind), column)| match (value, kind) {
            (Owned::Text(text), Kind::Bytes) => Ok(Owned::Bytes(text.into_bytes())),
            (Owned::Bytes(bytes), Kind::Text) => String::from_utf8(bytes).map(Owned::Text).map_err(|_| {
                Error::CopyRefused(format!(
                    "column {}.{} holds bytes that are not UTF-8 text, which the target's column needs",
                    table.name, column.name
                ))
            }),
            (value, _) => Ok(value),
        })
        .collect()
}
