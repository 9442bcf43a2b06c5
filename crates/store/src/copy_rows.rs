//! Rows of any table, for `copy` and its verification: read a page at a
//! time in primary-key order ([`Pages`]), each value owned ([`Owned`],
//! read through the seam as a [`Cell`], bound back as a [`Param`]), and
//! made fit for the other engine's columns ([`fit`]).

use crate::copy_schema::{Kind, Table, quote};
use crate::sql::{Cell, Column, Param, Value};
use crate::{Error, Result, Store};

/// Rows per page read, and per transaction written.
pub(crate) const PAGE: usize = 256;

/// A value read from a row, owned to outlive it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Owned {
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

impl std::fmt::Display for Owned {
    /// For messages: text quoted, bytes by their length only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owned::Null => write!(f, "NULL"),
            Owned::Int(n) => write!(f, "{n}"),
            Owned::Text(text) => write!(f, "{text:?}"),
            Owned::Bytes(bytes) => write!(f, "<{} bytes>", bytes.len()),
        }
    }
}

/// A row read from one engine made fit for the other's columns (`kinds`,
/// by position): SQLite keeps a value as the client gave it, whatever the
/// column's declared type, while PostgreSQL's BYTEA and TEXT each take
/// their own.
pub(crate) fn fit(row: Vec<Owned>, kinds: &[Kind], table: &Table) -> Result<Vec<Owned>> {
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

/// A table read a page at a time in primary-key order: each page starts
/// after the key of the one before (`WHERE (k1, k2) > ($1, $2)`, a row
/// value comparison both engines know), so a page costs the same however
/// far into the table it is. The column list is the source's, and names
/// the same columns in the target.
pub(crate) struct Pages {
    first: String,
    next: String,
    width: usize,
    key: Vec<usize>,
    after: Option<Vec<Owned>>,
    done: bool,
}

impl Pages {
    pub(crate) fn of(table: &Table) -> Pages {
        let columns: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
        let key = table
            .key
            .iter()
            .map(|&at| columns[at].clone())
            .collect::<Vec<_>>()
            .join(", ");
        let (name, columns) = (quote(&table.name), columns.join(", "));
        Pages {
            first: format!("SELECT {columns} FROM {name} ORDER BY {key} LIMIT {PAGE}"),
            next: format!(
                "SELECT {columns} FROM {name} WHERE ({key}) > ({}) ORDER BY {key} LIMIT {PAGE}",
                placeholders(0, table.key.len())
            ),
            width: table.columns.len(),
            key: table.key.clone(),
            after: None,
            done: false,
        }
    }

    /// The next page of `store`'s rows; empty once all were read.
    pub(crate) async fn next(&mut self, store: &Store) -> Result<Vec<Vec<Owned>>> {
        if self.done {
            return Ok(Vec::new());
        }
        let (sql, keys) = match &self.after {
            None => (self.first.clone(), Vec::new()),
            Some(keys) => (self.next.clone(), keys.clone()),
        };
        let width = self.width;
        let rows: Vec<Vec<Owned>> = store
            .point_reads
            .scan(move |db| {
                db.prepare_cached(&sql)?
                    .query_map(&keys, |row| (0..width).map(|at| row.get::<Owned>(at)).collect())?
                    .collect()
            })
            .await?;
        self.done = rows.len() < PAGE;
        if let Some(last) = rows.last() {
            self.after = Some(self.key(last));
        }
        Ok(rows)
    }

    /// The primary key of `row`.
    pub(crate) fn key(&self, row: &[Owned]) -> Vec<Owned> {
        self.key.iter().map(|&at| row[at].clone()).collect()
    }
}

/// `$from+1, ..., $from+n`.
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from + 1..=from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
