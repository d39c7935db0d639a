//! The two sqlx backends behind one handle, and the small helpers every query module uses.
//!
//! Most SQL is written once: SQLite accepts PostgreSQL's `$1` placeholders, and both support
//! `ON CONFLICT` and `RETURNING`. The [`with_conn!`] and [`with_reader!`] macros expand one
//! expression once per backend, so sqlx type-checks it against each database's types. Where
//! the dialects differ (row locks, `SKIP LOCKED`, `NOTIFY`), the modules match on the backend
//! explicitly.

use std::str::FromStr;
use std::sync::LazyLock;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgPool};
use sqlx::sqlite::{SqliteConnection, SqlitePool};
use sqlx::{Postgres, Sqlite, Transaction};

use crate::error::StoreError;
use crate::model::Timestamp;

/// The connection pools of one store.
#[derive(Debug)]
pub(crate) enum Pools {
    /// One pool; PostgreSQL serializes writers itself (row locks).
    Postgres(PgPool),
    /// SQLite allows one writer at a time. Funnelling every write through a one-connection
    /// pool makes writers queue in-process instead of spinning on `SQLITE_BUSY`; readers use
    /// their own pool and, in WAL mode, never block the writer.
    Sqlite {
        /// Exactly one connection; every write transaction starts with `BEGIN IMMEDIATE`.
        writer: SqlitePool,
        /// Read-only queries.
        reader: SqlitePool,
    },
}

impl Pools {
    /// Starts a write transaction. On SQLite it takes the database write lock at once
    /// (`BEGIN IMMEDIATE`), so a read-then-write inside it cannot be overtaken.
    pub(crate) async fn begin_write(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Self::Postgres(pool) => Tx::Postgres(pool.begin().await?),
            Self::Sqlite { writer, .. } => Tx::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?),
        })
    }

    /// Starts a read-only transaction that sees one consistent snapshot.
    pub(crate) async fn begin_read(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Self::Postgres(pool) => Tx::Postgres(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?,
            ),
            // A deferred transaction on a WAL reader holds one snapshot from its first read.
            Self::Sqlite { reader, .. } => Tx::Sqlite(reader.begin().await?),
        })
    }

    /// A connection for read-only queries.
    pub(crate) async fn acquire_read(&self) -> Result<ReadConn, StoreError> {
        Ok(match self {
            Self::Postgres(pool) => ReadConn::Postgres(pool.acquire().await?),
            Self::Sqlite { reader, .. } => ReadConn::Sqlite(reader.acquire().await?),
        })
    }

    pub(crate) async fn close(&self) {
        match self {
            Self::Postgres(pool) => pool.close().await,
            Self::Sqlite { writer, reader } => {
                reader.close().await;
                writer.close().await;
            }
        }
    }
}

/// A pooled read connection.
#[derive(Debug)]
pub(crate) enum ReadConn {
    Postgres(PoolConnection<Postgres>),
    Sqlite(PoolConnection<Sqlite>),
}

impl ReadConn {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Self::Postgres(conn) => Conn::Postgres(conn),
            Self::Sqlite(conn) => Conn::Sqlite(conn),
        }
    }
}

/// An open transaction (a write transaction unless made by `begin_read`). Dropping it rolls
/// back.
#[derive(Debug)]
pub(crate) enum Tx {
    Postgres(Transaction<'static, Postgres>),
    Sqlite(Transaction<'static, Sqlite>),
}

impl Tx {
    /// The transaction's connection, for one or more queries.
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Self::Postgres(tx) => Conn::Postgres(tx),
            Self::Sqlite(tx) => Conn::Sqlite(tx),
        }
    }

    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Self::Postgres(tx) => tx.commit().await?,
            Self::Sqlite(tx) => tx.commit().await?,
        }
        Ok(())
    }

    pub(crate) async fn rollback(self) -> Result<(), StoreError> {
        match self {
            Self::Postgres(tx) => tx.rollback().await?,
            Self::Sqlite(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}

/// A borrowed connection of either backend.
#[derive(Debug)]
pub(crate) enum Conn<'a> {
    Postgres(&'a mut PgConnection),
    Sqlite(&'a mut SqliteConnection),
}

/// Evaluates `$body` with `$c` bound to the connection of whichever backend `$conn` holds.
macro_rules! with_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::backend::Conn::Postgres($c) => $body,
            $crate::backend::Conn::Sqlite($c) => $body,
        }
    };
}

/// Evaluates `$body` with `$p` bound to the pool for read-only queries.
macro_rules! with_reader {
    ($pools:expr, $p:ident => $body:expr) => {
        match $pools {
            $crate::backend::Pools::Postgres($p) => $body,
            $crate::backend::Pools::Sqlite { reader: $p, .. } => $body,
        }
    };
}

pub(crate) use {with_conn, with_reader};

/// A number for an `BIGINT`/`INTEGER` column.
pub(crate) fn to_db(value: u64, what: &'static str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::InvalidInput(what))
}

/// A timestamp for a column.
pub(crate) fn ts_to_db(value: Timestamp) -> Result<i64, StoreError> {
    to_db(value.0, "timestamp above i64::MAX")
}

/// A number read back from a column; negative values can only come from outside writers.
pub(crate) fn from_db(value: i64, what: &'static str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(what))
}

/// A timestamp read back from a column.
pub(crate) fn ts_from_db(value: i64) -> Result<Timestamp, StoreError> {
    from_db(value, "timestamp").map(Timestamp)
}

/// An identifier read back from a text column.
pub(crate) fn id_from_db<T: FromStr>(text: &str, what: &'static str) -> Result<T, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt(what))
}

/// A `u32` read back from a column.
pub(crate) fn u32_from_db(value: i64, what: &'static str) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(what))
}

/// Row counts a multi-row `INSERT` is split into, largest first. A handful of fixed sizes keeps
/// the distinct statement texts (each prepared and cached per connection) few, while a batch of
/// n rows costs at most a few statements instead of n. Each statement is one round trip to
/// SQLite's worker thread, which costs more than inserting the row (benchmarks: fan-out).
const BULK_CHUNKS: [usize; 4] = [64, 16, 4, 1];

/// The texts of one multi-row `INSERT`, one per chunk size. Both backends read `$n`
/// placeholders, so one text serves both.
#[derive(Debug)]
pub(crate) struct BulkInsert {
    texts: [String; BULK_CHUNKS.len()],
}

impl BulkInsert {
    /// `head` is `INSERT INTO table (columns…)`; every row binds `columns` values.
    pub(crate) fn new(head: &str, columns: usize) -> Self {
        Self {
            texts: BULK_CHUNKS.map(|rows| {
                let mut sql = format!("{head} VALUES ");
                for row in 0..rows {
                    sql.push_str(if row == 0 { "(" } else { ", (" });
                    for column in 0..columns {
                        if column > 0 {
                            sql.push_str(", ");
                        }
                        sql.push_str(&format!("${}", row * columns + column + 1));
                    }
                    sql.push(')');
                }
                sql
            }),
        }
    }

    /// `rows` in consecutive chunks, each with the statement that inserts exactly that many.
    pub(crate) fn chunks<'a, T>(
        &'static self,
        rows: &'a [T],
    ) -> impl Iterator<Item = (&'static str, &'a [T])> {
        let mut rest = rows;
        std::iter::from_fn(move || {
            let (index, size) = BULK_CHUNKS
                .iter()
                .enumerate()
                .find(|(_, size)| **size <= rest.len())?;
            let (chunk, tail) = rest.split_at(*size);
            rest = tail;
            Some((self.texts[index].as_str(), chunk))
        })
    }
}

/// A lazily built [`BulkInsert`] for a `static`.
pub(crate) type LazyBulkInsert = LazyLock<BulkInsert>;

#[cfg(test)]
mod tests {
    use super::BulkInsert;

    static TWO: super::LazyBulkInsert =
        super::LazyBulkInsert::new(|| BulkInsert::new("INSERT INTO t (a, b)", 2));

    #[test]
    fn bulk_insert_splits_into_few_fixed_statements() {
        let rows: Vec<u32> = (0..87).collect();
        let chunks: Vec<(&str, &[u32])> = TWO.chunks(&rows).collect();
        let sizes: Vec<usize> = chunks.iter().map(|(_, c)| c.len()).collect();
        assert_eq!(sizes, vec![64, 16, 4, 1, 1, 1]);
        let flat: Vec<u32> = chunks.iter().flat_map(|(_, c)| c.iter().copied()).collect();
        assert_eq!(flat, rows);
        assert_eq!(chunks[5].0, "INSERT INTO t (a, b) VALUES ($1, $2)");
        assert_eq!(
            chunks[2].0,
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6), ($7, $8)"
        );
        assert_eq!(TWO.chunks::<u32>(&[]).count(), 0);
    }
}
