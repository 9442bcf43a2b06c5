//! The queue's rows: every accepted message until each of its recipients is
//! delivered or has failed for good and every DSN owed for it is queued.

use crate::sql::OwnedValue;

use wire::smtp::{BodyType, DsnEvent, DsnReturn, MailObject, Notify, Recipient};

use crate::append::NewMessage;
use crate::messages::json_list;
use crate::queue_values::{RecipientStatus, ReportAction, Wire};
use crate::{AccountId, Content, MessageFacts, Result, Store};

/// A message in the queue as it is written: the hand-over from the SMTP
/// server, with its content stored.
pub type QueueEntry = MailObject<Content>;

/// One recipient of a queued message, with what delivery needs to know of
/// the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRecipient {
    pub id: i64,
    pub queue_id: String,
    pub address: String,
    pub notify: Option<Notify>,
    pub orcpt: Option<String>,
    pub status: RecipientStatus,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_reply: Option<String>,
    pub status_code: Option<String>,
    pub remote_mta: Option<String>,
    /// The DSN action still to report for this recipient, if any.
    pub report: Option<ReportAction>,
    pub reverse_path: String,
    pub blob_hash: String,
    pub size: i64,
    pub received_at: i64,
    pub body: BodyType,
    pub smtputf8: bool,
    pub dsn_ret: Option<DsnReturn>,
    pub dsn_envid: Option<String>,
    /// Local copies go to the Junk mailbox (`MessageOptions::junk`).
    pub junk: bool,
    /// REQUIRETLS (`MessageOptions::require_tls`, RFC 8689).
    pub require_tls: bool,
    /// `TLS-Required: No` (`MessageOptions::tls_optional`, RFC 8689 §3).
    pub tls_optional: bool,
}

impl QueueRecipient {
    /// Reads a row of [`RECIPIENT_COLUMNS`].
    fn from_row(row: &crate::sql::Row) -> crate::Result<QueueRecipient> {
        Ok(QueueRecipient {
            id: row.get("id")?,
            queue_id: row.get("queue_id")?,
            address: row.get("address")?,
            notify: row.get::<Option<Wire<Notify>>>("notify")?.map(|w| w.0),
            orcpt: row.get("orcpt")?,
            status: row.get("status")?,
            attempts: row.get("attempts")?,
            next_attempt_at: row.get("next_attempt_at")?,
            last_reply: row.get("last_reply")?,
            status_code: row.get("status_code")?,
            remote_mta: row.get("remote_mta")?,
            report: row.get("report")?,
            reverse_path: row.get("reverse_path")?,
            blob_hash: row.get("blob_hash")?,
            size: row.get("size")?,
            received_at: row.get("received_at")?,
            body: row.get::<Wire<BodyType>>("body")?.0,
            smtputf8: row.get("smtputf8")?,
            dsn_ret: row.get::<Option<Wire<DsnReturn>>>("dsn_ret")?.map(|w| w.0),
            dsn_envid: row.get("dsn_envid")?,
            junk: row.get("junk")?,
            require_tls: row.get("require_tls")?,
            tls_optional: row.get("tls_optional")?,
        })
    }

    /// Whether the sender is to hear of `event` for this recipient: as
    /// NOTIFY asks, and never for a message with the null reverse-path
    /// (RFC 3461 §6.2: a report is never reported on).
    pub fn wants_report(&self, event: DsnEvent) -> bool {
        !self.reverse_path.is_empty() && self.recipient().wants(event)
    }

    pub fn recipient(&self) -> Recipient {
        Recipient {
            address: self.address.clone(),
            notify: self.notify,
            orcpt: self.orcpt.clone(),
        }
    }
}

/// One account's copy of a locally delivered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalCopy {
    pub account: AccountId,
    /// Its trace fields (Return-Path, Delivered-To), put above the content.
    pub trace_headers: Vec<u8>,
    /// The mailbox it goes into.
    pub target: crate::CopyTarget,
    /// The flags it arrives with (a filter's, RFC 5232 §5).
    pub flags: crate::Flags,
    /// Its own content, when a filter changed the header (RFC 5293); None
    /// for the message as it was received.
    pub content: Option<std::sync::Arc<EditedContent>>,
}

impl LocalCopy {
    /// The plain copy: the received content, no flags, into `target`.
    pub fn new(account: AccountId, trace_headers: Vec<u8>, target: crate::CopyTarget) -> LocalCopy {
        LocalCopy {
            account,
            trace_headers,
            target,
            flags: crate::Flags::default(),
            content: None,
        }
    }
}

/// Content of a copy that differs from the received message (see
/// [`Store::put_content`]), with its facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditedContent {
    pub content: crate::Content,
    pub facts: MessageFacts,
}

/// A key an account's filter remembers with a delivery (a vacation reply
/// sent, a message seen by the duplicate test), until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remembered {
    pub account: AccountId,
    pub key: String,
    pub expires_at: i64,
}

/// The outcome of one delivery attempt for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The reply that decided it, e.g. `550 5.1.1 <a@b>: unknown user`.
    pub reply: String,
    /// Its RFC 3463 status code.
    pub status_code: String,
    /// The host that answered, if it was not us.
    pub remote_mta: Option<String>,
    /// The DSN action to report for it, if the sender wants one.
    pub report: Option<ReportAction>,
    /// For an attempt at another host, what protected it; recorded in the
    /// recipient's last attempts (`queue_attempts`). `None` for local
    /// delivery and for ends that are no attempt (expiry).
    pub transport: Option<crate::Transport>,
}

/// A message in the queue, for administration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    pub id: String,
    pub reverse_path: String,
    pub size: i64,
    pub received_at: i64,
    pub recipients: Vec<QueueRecipient>,
}

const RECIPIENT_COLUMNS: &str = "r.id, r.queue_id, r.address, r.dsn_notify AS notify, r.dsn_orcpt AS orcpt, r.status,
     r.attempts, r.next_attempt_at, r.last_reply, r.status_code, r.remote_mta, r.report, m.reverse_path, m.blob_hash, m.size,
     m.received_at, m.body, m.smtputf8, m.dsn_ret, m.dsn_envid, m.junk, m.require_tls, m.tls_optional";

impl Store {
    /// Records a message, its content if small (see `content`), and its
    /// recipients, in the next group commit. Large content must be stored
    /// already; it is checked inside the transaction, so a concurrent
    /// garbage collection cannot take it between the check and the commit.
    pub async fn enqueue(&self, entry: QueueEntry) -> Result<()> {
        let store = self.content.clone();
        self.batched(move |tx| Self::insert_entry(tx, &*store, &entry)).await
    }

    fn insert_entry(
        tx: &crate::sql::Db,
        store: &dyn crate::content_store::ContentStore,
        entry: &QueueEntry,
    ) -> Result<()> {
        entry.content.keep(tx, store)?;
        let options = &entry.options;
        tx.prepare_cached(
            "INSERT INTO queue_messages
                 (id, reverse_path, blob_hash, size, received_at, body, smtputf8, dsn_ret, dsn_envid, submitted_by, junk,
                  require_tls, tls_optional)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )?
        .execute(crate::sql::params![
            entry.id,
            entry.reverse_path,
            entry.content.blob().hash,
            entry.content.blob().size as i64,
            entry.received_at,
            options.body.to_string(),
            options.smtputf8,
            options.dsn_ret.map(|ret| ret.to_string()),
            options.dsn_envid,
            options.submitted_by,
            options.junk,
            options.require_tls,
            options.tls_optional,
        ])?;
        for recipient in &entry.recipients {
            Self::add_recipient(tx, &entry.id, recipient, entry.received_at)?;
        }
        Ok(())
    }

    fn add_recipient(tx: &crate::sql::Db, queue_id: &str, recipient: &Recipient, due: i64) -> Result<()> {
        tx.prepare_cached(
            "INSERT INTO queue_recipients (queue_id, address, next_attempt_at, dsn_notify, dsn_orcpt)
             VALUES ($1, $2, $3, $4, $5)",
        )?
        .execute((
            queue_id,
            &recipient.address,
            due,
            recipient.notify.map(|notify| notify.to_string()),
            &recipient.orcpt,
        ))?;
        Ok(())
    }

    /// Claims up to `limit` pending recipients that are due, oldest first,
    /// with a lease for `owner` until `lease_until`: no other worker takes
    /// them before the lease runs out, so none is delivered twice at once.
    pub async fn claim_due(&self, now: i64, limit: i64, owner: &str, lease_until: i64) -> Result<Vec<QueueRecipient>> {
        let owner = owner.to_string();
        self.batched(move |tx| {
            // Two statements however many are due: lease them, then read
            // what was leased. The conditions are checked again on the rows
            // updated: with several nodes on PostgreSQL, a row another node
            // leased after the inner SELECT read it is seen afresh there and
            // left alone. Rows another node is leasing right now (locked,
            // not committed yet) are skipped rather than waited for, so the
            // nodes take different work instead of queueing on each other.
            // A lease counts until it runs out or, sooner, until the node
            // that took it is known dead: its node claim (see `nodes`) ran
            // out, so a crashed node's deliveries are taken over within
            // the claim's 30 s, not the lease's half hour. A process
            // without a node claim (the tests of the queue alone) has no
            // row there, and its leases count until they run out.
            // On PostgreSQL the choice is a CTE, run once: as an `IN`
            // subquery the planner may run it again for each row updated,
            // and each run, seeing the rows just leased as taken, picks the
            // next ones (LIMIT 1 leased two rows). `?N`: the parameters
            // come out of order there.
            let claim = if tx.is_postgres() {
                "WITH chosen AS (
                     SELECT id FROM queue_recipients
                     WHERE status = 'pending' AND next_attempt_at <= ?3
                       AND (lease_until IS NULL OR lease_until <= ?3
                            OR EXISTS (SELECT 1 FROM nodes n WHERE n.id = lease_owner AND n.alive_until <= ?3))
                     ORDER BY next_attempt_at, id LIMIT ?4 FOR UPDATE SKIP LOCKED)
                 UPDATE queue_recipients r SET lease_owner = ?1, lease_until = ?2
                 FROM chosen WHERE r.id = chosen.id
                 RETURNING r.id"
            } else {
                "UPDATE queue_recipients SET lease_owner = $1, lease_until = $2
                 WHERE id IN (SELECT id FROM queue_recipients
                              WHERE status = 'pending' AND next_attempt_at <= $3
                                AND (lease_until IS NULL OR lease_until <= $3
                                     OR EXISTS (SELECT 1 FROM nodes n
                                                WHERE n.id = lease_owner AND n.alive_until <= $3))
                              ORDER BY next_attempt_at, id LIMIT $4)
                   AND status = 'pending'
                   AND (lease_until IS NULL OR lease_until <= $3
                        OR EXISTS (SELECT 1 FROM nodes n WHERE n.id = lease_owner AND n.alive_until <= $3))
                 RETURNING id"
            };
            let leased = tx
                .prepare_cached(claim)?
                .query_map((&owner, lease_until, now, limit), |row| row.get(0))?
                .collect::<crate::Result<Vec<i64>>>()?;
            if leased.is_empty() {
                return Ok(Vec::new());
            }
            select_recipients(
                tx,
                "WHERE r.id IN (SELECT value FROM json_each($1)) ORDER BY r.next_attempt_at, r.id",
                Some(OwnedValue::Text(json_list(&leased))),
            )
        })
        .await
    }

    /// Gives up the leases `owner` holds: after a restart, what the node
    /// was delivering when it stopped is due again at once instead of when
    /// the old leases would have run out.
    pub async fn release_leases(&self, owner: &str) -> Result<u64> {
        let owner = owner.to_string();
        self.batched(move |tx| {
            let released = tx
                .prepare_cached(
                    "UPDATE queue_recipients SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
                )?
                .execute([&owner])?;
            Ok(released as u64)
        })
        .await
    }

    /// Extends the leases `owner` still holds on these recipients until
    /// `lease_until`, and returns the ids it still holds: a delivery that
    /// waited or runs long keeps its recipients, and one whose lease was
    /// taken over elsewhere learns that it must leave them alone.
    pub async fn renew_leases(&self, ids: &[i64], owner: &str, lease_until: i64) -> Result<Vec<i64>> {
        let (ids, owner) = (json_list(ids), owner.to_string());
        self.batched(move |tx| {
            let held = tx
                .prepare_cached(
                    "UPDATE queue_recipients SET lease_until = $1
                     WHERE id IN (SELECT value FROM json_each($2)) AND lease_owner = $3 AND status = 'pending'
                     RETURNING id",
                )?
                .query_map((lease_until, &ids, &owner), |row| row.get(0))?
                .collect::<crate::Result<Vec<i64>>>()?;
            Ok(held)
        })
        .await
    }

    /// Gives back recipients `owner` claimed but cannot start on now, due
    /// again at `at`. Not an attempt: nothing was tried, so nothing counts.
    pub async fn postpone(&self, ids: &[i64], owner: &str, at: i64) -> Result<()> {
        let (ids, owner) = (json_list(ids), owner.to_string());
        self.batched(move |tx| {
            tx.prepare_cached(
                "UPDATE queue_recipients SET next_attempt_at = CASE WHEN next_attempt_at > $1 THEN next_attempt_at ELSE $1 END,
                     lease_owner = NULL, lease_until = NULL
                 WHERE id IN (SELECT value FROM json_each($2)) AND lease_owner = $3 AND status = 'pending'",
            )?
            .execute((at, &ids, &owner))?;
            Ok(())
        })
        .await
    }

    /// When the next pending recipient falls due, if any. A recipient under
    /// a lease is being delivered: due when its lease runs out (another
    /// node's delivery may fail without a word), or now if the node that
    /// holds it is dead (see `claim_due`).
    pub async fn next_attempt_at(&self) -> Result<Option<i64>> {
        let now = crate::now();
        self.point_reads
            .scan(move |c| {
                c.prepare_cached(
                    "SELECT MIN(CASE
                         WHEN lease_until IS NULL OR lease_until <= $1 THEN next_attempt_at
                         WHEN EXISTS (SELECT 1 FROM nodes n WHERE n.id = lease_owner AND n.alive_until <= $1)
                             THEN next_attempt_at
                         ELSE lease_until END)
                     FROM queue_recipients WHERE status = 'pending'",
                )?
                .query_row([now], |row| row.get(0))
            })
            .await
    }

    /// Completes one queue recipient locally: each copy in `accounts` into
    /// its account's mailbox (with its trace headers, flags and content),
    /// the messages in `entries` queued (carrying it on to alias targets
    /// elsewhere, redirects and replies of filters; their content stored
    /// already), and what filters remember. One transaction: a crash
    /// leaves all of it or none.
    ///
    /// The write is queued when this is called, not when the future is
    /// first polled: deliveries asked for in order commit in that order
    /// (and so get their UIDs in it), while sharing group commits.
    pub fn deliver_local(
        &self,
        recipient: &QueueRecipient,
        accounts: &[LocalCopy],
        entries: Vec<QueueEntry>,
        remembered: Vec<Remembered>,
        report: Option<ReportAction>,
        facts: &MessageFacts,
    ) -> impl std::future::Future<Output = Result<()>> + Send + use<> {
        let (recipient, accounts, facts) = (recipient.clone(), accounts.to_vec(), facts.clone());
        let store = self.content.clone();
        let policy = self.quota_policy();
        let write = self.batched(move |tx| {
            let mut mailboxes = Vec::new();
            for copy in &accounts {
                let (blob_hash, blob_size, facts) = match &copy.content {
                    Some(edited) => {
                        edited.content.keep(tx, &*store)?;
                        let blob = edited.content.blob();
                        (blob.hash.as_str(), blob.size as i64, &edited.facts)
                    }
                    None => (recipient.blob_hash.as_str(), recipient.size, &facts),
                };
                let message = NewMessage {
                    blob_hash,
                    blob_size,
                    trace_headers: &copy.trace_headers,
                    internal_date: recipient.received_at,
                    flags: &copy.flags,
                    facts,
                    ids: None,
                };
                mailboxes.push(Self::append_to_target(tx, copy.account, &copy.target, &message)?);
                // Over quota, the whole recipient waits (or fails) and no
                // copy stays: the savepoint takes back all of them.
                let mut added = crate::quota::Added::default();
                added.add(message.size());
                mailboxes.extend(Self::settle_quota(tx, copy.account, added, policy)?);
            }
            let mut reply = "250 2.0.0 delivered to mailbox".to_string();
            for entry in &entries {
                Self::insert_entry(tx, &*store, entry)?;
            }
            if !entries.is_empty() {
                let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
                reply = format!("250 2.0.0 delivered; forwarded as {}", ids.join(", "));
            }
            for memory in &remembered {
                tx.prepare_cached(
                    "INSERT INTO sieve_seen (account_id, key, expires_at) VALUES ($1, $2, $3)
                     ON CONFLICT (account_id, key) DO UPDATE SET expires_at = excluded.expires_at",
                )?
                .execute((memory.account, &memory.key, memory.expires_at))?;
            }
            let attempt = Attempt {
                reply,
                status_code: "2.0.0".into(),
                remote_mta: None,
                report,
                transport: None,
            };
            Self::finish_recipient(tx, &recipient, RecipientStatus::Delivered, &attempt)?;
            Ok(mailboxes)
        });
        let store = self.clone();
        async move {
            for mailbox in write.await? {
                store.announce(mailbox);
            }
            Ok(())
        }
    }

    /// Records a successful remote delivery.
    pub async fn delivered_remotely(&self, recipient: &QueueRecipient, attempt: &Attempt) -> Result<()> {
        self.finish(recipient, RecipientStatus::Delivered, attempt).await
    }

    /// Records a failed attempt that will be retried at `next_attempt_at`.
    /// Like every outcome, only for a recipient still pending: one that
    /// ended meanwhile (expired, bounced from the command line) keeps its
    /// end.
    pub async fn defer_recipient(
        &self,
        recipient: &QueueRecipient,
        attempt: &Attempt,
        next_attempt_at: i64,
    ) -> Result<()> {
        let (recipient_id, attempt) = (recipient.id, attempt.clone());
        self.batched(move |tx| {
            let updated = tx
                .prepare_cached(
                    "UPDATE queue_recipients SET attempts = attempts + 1, last_reply = $1, status_code = $2,
                         remote_mta = $3, next_attempt_at = $4, lease_owner = NULL, lease_until = NULL
                     WHERE id = $5 AND status = 'pending'",
                )?
                .execute((
                    &attempt.reply,
                    &attempt.status_code,
                    &attempt.remote_mta,
                    next_attempt_at,
                    recipient_id,
                ))?;
            if updated > 0 {
                Self::record_attempt(tx, recipient_id, &attempt)?;
            }
            Ok(())
        })
        .await
    }

    /// Records a permanent failure; the recipient waits for its DSN if one
    /// is to be reported.
    pub async fn fail_recipient(&self, recipient: &QueueRecipient, attempt: &Attempt) -> Result<()> {
        self.finish(recipient, RecipientStatus::Failed, attempt).await
    }

    /// Records a final outcome, in the next group commit.
    async fn finish(&self, recipient: &QueueRecipient, status: RecipientStatus, attempt: &Attempt) -> Result<()> {
        let (recipient, attempt) = (recipient.clone(), attempt.clone());
        self.batched(move |tx| Self::finish_recipient(tx, &recipient, status, &attempt))
            .await
    }

    fn finish_recipient(
        tx: &crate::sql::Db,
        recipient: &QueueRecipient,
        status: RecipientStatus,
        attempt: &Attempt,
    ) -> Result<()> {
        let updated = tx
            .prepare_cached(
                "UPDATE queue_recipients SET status = $1, attempts = attempts + 1, last_reply = $2, status_code = $3,
                     remote_mta = $4, report = $5, lease_owner = NULL, lease_until = NULL
                 WHERE id = $6 AND status = 'pending'",
            )?
            .execute((
                status,
                &attempt.reply,
                &attempt.status_code,
                &attempt.remote_mta,
                attempt.report,
                recipient.id,
            ))?;
        if updated > 0 {
            Self::record_attempt(tx, recipient.id, attempt)?;
        }
        Self::forget_if_done(tx, &recipient.queue_id)
    }

    /// A message leaves the queue once no recipient is pending and no DSN
    /// is owed for any of them.
    fn forget_if_done(tx: &crate::sql::Db, queue_id: &str) -> Result<()> {
        tx.prepare_cached(
            "DELETE FROM queue_messages WHERE id = $1 AND NOT EXISTS (
                 SELECT 1 FROM queue_recipients WHERE queue_id = $1 AND (status = 'pending' OR report IS NOT NULL))",
        )?
        .execute([queue_id])?;
        Ok(())
    }

    /// Recipients of `queue_id` whose outcome is still to be reported.
    pub async fn unreported(&self, queue_id: &str) -> Result<Vec<QueueRecipient>> {
        self.recipients(
            "WHERE r.queue_id = $1 AND r.report IS NOT NULL ORDER BY r.id",
            Some(queue_id.to_string().into()),
        )
        .await
    }

    /// [`select_recipients`] on a reader.
    async fn recipients(&self, filter: &'static str, parameter: Option<OwnedValue>) -> Result<Vec<QueueRecipient>> {
        self.point_reads
            .scan(move |connection| select_recipients(connection, filter, parameter))
            .await
    }

    /// Marks reports as sent, and forgets the message if nothing else is left.
    pub async fn reported(&self, queue_id: &str, recipient_ids: &[i64]) -> Result<()> {
        let (queue_id, recipient_ids) = (queue_id.to_string(), recipient_ids.to_vec());
        self.batched(move |tx| {
            for &id in &recipient_ids {
                tx.prepare_cached("UPDATE queue_recipients SET report = NULL WHERE id = $1")?
                    .execute([id])?;
            }
            Self::forget_if_done(tx, &queue_id)
        })
        .await
    }

    /// Pending recipients of messages older than `received_before` whose
    /// senders have not been warned of the delay yet.
    pub async fn delayed(&self, received_before: i64) -> Result<Vec<QueueRecipient>> {
        self.recipients(
            "WHERE r.status = 'pending' AND m.received_at < $1 AND m.delay_warned = 0 ORDER BY r.queue_id, r.id",
            Some(received_before.into()),
        )
        .await
    }

    /// Notes that the sender of `queue_id` has been warned of its delay.
    pub async fn delay_warned(&self, queue_id: &str) -> Result<()> {
        let queue_id = queue_id.to_string();
        self.batched(move |tx| {
            tx.prepare_cached("UPDATE queue_messages SET delay_warned = 1 WHERE id = $1")?
                .execute([&queue_id])?;
            Ok(())
        })
        .await
    }

    /// Number of messages in the queue.
    pub async fn queue_len(&self) -> Result<i64> {
        self.point_reads
            .scan(|c| {
                c.prepare_cached("SELECT COUNT(*) FROM queue_messages")?
                    .query_row((), |row| row.get(0))
            })
            .await
    }

    /// How many messages the queue holds and when the oldest of them was
    /// received (None when empty): one aggregate, for `/metrics`.
    pub async fn queue_summary(&self) -> Result<(i64, Option<i64>)> {
        self.point_reads
            .scan(|c| {
                c.prepare_cached("SELECT COUNT(*), MIN(received_at) FROM queue_messages")?
                    .query_row((), |row| Ok((row.get(0)?, row.get(1)?)))
            })
            .await
    }

    /// The messages in the queue, oldest first, with all their recipients.
    pub async fn queued_messages(&self) -> Result<Vec<QueuedMessage>> {
        let rows = self.recipients("ORDER BY m.received_at, m.id, r.id", None).await?;
        let mut messages: Vec<QueuedMessage> = Vec::new();
        for row in rows {
            match messages.last_mut() {
                Some(last) if last.id == row.queue_id => last.recipients.push(row),
                _ => messages.push(QueuedMessage {
                    id: row.queue_id.clone(),
                    reverse_path: row.reverse_path.clone(),
                    size: row.size,
                    received_at: row.received_at,
                    recipients: vec![row],
                }),
            }
        }
        Ok(messages)
    }

    /// Makes pending recipients due now: of one message, or of all.
    pub async fn retry_now(&self, queue_id: Option<&str>) -> Result<u64> {
        let queue_id = queue_id.map(str::to_string);
        self.batched(move |tx| {
            let done = tx
                .prepare_cached(
                    "UPDATE queue_recipients SET next_attempt_at = $1
                     WHERE status = 'pending' AND (CAST($2 AS TEXT) IS NULL OR queue_id = $2)",
                )?
                .execute((crate::now(), &queue_id))?;
            Ok(done as u64)
        })
        .await
    }

    /// Ends delivery of a message: its pending recipients fail with
    /// `reply`, reported to the sender as the queue would report any failure
    /// (not for the null reverse-path, not against NOTIFY).
    pub async fn bounce_now(&self, queue_id: &str, reply: &str, status_code: &str) -> Result<u64> {
        let (queue_id, reply, status_code) = (queue_id.to_string(), reply.to_string(), status_code.to_string());
        self.batched(move |tx| {
            let pending = select_recipients(
                tx,
                "WHERE r.queue_id = $1 AND r.status = 'pending' ORDER BY r.id",
                Some(queue_id.clone().into()),
            )?;
            for recipient in &pending {
                let report = recipient
                    .wants_report(DsnEvent::Failure)
                    .then_some(ReportAction::Failed);
                tx.prepare_cached(
                    "UPDATE queue_recipients SET status = $1, last_reply = $2, status_code = $3, report = $4
                     WHERE id = $5 AND status = 'pending'",
                )?
                .execute((RecipientStatus::Failed, &reply, &status_code, report, recipient.id))?;
            }
            Self::forget_if_done(tx, &queue_id)?;
            Ok(pending.len() as u64)
        })
        .await
    }

    /// Messages with outcomes still to be reported to their senders.
    pub async fn with_reports(&self) -> Result<Vec<String>> {
        self.point_reads
            .scan(|c| {
                c.prepare_cached("SELECT DISTINCT queue_id FROM queue_recipients WHERE report IS NOT NULL ORDER BY 1")?
                    .query_map((), |row| row.get(0))?
                    .collect::<crate::Result<_>>()
            })
            .await
    }

    /// Removes a message from the queue without any report.
    pub async fn delete_queued(&self, queue_id: &str) -> Result<bool> {
        let queue_id = queue_id.to_string();
        self.batched(move |tx| {
            let deleted = tx
                .prepare_cached("DELETE FROM queue_messages WHERE id = $1")?
                .execute([&queue_id])?;
            Ok(deleted > 0)
        })
        .await
    }

    /// True if the queue holds a message with this id.
    pub async fn is_queued(&self, queue_id: &str) -> Result<bool> {
        self.point_reads.read(|c| {
            c.prepare_cached("SELECT EXISTS (SELECT 1 FROM queue_messages WHERE id = $1)")?
                .query_row([queue_id], |row| row.get(0))
        })
    }
}

/// Queue recipients with their messages: those `filter` (a WHERE and ORDER
/// BY clause, with at most one parameter) selects.
fn select_recipients(
    connection: &crate::sql::Db,
    filter: &str,
    parameter: Option<OwnedValue>,
) -> Result<Vec<QueueRecipient>> {
    let mut select = connection.prepare_cached(&format!(
        "SELECT {RECIPIENT_COLUMNS} FROM queue_recipients r JOIN queue_messages m ON m.id = r.queue_id {filter}"
    ))?;
    let rows = select.query_map(parameter, QueueRecipient::from_row)?;
    rows.collect::<crate::Result<Vec<_>>>()
}
