//! PostgreSQL connections for the store's synchronous calls.
//!
//! tokio-postgres splits a connection in two: the `Client`, which sends
//! requests down a channel and waits for the answers, and the connection
//! task, which does the network I/O. The connection tasks of a store run on
//! a small runtime of its own ([`PgRuntime`], one thread); a call waits on
//! its own thread for the answer ([`block_on`]). So a call works from any
//! thread, a runtime's worker included, and can never wait for itself:
//! the I/O it waits for is driven elsewhere.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use tokio_postgres::types::ToSql;

use super::Param;
use crate::{Error, Result};

/// The runtime that drives the store's PostgreSQL connections; it stops
/// when the last handle is dropped.
#[derive(Debug, Clone)]
pub(crate) struct PgRuntime {
    handle: tokio::runtime::Handle,
    _stop: Arc<tokio::sync::oneshot::Sender<()>>,
}

impl PgRuntime {
    pub(crate) fn start() -> Result<PgRuntime> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io(std::path::Path::new("postgres runtime"), e))?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("postamt-postgres".into())
            .spawn(move || {
                let _ = runtime.block_on(stopped);
            })
            .map_err(|e| Error::io(std::path::Path::new("postgres runtime"), e))?;
        Ok(PgRuntime {
            handle,
            _stop: Arc::new(stop),
        })
    }

    /// Runs `task` on this runtime (it must never block: the connections'
    /// I/O shares the one thread).
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.handle.spawn(task);
    }

    /// Opens a connection to `url`, every statement of which runs with
    /// `settings` (a `SET ...;` list, may be empty).
    pub(crate) fn connect(&self, url: &str, settings: &str) -> Result<PgConn> {
        let url = url.to_string();
        let connecting = self.handle.spawn(async move {
            let (client, connection) = super::pg_tls::connect(&url).await?;
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::warn!(%error, "a PostgreSQL connection ended");
                }
            });
            Ok::<_, Error>(client)
        });
        let client = block_on(connecting).map_err(|_| Error::ReadAbandoned)??;
        let connection = PgConn {
            client,
            in_transaction: std::cell::Cell::new(false),
            statements: RefCell::new(HashMap::new()),
        };
        if !settings.is_empty() {
            connection.batch_execute(settings)?;
        }
        Ok(connection)
    }
}

/// One PostgreSQL connection with its prepared statements.
pub(crate) struct PgConn {
    client: tokio_postgres::Client,
    /// Between [`PgConn::begin`] and [`PgConn::end`].
    in_transaction: std::cell::Cell<bool>,
    /// By the SQL as the store wrote it (before `translate`).
    statements: RefCell<HashMap<String, tokio_postgres::Statement>>,
}

impl std::fmt::Debug for PgConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConn").finish_non_exhaustive()
    }
}

/// Prepared statements a connection keeps at most; past that the cache
/// starts afresh (the store's statements are a fixed set well under it,
/// but `IN` lists of many lengths must not grow it forever).
const STATEMENT_CACHE: usize = 512;

impl PgConn {
    pub(crate) fn prepare(&self, sql: &str) -> Result<tokio_postgres::Statement> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = block_on(self.client.prepare(&translate(sql)))?;
        let mut statements = self.statements.borrow_mut();
        if statements.len() >= STATEMENT_CACHE {
            statements.clear();
        }
        statements.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    pub(crate) fn execute(&self, statement: &tokio_postgres::Statement, params: &[Param<'_>]) -> Result<usize> {
        let params = bind(params);
        Ok(block_on(self.client.execute(statement, &params))? as usize)
    }

    pub(crate) fn query(
        &self,
        statement: &tokio_postgres::Statement,
        params: &[Param<'_>],
    ) -> Result<Vec<tokio_postgres::Row>> {
        let params = bind(params);
        Ok(block_on(self.client.query(statement, &params))?)
    }

    pub(crate) fn batch_execute(&self, sql: &str) -> Result<()> {
        Ok(block_on(self.client.batch_execute(sql))?)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Opens a transaction (`BEGIN`).
    pub(crate) fn begin(&self) -> Result<()> {
        self.batch_execute("BEGIN")?;
        self.in_transaction.set(true);
        Ok(())
    }

    /// Ends the transaction with `COMMIT` or `ROLLBACK`. A failed COMMIT
    /// ends it too (PostgreSQL rolls back), as does a lost connection.
    pub(crate) fn end(&self, statement: &str) -> Result<()> {
        let ended = self.batch_execute(statement);
        if ended.is_ok() || statement == "COMMIT" || self.is_closed() {
            self.in_transaction.set(false);
        }
        ended
    }

    pub(crate) fn in_transaction(&self) -> bool {
        self.in_transaction.get() && !self.is_closed()
    }
}

fn bind<'a>(params: &'a [Param<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|param| param as &(dyn ToSql + Sync)).collect()
}

/// Rewrites the few spellings of the store's SQL that PostgreSQL does not
/// share with SQLite:
/// - `?N` parameters become `$N`;
/// - `json_each($N)` over a JSON array of integers (the store's `IN` lists)
///   becomes `jsonb_array_elements_text`, its elements read as BIGINT.
pub(crate) fn translate(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 32);
    let mut rest = sql;
    while let Some(at) = rest.find(['?', 'j']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix('?')
            && after.starts_with(|c: char| c.is_ascii_digit())
        {
            out.push('$');
            rest = after;
        } else if let Some(after) = rest.strip_prefix("json_each(")
            && let Some(end) = after.find(')')
        {
            let parameter = &after[..end];
            out.push_str(&format!(
                "(SELECT CAST(e AS BIGINT) AS value FROM jsonb_array_elements_text(CAST(CAST({parameter} AS TEXT) AS JSONB)) AS j(e)) AS json_list"
            ));
            rest = &after[end + 1..];
        } else {
            out.push_str(&rest[..1]);
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Wakes the thread that waits in [`block_on`].
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to its end on this thread, parking between polls. Only
/// for futures whose I/O is driven elsewhere (a client's request to its
/// connection task on the [`PgRuntime`], a task's `JoinHandle`).
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::translate;

    #[test]
    fn numbered_parameters_become_dollars() {
        assert_eq!(
            translate("UPDATE t SET a = ?2 WHERE b = ?1 AND c = '?'"),
            "UPDATE t SET a = $2 WHERE b = $1 AND c = '?'"
        );
    }

    #[test]
    fn json_lists_become_jsonb_elements() {
        assert_eq!(
            translate("SELECT x FROM t WHERE uid IN (SELECT value FROM json_each($2)) AND y = 1"),
            "SELECT x FROM t WHERE uid IN (SELECT value FROM (SELECT CAST(e AS BIGINT) AS value FROM \
             jsonb_array_elements_text(CAST(CAST($2 AS TEXT) AS JSONB)) AS j(e)) AS json_list) AND y = 1"
        );
    }
}
