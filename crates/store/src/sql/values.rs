//! Values bound to statements and read from rows, in the four kinds SQLite
//! knows (integer, real, text, bytes) and NULL. PostgreSQL's stricter types
//! are met here once: an integer goes into an INT2, INT4 or INT8 parameter
//! alike (checked for range) and into a BOOL as true for non-zero; a read
//! accepts any integer width and BOOL as an integer.

use std::error::Error as StdError;

use bytes::BytesMut;
use rusqlite::types::{ToSqlOutput, ValueRef};
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use crate::{DatabaseError, Error, Result};

/// A value bound to a statement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Param<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Bytes(&'a [u8]),
}

/// Something that binds as a [`Param`].
pub(crate) trait Value {
    fn param(&self) -> Param<'_>;
}

impl Value for i64 {
    fn param(&self) -> Param<'_> {
        Param::Int(*self)
    }
}

impl Value for i32 {
    fn param(&self) -> Param<'_> {
        Param::Int(i64::from(*self))
    }
}

impl Value for u32 {
    fn param(&self) -> Param<'_> {
        Param::Int(i64::from(*self))
    }
}

impl Value for bool {
    fn param(&self) -> Param<'_> {
        Param::Int(i64::from(*self))
    }
}

impl Value for str {
    fn param(&self) -> Param<'_> {
        Param::Text(self)
    }
}

impl Value for String {
    fn param(&self) -> Param<'_> {
        Param::Text(self)
    }
}

impl Value for [u8] {
    fn param(&self) -> Param<'_> {
        Param::Bytes(self)
    }
}

impl Value for Vec<u8> {
    fn param(&self) -> Param<'_> {
        Param::Bytes(self)
    }
}

impl<T: Value + ?Sized> Value for &T {
    fn param(&self) -> Param<'_> {
        (**self).param()
    }
}

impl<T: Value> Value for Option<T> {
    fn param(&self) -> Param<'_> {
        self.as_ref().map_or(Param::Null, Value::param)
    }
}

impl Value for Param<'_> {
    fn param(&self) -> Param<'_> {
        *self
    }
}

/// A value owned, for a statement built apart from its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OwnedValue {
    Int(i64),
    Text(String),
}

impl From<i64> for OwnedValue {
    fn from(n: i64) -> OwnedValue {
        OwnedValue::Int(n)
    }
}

impl From<String> for OwnedValue {
    fn from(text: String) -> OwnedValue {
        OwnedValue::Text(text)
    }
}

impl Value for OwnedValue {
    fn param(&self) -> Param<'_> {
        match self {
            OwnedValue::Int(n) => Param::Int(*n),
            OwnedValue::Text(text) => Param::Text(text),
        }
    }
}

/// The values of one statement: `()`, one value in an array `[v]`, a
/// tuple, or [`crate::sql::params!`].
pub(crate) trait Params {
    fn with<R>(self, run: impl FnOnce(&[Param<'_>]) -> R) -> R;
}

impl Params for () {
    fn with<R>(self, run: impl FnOnce(&[Param<'_>]) -> R) -> R {
        run(&[])
    }
}

impl<T: Value, const N: usize> Params for [T; N] {
    fn with<R>(self, run: impl FnOnce(&[Param<'_>]) -> R) -> R {
        let params: Vec<Param<'_>> = self.iter().map(Value::param).collect();
        run(&params)
    }
}

/// No value or one.
impl<T: Value> Params for Option<T> {
    fn with<R>(self, run: impl FnOnce(&[Param<'_>]) -> R) -> R {
        match &self {
            Some(value) => run(&[value.param()]),
            None => run(&[]),
        }
    }
}

impl Params for &[&dyn Value] {
    fn with<R>(self, run: impl FnOnce(&[Param<'_>]) -> R) -> R {
        let params: Vec<Param<'_>> = self.iter().map(|value| value.param()).collect();
        run(&params)
    }
}

impl<T: Value> Params for &Vec<T> {
    fn with<R>(self, run: impl FnOnce(&[Param<'_>]) -> R) -> R {
        let params: Vec<Param<'_>> = self.iter().map(Value::param).collect();
        run(&params)
    }
}

macro_rules! tuple_params {
    ($($name:ident),+) => {
        impl<$($name: Value),+> Params for ($($name,)+) {
            #[allow(non_snake_case)]
            fn with<R>(self, run: impl FnOnce(&[Param<'_>]) -> R) -> R {
                let ($($name,)+) = &self;
                run(&[$($name.param()),+])
            }
        }
    };
}
tuple_params!(A);
tuple_params!(A, B);
tuple_params!(A, B, C);
tuple_params!(A, B, C, D);
tuple_params!(A, B, C, D, E);
tuple_params!(A, B, C, D, E, F);
tuple_params!(A, B, C, D, E, F, G);
tuple_params!(A, B, C, D, E, F, G, H);
tuple_params!(A, B, C, D, E, F, G, H, I);
tuple_params!(A, B, C, D, E, F, G, H, I, J);

/// The values for rusqlite.
pub(super) fn sqlite<'a>(params: &'a [Param<'a>]) -> Vec<ToSqlOutput<'a>> {
    params
        .iter()
        .map(|param| {
            ToSqlOutput::Borrowed(match *param {
                Param::Null => ValueRef::Null,
                Param::Int(n) => ValueRef::Integer(n),
                Param::Text(text) => ValueRef::Text(text.as_bytes()),
                Param::Bytes(bytes) => ValueRef::Blob(bytes),
            })
        })
        .collect()
}

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match *self {
            Param::Null => Ok(IsNull::Yes),
            Param::Int(n) => match *ty {
                Type::INT8 => n.to_sql(ty, out),
                Type::INT4 => i32::try_from(n)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(n)?.to_sql(ty, out),
                Type::BOOL => (n != 0).to_sql(ty, out),
                _ => Err(format!("an integer for a parameter of type {ty}").into()),
            },
            Param::Text(text) => text.to_sql(ty, out),
            Param::Bytes(bytes) => bytes.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        // Checked per value in to_sql, where the value's kind is known.
        let _ = ty;
        true
    }

    to_sql_checked!();
}

/// A value read from a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Bytes(&'a [u8]),
}

pub(super) fn sqlite_cell(value: ValueRef<'_>) -> Cell<'_> {
    match value {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(n) => Cell::Int(n),
        ValueRef::Real(x) => Cell::Real(x),
        // SQLite keeps TEXT as the client gave it; ours is always UTF-8.
        ValueRef::Text(text) => std::str::from_utf8(text).map_or(Cell::Bytes(text), Cell::Text),
        ValueRef::Blob(bytes) => Cell::Bytes(bytes),
    }
}

pub(super) fn postgres_cell(row: &tokio_postgres::Row, index: usize) -> Result<Cell<'_>> {
    let column = row
        .columns()
        .get(index)
        .ok_or_else(|| decode(index, "no such column".into()))?;
    let ty = column.type_().clone();
    let read = |error: tokio_postgres::Error| Error::from(error);
    Ok(match ty {
        Type::INT8 => row
            .try_get::<_, Option<i64>>(index)
            .map_err(read)?
            .map_or(Cell::Null, Cell::Int),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(index)
            .map_err(read)?
            .map_or(Cell::Null, |n| Cell::Int(n.into())),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(index)
            .map_err(read)?
            .map_or(Cell::Null, |n| Cell::Int(n.into())),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(index)
            .map_err(read)?
            .map_or(Cell::Null, |b| Cell::Int(b.into())),
        Type::FLOAT8 => row
            .try_get::<_, Option<f64>>(index)
            .map_err(read)?
            .map_or(Cell::Null, Cell::Real),
        Type::BYTEA => row
            .try_get::<_, Option<&[u8]>>(index)
            .map_err(read)?
            .map_or(Cell::Null, Cell::Bytes),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => row
            .try_get::<_, Option<&str>>(index)
            .map_err(read)?
            .map_or(Cell::Null, Cell::Text),
        other => {
            return Err(decode(
                index,
                format!("a column of type {other}, which the store does not read"),
            ));
        }
    })
}

fn decode(index: usize, message: String) -> Error {
    Error::Database(DatabaseError::Decode { index, message })
}

/// Something read from a column.
pub(crate) trait Column: Sized {
    fn read(cell: Cell<'_>) -> Result<Self, String>;
}

fn unexpected<T>(cell: Cell<'_>, wanted: &str) -> Result<T, String> {
    Err(format!("{wanted} expected, found {cell:?}"))
}

impl Column for i64 {
    fn read(cell: Cell<'_>) -> Result<Self, String> {
        match cell {
            Cell::Int(n) => Ok(n),
            other => unexpected(other, "an integer"),
        }
    }
}

impl Column for u32 {
    fn read(cell: Cell<'_>) -> Result<Self, String> {
        u32::try_from(i64::read(cell)?).map_err(|e| e.to_string())
    }
}

impl Column for u64 {
    fn read(cell: Cell<'_>) -> Result<Self, String> {
        u64::try_from(i64::read(cell)?).map_err(|e| e.to_string())
    }
}

impl Column for usize {
    fn read(cell: Cell<'_>) -> Result<Self, String> {
        usize::try_from(i64::read(cell)?).map_err(|e| e.to_string())
    }
}

impl Column for bool {
    fn read(cell: Cell<'_>) -> Result<Self, String> {
        Ok(i64::read(cell)? != 0)
    }
}

impl Column for String {
    fn read(cell: Cell<'_>) -> Result<Self, String> {
        match cell {
            Cell::Text(text) => Ok(text.to_string()),
            other => unexpected(other, "text"),
        }
    }
}

impl Column for Vec<u8> {
    fn read(cell: Cell<'_>) -> Result<Self, String> {
        match cell {
            Cell::Bytes(bytes) => Ok(bytes.to_vec()),
            Cell::Text(text) => Ok(text.as_bytes().to_vec()),
            other => unexpected(other, "bytes"),
        }
    }
}

impl<T: Column> Column for Option<T> {
    fn read(cell: Cell<'_>) -> Result<Self, String> {
        match cell {
            Cell::Null => Ok(None),
            other => T::read(other).map(Some),
        }
    }
}

/// Reads a text column with `parse`, naming the value it could not parse.
pub(crate) fn parse_text<T>(cell: Cell<'_>, parse: fn(&str) -> Option<T>) -> Result<T, String> {
    let text = String::read(cell)?;
    parse(&text).ok_or_else(|| format!("unknown value {text:?}"))
}
