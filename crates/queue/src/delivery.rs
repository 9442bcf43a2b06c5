//! One queue run: claim what is due, expire what is too old, deliver
//! locally, hand remote deliveries to their destinations' lanes (which run
//! on their own, see `dispatch`), record every outcome, and queue the DSNs
//! the senders are owed.

use std::collections::BTreeMap;
use std::sync::Arc;

use store::{Attempt, CopyTarget, QueueRecipient, ReportAction, Resolution, Target};
use wire::smtp::{BodyType, DsnEvent, MailObject, MessageOptions, Recipient};

use crate::dispatch::{Offer, POSTPONE};
use crate::dsn::{Report, Reported};
use crate::filter::FilterTarget;
use crate::forward::ForwardError;
use crate::remote::Outcome;
use crate::{Error, Queue};

/// Recipients claimed per round.
const BATCH: i64 = 256;
/// How long a queue run's claim holds, in seconds: long enough to look at
/// a batch, short so that a recipient whose outcome could not be written
/// (a full disk) is tried again within a minute or two instead of when a
/// long lease ends. A remote delivery extends it (`dispatch::LEASE`).
const CLAIM: i64 = 60;

/// What looking at a due recipient left to do.
enum Handled {
    /// Nothing: it expired or failed, and that is recorded.
    Done,
    /// A local delivery, worked out and ready to be written.
    Local(LocalDelivery),
    /// A remote delivery, in the lane of its message and domain.
    Remote((String, String), QueueRecipient),
}

/// Everything a local delivery writes.
struct LocalDelivery {
    recipient: QueueRecipient,
    /// The accounts that get a copy, with that copy's trace fields.
    accounts: Vec<store::LocalCopy>,
    /// Messages queued with it: the one that carries it on to alias
    /// targets elsewhere, and what Sieve scripts redirect or reply.
    entries: Vec<store::QueueEntry>,
    /// What the scripts remember with it (vacation replies, duplicates).
    remembered: Vec<store::Remembered>,
    report: Option<ReportAction>,
    /// Boxed: far larger than the rest, and moved between tasks.
    facts: Box<store::MessageFacts>,
}

impl Queue {
    /// Attempts every recipient that is due now.
    pub(crate) async fn deliver_due(self: &Arc<Self>) -> Result<(), Error> {
        self.warn_of_delays().await?;
        loop {
            let now = store::now();
            let mut due = self.store.claim_due(now, BATCH, &self.owner, now + CLAIM).await?;
            if due.is_empty() {
                break;
            }
            // Recipients a lane still has (their claim ran out while they
            // waited) are the lane's: not expired, not offered again here.
            due.retain(|r| !self.is_in_flight(r.id));
            // Claimed recipients are looked at concurrently (resolving,
            // reading and parsing); local deliveries are then queued in
            // claim order, so each mailbox gets its UIDs in arrival order,
            // and they share group commits.
            let handled: Vec<_> = due
                .into_iter()
                .map(|recipient| {
                    let queue = self.clone();
                    tokio::spawn(async move { queue.handle(recipient, now).await })
                })
                .collect();
            let mut queued = Vec::new();
            let mut remote: BTreeMap<(String, String), Vec<QueueRecipient>> = BTreeMap::new();
            let mut failure = None;
            // Taken in claim order, each local delivery is queued as soon as
            // it is ready and those before it are queued.
            for task in handled {
                match task.await {
                    Ok(Ok(Handled::Local(delivery))) => {
                        let write = self.store.deliver_local(
                            &delivery.recipient,
                            &delivery.accounts,
                            delivery.entries.clone(),
                            delivery.remembered.clone(),
                            delivery.report,
                            &delivery.facts,
                        );
                        queued.push((delivery, write));
                    }
                    Ok(Ok(Handled::Remote(key, recipient))) => remote.entry(key).or_default().push(recipient),
                    Ok(Ok(Handled::Done)) => {}
                    Ok(Err(e)) => failure = Some(e),
                    Err(e) => failure = Some(Error::Task(e)),
                }
            }
            for (delivery, write) in queued {
                self.record_local(&delivery, write.await).await?;
            }
            if let Some(e) = failure {
                return Err(e);
            }
            self.dispatch_remote(remote).await?;
            self.send_all_reports().await?;
        }
        self.remote.close_idle().await;
        // Outcomes recorded elsewhere (`postamt queue bounce`, remote
        // deliveries that ended since) are owed too.
        self.send_all_reports().await
    }

    /// Hands each remote group to its destination's lanes without waiting
    /// for them; what finds no room there is given back, due again soon.
    async fn dispatch_remote(
        self: &Arc<Self>,
        groups: BTreeMap<(String, String), Vec<QueueRecipient>>,
    ) -> Result<(), Error> {
        let mut returned = Vec::new();
        for ((_, domain), group) in groups {
            if let Offer::Full(group) = self.offer_remote(domain, group) {
                returned.extend(group.iter().map(|r| r.id));
            }
        }
        if !returned.is_empty() {
            tracing::info!(
                recipients = returned.len(),
                "remote deliveries backlogged; postponing the rest"
            );
            let at = store::now() + POSTPONE.as_secs() as i64;
            self.store.postpone(&returned, &self.owner, at).await?;
        }
        Ok(())
    }

    /// Expires or fails one due recipient, or works out what delivering
    /// it takes: a local delivery ready to be written, or a remote one.
    async fn handle(&self, recipient: QueueRecipient, now: i64) -> Result<Handled, Error> {
        if self.is_expired(&recipient, now) {
            self.expire(&recipient).await?;
            return Ok(Handled::Done);
        }
        let Some((local, domain)) = recipient.address.rsplit_once('@') else {
            let attempt = self.failure(&recipient, "550 5.1.3 bad recipient address syntax", "5.1.3", None);
            self.fail_recipient(&recipient, &attempt).await?;
            return Ok(Handled::Done);
        };
        match self.store.resolve(local, domain).await? {
            Resolution::Local(targets) => self.prepare_local(recipient, targets).await,
            resolution @ (Resolution::UnknownUser | Resolution::BadSrs(_)) => {
                let why = match resolution {
                    Resolution::BadSrs(e) => e.to_string(),
                    _ => "no such user here".to_string(),
                };
                let reply = format!("550 5.1.1 <{}>: {why}", recipient.address);
                let attempt = self.failure(&recipient, &reply, "5.1.1", None);
                self.fail_recipient(&recipient, &attempt).await?;
                Ok(Handled::Done)
            }
            Resolution::NotLocal => {
                let key = (recipient.queue_id.clone(), store::normalize_domain(domain));
                Ok(Handled::Remote(key, recipient))
            }
        }
    }

    /// Sends the reports owed, one per message; a message with deliveries
    /// still under way waits for them, so that recipients tried together
    /// are told of together (the lane wakes the queue run when it is done).
    pub(crate) async fn send_all_reports(&self) -> Result<(), Error> {
        for queue_id in self.store.with_reports().await? {
            if !self.is_message_in_flight(&queue_id) {
                self.send_reports(&queue_id).await?;
            }
        }
        Ok(())
    }

    /// Delivers to local accounts, forwarding alias targets elsewhere as new
    /// recipients of the same message; each account's Sieve script, if it
    /// has one, decides about its copy (see `filter`).
    async fn prepare_local(&self, recipient: QueueRecipient, targets: Vec<Target>) -> Result<Handled, Error> {
        let return_path = format!("Return-Path: <{}>\r\n", recipient.reverse_path);
        let content = Arc::new(self.content(&recipient.blob_hash).await?);
        let mut accounts = Vec::new();
        let mut entries = Vec::new();
        let mut remembered = Vec::new();
        let mut forwards = Vec::new();
        let mut rejected = None;
        let mut reached_account = false;
        for target in targets {
            match target {
                Target::Account { id, address } => {
                    reached_account = true;
                    let trace = format!("{return_path}Delivered-To: {address}\r\n");
                    // Spam goes to Junk unless the account (or the server's
                    // `[spam] junk`) wants it in the INBOX.
                    let junk = recipient.junk && self.store.spam_to_junk(id)?.unwrap_or(self.config.spam_to_junk);
                    let default_target = if junk { CopyTarget::Junk } else { CopyTarget::Inbox };
                    let filter_target = FilterTarget {
                        account: id,
                        address: &address,
                        trace_headers: trace.clone().into_bytes(),
                        default_target: default_target.clone(),
                    };
                    match self.filter(&recipient, filter_target, &content).await? {
                        None => accounts.push(store::LocalCopy::new(id, trace.into_bytes(), default_target)),
                        Some(filtered) => {
                            accounts.extend(filtered.copies);
                            entries.extend(filtered.entries);
                            remembered.extend(filtered.remembered);
                            rejected = rejected.or(filtered.rejected);
                        }
                    }
                }
                Target::Remote(address) => forwards.push(address),
                Target::Unknown(address) => {
                    tracing::warn!(alias = %recipient.address, target = %address, "alias target does not exist");
                }
            }
        }
        // An alias that led to no account and nowhere else fails; so does
        // a message a script rejected and nothing else took (RFC 5429
        // §2.1: the sender hears of it in a DSN). A script that discarded
        // it has delivered it: nowhere, as the user asked.
        let failure = if !reached_account && forwards.is_empty() {
            Some((
                format!("550 5.1.1 <{}>: alias leads to no existing user", recipient.address),
                "5.1.1",
            ))
        } else if let Some(reason) = rejected
            .as_deref()
            .filter(|_| accounts.is_empty() && forwards.is_empty() && entries.is_empty())
        {
            Some((
                format!("550 5.7.1 <{}>: {}", recipient.address, one_line(reason)),
                "5.7.1",
            ))
        } else {
            None
        };
        if let Some((reply, status)) = failure {
            let attempt = self.failure(&recipient, &reply, status, None);
            self.fail_recipient(&recipient, &attempt).await?;
            return Ok(Handled::Done);
        }
        let report = recipient
            .wants_report(DsnEvent::Success)
            .then_some(ReportAction::Delivered);
        // The facts IMAP needs are worked out once, here, for every copy.
        let facts = if accounts.is_empty() {
            store::MessageFacts::default()
        } else {
            store::MessageFacts::of(&content)
        };
        if !forwards.is_empty() {
            match self.forward_copy(&recipient, &forwards, &content).await {
                Ok(entry) => entries.push(entry),
                Err(ForwardError::Queue(e)) => return Err(e),
                Err(e @ ForwardError::Seal(_)) => {
                    self.defer_local(&recipient, &e.to_string()).await?;
                    return Ok(Handled::Done);
                }
            }
        }
        Ok(Handled::Local(LocalDelivery {
            recipient,
            accounts,
            entries,
            remembered,
            report,
            facts: Box::new(facts),
        }))
    }

    /// Logs a local delivery, or defers it if it could not be written.
    async fn record_local(&self, delivery: &LocalDelivery, written: Result<(), store::Error>) -> Result<(), Error> {
        let recipient = &delivery.recipient;
        match written {
            Ok(()) => {}
            // Over quota (RFC 3463 X.2.2, mailbox full), as Dovecot's LMTP
            // answers Postfix: temporary, so the queue retries until its
            // lifetime ends and then bounces; permanent at once for a
            // message larger than the whole quota, which can never fit.
            Err(store::Error::OverQuota { permanent, reason }) => {
                tracing::info!(queue_id = %recipient.queue_id, to = %recipient.address, %reason, "over quota");
                let (code, status) = if permanent { ("552", "5.2.2") } else { ("452", "4.2.2") };
                let reply = format!("{code} {status} <{}>: {reason}", recipient.address);
                if permanent {
                    let attempt = self.failure(recipient, &reply, status, None);
                    self.fail_recipient(recipient, &attempt).await?;
                } else {
                    metrics::DELIVERIES.inc("deferred");
                    let attempt = Attempt {
                        reply,
                        status_code: status.into(),
                        remote_mta: None,
                        report: None,
                        transport: None,
                    };
                    let at = self.next_attempt(recipient);
                    self.store.defer_recipient(recipient, &attempt, at).await?;
                }
                return Ok(());
            }
            Err(e) => {
                self.defer_local(recipient, &e.to_string()).await?;
                return Ok(());
            }
        }
        tracing::info!(
            queue_id = %recipient.queue_id,
            to = %recipient.address,
            mailboxes = delivery.accounts.len(),
            queued = %delivery.entries.iter().map(|e| e.id.as_str()).collect::<Vec<_>>().join(","),
            "delivered"
        );
        metrics::DELIVERIES.inc("local");
        Ok(())
    }

    /// Defers a local delivery that could not be made now.
    async fn defer_local(&self, recipient: &QueueRecipient, why: &str) -> Result<(), Error> {
        tracing::error!(queue_id = %recipient.queue_id, to = %recipient.address, error = %why, "local delivery failed");
        metrics::DELIVERIES.inc("deferred");
        let attempt = Attempt {
            reply: format!("451 4.3.0 local delivery failed: {why}"),
            status_code: "4.3.0".into(),
            remote_mta: None,
            report: None,
            transport: None,
        };
        self.store
            .defer_recipient(recipient, &attempt, self.next_attempt(recipient))
            .await?;
        Ok(())
    }

    pub(crate) async fn deliver_group(&self, domain: &str, recipients: &[QueueRecipient]) -> Result<(), Error> {
        let Some(first) = recipients.first() else { return Ok(()) };
        let content = self.content(&first.blob_hash).await?;
        let outcomes = self.remote.deliver(domain, recipients, &content).await;
        for (recipient, outcome) in recipients.iter().zip(outcomes) {
            self.record(recipient, outcome).await?;
        }
        Ok(())
    }

    async fn record(&self, recipient: &QueueRecipient, outcome: Outcome) -> Result<(), Error> {
        let queue_id = &recipient.queue_id;
        let to = &recipient.address;
        match outcome {
            Outcome::Delivered {
                reply,
                host,
                offers_dsn,
                tls,
            } => {
                let policy = tls.as_ref().map_or("none", |tls| tls.policy);
                tracing::info!(%queue_id, %to, %host, policy, %reply, "delivered");
                metrics::DELIVERIES.inc("remote");
                // RFC 3461 §6.2.1: a host without DSN cannot report success
                // itself, so we say where the message went.
                let report =
                    (!offers_dsn && recipient.wants_report(DsnEvent::Success)).then_some(ReportAction::Relayed);
                let attempt = Attempt {
                    reply,
                    status_code: "2.0.0".into(),
                    remote_mta: Some(host),
                    report,
                    transport: Some(transport(tls)),
                };
                self.store.delivered_remotely(recipient, &attempt).await?;
            }
            Outcome::Deferred {
                reply,
                status,
                host,
                tls,
            } => {
                tracing::info!(%queue_id, %to, %reply, "deferred");
                metrics::DELIVERIES.inc("deferred");
                let attempt = Attempt {
                    reply,
                    status_code: status,
                    remote_mta: host,
                    report: None,
                    transport: Some(transport(tls)),
                };
                self.store
                    .defer_recipient(recipient, &attempt, self.next_attempt(recipient))
                    .await?;
            }
            Outcome::Failed {
                reply,
                status,
                host,
                tls,
            } => {
                tracing::info!(%queue_id, %to, %reply, "failed");
                let attempt = Attempt {
                    transport: Some(transport(tls)),
                    ..self.failure(recipient, &reply, &status, host)
                };
                self.fail_recipient(recipient, &attempt).await?;
            }
        }
        Ok(())
    }

    /// A permanent failure, reported unless the sender asked not to hear
    /// of it or there is nobody to tell.
    fn failure(&self, recipient: &QueueRecipient, reply: &str, status: &str, host: Option<String>) -> Attempt {
        Attempt {
            reply: reply.to_string(),
            status_code: status.to_string(),
            remote_mta: host,
            report: recipient
                .wants_report(DsnEvent::Failure)
                .then_some(ReportAction::Failed),
            transport: None,
        }
    }

    /// Records a permanent failure (bounce or expiry) and counts it.
    async fn fail_recipient(&self, recipient: &QueueRecipient, attempt: &Attempt) -> Result<(), Error> {
        self.store.fail_recipient(recipient, attempt).await?;
        metrics::DELIVERIES.inc("failed");
        Ok(())
    }

    fn next_attempt(&self, recipient: &QueueRecipient) -> i64 {
        store::now() + self.config.retry_delay(recipient.attempts + 1).as_secs() as i64
    }

    fn lifetime(&self, recipient: &QueueRecipient) -> i64 {
        let lifetime = if recipient.reverse_path.is_empty() {
            self.config.bounce_lifetime
        } else {
            self.config.lifetime
        };
        lifetime.as_secs() as i64
    }

    pub(crate) fn is_expired(&self, recipient: &QueueRecipient, now: i64) -> bool {
        now - recipient.received_at >= self.lifetime(recipient)
    }

    /// Gives up on a recipient whose message has been queued too long.
    pub(crate) async fn expire(&self, recipient: &QueueRecipient) -> Result<(), Error> {
        let last = recipient.last_reply.as_deref().unwrap_or("no attempt succeeded");
        let reply = format!("{last} (delivery time expired)");
        if recipient.reverse_path.is_empty() {
            // Invariant 3: a bounce is never bounced; it is dropped, loudly.
            tracing::warn!(queue_id = %recipient.queue_id, to = %recipient.address, %reply, "dropping an undeliverable bounce");
        } else {
            tracing::info!(queue_id = %recipient.queue_id, to = %recipient.address, %reply, "expired");
        }
        let attempt = Attempt {
            reply,
            status_code: "4.4.7".into(),
            remote_mta: recipient.remote_mta.clone(),
            report: recipient
                .wants_report(DsnEvent::Failure)
                .then_some(ReportAction::Failed),
            transport: None,
        };
        self.fail_recipient(recipient, &attempt).await?;
        Ok(())
    }

    /// Queues one DSN for the outcomes of `queue_id` still to be reported.
    async fn send_reports(&self, queue_id: &str) -> Result<(), Error> {
        let unreported = self.store.unreported(queue_id).await?;
        let Some(first) = unreported.first() else { return Ok(()) };
        let reported: Vec<Reported> = unreported
            .iter()
            .map(|r| Reported {
                recipient: r,
                action: r.report.unwrap_or(ReportAction::Failed),
                retry_until: None,
            })
            .collect();
        self.send_report(queue_id, &first.reverse_path, &first.blob_hash, reported)
            .await?;
        let ids: Vec<i64> = unreported.iter().map(|r| r.id).collect();
        self.store.reported(queue_id, &ids).await?;
        Ok(())
    }

    /// Tells senders of messages queued longer than the delay warning time
    /// that they are still being tried (once per message).
    async fn warn_of_delays(&self) -> Result<(), Error> {
        if self.config.delay_warning.is_zero() {
            return Ok(());
        }
        let now = store::now();
        let before = now - self.config.delay_warning.as_secs() as i64;
        let delayed = self.store.delayed(before).await?;
        let mut by_message: BTreeMap<&str, Vec<&QueueRecipient>> = BTreeMap::new();
        for recipient in &delayed {
            by_message.entry(&recipient.queue_id).or_default().push(recipient);
        }
        for (queue_id, recipients) in by_message {
            let reported: Vec<Reported> = recipients
                .iter()
                // One whose lifetime is over gets its failure report in
                // this run instead: "still being retried" would be untrue.
                .filter(|r| r.wants_report(DsnEvent::Delay) && !self.is_expired(r, now))
                .map(|r| Reported {
                    recipient: r,
                    action: ReportAction::Delayed,
                    retry_until: Some(r.received_at + self.lifetime(r)),
                })
                .collect();
            if let Some(first) = reported.first().map(|r| r.recipient) {
                let (reverse_path, blob) = (first.reverse_path.clone(), first.blob_hash.clone());
                self.send_report(queue_id, &reverse_path, &blob, reported).await?;
            }
            self.store.delay_warned(queue_id).await?;
        }
        Ok(())
    }

    /// Builds a DSN and queues it to `reverse_path` from the null path.
    async fn send_report(
        &self,
        queue_id: &str,
        reverse_path: &str,
        blob: &str,
        recipients: Vec<Reported<'_>>,
    ) -> Result<(), Error> {
        if reverse_path.is_empty() {
            return Ok(());
        }
        let original = self.content(blob).await?;
        let id = Self::new_id()?;
        let boundary = format!("=_postamt_{id}");
        let now = store::now();
        let report = Report {
            hostname: &self.config.hostname,
            queue_id,
            recipients,
            original: &original,
            boundary: &boundary,
            now,
        };
        let (content, eight_bit) = report.build();
        let dsn = MailObject {
            id: id.clone(),
            reverse_path: String::new(),
            recipients: vec![Recipient::new(reverse_path)],
            options: MessageOptions {
                body: if eight_bit {
                    BodyType::EightBitMime
                } else {
                    BodyType::SevenBit
                },
                smtputf8: !reverse_path.is_ascii(),
                ..MessageOptions::default()
            },
            content,
            received_at: now,
        };
        self.submit(dsn).await?;
        tracing::info!(%queue_id, dsn = %id, to = %reverse_path, "delivery status notification queued");
        Ok(())
    }

    /// A queued message, whole (queued messages carry no trace fields
    /// of their own).
    async fn content(&self, blob: &str) -> Result<Vec<u8>, Error> {
        let message = store::StoredMessage {
            trace_headers: b"",
            blob_hash: blob,
            header: None,
        };
        Ok(self.store.open_message(message, false).await?.read_all().await?)
    }
}

/// What an attempt at another host records of its transport.
fn transport(tls: Option<crate::remote::TlsFacts>) -> store::Transport {
    match tls {
        Some(tls) => store::Transport {
            policy: Some(tls.policy.to_string()),
            tls_version: tls.version,
            tls_cipher: tls.cipher,
        },
        None => store::Transport::default(),
    }
}

/// A script's text on one line of an SMTP reply: line breaks would end it.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
