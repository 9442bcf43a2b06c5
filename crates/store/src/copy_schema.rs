//! What `copy` learns of a store's schema from the database itself, so
//! that a table added by a later migration is copied without a change
//! here: the tables, their columns in order with the kind of value each
//! holds, their primary keys (to read a table a page at a time, in key
//! order) and the tables their foreign keys refer to (to write referred
//! rows first). SQLite answers through its table-valued pragmas
//! (`pragma_table_info`, `pragma_foreign_key_list`), PostgreSQL through
//! `information_schema` and `pg_constraint`.

use std::collections::{BTreeMap, BTreeSet};

use crate::sql::Db;
use crate::{Error, Result};

/// A table as `copy` sees it.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub name: String,
    pub columns: Vec<ColumnInfo>,
    /// Positions in `columns` of the primary key's columns, in key order.
    pub key: Vec<usize>,
    /// The tables its foreign keys refer to (itself left out).
    pub refers_to: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnInfo {
    pub name: String,
    pub kind: Kind,
}

/// The kind of value a column holds, from its declared type: what a value
/// read from the other engine is turned into before it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Integer,
    Text,
    Bytes,
    Other,
}

impl Kind {
    /// From a declared type: SQLite's affinity rules (SQLite
    /// documentation, "Datatypes In SQLite", 3.1) cover PostgreSQL's
    /// names too, but for `bytea` and `boolean`.
    fn of(declared: &str) -> Kind {
        let declared = declared.to_ascii_lowercase();
        if declared.contains("int") || declared == "boolean" {
            Kind::Integer
        } else if declared.contains("char") || declared.contains("text") || declared.contains("clob") {
            Kind::Text
        } else if declared.contains("blob") || declared == "bytea" {
            Kind::Bytes
        } else {
            Kind::Other
        }
    }
}

/// `name` quoted as an SQL identifier, for both engines.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Every table of the store `db` reaches, views and the engine's own
/// tables left out, by name.
pub(crate) fn tables(db: &Db) -> Result<BTreeMap<String, Table>> {
    let names: Vec<String> = if db.is_postgres() {
        db.prepare_cached(
            "SELECT CAST(c.relname AS TEXT) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY 1",
        )?
        .query_map((), |row| row.get(0))?
        .collect::<Result<_>>()?
    } else {
        db.prepare_cached("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY 1")?
            .query_map((), |row| row.get(0))?
            .collect::<Result<_>>()?
    };
    let mut tables = BTreeMap::new();
    for name in names {
        let table = table(db, &name)?;
        tables.insert(name, table);
    }
    Ok(tables)
}

fn table(db: &Db, name: &str) -> Result<Table> {
    // (column, declared type, position in the primary key from 1, or 0)
    let columns: Vec<(String, String, i64)> = if db.is_postgres() {
        db.prepare_cached(
            "SELECT CAST(c.column_name AS TEXT), CAST(c.data_type AS TEXT), CAST(COALESCE(k.ordinal_position, 0) AS BIGINT)
             FROM information_schema.columns c
             LEFT JOIN information_schema.table_constraints t
               ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.constraint_type = 'PRIMARY KEY'
             LEFT JOIN information_schema.key_column_usage k
               ON k.constraint_schema = t.constraint_schema AND k.constraint_name = t.constraint_name
              AND k.table_name = c.table_name AND k.column_name = c.column_name
             WHERE c.table_schema = current_schema() AND CAST(c.table_name AS TEXT) = $1
             ORDER BY c.ordinal_position",
        )?
        .query_map([name], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<Result<_>>()?
    } else {
        db.prepare_cached("SELECT name, type, pk FROM pragma_table_info($1) ORDER BY cid")?
            .query_map([name], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
            .collect::<Result<_>>()?
    };
    let mut key: Vec<(i64, usize)> = columns
        .iter()
        .enumerate()
        .filter(|(_, (_, _, pk))| *pk > 0)
        .map(|(at, (_, _, pk))| (*pk, at))
        .collect();
    key.sort_unstable();
    if key.is_empty() {
        return Err(Error::CopyRefused(format!(
            "table {name} has no primary key, so it cannot be read a page at a time"
        )));
    }
    let refers_to: Vec<String> = if db.is_postgres() {
        db.prepare_cached(
            "SELECT DISTINCT CAST(r.relname AS TEXT) FROM pg_constraint k
             JOIN pg_class t ON t.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid
             JOIN pg_namespace n ON n.oid = t.relnamespace
             WHERE k.contype = 'f' AND n.nspname = current_schema() AND CAST(t.relname AS TEXT) = $1",
        )?
        .query_map([name], |row| row.get(0))?
        .collect::<Result<_>>()?
    } else {
        db.prepare_cached("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list($1)")?
            .query_map([name], |row| row.get(0))?
            .collect::<Result<_>>()?
    };
    Ok(Table {
        name: name.to_string(),
        columns: columns
            .into_iter()
            .map(|(name, declared, _)| ColumnInfo {
                kind: Kind::of(&declared),
                name,
            })
            .collect(),
        key: key.into_iter().map(|(_, at)| at).collect(),
        refers_to: refers_to.into_iter().filter(|to| to != name).collect(),
    })
}

/// The tables in an order in which every table comes after those it
/// refers to (references to tables not in the list are ignored), by name
/// where the references leave a choice.
pub(crate) fn in_dependency_order(tables: Vec<Table>) -> Result<Vec<Table>> {
    let names: BTreeSet<String> = tables.iter().map(|t| t.name.clone()).collect();
    let mut waiting: BTreeMap<String, Table> = tables.into_iter().map(|t| (t.name.clone(), t)).collect();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut order = Vec::with_capacity(waiting.len());
    while !waiting.is_empty() {
        let ready = waiting.values().find(|table| {
            table
                .refers_to
                .iter()
                .all(|to| done.contains(to) || !names.contains(to))
        });
        let Some(name) = ready.map(|table| table.name.clone()) else {
            let left: Vec<&str> = waiting.keys().map(String::as_str).collect();
            return Err(Error::CopyRefused(format!(
                "the foreign keys of tables {} refer to each other in a cycle",
                left.join(", ")
            )));
        };
        let table = waiting.remove(&name).expect("found above");
        done.insert(name);
        order.push(table);
    }
    Ok(order)
}

/// The identity columns of PostgreSQL's tables: (table, column).
pub(crate) fn identity_columns(db: &Db) -> Result<Vec<(String, String)>> {
    db.prepare_cached(
        "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns
         WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY 1, 2",
    )?
    .query_map((), |row| Ok((row.get(0)?, row.get(1)?)))?
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, refers_to: &[&str]) -> Table {
        Table {
            name: name.into(),
            columns: Vec::new(),
            key: vec![0],
            refers_to: refers_to.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn referred_tables_come_first() {
        let order = in_dependency_order(vec![
            table("messages", &["mailboxes"]),
            table("accounts", &["domains"]),
            table("mailboxes", &["accounts"]),
            table("domains", &[]),
            table("locks", &["skipped"]),
        ])
        .unwrap();
        let names: Vec<&str> = order.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["domains", "accounts", "locks", "mailboxes", "messages"]);
    }

    #[test]
    fn a_cycle_is_named() {
        let error = in_dependency_order(vec![table("a", &["b"]), table("b", &["a"])]).unwrap_err();
        assert!(error.to_string().contains("a, b"), "{error}");
    }

    #[test]
    fn kinds_follow_the_declared_type() {
        assert_eq!(Kind::of("INTEGER"), Kind::Integer);
        assert_eq!(Kind::of("bigint"), Kind::Integer);
        assert_eq!(Kind::of("TEXT"), Kind::Text);
        assert_eq!(Kind::of("character varying"), Kind::Text);
        assert_eq!(Kind::of("BLOB"), Kind::Bytes);
        assert_eq!(Kind::of("bytea"), Kind::Bytes);
    }
}
