//! The last attempts at each queue recipient at other hosts: when, who
//! answered, which transport security policy applied, the TLS version and
//! cipher, and the reply (issue 21), for `postamt queue show`. The
//! recipient row keeps only the last reply; these say how delivery went.

use crate::queue::Attempt;
use crate::{Result, Store};

/// How many attempts are kept per recipient. On the default schedule a
/// recipient retried until its 5-day lifetime makes about 60 attempts, and
/// a short `retry_intervals` makes many more: the newest 20 show what
/// happens now and how it has gone, and the table stays at most 20 rows
/// per recipient in the queue.
pub const MAX_ATTEMPTS_KEPT: i64 = 20;

/// What protected one attempt at another host.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Transport {
    /// The policy that applied: `none` (no TLS), `opportunistic`,
    /// `mta-sts` or `dane`; `None` when no host was reached.
    pub policy: Option<String>,
    /// The TLS version, e.g. `TLSv1_3`, when the session was under TLS.
    pub tls_version: Option<String>,
    /// The TLS cipher suite, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub tls_cipher: Option<String>,
}

/// One recorded attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueAttempt {
    pub recipient_id: i64,
    /// When it was recorded, in seconds since the Unix epoch.
    pub at: i64,
    /// The host that answered, if one did.
    pub host: Option<String>,
    pub transport: Transport,
    pub reply: String,
}

impl Store {
    /// Records `attempt` for the recipient `recipient_id` if it was an
    /// attempt at another host, and forgets its attempts beyond the newest
    /// [`MAX_ATTEMPTS_KEPT`]. Part of the transaction that records the
    /// outcome.
    pub(crate) fn record_attempt(tx: &crate::sql::Db, recipient_id: i64, attempt: &Attempt) -> Result<()> {
        let Some(transport) = &attempt.transport else {
            return Ok(());
        };
        tx.prepare_cached(
            "INSERT INTO queue_attempts (recipient_id, at, host, policy, tls_version, tls_cipher, reply)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )?
        .execute(crate::sql::params![
            recipient_id,
            crate::now(),
            attempt.remote_mta,
            transport.policy,
            transport.tls_version,
            transport.tls_cipher,
            attempt.reply,
        ])?;
        tx.prepare_cached(
            "DELETE FROM queue_attempts WHERE recipient_id = $1 AND id <= (
                 SELECT id FROM queue_attempts WHERE recipient_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)",
        )?
        .execute((recipient_id, MAX_ATTEMPTS_KEPT))?;
        Ok(())
    }

    /// The attempts kept for the recipients of `queue_id`, by recipient,
    /// oldest first.
    pub async fn queue_attempts(&self, queue_id: &str) -> Result<Vec<QueueAttempt>> {
        let queue_id = queue_id.to_string();
        self.point_reads
            .scan(move |c| {
                c.prepare_cached(
                    "SELECT a.recipient_id, a.at, a.host, a.policy, a.tls_version, a.tls_cipher, a.reply
                     FROM queue_attempts a JOIN queue_recipients r ON r.id = a.recipient_id
                     WHERE r.queue_id = $1 ORDER BY a.recipient_id, a.id",
                )?
                .query_map([&queue_id], |row| {
                    Ok(QueueAttempt {
                        recipient_id: row.get(0)?,
                        at: row.get(1)?,
                        host: row.get(2)?,
                        transport: Transport {
                            policy: row.get(3)?,
                            tls_version: row.get(4)?,
                            tls_cipher: row.get(5)?,
                        },
                        reply: row.get(6)?,
                    })
                })?
                .collect::<Result<_>>()
            })
            .await
    }
}
