//! Moving a whole store to another backend (`postamt store copy`, issue
//! 18): every row of every table, ids kept, and every content kept out of
//! the database, from a store that no process uses into a new, empty one,
//! then checked (`copy_verify`).
//!
//! Rows travel generically through the `sql` seam: each table's columns
//! come from the source's schema (`copy_schema`), a page of rows is read
//! in primary-key order as `Cell`s and written back as `Param`s
//! (`copy_rows`), each page in one transaction of the target's writer: no transaction holds
//! the whole store, and none is paid per row. Tables are written after
//! those their foreign keys refer to. Content larger than the inline limit
//! goes through the `ContentStore` of each side (blob files or chunks),
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

use crate::blobs::sha256_hex;
use crate::content_store::ContentStore;
use crate::copy_rows::{Owned, PAGE, Pages, fit, placeholders};
use crate::copy_schema::{self, Kind, Table, quote};
use crate::copy_verify::{Verified, count};
use crate::sql::Db;
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
                for name in replaced.iter().copied() {
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

    /// The source's tables that are copied, in the order they are
    /// written, each with the kind of value the target's columns hold
    /// (by the source's column order). The two schemas must have the
    /// same tables and columns: both stores are migrated by this binary.
    pub(crate) async fn copied_tables(&self, target: &Store) -> Result<Vec<(Table, Vec<Kind>)>> {
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

    /// Copies the rows of `table`, a page at a time in key order, each
    /// page in one transaction of the target's writer; returns how many.
    async fn copy_table(&self, target: &Store, table: &Table, kinds: &[Kind]) -> Result<u64> {
        let columns: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
        let insert = format!("INSERT INTO {} ({}) VALUES ", quote(&table.name), columns.join(", "));
        let width = table.columns.len();
        let mut pages = Pages::of(table);
        let mut copied = 0;
        loop {
            let rows = pages.next(self).await.map_err(|error| in_table(&table.name, error))?;
            if rows.is_empty() {
                return Ok(copied);
            }
            let rows = rows
                .into_iter()
                .map(|row| fit(row, kinds, table))
                .collect::<Result<Vec<_>>>()?;
            copied += rows.len() as u64;
            // The page in one statement: a round trip per page, not per
            // row, to PostgreSQL. At most PAGE times a table's columns
            // parameters, well under SQLite's 32 766 and PostgreSQL's
            // 65 535.
            let values = (0..rows.len())
                .map(|row| format!("({})", placeholders(row * width, width)))
                .collect::<Vec<_>>()
                .join(", ");
            let insert = format!("{insert}{values}");
            target
                .batcher
                .write_alone(move |tx| {
                    let values: Vec<&Owned> = rows.iter().flatten().collect();
                    tx.execute(&insert, &values).map(drop)
                })
                .await
                .map_err(|error| in_table(&table.name, error))?;
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
    pub(crate) async fn referenced_content(&self, after: &str, stored_only: bool) -> Result<Vec<String>> {
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
            let plural = if rows == 1 { "" } else { "s" };
            found.push(format!("{}: {rows} row{plural}", table.name));
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

/// Content read whole from a content store.
async fn read_whole(content: &dyn ContentStore, hash: &str) -> Result<Vec<u8>> {
    let (reader, len) = content.open(hash).await?;
    reader
        .read_rest(Vec::with_capacity(usize::try_from(len).unwrap_or(0)))
        .await
}

/// A failure while copying `table`, with the table named.
fn in_table(table: &str, error: Error) -> Error {
    Error::CopyFailed {
        step: format!("copying table {table}"),
        source: Box::new(error),
    }
}
