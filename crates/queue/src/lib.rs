//! The queue owns every message from acceptance to its end: it stores the
//! message durably (blob first, then the queue rows), then delivers it:
//! into local mailboxes, or to other hosts through DNS MX routing (or a
//! configured relay) and the SMTP client. Temporary failures are retried on
//! a growing schedule until the message's lifetime ends; permanent ones,
//! and expiry, are reported to the sender in a DSN. Every outcome is
//! recorded per recipient, so nothing accepted can vanish without a trace.

#![forbid(unsafe_code)]

mod config;
mod delivery;
mod dispatch;
mod dsn;
mod filter;
mod forward;
pub mod fuzz;
mod remote;
mod tls_report;

use std::sync::Arc;
use std::time::Duration;

use ring::rand::{SecureRandom, SystemRandom};
use store::Store;
use tokio::sync::Notify;
use wire::smtp::MailObject;

pub use config::{ClientTimeouts, QueueConfig, Relay, RelayTls};
pub use forward::Sealer;
pub use remote::TlsPolicy;
pub use remote::mta_sts;
pub use tls_report::{ReportPolicy, ResultType, TlsOutcome, TlsRecorder};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("the system random generator failed")]
    Random,
    #[error("cannot set up delivery: {0}")]
    Setup(#[from] SetupError),
    #[error("a delivery task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Why remote delivery could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("no DNS resolver: {0}")]
    Dns(#[from] dns::DnsError),
    #[error("no TLS client: {0}")]
    Tls(#[from] net::TlsError),
    #[error("no DNSSEC-validating resolver for DANE: {0}")]
    Dnssec(#[from] dns::SetupError),
}

impl Error {
    /// True when the store had no room for the message.
    pub fn is_storage_full(&self) -> bool {
        matches!(self, Error::Store(e) if e.is_storage_full())
    }
}

pub struct Queue {
    store: Store,
    config: QueueConfig,
    remote: remote::Remote,
    /// Remote deliveries under way, by destination.
    dispatch: dispatch::Dispatch,
    wake: Notify,
    /// Names this node in the leases it takes on queue entries: its node
    /// id (its host name unless configured), which the store keeps from
    /// being used by two running processes (`Store::claim_node`).
    owner: String,
    /// Seals mail that aliases forward; without one it goes on unsealed.
    sealer: Option<Arc<dyn Sealer>>,
    /// The hourly sending limits of users, which their Sieve redirects
    /// count toward; set once the SMTP server that keeps them exists.
    outgoing: std::sync::OnceLock<Arc<dyn OutgoingLimit>>,
    /// Sieve programs loaded from their stored form, by that form.
    programs: filter::Programs,
}

/// Users' sending limits, as the SMTP server keeps them.
pub trait OutgoingLimit: Send + Sync {
    /// Counts one message from `user` to `recipients` addresses; false
    /// (nothing counted) when it is over their limit.
    fn allows<'a>(
        &'a self,
        user: &'a str,
        recipients: u64,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send + 'a>>;
}

impl Queue {
    pub fn new(store: Store, config: QueueConfig, sealer: Option<Arc<dyn Sealer>>) -> Result<Arc<Queue>, Error> {
        let remote = remote::Remote::new(config.clone(), store.clone())?;
        let owner = if config.node_id.is_empty() {
            config.hostname.clone()
        } else {
            config.node_id.clone()
        };
        let dispatch = dispatch::Dispatch::new(config.max_deliveries, config.max_per_domain);
        Ok(Arc::new(Queue {
            store,
            config,
            remote,
            dispatch,
            wake: Notify::new(),
            owner,
            outgoing: std::sync::OnceLock::new(),
            programs: filter::Programs::default(),
            sealer,
        }))
    }

    /// Makes users' Sieve redirects count toward `limit` (once; later
    /// calls change nothing).
    pub fn set_outgoing_limit(&self, limit: Arc<dyn OutgoingLimit>) {
        let _ = self.outgoing.set(limit);
    }

    /// A new queue id: 16 hex digits of randomness, unique enough across
    /// nodes without coordination.
    pub fn new_id() -> Result<String, Error> {
        let mut bytes = [0u8; 8];
        SystemRandom::new().fill(&mut bytes).map_err(|_| Error::Random)?;
        Ok(bytes.iter().map(|b| format!("{b:02X}")).collect())
    }

    /// Stores a message durably and wakes the delivery worker. When this
    /// returns `Ok`, the message survives a crash or power loss.
    pub async fn submit(&self, mut message: MailObject) -> Result<(), Error> {
        // Blob first, then the rows that point at it.
        let content = self.store.put_content(std::mem::take(&mut message.content)).await?;
        self.store.enqueue(message.with_content(content)).await?;
        self.wake.notify_one();
        Ok(())
    }

    /// One queue run to its end: what is due is delivered or given up,
    /// the remote deliveries it started are waited for, and the reports
    /// they owe are queued. `run` does this in a loop without waiting for
    /// remote deliveries; this is for tests that drive the queue a step
    /// at a time.
    pub async fn run_once(self: &Arc<Self>) -> Result<(), Error> {
        self.deliver_due().await?;
        self.lanes_idle().await;
        self.send_all_reports().await
    }

    /// Delivers due recipients until the task is dropped. It sleeps until
    /// the next retry is due, a new message arrives, or a few seconds have
    /// passed (the CLI may have changed the queue).
    pub async fn run(self: Arc<Self>) {
        const MAX_SLEEP: Duration = Duration::from_secs(5);
        match self.store.release_leases(&self.owner).await {
            Ok(0) => {}
            Ok(released) => tracing::info!(released, "resuming deliveries interrupted by the last stop"),
            Err(e) => tracing::error!(error = %e, "could not release old leases"),
        }
        loop {
            if let Err(e) = self.deliver_due().await {
                tracing::error!(error = %e, "queue run failed, retrying shortly");
                tokio::time::sleep(MAX_SLEEP).await;
                continue;
            }
            let sleep = match self.store.next_attempt_at().await {
                Ok(Some(at)) => Duration::from_secs((at - store::now()).clamp(0, MAX_SLEEP.as_secs() as i64) as u64),
                _ => MAX_SLEEP,
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(sleep) => {}
            }
        }
    }
}
