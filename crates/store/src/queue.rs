//! The queue's rows: every accepted message until each of its recipients is
//! delivered or has failed for good.

use crate::{AccountId, BlobRef, Error, Result, Store};

/// A message accepted for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    pub id: String,
    /// The reverse-path without brackets; empty for `<>`.
    pub reverse_path: String,
    pub recipients: Vec<Recipient>,
    pub envelope: Envelope,
    pub blob: BlobRef,
    pub received_at: i64,
}

/// What the client declared about the whole message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// `7BIT`, `8BITMIME` or `BINARYMIME` (RFC 6152, RFC 3030).
    pub body: String,
    /// The envelope needs SMTPUTF8 (RFC 6531).
    pub smtputf8: bool,
    /// DSN RET: `FULL` or `HDRS` (RFC 3461 §4.3).
    pub dsn_ret: Option<String>,
    /// DSN ENVID, decoded (RFC 3461 §4.4).
    pub dsn_envid: Option<String>,
    /// The user who submitted it, when the session had authenticated.
    pub submitted_by: Option<String>,
}

impl Default for Envelope {
    fn default() -> Self {
        Envelope {
            body: "7BIT".into(),
            smtputf8: false,
            dsn_ret: None,
            dsn_envid: None,
            submitted_by: None,
        }
    }
}

/// One recipient as given in RCPT TO, with its DSN requests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recipient {
    pub address: String,
    /// DSN NOTIFY (RFC 3461 §4.1): `NEVER`, or a list of SUCCESS, FAILURE, DELAY.
    pub notify: Option<String>,
    /// DSN ORCPT (RFC 3461 §4.2): `addr-type;address`, decoded.
    pub orcpt: Option<String>,
}

impl Recipient {
    pub fn new(address: impl Into<String>) -> Recipient {
        Recipient {
            address: address.into(),
            ..Recipient::default()
        }
    }
}

/// One recipient of a queued message that is due for a delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QueueRecipient {
    pub id: i64,
    pub queue_id: String,
    pub address: String,
    pub reverse_path: String,
    pub blob_hash: String,
    pub size: i64,
    pub received_at: i64,
    pub attempts: i64,
}

impl Store {
    /// Records a message and its recipients. The blob must be stored
    /// already; it is checked inside the transaction, so a concurrent
    /// garbage collection cannot take it between the check and the commit.
    pub async fn enqueue(&self, entry: &QueueEntry) -> Result<()> {
        let mut tx = self.write().await?;
        if !self.blobs().exists(&entry.blob.hash) {
            return Err(Error::MissingBlob(entry.blob.hash.clone()));
        }
        let envelope = &entry.envelope;
        sqlx::query(
            "INSERT INTO queue_messages
                 (id, reverse_path, blob_hash, size, received_at, body, smtputf8, dsn_ret, dsn_envid, submitted_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&entry.id)
        .bind(&entry.reverse_path)
        .bind(&entry.blob.hash)
        .bind(entry.blob.size as i64)
        .bind(entry.received_at)
        .bind(&envelope.body)
        .bind(envelope.smtputf8)
        .bind(&envelope.dsn_ret)
        .bind(&envelope.dsn_envid)
        .bind(&envelope.submitted_by)
        .execute(&mut *tx)
        .await?;
        for recipient in &entry.recipients {
            sqlx::query(
                "INSERT INTO queue_recipients (queue_id, address, next_attempt_at, dsn_notify, dsn_orcpt)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&entry.id)
            .bind(&recipient.address)
            .bind(entry.received_at)
            .bind(&recipient.notify)
            .bind(&recipient.orcpt)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Pending recipients whose next attempt is due, oldest first.
    pub async fn due_recipients(&self, now: i64, limit: i64) -> Result<Vec<QueueRecipient>> {
        Ok(sqlx::query_as(
            "SELECT r.id, r.queue_id, r.address, m.reverse_path, m.blob_hash, m.size, m.received_at, r.attempts
             FROM queue_recipients r JOIN queue_messages m ON m.id = r.queue_id
             WHERE r.status = 'pending' AND r.next_attempt_at <= $1
             ORDER BY r.next_attempt_at, r.id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.readers)
        .await?)
    }

    /// When the next pending recipient falls due, if any is pending.
    pub async fn next_attempt_at(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM queue_recipients WHERE status = 'pending'")
                .fetch_one(&self.readers)
                .await?,
        )
    }

    /// Completes one queue recipient: a copy into the INBOX of each account
    /// in `accounts` (with its trace headers), and a new pending recipient
    /// of the same message for each address in `forwards` (alias targets
    /// elsewhere). One transaction: a crash leaves all of it or none.
    pub async fn deliver_local(
        &self,
        recipient: &QueueRecipient,
        accounts: &[(AccountId, Vec<u8>)],
        forwards: &[String],
        internal_date: i64,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        for (account, trace_headers) in accounts {
            Self::append_to_inbox(
                &mut tx,
                *account,
                &recipient.blob_hash,
                recipient.size,
                trace_headers,
                internal_date,
            )
            .await?;
        }
        for address in forwards {
            sqlx::query("INSERT INTO queue_recipients (queue_id, address, next_attempt_at) VALUES ($1, $2, $3)")
                .bind(&recipient.queue_id)
                .bind(address)
                .bind(crate::now())
                .execute(&mut *tx)
                .await?;
        }
        Self::finish_recipient(&mut tx, recipient, "delivered", "250 2.0.0 delivered").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed attempt that will be retried at `next_attempt_at`.
    pub async fn defer_recipient(&self, recipient: &QueueRecipient, reply: &str, next_attempt_at: i64) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE queue_recipients SET attempts = attempts + 1, last_reply = $1, next_attempt_at = $2 WHERE id = $3",
        )
        .bind(reply)
        .bind(next_attempt_at)
        .bind(recipient.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a permanent failure. The recipient stays in the queue, for the
    /// bounce to report.
    pub async fn fail_recipient(&self, recipient: &QueueRecipient, reply: &str) -> Result<()> {
        let mut tx = self.write().await?;
        Self::finish_recipient(&mut tx, recipient, "failed", reply).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a recipient's final status; a message whose recipients are all
    /// delivered leaves the queue.
    async fn finish_recipient(
        tx: &mut sqlx::SqliteConnection,
        recipient: &QueueRecipient,
        status: &str,
        reply: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE queue_recipients SET status = $1, attempts = attempts + 1, last_reply = $2 WHERE id = $3")
            .bind(status)
            .bind(reply)
            .bind(recipient.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM queue_messages WHERE id = $1
               AND NOT EXISTS (SELECT 1 FROM queue_recipients WHERE queue_id = $1 AND status <> 'delivered')",
        )
        .bind(&recipient.queue_id)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// Number of messages in the queue.
    pub async fn queue_len(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM queue_messages")
            .fetch_one(&self.readers)
            .await?)
    }
}
