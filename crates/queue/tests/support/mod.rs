//! What the queue's delivery tests stand on: a real store in a temporary
//! directory (or, with `POSTAMT_TEST_STORE=postgres`, in a database of its
//! own on a throwaway PostgreSQL: .ci/run runs the suite both ways), a
//! real DNS server on loopback serving a zone the test writes
//! (tests/python/dnsserver.py, as the dns crate's tests use it), fake
//! SMTP hosts that answer from a script, and a real SMTP peer with TLS
//! (tests/python/smtppeer.py).

#![allow(dead_code, unused_imports)]

// One DNS test server for the crates that route mail.
#[path = "../../../dns/tests/support/dns_server.rs"]
mod dns_server;
mod fake_smtp;
mod peer;

use std::sync::Arc;
use std::time::Duration;

use queue::{Queue, QueueConfig};
use store::{QueueRecipient, QueuedMessage, RecipientStatus, Store, StoredMessage};
use wire::smtp::{MailObject, MessageOptions, Recipient};

pub use dns_server::DnsServer;
pub use fake_smtp::{Hosts, Script};
pub use peer::Peer;

/// Our own name, in EHLO and in the DSNs.
pub const HOSTNAME: &str = "mx.origin.test";
/// Who sends the test messages, unless a test says otherwise.
pub const SENDER: &str = "sender@origin.test";
pub const MESSAGE: &[u8] = b"From: <sender@origin.test>\r\nSubject: test\r\n\r\nthe secret body\r\n";

/// A queue on a fresh store, routing by a zone of its own.
pub struct Harness {
    pub store: Store,
    pub queue: Arc<Queue>,
    next_id: std::sync::atomic::AtomicU32,
    _dns: DnsServer,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// A queue dialling `port` on the hosts `zone` names; `configure`
    /// changes the rest of its settings.
    pub async fn start(zone: &str, port: u16, configure: impl FnOnce(&mut QueueConfig)) -> Harness {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut options = store::StoreOptions::sqlite(dir.path());
        if std::env::var("POSTAMT_TEST_STORE").as_deref() == Ok("postgres") {
            options.url = Some(test_postgres::fresh_database().expect("POSTAMT_TEST_STORE=postgres needs PostgreSQL"));
        }
        let store = Store::open_with(&options).await.expect("store");
        // The senders' domain cannot be resolved for now, so the reports
        // queued for them stay in the queue, where `reports` reads them.
        let dns = DnsServer::start(&format!("{zone}origin.test SERVFAIL -\n"));
        let mut config = QueueConfig {
            hostname: HOSTNAME.into(),
            nameservers: vec![dns.address],
            port,
            ..QueueConfig::default()
        };
        config.timeouts.session = Duration::from_secs(30);
        configure(&mut config);
        let queue = Queue::new(store.clone(), config, None).expect("queue");
        Harness {
            store,
            queue,
            next_id: Default::default(),
            _dns: dns,
            _dir: dir,
        }
    }

    /// Queues `MESSAGE` from `from` to `recipients`; its queue id.
    pub async fn send(&self, from: &str, recipients: Vec<Recipient>, options: MessageOptions) -> String {
        self.send_at(from, recipients, options, store::now()).await
    }

    /// As `send`, for a message received at `received_at`.
    pub async fn send_at(
        &self,
        from: &str,
        recipients: Vec<Recipient>,
        options: MessageOptions,
        received_at: i64,
    ) -> String {
        let n = self.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("T{n:04}");
        let message = MailObject {
            id: id.clone(),
            reverse_path: from.into(),
            recipients,
            options,
            content: MESSAGE.to_vec(),
            received_at,
        };
        self.queue.submit(message).await.expect("submit");
        id
    }

    /// As `send`, to one recipient with default options.
    pub async fn send_one(&self, from: &str, recipient: Recipient) -> String {
        self.send(from, vec![recipient], MessageOptions::default()).await
    }

    /// As `send`, from SENDER to plain recipients with default options.
    pub async fn send_to(&self, recipients: &[&str]) -> String {
        let recipients = recipients.iter().map(|r| Recipient::new(*r)).collect();
        self.send(SENDER, recipients, MessageOptions::default()).await
    }

    /// One queue run. Bounded, so that a run that never ends (a report
    /// answering a report, say) fails the test instead of hanging it.
    pub async fn run(&self) {
        let run = tokio::time::timeout(std::time::Duration::from_secs(60), self.queue.run_once());
        run.await
            .expect("the queue run ended within a minute (a report loop?)")
            .expect("queue run");
    }

    pub async fn queued(&self) -> Vec<QueuedMessage> {
        self.store.queued_messages().await.expect("queue listing")
    }

    /// A recipient of a queued message.
    pub async fn recipient(&self, id: &str, address: &str) -> QueueRecipient {
        let message = self.queued().await.into_iter().find(|m| m.id == id);
        let message = message.unwrap_or_else(|| panic!("{id} is not queued"));
        let found = message.recipients.into_iter().find(|r| r.address == address);
        found.unwrap_or_else(|| panic!("{address} is not a recipient of {id}"))
    }

    pub async fn status(&self, id: &str, address: &str) -> RecipientStatus {
        self.recipient(id, address).await.status
    }

    /// Whether the message has left the queue.
    pub async fn gone(&self, id: &str) -> bool {
        !self.store.is_queued(id).await.expect("queue lookup")
    }

    /// Asserts that the message has left the queue and nobody is told.
    pub async fn assert_ended_unreported(&self, id: &str) {
        assert!(self.gone(id).await, "{id} is still queued");
        let reports = self.reports().await;
        assert!(reports.is_empty(), "unexpected reports: {reports:#?}");
    }

    /// The DSNs queued (messages from the null reverse-path), as text,
    /// with their recipient.
    pub async fn reports(&self) -> Vec<(String, String)> {
        let mut reports = Vec::new();
        for message in self.queued().await {
            if !message.reverse_path.is_empty() {
                continue;
            }
            let to = message.recipients[0].address.clone();
            let stored = StoredMessage {
                trace_headers: b"",
                blob_hash: &message.recipients[0].blob_hash,
                header: None,
            };
            let reader = self.store.open_message(stored, false).await.expect("open report");
            let bytes = reader.read_all().await.expect("read report");
            reports.push((to, String::from_utf8_lossy(&bytes).into_owned()));
        }
        reports
    }

    /// The one DSN queued, sent to SENDER.
    pub async fn report(&self) -> String {
        let mut reports = self.reports().await;
        assert_eq!(reports.len(), 1, "one report expected: {reports:#?}");
        let (to, text) = reports.remove(0);
        assert_eq!(to, SENDER);
        text
    }
}

/// A recipient with NOTIFY (as a client writes it).
pub fn notify(address: &str, notify: &str) -> Recipient {
    Recipient {
        address: address.into(),
        notify: Some(wire::smtp::Notify::parse(notify).expect("NOTIFY value")),
        orcpt: None,
    }
}
