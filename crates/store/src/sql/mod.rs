//! The one seam between the store's methods and the database under them:
//! a connection ([`Db`]), its prepared statements, rows, bound values and
//! read columns, the same for SQLite and PostgreSQL, so that every method
//! of the store is written once.
//!
//! Statements are written in the SQL both engines understand (`$N`
//! parameters, `ON CONFLICT`, `RETURNING`, `CASE` rather than two-argument
//! `MAX`); the few spellings that differ are rewritten for PostgreSQL in
//! one place (`pg::translate`). Values travel as [`Param`] and come back as
//! [`Cell`], the four kinds of value SQLite has, so an integer column is
//! read the same whether PostgreSQL declared it BIGINT or INTEGER.
//!
//! The calls are synchronous, as rusqlite's are: a write job runs on the
//! writer thread, a read on the caller's thread or the blocking pool (see
//! `batch` and `point_read`). For PostgreSQL that means a network round
//! trip per statement, waited for on the calling thread (`pg::block_on`).

pub(crate) mod pg;
pub(crate) mod pg_tls;
mod values;

use crate::{DatabaseError, Error, Result};
pub(crate) use values::{Cell, Column, OwnedValue, Param, Params, Value, parse_text};

/// A connection of either engine.
#[derive(Debug)]
pub(crate) enum Db {
    Sqlite(rusqlite::Connection),
    Postgres(pg::PgConn),
}

impl Db {
    /// True for PostgreSQL, for the rare statement that differs by more
    /// than `pg::translate` rewrites.
    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    /// Prepares `sql` once per connection and reuses it after.
    pub(crate) fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        Ok(match self {
            Db::Sqlite(connection) => {
                #[cfg(test)]
                crate::query_plans::note(connection, sql);
                Statement::Sqlite(connection.prepare_cached(sql)?)
            }
            Db::Postgres(connection) => Statement::Postgres(connection, connection.prepare(sql)?),
        })
    }

    /// Runs `sql` once with the values of `params`.
    pub(crate) fn execute(&self, sql: &str, params: impl Params) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    /// The first row's answer from `read` (see [`Statement::query_row`]).
    pub(crate) fn query_row<T>(
        &self,
        sql: &str,
        params: impl Params,
        read: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<T> {
        self.prepare_cached(sql)?.query_row(params, read)
    }

    /// Runs statements without parameters, separated by semicolons.
    #[cfg(test)]
    pub(crate) fn execute_batch(&self, sql: &str) -> Result<()> {
        match self {
            Db::Sqlite(connection) => Ok(connection.execute_batch(sql)?),
            Db::Postgres(connection) => connection.batch_execute(sql),
        }
    }

    /// True while a transaction is open. SQLite ends one by itself on some
    /// failures (a full disk); PostgreSQL when the connection is lost.
    pub(crate) fn in_transaction(&self) -> bool {
        match self {
            Db::Sqlite(connection) => !connection.is_autocommit(),
            Db::Postgres(connection) => connection.in_transaction(),
        }
    }

    /// Commits the open transaction.
    pub(crate) fn commit(&self) -> Result<()> {
        match self {
            Db::Sqlite(_) => self.execute("COMMIT", ()).map(drop),
            Db::Postgres(connection) => connection.end("COMMIT"),
        }
    }

    /// Rolls the open transaction back.
    pub(crate) fn rollback(&self) -> Result<()> {
        match self {
            Db::Sqlite(_) => self.execute("ROLLBACK", ()).map(drop),
            Db::Postgres(connection) => connection.end("ROLLBACK"),
        }
    }

    /// Opens a write transaction: SQLite takes its write lock at once, so a
    /// batch never fails half-way for want of it.
    pub(crate) fn begin(&self) -> Result<()> {
        match self {
            Db::Sqlite(_) => self.execute("BEGIN IMMEDIATE", ()).map(drop),
            Db::Postgres(connection) => connection.begin(),
        }
    }
}

/// A prepared statement, run any number of times.
pub(crate) enum Statement<'c> {
    Sqlite(rusqlite::CachedStatement<'c>),
    Postgres(&'c pg::PgConn, tokio_postgres::Statement),
}

impl Statement<'_> {
    /// Runs the statement; the number of rows it changed.
    pub(crate) fn execute(&mut self, params: impl Params) -> Result<usize> {
        params.with(|values| match self {
            Statement::Sqlite(statement) => Ok(statement.execute(rusqlite::params_from_iter(values::sqlite(values)))?),
            Statement::Postgres(connection, statement) => connection.execute(statement, values),
        })
    }

    /// The first row's answer from `read`; `DatabaseError::NoRows` (see
    /// [`OptionalExtension`]) when there is no row.
    pub(crate) fn query_row<T>(&mut self, params: impl Params, read: impl FnOnce(&Row) -> Result<T>) -> Result<T> {
        params.with(|values| match self {
            Statement::Sqlite(statement) => {
                let mut rows = statement.query(rusqlite::params_from_iter(values::sqlite(values)))?;
                match rows.next()? {
                    Some(row) => read(&Row::Sqlite(row)),
                    None => Err(Error::Database(DatabaseError::NoRows)),
                }
            }
            Statement::Postgres(connection, statement) => match connection.query(statement, values)?.first() {
                Some(row) => read(&Row::Postgres(row)),
                None => Err(Error::Database(DatabaseError::NoRows)),
            },
        })
    }

    /// Every row's answer from `read`, in order, read to the end first.
    pub(crate) fn query_map<T>(
        &mut self,
        params: impl Params,
        mut read: impl FnMut(&Row) -> Result<T>,
    ) -> Result<std::vec::IntoIter<Result<T>>> {
        params.with(|values| {
            let mut answers = Vec::new();
            match self {
                Statement::Sqlite(statement) => {
                    let mut rows = statement.query(rusqlite::params_from_iter(values::sqlite(values)))?;
                    while let Some(row) = rows.next()? {
                        answers.push(read(&Row::Sqlite(row)));
                    }
                }
                Statement::Postgres(connection, statement) => {
                    for row in connection.query(statement, values)? {
                        answers.push(read(&Row::Postgres(&row)));
                    }
                }
            }
            Ok(answers.into_iter())
        })
    }
}

/// A row being read.
pub(crate) enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r tokio_postgres::Row),
}

/// A column by its position (from 0) or its name.
pub(crate) trait ColumnIndex {
    fn position(&self, row: &Row) -> Result<usize>;
}

impl ColumnIndex for usize {
    fn position(&self, _: &Row) -> Result<usize> {
        Ok(*self)
    }
}

impl ColumnIndex for &str {
    fn position(&self, row: &Row) -> Result<usize> {
        let found = match row {
            Row::Sqlite(row) => row.as_ref().column_index(self).ok(),
            Row::Postgres(row) => row.columns().iter().position(|column| column.name() == *self),
        };
        found.ok_or_else(|| {
            Error::Database(DatabaseError::Decode {
                index: usize::MAX,
                message: format!("no column {self}"),
            })
        })
    }
}

impl Row<'_> {
    /// Column `index` as text borrowed from the row (None for NULL), for
    /// reads that take what they need of a long value without copying it.
    pub(crate) fn text(&self, index: usize) -> Result<Option<&str>> {
        let cell = match self {
            Row::Sqlite(row) => values::sqlite_cell(row.get_ref(index)?),
            Row::Postgres(row) => values::postgres_cell(row, index)?,
        };
        match cell {
            values::Cell::Null => Ok(None),
            values::Cell::Text(text) => Ok(Some(text)),
            other => Err(Error::Database(DatabaseError::Decode {
                index,
                message: format!("text expected, found {other:?}"),
            })),
        }
    }

    /// Column `index` (from 0, or by name) as a `T`.
    pub(crate) fn get<T: Column>(&self, index: impl ColumnIndex) -> Result<T> {
        let index = index.position(self)?;
        let decoded = match self {
            Row::Sqlite(row) => T::read(values::sqlite_cell(row.get_ref(index)?)),
            Row::Postgres(row) => T::read(values::postgres_cell(row, index)?),
        };
        decoded.map_err(|message| Error::Database(DatabaseError::Decode { index, message }))
    }
}

/// Turns "no row" into `None`, as rusqlite's extension of that name does.
pub(crate) trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(Error::Database(DatabaseError::NoRows)) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

/// Values of mixed types for one statement: `params![a, b, c]`.
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        &[$(&$value as &dyn $crate::sql::Value),*] as &[&dyn $crate::sql::Value]
    };
}
pub(crate) use params;
