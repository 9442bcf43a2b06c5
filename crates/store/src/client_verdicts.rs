//! Client verdicts of the MX port's pregreet test, kept beyond a restart
//! (smtpd keeps the working copy in memory; see its `client_memory`).

use std::net::IpAddr;

use crate::{Result, Store};

/// One client's verdict: passed (waited for the greeting, or logged in)
/// or not, until a time (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientVerdict {
    pub client: IpAddr,
    pub passed: bool,
    pub until: i64,
}

impl Store {
    /// Keeps a verdict, replacing the client's earlier one.
    pub async fn remember_client(&self, verdict: ClientVerdict) -> Result<()> {
        self.batched(move |tx| {
            tx.prepare_cached(
                "INSERT INTO client_verdicts (client, passed, until) VALUES ($1, $2, $3)
                 ON CONFLICT (client) DO UPDATE SET passed = excluded.passed, until = excluded.until",
            )?
            .execute((verdict.client.to_string(), verdict.passed, verdict.until))?;
            Ok(())
        })
        .await
    }

    /// The verdicts that still hold at `now`, at most `limit`, those that
    /// hold longest first.
    pub async fn remembered_clients(&self, now: i64, limit: usize) -> Result<Vec<ClientVerdict>> {
        let rows: Vec<(String, bool, i64)> = self
            .point_reads
            .scan(move |c| {
                let mut select = c.prepare_cached(
                    "SELECT client, passed, until FROM client_verdicts WHERE until > $1 ORDER BY until DESC LIMIT $2",
                )?;
                let rows = select.query_map((now, limit as i64), |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
                rows.collect::<crate::Result<Vec<_>>>()
            })
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(client, passed, until)| {
                Some(ClientVerdict {
                    client: client.parse().ok()?,
                    passed,
                    until,
                })
            })
            .collect())
    }

    /// Forgets the verdicts expired at `now`, and beyond the `keep` that
    /// hold longest; how many were forgotten.
    pub async fn forget_clients(&self, now: i64, keep: usize) -> Result<u64> {
        self.batched(move |tx| {
            let expired = tx
                .prepare_cached("DELETE FROM client_verdicts WHERE until <= $1")?
                .execute([now])?;
            let beyond = tx
                .prepare_cached(
                    "DELETE FROM client_verdicts WHERE client NOT IN
                     (SELECT client FROM client_verdicts ORDER BY until DESC LIMIT $1)",
                )?
                .execute([keep as i64])?;
            Ok((expired + beyond) as u64)
        })
        .await
    }
}
